"""Positions in the Redis cache rebuilt from their orders' fills before a node loads it.

Nautilus keeps an order's events and its position's fills under separate Redis keys, written by a
background thread, and drops the writes it makes while Redis is unreachable. A node killed between
the two writes of one fill, or one that traded through a Redis restart, leaves its successor a
position that disagrees with its orders. Start-up reconciliation repairs orders from the venue's
reports, then positions against the venue's net position, and both steps go wrong on such a cache:
an order missing a fill its position already holds gets the fill again (the position counts it
twice), and a position missing a fill gets a synthetic reconciliation order the venue never saw.

Orders are what reconciliation checks against the venue, order by order, so they are the record:
before the node is built, every position is rebuilt from the fills of its orders, written back
through Nautilus's own cache database adapter, in the order Nautilus writes them when it trades.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlparse

import msgspec
from nautilus_trader.cache.config import CacheConfig
from nautilus_trader.cache.database import CacheDatabaseAdapter
from nautilus_trader.common.config import DatabaseConfig
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import PositionId, TraderId
from nautilus_trader.model.position import Position
from nautilus_trader.serialization.serializer import MsgSpecSerializer


@dataclass(frozen=True)
class PositionRepair:
    """One position the cache held differently from its orders' fills.

    Parameters
    ----------
    position_id : str
    cached_qty : float | None
        Signed quantity of the cached position; None if the cache had none.
    rebuilt_qty : float | None
        Signed quantity rebuilt from the orders; None if no order has a fill for it (deleted).
    only_in_position : tuple[str, ...]
        Trade ids the cached position held that no cached order has.
    only_in_orders : tuple[str, ...]
        Trade ids of order fills the cached position lacked.
    """

    position_id: str
    cached_qty: float | None
    rebuilt_qty: float | None
    only_in_position: tuple[str, ...]
    only_in_orders: tuple[str, ...]

    def describe(self) -> str:
        """One line for the node's log and the event log."""
        after = "deleted (no order fill)" if self.rebuilt_qty is None else f"{self.rebuilt_qty:+g}"
        before = "none" if self.cached_qty is None else f"{self.cached_qty:+g}"
        return (f"position {self.position_id} rebuilt from its orders' fills: {before} -> {after} "
                f"(fills only in the position: {list(self.only_in_position)}, "
                f"only in the orders: {list(self.only_in_orders)})")

    def to_dict(self) -> dict[str, object]:
        return {"position_id": self.position_id, "cached_qty": self.cached_qty, "rebuilt_qty": self.rebuilt_qty,
                "only_in_position": list(self.only_in_position), "only_in_orders": list(self.only_in_orders)}


def redis_cache_config(redis_url: str) -> CacheConfig:
    """A live node's cache configuration for ``redis_url``."""
    url = urlparse(redis_url)
    # Nautilus's Redis cache speaks TCP only (no unix sockets): host and port.
    return CacheConfig(database=DatabaseConfig(type="redis", host=url.hostname or "127.0.0.1", port=url.port or 6379),
                       encoding="msgpack", buffer_interval_ms=None, flush_on_start=False)


def cache_database(redis_url: str, trader_id: str) -> CacheDatabaseAdapter:
    """The adapter a live node's kernel builds for ``redis_url``: same keys, same serializer."""
    return CacheDatabaseAdapter(TraderId(trader_id), UUID4(),
                                MsgSpecSerializer(encoding=msgspec.msgpack, timestamps_as_str=True),
                                redis_cache_config(redis_url))


def _fills_by_position(db: CacheDatabaseAdapter) -> dict[PositionId, list[OrderFilled]]:
    index = db.load_index_order_position()
    fills: dict[PositionId, list[OrderFilled]] = defaultdict(list)
    for order in db.load_orders().values():
        for event in order.events:
            if not isinstance(event, OrderFilled):
                continue
            # The engine assigns the position before applying a fill to its order, so stored fills
            # carry it; the index is the fallback for a fill stored without one.
            position_id = event.position_id or index.get(order.client_order_id)
            if position_id is not None:
                fills[position_id].append(event)
    for own in fills.values():
        own.sort(key=lambda fill: fill.ts_event)  # stable: one order's fills keep their order
    return fills


def _load_positions(db: CacheDatabaseAdapter) -> tuple[dict[PositionId, Position], set[PositionId]]:
    """The cached positions, and the ids of those Nautilus cannot load (a fill stored twice)."""
    positions: dict[PositionId, Position] = {}
    unreadable: set[PositionId] = set()
    for key in db.keys("positions:*"):
        position_id = PositionId(key.rsplit(":", maxsplit=1)[1])
        try:
            position = db.load_position(position_id)
        except (RuntimeError, KeyError):
            unreadable.add(position_id)
            continue
        if position is not None:
            positions[position_id] = position
    return positions, unreadable


def _trade_ids(position: Position | None) -> list[str]:
    return [] if position is None else [event.trade_id.value for event in position.events]


def _replay(db: CacheDatabaseAdapter, fills: list[OrderFilled], write: bool) -> Position:
    """Apply ``fills`` to a new position; ``write``: store each step as the execution engine does
    (add on open and on a reopen after flat, where the adapter drops the closed position's fills;
    update otherwise)."""
    instrument = db.load_instrument(fills[0].instrument_id)
    if instrument is None:
        raise LookupError(f"instrument {fills[0].instrument_id} is not in the Redis cache")
    position = Position(instrument, fills[0])
    if write:
        db.add_position(position)
    for fill in fills[1:]:
        reopen = position.is_closed
        position.apply(fill)
        if write:
            (db.add_position if reopen else db.update_position)(position)
    return position


def rebuild_positions(redis_url: str, trader_id: str) -> list[PositionRepair]:
    """Make every cached position of ``trader_id`` hold exactly its orders' fills.

    Only positions that differ are rewritten. Call it while no node of this trader is writing
    (a failover leader calls it after taking the lease, before building its node).

    Returns
    -------
    list[PositionRepair]
        What was changed; empty for a consistent cache.
    """
    db = cache_database(redis_url, trader_id)
    try:
        fills = _fills_by_position(db)
        positions, unreadable = _load_positions(db)
        repairs: list[PositionRepair] = []
        for position_id in sorted(set(fills) | set(positions) | unreadable, key=lambda pid: pid.value):
            cached = positions.get(position_id)
            own = fills.get(position_id, [])
            rebuilt = _replay(db, own, write=False) if own else None
            if position_id not in unreadable and _trade_ids(cached) == _trade_ids(rebuilt):
                continue
            db.delete_position(position_id)
            if own:
                _replay(db, own, write=True)
            held = {fill.trade_id.value for fill in own}
            cached_ids = set(_trade_ids(cached))
            repairs.append(PositionRepair(
                position_id=position_id.value,
                cached_qty=None if cached is None else float(cached.signed_qty),
                rebuilt_qty=None if rebuilt is None else float(rebuilt.signed_qty),
                only_in_position=tuple(sorted(cached_ids - held)),
                only_in_orders=tuple(t for t in _trade_ids(rebuilt) if t not in cached_ids),
            ))
        return repairs
    finally:
        db.close()  # drains the adapter's write queue before the node loads the cache
