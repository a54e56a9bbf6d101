"""One symbol-day of Polygon REST (or flat-file) trade and quote rows -> canonical tables and Nautilus objects.

The quotes are the consolidated NBBO, so they become, through the TAQ adapter's own builders:
``QuoteTick``s of the two-sided, uncrossed updates (``adapters.taq.loaders.quote_ticks``), and an
L1 market-by-price book as ``OrderBookDelta``s (``adapters.taq.loaders.book_deltas`` with one
contributor: a crossed or locked NBBO withdraws both sides, as a crossed venue quote does in TAQ).
Trades are kept by the reference conditions' ``update_rules`` (``ConditionTable.trade_reason``),
``correction != 0`` is dropped, off-exchange prints (exchange id 4) are kept in the canonical table
but are not TradeTicks (as in TAQ), and the aggressor side is Lee-Ready against the NBBO.

Rows are sorted by (``sip_timestamp``, ``sequence_number``): the API's default order is descending,
and ns timestamps stay Python/numpy int64 from the JSON decoder on (never float64).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from nautilus_trader.model.data import OrderBookDelta, QuoteTick, TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.identifiers import InstrumentId, TradeId
from nautilus_trader.model.objects import Price, Quantity

from adapters.polygon.errors import PolygonFormatError
from adapters.polygon.reference import OFF_EXCHANGE_ID, ConditionTable, ExchangeTable
from adapters.taq.book import PRICE_SCALE
from adapters.taq.classify import lee_ready
from adapters.taq.loaders import Nbbo, QuoteRows, book_deltas, quote_ticks
from adapters.taq.providers import PRICE_PRECISION

NBBO = "NBBO"
_AGGRESSOR = {1: AggressorSide.BUYER, -1: AggressorSide.SELLER, 0: AggressorSide.NO_AGGRESSOR}


def _int(row: dict[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = row.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        if value is None and default is not None:
            return default
        raise PolygonFormatError(where, key, f"not an integer: {value!r}")
    return value


def _num(row: dict[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = row.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolygonFormatError(where, key, f"not a number: {value!r}")
    return float(value)


def _order(ts: np.ndarray, seq: np.ndarray) -> np.ndarray:
    return np.lexsort((seq, ts))


@dataclass
class PolygonQuotes:
    """One symbol-day of NBBO rows, sorted (prices in 1e-4 $, sizes in shares)."""

    ts: np.ndarray
    participant_ts: np.ndarray
    sequence: np.ndarray
    bid: np.ndarray
    bid_size: np.ndarray
    bid_exchange: np.ndarray
    ask: np.ndarray
    ask_size: np.ndarray
    ask_exchange: np.ndarray
    conditions: list[list[int]]
    indicators: list[list[int]]
    tape: np.ndarray
    size_unit: str

    @property
    def two_sided(self) -> np.ndarray:
        return (self.bid > 0) & (self.ask > 0)

    @property
    def crossed_or_locked(self) -> np.ndarray:
        return self.two_sided & (self.bid >= self.ask)

    def to_table(self, symbol: str) -> pa.Table:
        """The canonical quote table: every row, with its original fields and flags."""
        return pa.table(
            {
                "ts_event": pa.array(self.ts, pa.int64()),
                "participant_timestamp": pa.array(self.participant_ts, pa.int64()),
                "sequence": pa.array(self.sequence, pa.int64()),
                "symbol": pa.array([symbol] * self.ts.size, pa.string()),
                "bid_price": self.bid / PRICE_SCALE,
                "bid_size": pa.array(self.bid_size, pa.int64()),
                "bid_exchange": pa.array(self.bid_exchange, pa.int64()),
                "ask_price": self.ask / PRICE_SCALE,
                "ask_size": pa.array(self.ask_size, pa.int64()),
                "ask_exchange": pa.array(self.ask_exchange, pa.int64()),
                "conditions": pa.array(self.conditions, pa.list_(pa.int64())),
                "indicators": pa.array(self.indicators, pa.list_(pa.int64())),
                "tape": pa.array(self.tape, pa.int64()),
                "two_sided": self.two_sided,
                "crossed_or_locked": self.crossed_or_locked,
            },
        )


def quote_size_unit(sizes: np.ndarray, mode: str) -> str:
    """``lots`` or ``shares``: given, or guessed when ``mode="auto"`` (all non-zero sizes multiples
    of 100 reads as shares; market-data-formats.md §2.3 says lots, some data shows shares)."""
    if mode != "auto":
        return mode
    nonzero = sizes[sizes > 0]
    return "shares" if nonzero.size and bool((nonzero % 100 == 0).all()) else "lots"


def parse_quotes(rows: Sequence[dict[str, Any]], round_lot: int, size_mode: str, where: str) -> PolygonQuotes:
    """Validate and sort one symbol-day of ``/v3/quotes`` results (or flat-file rows as dicts).

    Raises
    ------
    PolygonFormatError
        A row without a required field or with a wrong type (naming the row and the field).
    """
    n = len(rows)
    ts = np.empty(n, np.int64)
    pts = np.empty(n, np.int64)
    seq = np.empty(n, np.int64)
    bid_f, ask_f = np.empty(n), np.empty(n)
    bsz, asz = np.empty(n), np.empty(n)
    bx, ax, tape = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    conditions, indicators = [], []
    for k, r in enumerate(rows):
        w = f"{where} row {k}"
        ts[k] = _int(r, "sip_timestamp", w)
        pts[k] = _int(r, "participant_timestamp", w, 0)
        seq[k] = _int(r, "sequence_number", w, 0)
        bid_f[k] = _num(r, "bid_price", w, 0.0)
        ask_f[k] = _num(r, "ask_price", w, 0.0)
        bsz[k] = _num(r, "bid_size", w, 0.0)
        asz[k] = _num(r, "ask_size", w, 0.0)
        bx[k] = _int(r, "bid_exchange", w, 0)
        ax[k] = _int(r, "ask_exchange", w, 0)
        tape[k] = _int(r, "tape", w, 0)
        conditions.append(list(r.get("conditions") or []))
        indicators.append(list(r.get("indicators") or []))
    order = _order(ts, seq)
    unit = quote_size_unit(np.concatenate([bsz, asz]), size_mode)
    mult = round_lot if unit == "lots" else 1
    bid = np.rint(bid_f * PRICE_SCALE).astype(np.int64)
    ask = np.rint(ask_f * PRICE_SCALE).astype(np.int64)
    bid_size = np.rint(bsz).astype(np.int64) * mult
    ask_size = np.rint(asz).astype(np.int64) * mult
    # A zero price or size means the side is missing, never a $0 level.
    bid_missing = (bid <= 0) | (bid_size <= 0)
    ask_missing = (ask <= 0) | (ask_size <= 0)
    bid[bid_missing], bid_size[bid_missing] = 0, 0
    ask[ask_missing], ask_size[ask_missing] = 0, 0
    o = order
    return PolygonQuotes(
        ts[o], pts[o], seq[o], bid[o], bid_size[o], bx[o], ask[o], ask_size[o], ax[o],
        [conditions[i] for i in o], [indicators[i] for i in o], tape[o], unit,
    )


@dataclass
class QuoteOutput:
    """Nautilus objects of one symbol-day of NBBO rows, and counts."""

    quote_ticks: list[QuoteTick]
    deltas: list[OrderBookDelta]
    book_events: int
    crossed_or_locked: int
    one_sided: int
    nbbo: Nbbo


def build_quotes(q: PolygonQuotes, instrument_id: InstrumentId) -> QuoteOutput:
    """QuoteTicks and the L1 book of the NBBO rows (the TAQ builders, one contributor)."""
    n = q.ts.size
    bad = q.crossed_or_locked
    reason = np.where(bad, "crossed or locked NBBO", "").astype(object)
    rows = QuoteRows(
        ts=q.ts, exchange=np.full(n, NBBO, dtype=object), bid=q.bid, bid_size=q.bid_size, ask=q.ask,
        ask_size=q.ask_size, condition=np.full(n, "", dtype=object), sequence=q.sequence,
        nbbo_ind=np.full(n, "", dtype=object), source=np.full(n, "", dtype=object),
        cancel=np.full(n, "", dtype=object), usable=~bad, reason=reason, line=np.arange(n, dtype=np.int64),
    )
    book = book_deltas(rows, instrument_id)
    nbbo = Nbbo(q.ts, q.bid, q.bid_size, q.ask, q.ask_size, np.full(n, "polygon", dtype=object))
    ticks, crossed = quote_ticks(nbbo, instrument_id)
    return QuoteOutput(ticks, book.deltas, book.events, crossed, int((~nbbo.two_sided).sum()), nbbo)


@dataclass
class TradeOutput:
    """The canonical trade table of one symbol-day and the TradeTicks of its kept lit trades."""

    table: pa.Table
    ticks: list[TradeTick]


def build_trades(
    rows: Sequence[dict[str, Any]],
    instrument_id: InstrumentId,
    conditions: ConditionTable,
    exchanges: ExchangeTable,
    nbbo: Nbbo | None,
    round_lot: int,
    where: str,
    odd_lot_trades: bool = True,
) -> TradeOutput:
    """Validate, sort, filter and classify one symbol-day of ``/v3/trades`` results.

    Drop reasons, in order of precedence: ``correction N`` (any non-zero SIP correction),
    ``unknown condition N`` / ``condition N`` (``ConditionTable.trade_reason``), ``odd lot`` (only
    with ``odd_lot_trades=False``), ``non-positive price``, ``sub-share size``.
    """
    n = len(rows)
    ts = np.empty(n, np.int64)
    pts = np.empty(n, np.int64)
    trf_ts = np.empty(n, np.int64)
    seq = np.empty(n, np.int64)
    price = np.empty(n)
    size = np.empty(n)
    exchange = np.empty(n, np.int64)
    trf_id = np.empty(n, np.int64)
    correction = np.empty(n, np.int64)
    tape = np.empty(n, np.int64)
    ids: list[str] = []
    conds: list[list[int]] = []
    for k, r in enumerate(rows):
        w = f"{where} row {k}"
        ts[k] = _int(r, "sip_timestamp", w)
        pts[k] = _int(r, "participant_timestamp", w, 0)
        trf_ts[k] = _int(r, "trf_timestamp", w, 0)
        seq[k] = _int(r, "sequence_number", w, 0)
        price[k] = _num(r, "price", w)
        size[k] = _num(r, "size", w)
        exchange[k] = _int(r, "exchange", w)
        trf_id[k] = _int(r, "trf_id", w, 0)
        correction[k] = _int(r, "correction", w, 0)
        tape[k] = _int(r, "tape", w, 0)
        ids.append(str(r.get("id", "")))
        c = r.get("conditions") or []
        if not isinstance(c, list) or not all(isinstance(x, int) for x in c):
            raise PolygonFormatError(w, "conditions", f"not a list of integers: {c!r}")
        conds.append(c)
    o = _order(ts, seq)
    ts, pts, trf_ts, seq, price, size = ts[o], pts[o], trf_ts[o], seq[o], price[o], size[o]
    exchange, trf_id, correction, tape = exchange[o], trf_id[o], correction[o], tape[o]
    ids = [ids[i] for i in o]
    conds = [conds[i] for i in o]
    whole = np.rint(size).astype(np.int64)
    reason = np.full(n, "", dtype=object)
    odd_lot = np.zeros(n, dtype=bool)
    for k in range(n):
        odd_lot[k] = conditions.is_odd_lot(conds[k]) or 0 < size[k] < round_lot
        if correction[k] != 0:
            reason[k] = f"correction {correction[k]}"
        elif why := conditions.trade_reason(conds[k]):
            reason[k] = why
        elif not odd_lot_trades and conditions.is_odd_lot(conds[k]):
            reason[k] = "odd lot"
        elif price[k] <= 0:
            reason[k] = "non-positive price"
        elif whole[k] <= 0:
            reason[k] = "sub-share size"
    kept = reason == ""
    off = exchange == OFF_EXCHANGE_ID
    lit = kept & ~off
    px_units = np.rint(price * PRICE_SCALE).astype(np.int64)
    aggressor = np.zeros(n, dtype=np.int8)
    if nbbo is not None:
        aggressor[lit] = lee_ready(ts[lit], px_units[lit], nbbo.ts, nbbo.bid, nbbo.ask)
    else:
        aggressor[lit] = lee_ready(ts[lit], px_units[lit], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    ticks = [
        TradeTick(
            instrument_id, Price(p / PRICE_SCALE, PRICE_PRECISION), Quantity.from_int(int(s)), _AGGRESSOR[int(a)],
            TradeId(f"{x}-{i}" if i else f"{x}-{q}"), int(t), int(t),
        )
        for t, p, s, a, x, i, q in zip(
            ts[lit].tolist(), px_units[lit].tolist(), whole[lit].tolist(), aggressor[lit].tolist(),
            exchange[lit].tolist(), [ids[k] for k in np.flatnonzero(lit)], seq[lit].tolist(), strict=True,
        )
    ]
    table = pa.table(
        {
            "ts_event": pa.array(ts, pa.int64()),
            "participant_timestamp": pa.array(pts, pa.int64()),
            "trf_timestamp": pa.array(trf_ts, pa.int64()),
            "sequence": pa.array(seq, pa.int64()),
            "trade_id": pa.array(ids, pa.string()),
            "exchange": pa.array(exchange, pa.int64()),
            "venue": pa.array([exchanges.mic(int(x)) for x in exchange], pa.string()),
            "trf_id": pa.array(trf_id, pa.int64()),
            "price": price,
            "size": size,
            "conditions": pa.array(conds, pa.list_(pa.int64())),
            "correction": pa.array(correction, pa.int64()),
            "tape": pa.array(tape, pa.int64()),
            "kept": kept,
            "drop_reason": pa.array(reason.tolist(), pa.string()),
            "odd_lot": odd_lot,
            "off_exchange": off,
            "aggressor": aggressor,
        },
    )
    return TradeOutput(table, ticks)
