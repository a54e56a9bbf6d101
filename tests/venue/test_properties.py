"""Hypothesis: random order flow (and replayed market data) never breaks the engine's invariants.

After every request or market event: the participant book is not crossed, no resting order crosses
available replayed liquidity, cum + leaves == quantity on every live report and resting order, fills
add up to each order's cum quantity, both sides of a participant trade match, exec ids are
consecutive, makers fill in price-time priority, FOK orders fill completely or not at all, and a
replace keeps or loses priority exactly as the rules say.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hftmm.venue.market_replay import CLEAR, LEVEL, NO_AGGRESSOR, QUOTE, TRADE
from hftmm.venue.matching_engine import MatchingEngine
from hftmm.venue.orders import (
    MARKET_COUNTERPARTY,
    CancelOrder,
    Event,
    ExecType,
    ExecutionReport,
    Liquidity,
    MassCancel,
    NewOrder,
    OrdType,
    ReplaceOrder,
    RestingOrder,
    Side,
    TimeInForce,
)
from tests.venue.helpers import SYM, c, engine

PARTICIPANTS = ("a", "b", "c")
LIVE = (ExecType.NEW, ExecType.PARTIAL_FILL, ExecType.REPLACED)

new_op = st.tuples(
    st.just("new"), st.sampled_from(PARTICIPANTS), st.sampled_from((Side.BUY, Side.SELL)),
    st.integers(1, 6).map(lambda n: n * 100), st.integers(4998, 5002),
    st.sampled_from(("limit", "limit", "limit", "market", "ioc", "fok", "post")), st.booleans(),
)
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 1000))
replace_op = st.tuples(st.just("replace"), st.integers(0, 1000), st.integers(-2, 4).map(lambda n: n * 100), st.integers(-2, 2))
mass_op = st.tuples(st.just("mass"), st.sampled_from(PARTICIPANTS), st.sampled_from((None, Side.BUY, Side.SELL)))
market_op = st.tuples(
    st.just("market"), st.sampled_from((LEVEL, LEVEL, LEVEL, TRADE, TRADE, QUOTE, CLEAR)),
    st.sampled_from((Side.BUY, Side.SELL, NO_AGGRESSOR)), st.integers(4997, 5003), st.integers(0, 8).map(lambda n: n * 100),
)
participant_flow = st.lists(st.one_of(new_op, new_op, new_op, cancel_op, replace_op, mass_op), min_size=5, max_size=60)
mixed_flow = st.lists(
    st.one_of(new_op, new_op, new_op, cancel_op, replace_op, mass_op, market_op, market_op, market_op), min_size=5, max_size=80,
)


class Auditor:
    """Drives an engine with generated operations and checks every invariant after each one."""

    def __init__(self, e: MatchingEngine) -> None:
        self.e = e
        self.next_exec_id = 1
        self.cum: dict[int, int] = defaultdict(int)
        self.live_cids: list[tuple[str, str]] = []
        self.n = 0

    def run(self, ops: list[tuple[Any, ...]]) -> None:
        for op in ops:
            getattr(self, "op_" + op[0])(*op[1:])

    # -- operations ---------------------------------------------------------------------------

    def op_new(self, who: str, side: Side, qty: int, cents: int, kind: str, gtc: bool) -> None:
        self.n += 1
        cid = f"o{self.n}"
        req = NewOrder(
            participant=who, client_order_id=cid, symbol=SYM, side=side, qty=qty,
            order_type=OrdType.MARKET if kind == "market" else OrdType.LIMIT, price=c(cents),
            tif={"ioc": TimeInForce.IOC, "fok": TimeInForce.FOK}.get(kind, TimeInForce.GTC if gtc else TimeInForce.DAY),
            post_only=kind == "post",
        )
        opposite = Side.SELL if side == Side.BUY else Side.BUY
        before = self.e.resting_orders(SYM, opposite)
        events = self.check(self.e.submit(req))
        self.live_cids.append((who, cid))
        self.check_priority(before, events, req)
        mine = [r for r in events if isinstance(r, ExecutionReport) and r.client_order_id == cid]
        if kind == "fok" and mine[0].exec_type == ExecType.NEW:
            assert sum(r.last_qty for r in mine) in (0, qty)

    def pick(self, pick: int) -> tuple[str, str] | None:
        """Mostly a resting order; one time in five any id ever used (most are gone: rejects)."""
        resting = self.e.resting_orders(SYM, Side.BUY) + self.e.resting_orders(SYM, Side.SELL)
        if resting and pick % 5:
            o = resting[pick % len(resting)]
            return o.participant, o.client_order_id
        return self.live_cids[pick % len(self.live_cids)] if self.live_cids else None

    def op_cancel(self, pick: int) -> None:
        picked = self.pick(pick)
        if picked is None:
            return
        who, cid = picked
        self.n += 1
        self.check(self.e.submit(CancelOrder(participant=who, client_order_id=f"x{self.n}", orig_client_order_id=cid, symbol=SYM)))

    def op_replace(self, pick: int, dqty: int, dticks: int) -> None:
        picked = self.pick(pick)
        if picked is None:
            return
        who, cid = picked
        old = self.e.order(who, cid)
        self.n += 1
        new_cid = f"r{self.n}"
        price = (old.price if old else c(5000)) + dticks * c(1)
        qty = max((old.qty if old else 100) + dqty, 1)
        side_orders = self.e.resting_orders(SYM, old.side) if old else []
        events = self.check(
            self.e.submit(ReplaceOrder(participant=who, client_order_id=new_cid, orig_client_order_id=cid, symbol=SYM, qty=qty, price=price)),
        )
        self.live_cids.append((who, new_cid))
        if old is None or not any(isinstance(r, ExecutionReport) and r.exec_type == ExecType.REPLACED for r in events):
            return
        now = self.e.resting_orders(SYM, old.side)
        ids = [o.order_id for o in now]
        if price == old.price and qty <= old.qty:
            # Size-down at the same price: same place in the queue, same replayed quantity ahead.
            assert [o.order_id for o in side_orders] == ids
            assert next(o for o in now if o.order_id == old.order_id).ahead == old.ahead
        elif old.order_id in ids:
            # Lost priority: last at its price level.
            same_level = [o.order_id for o in now if o.price == price]
            assert same_level[-1] == old.order_id

    def op_mass(self, who: str, side: Side | None) -> None:
        self.n += 1
        self.check(self.e.submit(MassCancel(participant=who, request_id=f"m{self.n}", symbol=SYM, side=side)))

    def op_market(self, kind: int, side: int, cents: int, size: int) -> None:
        if kind in (LEVEL, QUOTE) and side == NO_AGGRESSOR:
            side = Side.BUY
        if kind == TRADE and size == 0:
            size = 100
        self.n += 1
        self.check(self.e.on_market_event(SYM, (self.n, kind, side, c(cents), size)))

    # -- invariants ---------------------------------------------------------------------------

    def check(self, events: list[Event]) -> list[Event]:
        by_match: dict[int, list[ExecutionReport]] = defaultdict(list)
        for r in events:
            if not isinstance(r, ExecutionReport):
                continue
            assert r.exec_id == self.next_exec_id
            self.next_exec_id += 1
            if r.exec_type in (ExecType.PARTIAL_FILL, ExecType.FILL):
                assert r.last_qty > 0
                self.cum[r.order_id] += r.last_qty
                assert self.cum[r.order_id] == r.cum_qty
                by_match[r.match_id].append(r)
            if r.exec_type in LIVE:
                assert r.cum_qty + r.leaves_qty == r.order_qty and r.leaves_qty > 0
            if r.exec_type == ExecType.FILL:
                assert r.leaves_qty == 0 and r.cum_qty == r.order_qty
        for pair in by_match.values():
            if pair[0].counterparty == MARKET_COUNTERPARTY:
                assert len(pair) == 1
            else:
                taker, maker = pair
                assert (taker.liquidity, maker.liquidity) == (Liquidity.TAKER, Liquidity.MAKER)
                assert taker.side != maker.side and taker.last_qty == maker.last_qty and taker.last_px == maker.last_px
                assert taker.counterparty == maker.participant and maker.counterparty == taker.participant
        self.check_book()
        return events

    def check_book(self) -> None:
        bids = self.e.resting_orders(SYM, Side.BUY)
        asks = self.e.resting_orders(SYM, Side.SELL)
        if bids and asks:
            assert bids[0].price < asks[0].price, "participant book crossed"
        for o in bids + asks:
            assert o.leaves_qty > 0 and o.cum_qty + o.leaves_qty == o.qty and o.ahead >= 0
            assert self.cum[o.order_id] == o.cum_qty
        for p in range(4990, 5011):
            for side in (Side.BUY, Side.SELL):
                displayed, avail = self.e.replayed_level(SYM, side, c(p))
                assert 0 <= avail <= displayed
                if avail:
                    if side == Side.SELL and bids:
                        assert bids[0].price < c(p), "a resting bid crosses available replayed offers"
                    if side == Side.BUY and asks:
                        assert asks[0].price > c(p), "a resting offer crosses available replayed bids"

    def check_priority(self, before: list[RestingOrder], events: list[Event], req: NewOrder) -> None:
        """Resting orders touched by an incoming order are a prefix of the opposite side's priority list."""
        touched: list[int] = []
        for r in events:
            if not isinstance(r, ExecutionReport) or r.client_order_id == req.client_order_id:
                continue
            if r.exec_type in (ExecType.PARTIAL_FILL, ExecType.FILL, ExecType.CANCELED) and r.order_id not in touched:
                touched.append(r.order_id)
        assert touched == [o.order_id for o in before[: len(touched)]]
        for o in before[: max(len(touched) - 1, 0)]:
            assert self.e.order(o.participant, o.client_order_id) is None  # every maker but the last is done


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(participant_flow)
def test_participant_flow_keeps_every_invariant(ops: list[tuple[Any, ...]]) -> None:
    Auditor(engine()).run(ops)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_flow)
def test_flow_among_replayed_market_data_keeps_every_invariant(ops: list[tuple[Any, ...]]) -> None:
    Auditor(engine()).run(ops)


def long_flow(seed: int, n: int, market: bool) -> list[tuple[Any, ...]]:
    """A long random flow (hypothesis lists stay short; this keeps books deep and fills frequent)."""
    rng = random.Random(seed)
    ops: list[tuple[Any, ...]] = []
    for _ in range(n):
        roll = rng.random()
        if market and roll < 0.4:
            kind = rng.choice((LEVEL, LEVEL, LEVEL, TRADE, TRADE, QUOTE))
            side = rng.choice((Side.BUY, Side.SELL, NO_AGGRESSOR)) if kind == TRADE else rng.choice((Side.BUY, Side.SELL))
            ops.append(("market", kind, side, rng.randint(4996, 5004), rng.randint(0, 6) * 100))
        elif roll < 0.75:
            kind = rng.choice(("limit", "limit", "limit", "market", "ioc", "fok", "post"))
            ops.append(("new", rng.choice(PARTICIPANTS), rng.choice((Side.BUY, Side.SELL)), rng.randint(1, 6) * 100,
                        rng.randint(4997, 5003), kind, rng.random() < 0.5))
        elif roll < 0.85:
            ops.append(("cancel", rng.randint(0, 10_000)))
        elif roll < 0.98:
            ops.append(("replace", rng.randint(0, 10_000), rng.randint(-2, 3) * 100, rng.randint(-1, 1)))
        else:
            ops.append(("mass", rng.choice(PARTICIPANTS), rng.choice((None, Side.BUY, Side.SELL))))
    return ops


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32), st.booleans())
def test_long_flows_keep_every_invariant(seed: int, market: bool) -> None:
    Auditor(engine()).run(long_flow(seed, 400, market))


@settings(max_examples=100, deadline=None)
@given(mixed_flow, st.integers(0, 80))
def test_snapshot_restore_continues_identically(ops: list[tuple[Any, ...]], cut: int) -> None:
    first = Auditor(engine())
    first.run(ops[:cut])
    restored = Auditor(MatchingEngine.restore(first.e.snapshot()))
    restored.next_exec_id, restored.cum, restored.live_cids, restored.n = (
        first.next_exec_id, defaultdict(int, first.cum), list(first.live_cids), first.n,
    )
    log_a: list[Event] = []
    log_b: list[Event] = []
    first.check = lambda ev, f=first.check: (log_a.extend(ev), f(ev))[1]  # type: ignore[method-assign]
    restored.check = lambda ev, f=restored.check: (log_b.extend(ev), f(ev))[1]  # type: ignore[method-assign]
    first.run(ops[cut:])
    restored.run(ops[cut:])
    assert log_a == log_b
    assert first.e.snapshot() == restored.e.snapshot()
