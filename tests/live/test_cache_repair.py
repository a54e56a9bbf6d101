"""Positions rebuilt from their orders' fills in a real Redis cache written by Nautilus's adapter.

Each test writes the cache a killed or Redis-less node leaves: the same Nautilus adapter calls a
node makes, with some of them missing, then checks what a node loading the cache would see.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from nautilus_trader.cache.database import CacheDatabaseAdapter
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ClientOrderId, PositionId, StrategyId, TradeId, TraderId
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.orders import Order
from nautilus_trader.model.position import Position
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.test_kit.stubs.events import TestEventStubs
from nautilus_trader.test_kit.stubs.execution import TestExecStubs

from hftmm.live.cache_repair import PositionRepair, cache_database, rebuild_positions

INSTRUMENT = TestInstrumentProvider.equity("ACME", "XNYS")
STRATEGY = StrategyId("GlftMarketMaker-001")
POSITION = PositionId(f"{INSTRUMENT.id}-{STRATEGY}")


class Node:
    """The cache writes of a node trading one NETTING position, each one skippable."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.trader = f"REPAIR-{uuid.uuid4().hex[:6].upper()}"
        self.db: CacheDatabaseAdapter | None = cache_database(url, self.trader)
        self.db.add_instrument(INSTRUMENT)
        self.position: Position | None = None
        self.ts = 1_000

    def order(self, n: int, side: OrderSide) -> Order:
        order = TestExecStubs.limit_order(INSTRUMENT, side, Price.from_str("50.00"), Quantity.from_int(100),
                                          trader_id=TraderId(self.trader), strategy_id=STRATEGY,
                                          client_order_id=ClientOrderId(f"O-{n}"))
        self.db.add_order(order)
        for event in (TestEventStubs.order_submitted(order), TestEventStubs.order_accepted(order)):
            order.apply(event)
            self.db.update_order(order)
        return order

    def fill(self, order: Order, *, to_order: bool = True, to_position: bool = True) -> str:
        self.ts += 1_000
        fill = TestEventStubs.order_filled(order, INSTRUMENT, trade_id=TradeId(f"E-{order.client_order_id}"),
                                           position_id=POSITION, last_px=Price.from_str("50.00"), ts_event=self.ts)
        order.apply(fill)
        if to_order:
            self.db.update_order(order)
        if self.position is None:
            self.position = Position(INSTRUMENT, fill)
            if to_position:
                self.db.add_position(self.position)
        else:
            self.position.apply(fill)
            if to_position:
                self.db.update_position(self.position)
        return fill.trade_id.value

    def stop(self) -> None:
        """The node's writes so far are in Redis; it makes no more."""
        if self.db is not None:
            self.db.close()
            self.db = None

    def rebuild(self) -> list[PositionRepair]:
        self.stop()
        return rebuild_positions(self.url, self.trader)

    def loaded(self) -> Position | None:
        """The position as the next node loads it."""
        self.stop()
        fresh = cache_database(self.url, self.trader)
        try:
            return fresh.load_positions().get(POSITION)
        finally:
            fresh.close()


@pytest.fixture
def node(redis_server: tuple[str, int]) -> Node:
    host, port = redis_server
    return Node(f"redis://{host}:{port}/0")


def test_a_consistent_cache_is_left_alone(node: Node) -> None:
    for n, side in enumerate([OrderSide.SELL, OrderSide.SELL, OrderSide.BUY]):
        node.fill(node.order(n, side))
    assert node.loaded().signed_qty == -100
    assert node.rebuild() == []


def test_a_fill_the_order_lacks_is_dropped_from_the_position(node: Node) -> None:
    # Killed after the position's write of O-1's fill, before the order's: reconciliation will
    # give O-1 the venue's fill, which must then count once.
    node.fill(node.order(0, OrderSide.SELL))
    lost = node.fill(node.order(1, OrderSide.SELL), to_order=False)
    assert node.loaded().signed_qty == -200
    [repair] = node.rebuild()
    assert (repair.cached_qty, repair.rebuilt_qty) == (-200.0, -100.0)
    assert repair.only_in_position == (lost,) and repair.only_in_orders == ()
    assert node.loaded().signed_qty == -100
    assert node.rebuild() == []  # idempotent


def test_a_fill_the_position_lacks_is_added_to_it(node: Node) -> None:
    # O-1's position write was lost while Redis restarted; O-2's was not.
    first = node.fill(node.order(0, OrderSide.BUY))
    lost = node.fill(node.order(1, OrderSide.BUY), to_position=False)
    third = node.fill(node.order(2, OrderSide.SELL))
    assert node.loaded().is_closed  # +100 -100 as stored: flat
    [repair] = node.rebuild()
    assert repair.only_in_orders == (lost,) and (repair.cached_qty, repair.rebuilt_qty) == (0.0, 100.0)
    position = node.loaded()
    assert position.signed_qty == 100 and [e.trade_id.value for e in position.events] == [first, lost, third]
    assert position.avg_px_open == pytest.approx(50.0)


def test_a_position_reopened_after_flat_keeps_only_its_fills_since(node: Node) -> None:
    ids = [node.fill(node.order(0, OrderSide.BUY)), node.fill(node.order(1, OrderSide.SELL))]
    ids.append(node.fill(node.order(2, OrderSide.SELL), to_position=False))
    [repair] = node.rebuild()
    assert (repair.cached_qty, repair.rebuilt_qty) == (0.0, -100.0)
    position = node.loaded()
    # As Nautilus stores a NETTING position reopened after flat: the fills since it reopened.
    assert position.signed_qty == -100 and [e.trade_id.value for e in position.events] == ids[2:]
    assert position.realized_pnl is not None


def test_a_position_with_no_order_fill_is_deleted(node: Node) -> None:
    # The order's writes were all lost (a Redis outage): the venue's report will bring it back.
    order = node.order(0, OrderSide.SELL)
    node.db.delete_order(order.client_order_id)
    node.fill(order, to_order=False)
    [repair] = node.rebuild()
    assert repair.rebuilt_qty is None and repair.cached_qty == -100.0
    assert node.loaded() is None


def test_the_repair_describes_itself(node: Node) -> None:
    node.fill(node.order(0, OrderSide.SELL), to_order=False)
    [repair] = node.rebuild()
    assert repair.describe() == (f"position {POSITION} rebuilt from its orders' fills: -100 -> deleted (no order "
                                 f"fill) (fills only in the position: ['E-O-0'], only in the orders: [])")
    assert repair.to_dict()["cached_qty"] == float(Decimal(-100))


def test_a_position_nautilus_cannot_load_is_rewritten(node: Node) -> None:
    first = node.fill(node.order(0, OrderSide.SELL))
    node.db.update_position(node.position)  # the same fill stored twice: Nautilus refuses to load it
    node.stop()
    reader = cache_database(node.url, node.trader)
    with pytest.raises(RuntimeError, match="duplicate event"):
        reader.load_positions()
    reader.close()
    [repair] = node.rebuild()
    assert repair.cached_qty is None and repair.rebuilt_qty == -100.0 and repair.only_in_orders == (first,)
    assert node.loaded().signed_qty == -100
