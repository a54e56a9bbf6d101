"""A catalog day as the venue's replayed market data (the one venue module that imports Nautilus).

Reads a ``ParquetDataCatalog`` (the one ``hftmm ingest taq`` / ``make demo`` write, or the
synthetic test catalog) for a list of instruments and yields ``(symbol, event)`` pairs in time order,
``event`` being the plain tuple of ``hftmm.venue.market_replay``:

- ``OrderBookDelta`` -> ``LEVEL`` (ADD/UPDATE: the level's size; DELETE: size 0) or ``CLEAR``. The
  deltas must be market-by-price (one size per price level), as the TAQ adapter writes them.
- ``QuoteTick`` -> ``QUOTE`` per side, only for an instrument without deltas in the window (as
  Nautilus's L2 matching ignores quotes when it has a book), and only for a side whose price or size
  changed: re-sending an unchanged side would count as fresh liquidity (consumption resets).
- ``TradeTick`` -> ``TRADE`` with the aggressor side (BUYER -> BUY, SELLER -> SELL, else unknown).

Order is ``ts_init`` (as Nautilus's backtest orders data); at equal times book events come before
trades, and each stream keeps the catalog's order. Prices become nanodollars, sizes whole shares.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterator, Sequence
from pathlib import Path

from nautilus_trader.model.data import OrderBookDelta, QuoteTick, TradeTick
from nautilus_trader.model.enums import AggressorSide, BookAction
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import FIXED_PRECISION, Price
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from hftmm.engine.session import day_bounds_utc_ns
from hftmm.venue.market_replay import CLEAR, LEVEL, NO_AGGRESSOR, QUOTE, TRADE, MarketEvent
from hftmm.venue.matching_engine import SymbolSpec
from hftmm.venue.orders import Side

_PRICE_DIV = 10 ** (FIXED_PRECISION - 9)  # Nautilus raw fixed-point -> nanodollars
_SIZE_DIV = 10**FIXED_PRECISION
_AGGRESSOR = {AggressorSide.BUYER: Side.BUY, AggressorSide.SELLER: Side.SELL}


class CatalogFeedError(ValueError):
    """The catalog cannot feed the venue (missing instrument, fractional sizes, L3 deltas)."""


def to_nanodollars(price: Price) -> int:
    """A Nautilus ``Price`` as integer nanodollars (exact for up to nine decimals)."""
    return price.raw // _PRICE_DIV


def _shares(raw: int, what: str) -> int:
    shares, frac = divmod(raw, _SIZE_DIV)
    if frac:
        raise CatalogFeedError(f"{what}: size {raw / _SIZE_DIV} is not a whole number of shares")
    return shares


def symbol_specs(catalog_path: Path | str, instrument_ids: Sequence[str]) -> list[SymbolSpec]:
    """Engine symbols for ``instrument_ids`` (``SYMBOL.VENUE``), ticks from the catalog's instruments.

    Raises
    ------
    CatalogFeedError
        If an instrument is not in the catalog.
    """
    catalog = ParquetDataCatalog(str(catalog_path))
    found = {str(i.id): i for i in catalog.instruments(instrument_ids=list(instrument_ids))}
    specs = []
    for iid in instrument_ids:
        inst = found.get(iid)
        if inst is None:
            raise CatalogFeedError(f"instrument {iid} is not in catalog {catalog_path}")
        specs.append(SymbolSpec(symbol=inst.id.symbol.value, tick=to_nanodollars(inst.price_increment)))
    return specs


def _delta_events(deltas: list[OrderBookDelta], iid: str) -> list[MarketEvent]:
    events: list[MarketEvent] = []
    for d in deltas:
        if d.action == BookAction.CLEAR:
            events.append((d.ts_init, CLEAR, 0, 0, 0))
            continue
        order = d.order
        if order.order_id != 0:
            raise CatalogFeedError(f"{iid}: deltas are market-by-order (order_id {order.order_id}); the venue needs MBP levels")
        size = 0 if d.action == BookAction.DELETE else _shares(order.size.raw, f"{iid} delta at {d.ts_init}")
        events.append((d.ts_init, LEVEL, int(order.side), to_nanodollars(order.price), size))
    return events


def _quote_events(quotes: list[QuoteTick], iid: str) -> list[MarketEvent]:
    events: list[MarketEvent] = []
    last_bid = last_ask = (-1, -1)
    for q in quotes:
        bid = (to_nanodollars(q.bid_price), _shares(q.bid_size.raw, f"{iid} quote at {q.ts_init}"))
        ask = (to_nanodollars(q.ask_price), _shares(q.ask_size.raw, f"{iid} quote at {q.ts_init}"))
        if bid != last_bid:
            events.append((q.ts_init, QUOTE, Side.BUY, *bid))
            last_bid = bid
        if ask != last_ask:
            events.append((q.ts_init, QUOTE, Side.SELL, *ask))
            last_ask = ask
    return events


def _trade_events(trades: list[TradeTick], iid: str) -> list[MarketEvent]:
    return [
        (
            t.ts_init, TRADE, _AGGRESSOR.get(t.aggressor_side, NO_AGGRESSOR), to_nanodollars(t.price),
            _shares(t.size.raw, f"{iid} trade {t.trade_id}"),
        )
        for t in trades
    ]


def _keyed(symbol: str, events: list[MarketEvent]) -> Iterator[tuple[str, MarketEvent]]:
    # A function, not a generator expression in the loop: that would read the loop variable late.
    for event in events:
        yield symbol, event


def catalog_day_events(
    catalog_path: Path | str,
    instrument_ids: Sequence[str],
    date: dt.date | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> Iterator[tuple[str, MarketEvent]]:
    """The market events of ``instrument_ids`` on ``date`` (or in ``[start_ns, end_ns]``), in time order.

    Parameters
    ----------
    catalog_path : Path or str
        Root of the ``ParquetDataCatalog``.
    instrument_ids : sequence of str
        ``SYMBOL.VENUE`` ids; events are keyed by the bare symbol.
    date : date, optional
        The US/Eastern calendar day; ``start_ns``/``end_ns`` narrow or replace it.

    Raises
    ------
    CatalogFeedError
        If an instrument is missing or its data cannot be expressed as venue events.
    """
    if date is not None:
        day_start, day_end = day_bounds_utc_ns(date)
        start_ns = day_start if start_ns is None else start_ns
        end_ns = day_end - 1 if end_ns is None else end_ns
    catalog = ParquetDataCatalog(str(catalog_path))
    specs = symbol_specs(catalog_path, instrument_ids)
    book_streams: list[Iterator[tuple[str, MarketEvent]]] = []
    trade_streams: list[Iterator[tuple[str, MarketEvent]]] = []
    for iid, spec in zip(instrument_ids, specs, strict=True):
        InstrumentId.from_str(iid)  # a clear error for a malformed id, before any query
        window = {"identifiers": [iid], "start": start_ns, "end": end_ns}
        deltas = catalog.query(OrderBookDelta, **window)
        if deltas:
            book = _delta_events(deltas, iid)
        else:
            book = _quote_events(catalog.query(QuoteTick, **window), iid)
        trades = _trade_events(catalog.query(TradeTick, **window), iid)
        book_streams.append(_keyed(spec.symbol, book))
        trade_streams.append(_keyed(spec.symbol, trades))
    # heapq.merge is stable: at equal times, earlier iterables (the book streams) come first.
    yield from heapq.merge(*book_streams, *trade_streams, key=lambda pair: pair[1][0])
