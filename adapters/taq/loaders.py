"""One symbol's TAQ rows -> cleaned columns and NautilusTrader objects.

The rules (which rows are usable, how times convert, how the book aggregates) live in the pure
modules; this one validates values, applies them, and builds ``OrderBookDelta``, ``QuoteTick`` and
``TradeTick`` objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from nautilus_trader.model.data import BookOrder, OrderBookDelta, QuoteTick, TradeTick
from nautilus_trader.model.enums import AggressorSide, BookAction, OrderSide, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId, TradeId
from nautilus_trader.model.objects import Price, Quantity

from adapters.taq.book import ASK, BID, PRICE_SCALE, Delta, build_events
from adapters.taq.classify import lee_ready
from adapters.taq.conditions import classify_trades
from adapters.taq.config import TaqIngestConfig
from adapters.taq.constants import QUOTE_CANCEL, QUOTE_IS_NBBO
from adapters.taq.providers import PRICE_PRECISION
from adapters.taq.reader import LINE
from adapters.taq.times import et_times_to_utc_ns, valid_time_mask

PRICE_RE = r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)$"  # real files print ".01" without the leading zero
INT_RE = r"^[0-9]+$"
# Called with (row positions, field, reason) for rows that fail validation; returns nothing.
BadRows = Callable[[np.ndarray, str, str], None]

_SIDE = {BID: OrderSide.BUY, ASK: OrderSide.SELL}
_ACTION = {1: BookAction.ADD, 2: BookAction.UPDATE, 3: BookAction.DELETE}
_NULL_ORDER = BookOrder(OrderSide.NO_ORDER_SIDE, Price(0, PRICE_PRECISION), Quantity.from_int(0), 0)
_AGGRESSOR = {1: AggressorSide.BUYER, -1: AggressorSide.SELLER, 0: AggressorSide.NO_AGGRESSOR}


def _matches(arr: pa.ChunkedArray, pattern: str) -> np.ndarray:
    return np.asarray(pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False), dtype=bool)


def validate(table: pa.Table, checks: list[tuple[str, str, str]], bad: BadRows) -> pa.Table:
    """Drop rows whose fields fail their pattern; report each failure through ``bad``.

    ``checks`` holds (column, regex, reason) tuples; the time column is checked separately.
    """
    ok = valid_time_mask(pc.cast(table["time"], pa.string()).combine_chunks())
    if (~ok).any():
        bad(np.flatnonzero(~ok), "time", "not a 15-digit HHMMSSnnnnnnnnn time")
    for column, pattern, reason in checks:
        good = _matches(table[column], pattern)
        fresh = ok & ~good
        if fresh.any():
            bad(np.flatnonzero(fresh), column, reason)
        ok &= good
    return table.filter(pa.array(ok)) if not ok.all() else table


def _quote_checks(bid_price: str, ask_price: str, bid_size: str, ask_size: str) -> list[tuple[str, str, str]]:
    """Validation rules for a two-sided quote's prices and round-lot sizes (participant or NBBO)."""
    return [
        (bid_price, PRICE_RE, "not a price"),
        (ask_price, PRICE_RE, "not a price"),
        (bid_size, INT_RE, "not a whole number of round lots"),
        (ask_size, INT_RE, "not a whole number of round lots"),
    ]


def _sequence(table: pa.Table) -> np.ndarray:
    """The SIP sequence numbers (the time tie-break), zeros when the file has none."""
    if "sequence" not in table.column_names:
        return np.zeros(table.num_rows, np.int64)
    return _ints(table["sequence"])


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)


def _ints(col: pa.ChunkedArray) -> np.ndarray:
    return pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False)


def _strs(table: pa.Table, name: str, default: str = "") -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, default, dtype=object)
    return np.asarray(pc.utf8_trim_whitespace(table[name]).to_numpy(zero_copy_only=False), dtype=object)


@dataclass
class QuoteRows:
    """One symbol's participant quotes, cleaned (prices in 1e-4 $, sizes in shares)."""

    ts: np.ndarray
    exchange: np.ndarray
    bid: np.ndarray
    bid_size: np.ndarray
    ask: np.ndarray
    ask_size: np.ndarray
    condition: np.ndarray
    sequence: np.ndarray
    nbbo_ind: np.ndarray
    source: np.ndarray
    cancel: np.ndarray
    usable: np.ndarray
    reason: np.ndarray
    line: np.ndarray

    @classmethod
    def empty(cls) -> QuoteRows:
        """No quotes (a day ingested from an NBBO file without participant quotes)."""
        i64, obj = np.zeros(0, np.int64), np.zeros(0, dtype=object)
        return cls(i64, obj, i64, i64, i64, i64, obj, i64, obj, obj, obj, np.zeros(0, bool), obj, i64)

    def to_table(self, symbol: str) -> pa.Table:
        """The canonical quote table (prices in dollars)."""
        return pa.table(
            {
                "ts_event": self.ts,
                "symbol": np.full(self.ts.size, symbol, dtype=object),
                "exchange": self.exchange,
                "bid_price": self.bid / PRICE_SCALE,
                "bid_size": self.bid_size,
                "ask_price": self.ask / PRICE_SCALE,
                "ask_size": self.ask_size,
                "condition": self.condition,
                "sequence": self.sequence,
                "nbbo_ind": self.nbbo_ind,
                "source": self.source,
                "cancel": self.cancel,
                "usable": self.usable,
                "reason": self.reason,
                "line": self.line,
            },
        )


def clean_quotes(table: pa.Table, date: dt.date, round_lot: int, config: TaqIngestConfig, bad: BadRows) -> QuoteRows:
    """Validate and convert one symbol's quote rows; decide which are usable for the book."""
    table = validate(table, _quote_checks("bid_price", "ask_price", "bid_size", "ask_size"), bad)
    ts = et_times_to_utc_ns(table["time"].combine_chunks(), date)
    seq = _sequence(table)
    # Time order with the SIP sequence as the tie-break (rows are already so sorted in real files).
    order = np.lexsort((seq, ts))
    table = table.take(pa.array(order))
    ts, seq = ts[order], seq[order]
    bid = np.rint(_floats(table["bid_price"]) * PRICE_SCALE).astype(np.int64)
    ask = np.rint(_floats(table["ask_price"]) * PRICE_SCALE).astype(np.int64)
    bid_size = _ints(table["bid_size"]) * round_lot
    ask_size = _ints(table["ask_size"]) * round_lot
    # A zero price or size means the side is missing, never a $0 level.
    bid_missing = (bid <= 0) | (bid_size <= 0)
    ask_missing = (ask <= 0) | (ask_size <= 0)
    bid[bid_missing], bid_size[bid_missing] = 0, 0
    ask[ask_missing], ask_size[ask_missing] = 0, 0
    condition = _strs(table, "quote_condition")
    cancel = _strs(table, "quote_cancel_correction")
    reason = np.full(table.num_rows, "", dtype=object)
    reason[~np.isin(condition, list(config.quote_keep_conditions))] = "condition"
    both = ~bid_missing & ~ask_missing
    reason[(reason == "") & both & (bid > ask)] = "crossed quote"
    reason[(reason == "") & both & (bid == ask)] = "locked quote"
    is_cancel = cancel == QUOTE_CANCEL
    reason[is_cancel] = "cancelled"
    for r in np.flatnonzero(reason == "condition"):
        reason[r] = f"condition {condition[r] or 'blank'}"
    return QuoteRows(
        ts=ts,
        exchange=_strs(table, "exchange"),
        bid=bid,
        bid_size=bid_size,
        ask=ask,
        ask_size=ask_size,
        condition=condition,
        sequence=seq,
        nbbo_ind=_strs(table, "national_bbo_ind"),
        source=_strs(table, "source_of_quote"),
        cancel=cancel,
        usable=reason == "",
        reason=reason,
        line=table[LINE].to_numpy(),
    )


@dataclass
class BookOutput:
    """Deltas, and per event its quote row, timestamp and the aggregated touch after it."""

    deltas: list[OrderBookDelta]
    events: int
    event_row: np.ndarray
    event_ts: np.ndarray
    best_bid: np.ndarray
    best_bid_size: np.ndarray
    best_ask: np.ndarray
    best_ask_size: np.ndarray

    @property
    def crossed(self) -> np.ndarray:
        """Per event: the aggregated best bid is above the best ask."""
        return (self.best_bid > 0) & (self.best_ask > 0) & (self.best_bid > self.best_ask)

    @property
    def locked(self) -> np.ndarray:
        """Per event: the aggregated best bid equals the best ask."""
        return (self.best_bid > 0) & (self.best_ask > 0) & (self.best_bid == self.best_ask)

    def row_flags(self, n_rows: int) -> dict[str, np.ndarray]:
        """Columns for the canonical quote table: which rows made a book event, its sequence,
        and whether the aggregated book after that event is crossed or locked."""
        sequence = np.full(n_rows, -1, dtype=np.int64)
        crossed = np.zeros(n_rows, dtype=bool)
        locked = np.zeros(n_rows, dtype=bool)
        sequence[self.event_row] = np.arange(self.events, dtype=np.int64)
        crossed[self.event_row] = self.crossed
        locked[self.event_row] = self.locked
        return {"book_sequence": sequence, "book_crossed": crossed, "book_locked": locked}


def _price(p: int) -> Price:
    return Price(p / PRICE_SCALE, PRICE_PRECISION)


def delta_batch(
    instrument_id: InstrumentId,
    changes: Sequence[Delta],
    sequence: int,
    ts_event: int,
    ts_init: int,
    prices: dict[int, Price],
    sizes: dict[int, Quantity],
    snapshot: bool,
) -> list[OrderBookDelta]:
    """The ``OrderBookDelta``s of one book event.

    A snapshot event starts with a CLEAR and flags every delta ``F_SNAPSHOT``. The last delta
    carries ``F_LAST``. ``prices``/``sizes`` cache the objects of recurring levels (a large share
    of the cost otherwise); the caller keeps them across events.
    """
    flags = RecordFlag.F_SNAPSHOT if snapshot else 0
    batch: list[OrderBookDelta] = []
    if snapshot:
        batch.append(OrderBookDelta(instrument_id, BookAction.CLEAR, _NULL_ORDER, flags, sequence, ts_event, ts_init))
    for d in changes:
        price = prices.get(d.price)
        if price is None:
            price = prices[d.price] = _price(d.price)
        size = sizes.get(d.size)
        if size is None:
            size = sizes[d.size] = Quantity.from_int(d.size)
        order = BookOrder(_SIDE[d.side], price, size, 0)
        batch.append(OrderBookDelta(instrument_id, _ACTION[d.action], order, flags, sequence, ts_event, ts_init))
    last = batch[-1]
    batch[-1] = OrderBookDelta(
        instrument_id, last.action, last.order, flags | RecordFlag.F_LAST, sequence, ts_event, ts_init,
    )
    return batch


def book_deltas(q: QuoteRows, instrument_id: InstrumentId) -> BookOutput:
    """Diff deltas of the aggregated book.

    One event is one quote row that changes the aggregated book; all its deltas share the
    event's sequence number (0, 1, 2, ... over the day) and the last one carries ``F_LAST``.
    The day's first event is the only snapshot: it starts with a CLEAR, and its deltas carry
    ``F_SNAPSHOT``. Cancelled rows (Quote_Cancel_Correction ``B``) are skipped entirely; other
    unusable rows withdraw their exchange's quote.
    """
    keep = q.cancel != QUOTE_CANCEL
    rows = np.flatnonzero(keep)
    deltas: list[OrderBookDelta] = []
    rows_out, ts_out, bb, bbs, ba, bas = [], [], [], [], [], []
    seq = 0
    ts_all = q.ts.tolist()
    # Levels recur all day: building each Price/Quantity once is a large share of this loop's cost.
    prices: dict[int, Price] = {}
    sizes: dict[int, Quantity] = {}
    for event in build_events(
        q.exchange[rows], q.bid[rows], q.bid_size[rows], q.ask[rows], q.ask_size[rows], q.usable[rows],
    ):
        row = int(rows[event.row])
        ts = ts_all[row]
        deltas.extend(delta_batch(instrument_id, event.deltas, seq, ts, ts, prices, sizes, snapshot=seq == 0))
        rows_out.append(row)
        ts_out.append(ts)
        bb.append(event.best_bid)
        bbs.append(event.best_bid_size)
        ba.append(event.best_ask)
        bas.append(event.best_ask_size)
        seq += 1
    as_i64 = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
    return BookOutput(deltas, seq, as_i64(rows_out), as_i64(ts_out), as_i64(bb), as_i64(bbs), as_i64(ba), as_i64(bas))


@dataclass
class Nbbo:
    """NBBO updates of one symbol (prices in 1e-4 $, sizes in shares) and where each came from."""

    ts: np.ndarray
    bid: np.ndarray
    bid_size: np.ndarray
    ask: np.ndarray
    ask_size: np.ndarray
    origin: np.ndarray

    @property
    def two_sided(self) -> np.ndarray:
        return (self.bid > 0) & (self.ask > 0) & (self.bid_size > 0) & (self.ask_size > 0)

    @property
    def crossed_or_locked(self) -> np.ndarray:
        return self.two_sided & (self.bid >= self.ask)

    def to_table(self, symbol: str) -> pa.Table:
        return pa.table(
            {
                "ts_event": self.ts,
                "symbol": np.full(self.ts.size, symbol, dtype=object),
                "bid_price": self.bid / PRICE_SCALE,
                "bid_size": self.bid_size,
                "ask_price": self.ask / PRICE_SCALE,
                "ask_size": self.ask_size,
                "origin": self.origin,
                "two_sided": self.two_sided,
                "crossed_or_locked": self.crossed_or_locked,
            },
        )


def nbbo_from_book(book: BookOutput) -> Nbbo:
    """The NBBO as the aggregated book's touch (sizes summed across venues), one update per event
    that changed the touch: a change deeper in the book is not a new NBBO."""
    touch = np.stack([book.best_bid, book.best_bid_size, book.best_ask, book.best_ask_size], axis=1)
    changed = np.ones(book.events, dtype=bool)
    if book.events > 1:
        changed[1:] = (touch[1:] != touch[:-1]).any(axis=1)
    return Nbbo(
        book.event_ts[changed], book.best_bid[changed], book.best_bid_size[changed], book.best_ask[changed],
        book.best_ask_size[changed], np.full(int(changed.sum()), "book", dtype=object),
    )


def nbbo_from_files(table: pa.Table | None, q: QuoteRows, date: dt.date, round_lot: int, bad: BadRows) -> Nbbo:
    """The complete NBBO: the NBBO file's Best_* appendages plus the quote-file rows that are
    themselves the NBBO (``National_BBO_Ind`` 1 for CQS, 4 for UTP; Holden-Jacobsen)."""
    parts = []
    if table is not None and table.num_rows:
        checks = _quote_checks("best_bid_price", "best_offer_price", "best_bid_size", "best_offer_size")
        table = validate(table, checks, bad)
        seq = _sequence(table)
        parts.append(
            (
                et_times_to_utc_ns(table["time"].combine_chunks(), date),
                seq,
                np.rint(_floats(table["best_bid_price"]) * PRICE_SCALE).astype(np.int64),
                _ints(table["best_bid_size"]) * round_lot,
                np.rint(_floats(table["best_offer_price"]) * PRICE_SCALE).astype(np.int64),
                _ints(table["best_offer_size"]) * round_lot,
                np.full(table.num_rows, "nbbo-file", dtype=object),
            ),
        )
    is_nbbo = np.array(
        [QUOTE_IS_NBBO.get(s) == ind for s, ind in zip(q.source, q.nbbo_ind, strict=True)], dtype=bool,
    ) & (q.cancel != QUOTE_CANCEL) if q.ts.size else np.zeros(0, dtype=bool)
    parts.append(
        (
            q.ts[is_nbbo], q.sequence[is_nbbo], q.bid[is_nbbo], q.bid_size[is_nbbo], q.ask[is_nbbo],
            q.ask_size[is_nbbo], np.full(int(is_nbbo.sum()), "quote-file", dtype=object),
        ),
    )
    ts, seq, bid, bsz, ask, asz, origin = (np.concatenate(c) for c in zip(*parts, strict=True))
    order = np.lexsort((seq, ts))
    return Nbbo(ts[order], bid[order], bsz[order], ask[order], asz[order], origin[order])


def quote_ticks(nbbo: Nbbo, instrument_id: InstrumentId) -> tuple[list[QuoteTick], int]:
    """QuoteTicks of the two-sided, uncrossed NBBO updates; returns them and the crossed/locked count.

    A one-sided NBBO update is skipped (a QuoteTick needs both sides); a crossed or locked one is
    flagged in the canonical NBBO table and never becomes a QuoteTick.
    """
    usable = nbbo.two_sided & ~nbbo.crossed_or_locked
    ticks = [
        QuoteTick(
            instrument_id, _price(int(b)), _price(int(a)), Quantity.from_int(int(bs)), Quantity.from_int(int(as_)),
            int(t), int(t),
        )
        for t, b, bs, a, as_ in zip(
            nbbo.ts[usable].tolist(), nbbo.bid[usable].tolist(), nbbo.bid_size[usable].tolist(),
            nbbo.ask[usable].tolist(), nbbo.ask_size[usable].tolist(), strict=True,
        )
    ]
    return ticks, int(nbbo.crossed_or_locked.sum())


@dataclass
class TradeRows:
    """One symbol's trades with decisions and flags."""

    table: pa.Table  # canonical trade table
    ticks: list[TradeTick]


def clean_trades(
    table: pa.Table,
    date: dt.date,
    round_lot: int,
    nbbo: Nbbo,
    instrument_id: InstrumentId,
    config: TaqIngestConfig,
    bad: BadRows,
) -> TradeRows:
    """Validate, filter, flag and classify one symbol's trades; TradeTicks for the lit kept ones."""
    table = validate(
        table,
        [("trade_price", PRICE_RE, "not a price"), ("trade_volume", INT_RE, "not a whole number of shares")],
        bad,
    )
    ts = et_times_to_utc_ns(table["time"].combine_chunks(), date)
    seq = _sequence(table)
    order = np.lexsort((seq, ts))
    table = table.take(pa.array(order))
    ts, seq = ts[order], seq[order]
    price = _floats(table["trade_price"])
    size = _ints(table["trade_volume"])
    conditions = pc.fill_null(table["sale_condition"], "").combine_chunks()
    corrections = pc.utf8_trim_whitespace(table["correction"]).combine_chunks()
    decided = classify_trades(
        conditions, corrections, table["exchange"].combine_chunks(), price, size, round_lot,
        config.trade_exclude_conditions, config.trade_corrections_kept,
    )
    kept = decided["kept"]
    lit = kept & ~decided["off_exchange"]
    aggressor = np.zeros(ts.size, dtype=np.int8)
    # Lee-Ready over the lit kept trades (the tick test must not see dropped or off-exchange
    # prints), in integer 1e-4 dollar units so that "at the mid" is exact.
    price_units = np.rint(price * PRICE_SCALE).astype(np.int64)
    aggressor[lit] = lee_ready(ts[lit], price_units[lit], nbbo.ts, nbbo.bid, nbbo.ask)
    trade_ids = _strs(table, "trade_id")
    ticks = [
        TradeTick(
            instrument_id, Price(p, PRICE_PRECISION), Quantity.from_int(int(s)), _AGGRESSOR[int(a)],
            TradeId(tid or f"{t}-{q}"), int(t), int(t),
        )
        for t, p, s, a, tid, q in zip(
            ts[lit].tolist(), price[lit].tolist(), size[lit].tolist(), aggressor[lit].tolist(),
            trade_ids[lit].tolist(), seq[lit].tolist(), strict=True,
        )
    ]
    canonical = pa.table(
        {
            "ts_event": ts,
            "symbol": _strs(table, "symbol"),
            "exchange": _strs(table, "exchange"),
            "sale_condition": np.asarray(conditions.to_numpy(zero_copy_only=False), dtype=object),
            "size": size,
            "price": price,
            "correction": np.asarray(corrections.to_numpy(zero_copy_only=False), dtype=object),
            "sequence": seq,
            "trade_id": trade_ids,
            "trf": _strs(table, "trf"),
            "kept": kept,
            "drop_reason": decided["reason"],
            "odd_lot": decided["odd_lot"],
            "auction": decided["auction"],
            "iso": decided["iso"],
            "off_exchange": decided["off_exchange"],
            "aggressor": aggressor,
            "line": table[LINE].to_numpy(),
        },
    )
    return TradeRows(canonical, ticks)
