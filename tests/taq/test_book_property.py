"""Any sequence of per-exchange quotes yields deltas that rebuild exactly the aggregated book."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import BookOrder, OrderBookDelta
from nautilus_trader.model.enums import BookAction, BookType, OrderSide, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price, Quantity

from adapters.taq.book import ADD, BID, DELETE, UPDATE, build_events
from adapters.taq.config import TaqIngestConfig
from adapters.taq.loaders import book_deltas, clean_quotes
from adapters.taq.reader import LINE

IID = InstrumentId.from_str("TEST.XNYS")
Book = tuple[dict[int, int], dict[int, int]]

# (exchange, bid ticks, bid lots, ask ticks, ask lots, condition); 0 ticks or lots = missing side.
# Prices share one small grid so that crossed and locked quotes, and shared levels, are frequent.
quote = st.tuples(
    st.sampled_from("NPTZK"),
    st.integers(0, 12),
    st.integers(0, 5),
    st.integers(0, 12),
    st.integers(0, 5),
    st.sampled_from("RRRRAOL"),
)


def aggregate(latest: dict[str, tuple[int, int, int, int]]) -> Book:
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    for bp, bs, ap, az in latest.values():
        if bp > 0 and bs > 0:
            bids[bp] = bids.get(bp, 0) + bs
        if ap > 0 and az > 0:
            asks[ap] = asks.get(ap, 0) + az
    return bids, asks


def expected_books(rows: list[tuple[str, int, int, int, int, str]]) -> list[Book]:
    """The aggregated book after each row, by the documented rules (in 1e-4 $ and shares)."""
    latest: dict[str, tuple[int, int, int, int]] = {}
    out = []
    for x, b, bl, a, al, cond in rows:
        bid, bsz, ask, asz = b * 100, bl * 100, a * 100, al * 100
        if bid == 0 or bsz == 0:
            bid, bsz = 0, 0
        if ask == 0 or asz == 0:
            ask, asz = 0, 0
        crossed = bid and ask and bid >= ask
        if cond in "ABHORW" and not crossed:
            latest[x] = (bid, bsz, ask, asz)
        else:
            latest.pop(x, None)
        out.append(aggregate(latest))
    return out


def nautilus_levels(book: OrderBook) -> Book:
    return (
        {round(float(lv.price) * 10_000): round(lv.size()) for lv in book.bids()},
        {round(float(lv.price) * 10_000): round(lv.size()) for lv in book.asks()},
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(quote, min_size=1, max_size=60))
def test_pure_deltas_rebuild_the_aggregated_book(rows: list[tuple[str, int, int, int, int, str]]) -> None:
    usable = np.array([r[5] in "ABHORW" for r in rows])
    bid = np.array([r[1] * 100 if r[2] else 0 for r in rows], dtype=np.int64)
    bsz = np.array([r[2] * 100 if r[1] else 0 for r in rows], dtype=np.int64)
    ask = np.array([r[3] * 100 if r[4] else 0 for r in rows], dtype=np.int64)
    asz = np.array([r[4] * 100 if r[3] else 0 for r in rows], dtype=np.int64)
    usable &= ~((bid > 0) & (ask > 0) & (bid >= ask))
    expected = expected_books(rows)
    events = {e.row: e for e in build_events([r[0] for r in rows], bid, bsz, ask, asz, usable)}
    rebuilt: Book = ({}, {})
    nautilus = OrderBook(IID, BookType.L2_MBP)
    for i in range(len(rows)):
        event = events.get(i)
        for d in event.deltas if event else ():
            side_book = rebuilt[d.side]
            if d.action == ADD:
                assert d.price not in side_book and d.size > 0
                side_book[d.price] = d.size
            elif d.action == UPDATE:
                assert d.price in side_book and side_book[d.price] != d.size > 0
                side_book[d.price] = d.size
            else:
                assert d.action == DELETE and d.size == 0 and d.price in side_book
                del side_book[d.price]
            side = OrderSide.BUY if d.side == BID else OrderSide.SELL
            action = {ADD: BookAction.ADD, UPDATE: BookAction.UPDATE, DELETE: BookAction.DELETE}[d.action]
            order = BookOrder(side, Price(d.price / 10_000, 4), Quantity.from_int(d.size), 0)
            nautilus.apply_delta(OrderBookDelta(IID, action, order, 0, i, i, i))
        assert rebuilt == expected[i]
        assert nautilus_levels(nautilus) == expected[i]
        if event:
            assert event.deltas, "an event always changes the book"
            bids, asks = expected[i]
            assert (event.best_bid, event.best_ask) == (max(bids, default=0), min(asks, default=0))
        else:
            assert i == 0 and expected[0] == ({}, {}) or expected[i] == expected[i - 1]


def quote_table(rows: list[tuple[str, int, int, int, int, str]]) -> pa.Table:
    """Raw quote rows as the reader yields them (strings; prices in dollars, sizes in round lots)."""
    n = len(rows)
    return pa.table(
        {
            "time": [f"0930{i // 100:02d}{i % 100:09d}" for i in range(n)],
            "exchange": [r[0] for r in rows],
            "symbol": ["TEST"] * n,
            "bid_price": [f"{r[1] / 100:.2f}" for r in rows],
            "bid_size": [str(r[2]) for r in rows],
            "ask_price": [f"{r[3] / 100:.2f}" for r in rows],
            "ask_size": [str(r[4]) for r in rows],
            "quote_condition": [r[5] for r in rows],
            "sequence": [str(i + 1) for i in range(n)],
            LINE: pa.array(range(2, n + 2), pa.int64()),
        },
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(quote, min_size=1, max_size=60))
def test_nautilus_deltas_rebuild_the_book_with_one_clear_and_f_last(
    rows: list[tuple[str, int, int, int, int, str]],
) -> None:
    q = clean_quotes(quote_table(rows), dt.date(2018, 3, 12), 100, TaqIngestConfig(), lambda *a: None)
    out = book_deltas(q, IID)
    expected = expected_books(rows)
    book = OrderBook(IID, BookType.L2_MBP)
    batches: dict[int, list[OrderBookDelta]] = {}
    for d in out.deltas:
        batches.setdefault(d.sequence, []).append(d)
    assert list(batches) == list(range(out.events)), "one sequence number per event, increasing"
    assert [d.sequence for d in out.deltas] == sorted(d.sequence for d in out.deltas)
    clears = [i for i, d in enumerate(out.deltas) if d.action == BookAction.CLEAR]
    assert clears == ([0] if out.deltas else [])
    for seq, batch in batches.items():
        assert [bool(d.flags & RecordFlag.F_LAST) for d in batch] == [False] * (len(batch) - 1) + [True]
        assert all(bool(d.flags & RecordFlag.F_SNAPSHOT) == (seq == 0) for d in batch)
        for d in batch:
            book.apply_delta(d)
        assert nautilus_levels(book) == expected[int(out.event_row[seq])]
    assert nautilus_levels(book) == expected[-1]
