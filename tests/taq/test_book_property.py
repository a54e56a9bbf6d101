"""Any sequence of per-exchange quotes yields deltas that rebuild exactly the aggregated book."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import BookOrder, OrderBookDelta
from nautilus_trader.model.enums import BookAction, BookType, OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price, Quantity

from adapters.taq.book import ADD, ASK, BID, DELETE, UPDATE, build_events

import numpy as np

quote = st.tuples(
    st.sampled_from("NPTZK"),
    st.integers(0, 12),  # bid price in ticks (0 = missing side)
    st.integers(0, 5),  # bid lots
    st.integers(0, 12),
    st.integers(0, 5),
    st.booleans(),  # usable
)


def expected_book(latest: dict[str, tuple[int, int, int, int]]) -> tuple[dict[int, int], dict[int, int]]:
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    for bp, bs, ap, asz in latest.values():
        if bp > 0 and bs > 0:
            bids[bp] = bids.get(bp, 0) + bs
        if ap > 0 and asz > 0:
            asks[ap] = asks.get(ap, 0) + asz
    return bids, asks


@settings(max_examples=200, deadline=None)
@given(st.lists(quote, min_size=1, max_size=60))
def test_deltas_rebuild_the_aggregated_book(rows: list[tuple[str, int, int, int, int, bool]]) -> None:
    ex = [r[0] for r in rows]
    tick = 100  # 1e-4 dollars per cent
    bid = np.array([r[1] * tick for r in rows], dtype=np.int64)
    bsz = np.array([r[2] * 100 for r in rows], dtype=np.int64)
    ask = np.array([r[3] * tick for r in rows], dtype=np.int64)
    asz = np.array([r[4] * 100 for r in rows], dtype=np.int64)
    usable = np.array([r[5] for r in rows])
    iid = InstrumentId.from_str("TEST.XNYS")
    nautilus = OrderBook(iid, BookType.L2_MBP)
    rebuilt: tuple[dict[int, int], dict[int, int]] = ({}, {})
    latest: dict[str, tuple[int, int, int, int]] = {}
    events = {e.row: e for e in build_events(ex, bid, bsz, ask, asz, usable)}
    for i, r in enumerate(rows):
        if usable[i]:
            latest[r[0]] = (int(bid[i]), int(bsz[i]), int(ask[i]), int(asz[i]))
        else:
            latest.pop(r[0], None)
        event = events.get(i)
        for d in event.deltas if event else ():
            book = rebuilt[d.side]
            if d.action == ADD:
                assert d.price not in book
                book[d.price] = d.size
            elif d.action == UPDATE:
                assert d.price in book and book[d.price] != d.size
                book[d.price] = d.size
            else:
                assert d.action == DELETE and d.size == 0
                del book[d.price]
            side = OrderSide.BUY if d.side == BID else OrderSide.SELL
            action = {ADD: BookAction.ADD, UPDATE: BookAction.UPDATE, DELETE: BookAction.DELETE}[d.action]
            order = BookOrder(side, Price(d.price / 10_000, 4), Quantity.from_int(d.size), 0)
            nautilus.apply_delta(OrderBookDelta(iid, action, order, 0, i, i, i))
        want = expected_book(latest)
        assert rebuilt == want
        # The real Nautilus L2 book built from the same deltas holds the same levels.
        got_bids = {round(float(lvl.price) * 10_000): round(lvl.size()) for lvl in nautilus.bids()}
        got_asks = {round(float(lvl.price) * 10_000): round(lvl.size()) for lvl in nautilus.asks()}
        assert (got_bids, got_asks) == want
        if event:
            bb = max(want[0]) if want[0] else 0
            ba = min(want[1]) if want[1] else 0
            assert (event.best_bid, event.best_ask) == (bb, ba)
