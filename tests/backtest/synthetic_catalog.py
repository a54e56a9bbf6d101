"""A small, deterministic L2 catalog built directly from Nautilus objects.

Independent of the TAQ adapter on purpose: backtest and engine tests must not depend on the parser.
A random-walk mid with a 3-level book per side that changes by diff deltas, and trades at the touch
whose aggressor pushes the price, so a market maker gets both fills and adverse selection.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import BookOrder, OrderBookDelta, QuoteTick, TradeTick
from nautilus_trader.model.enums import AggressorSide, BookAction, OrderSide, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TradeId, Venue
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from hftmm.engine.session import et_to_utc_ns

PRECISION = 4


def make_equity(symbol: str, venue: str, ts: int) -> Equity:
    return Equity(
        instrument_id=InstrumentId(Symbol(symbol), Venue(venue)),
        raw_symbol=Symbol(symbol),
        currency=USD,
        price_precision=PRECISION,
        price_increment=Price.from_str("0.0100"),
        lot_size=Quantity.from_int(100),
        ts_event=ts,
        ts_init=ts,
    )


def build_catalog(
    root: Path,
    date: dt.date = dt.date(2024, 3, 11),
    symbol: str = "ACME",
    venue: str = "XNYS",
    n_events: int = 3000,
    seed: int = 1,
    start: str = "09:25",
    end: str = "10:30",
) -> ParquetDataCatalog:
    """Write one instrument's deltas, NBBO quotes and trades for ``date`` into a catalog at ``root``."""
    rng = np.random.default_rng(seed)
    t0, t1 = et_to_utc_ns(date, start), et_to_utc_ns(date, end)
    times = np.sort(rng.integers(t0, t1, n_events))
    inst = make_equity(symbol, venue, int(times[0]))
    iid = inst.id
    mid_t = 5000  # ticks of $0.01
    levels = 3
    book: dict[tuple[int, int], int] = {}  # (side, price_ticks) -> size

    def px(t: int) -> Price:
        return Price(t / 100, PRECISION)

    deltas: list[OrderBookDelta] = []
    quotes: list[QuoteTick] = []
    trades: list[TradeTick] = []
    seq = 0
    for i, ts in enumerate(times.tolist()):
        if i > 0 and rng.random() < 0.1:
            # A trade at the touch; informed flow moves the mid in the aggressor's direction.
            buy = rng.random() < 0.5
            # Some trades sweep through the touch into the second level.
            depth = 2 if rng.random() < 0.3 else 1
            price = mid_t + (1 if buy else -1) * depth
            trades.append(
                TradeTick(
                    iid, px(price), Quantity.from_int(int(rng.integers(1, 4)) * 100),
                    AggressorSide.BUYER if buy else AggressorSide.SELLER, TradeId(str(i)), ts, ts,
                ),
            )
            if rng.random() < 0.5:
                mid_t += 1 if buy else -1
        elif rng.random() < 0.15:
            mid_t += int(rng.choice([-1, 1]))
        target: dict[tuple[int, int], int] = {}
        for lvl in range(levels):
            target[(int(OrderSide.BUY), mid_t - 1 - lvl)] = int(rng.integers(1, 10)) * 100
            target[(int(OrderSide.SELL), mid_t + 1 + lvl)] = int(rng.integers(1, 10)) * 100
        batch: list[OrderBookDelta] = []
        if i == 0:
            batch.append(OrderBookDelta.clear(iid, seq, ts, ts))
        for key in sorted(set(book) | set(target)):
            side, p = key
            old, new = book.get(key), target.get(key)
            if old == new:
                continue
            if new is None:
                action, size = BookAction.DELETE, 0
            elif old is None:
                action, size = BookAction.ADD, new
            else:
                action, size = BookAction.UPDATE, new
            batch.append(OrderBookDelta(iid, action, BookOrder(OrderSide(side), px(p), Quantity.from_int(size), 0), 0, seq, ts, ts))
        book = target
        if batch:
            last = batch[-1]
            batch[-1] = OrderBookDelta(iid, last.action, last.order, RecordFlag.F_LAST, seq, ts, ts)
            deltas.extend(batch)
            seq += 1
        bid = mid_t - 1
        ask = mid_t + 1
        quotes.append(
            QuoteTick(iid, px(bid), px(ask), Quantity.from_int(target[(int(OrderSide.BUY), bid)]),
                      Quantity.from_int(target[(int(OrderSide.SELL), ask)]), ts, ts),
        )
    catalog = ParquetDataCatalog(str(root))
    catalog.write_data([inst])
    catalog.write_data(deltas)
    catalog.write_data(quotes)
    catalog.write_data(trades)
    return catalog
