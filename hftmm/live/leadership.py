"""Active-passive failover of live nodes: a node trades only while it holds the leadership lease.

Every node of a trader id with ``live.failover.enabled`` runs a ``LeadershipController`` on the
lease ``hftmm:<trader>`` in Redis. A standby builds nothing until it acquires the lease; then it
promotes itself:

1. builds the node, whose cache loads the orders, positions, accounts and strategy state the former
   leader wrote to Redis (Nautilus loads the cache database when the kernel is built);
2. logs on to the venue with the FIX session the former leader used (sequence numbers and sent
   messages are in Redis, so reports the venue sent to the dead leader are resent), announcing its
   new fencing epoch on the Logon: from then on the venue refuses the former leader's orders;
3. reconciles with the venue's mass status (orders, fills, positions); orders the cache never heard
   of are claimed by the strategy of their instrument;
4. starts the strategies, which adopt the working orders and quote.

A leader that cannot renew the lease for ``lease_ttl_ms - safety_ms`` halts (the risk chain's
HALTED mode: every strategy cancels its orders) and stops, before a standby can acquire the lease.
Each node advertises itself under ``hftmm:<trader>:node:<owner>`` (role, epoch, pid), which
``hftmm status`` lists.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from nautilus_trader.model.enums import TradingState

from hftmm.config import LiveConfig
from hftmm.failover.controller import LeadershipController
from hftmm.failover.lease import Lease
from hftmm.live.node import LiveNode, build_live_node, wait_while_running
from hftmm.metrics.registry import NodeMetrics
from hftmm.risk.bus import FAILOVER_PLUGIN, HALT_ENDPOINT

log = logging.getLogger(__name__)


class LeadershipError(RuntimeError):
    """This node cannot lead (another node does, or Redis is unreachable)."""


def lease_name(trader_id: str) -> str:
    """The lease (and node registry) key prefix of a trader id."""
    return f"hftmm:{trader_id}"


def node_owner_id() -> str:
    """A node's unique lease owner id: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def read_nodes(client: redis.Redis, trader_id: str) -> list[dict[str, Any]]:
    """The nodes of ``trader_id`` that advertised themselves recently (role, epoch, pid, ...)."""
    nodes = []
    for key in client.scan_iter(match=f"{lease_name(trader_id)}:node:*", count=100):
        raw = client.get(key)
        if raw:
            with contextlib.suppress(ValueError):
                nodes.append(json.loads(raw))
    return sorted(nodes, key=lambda n: (n.get("role") != "active", n.get("since", 0)))


@dataclass
class Leadership:
    """What happened to a failover node's leadership (for its summary and the tests)."""

    owner: str
    epoch: int = 0
    acquired_at: float | None = None  # time.time() of the lease acquisition
    trading_at: float | None = None  # time.time() the strategies started (after reconciliation)
    demoted: str | None = None  # why the node lost leadership, if it did
    events: list[dict[str, Any]] = field(default_factory=list)


class FailoverNode:
    """Runs one node under the lease (see the module docstring).

    Parameters
    ----------
    config : LiveConfig
        With ``live.failover.enabled``.
    standby : bool
        Wait for the lease; without it the node refuses to start while another node leads.
    run_id : str, optional
        The run id of the node built on promotion.
    """

    def __init__(self, config: LiveConfig, *, standby: bool, run_id: str | None = None) -> None:
        live = config.live
        fo = live.failover
        if not fo.enabled or live.redis_url is None:
            raise LeadershipError("live.failover.enabled and live.redis_url are needed for failover")
        self.config = config
        self.standby = standby
        self.run_id = run_id
        # Short socket timeouts: a Redis that hangs must not hold the renewal past the lease.
        timeout = fo.lease_ttl_ms / 3000
        self.redis = redis.Redis.from_url(live.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self.leadership = Leadership(owner=node_owner_id())
        self.lease = Lease(self.redis, lease_name(live.trader_id), self.leadership.owner, fo.lease_ttl_ms)
        self.controller = LeadershipController(self.lease, self._promote, self._demote, poll_s=fo.poll_ms / 1000,
                                               safety_ms=fo.safety_ms)
        self.live: LiveNode | None = None
        self.node_task: asyncio.Task[None] | None = None
        self.promoted = asyncio.Event()
        self.ended = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check this node may start, then run the leadership loop and the node advertisement."""
        try:
            state = await asyncio.to_thread(self.lease.state)
        except redis.RedisError as e:
            raise LeadershipError(f"cannot reach Redis at {self.config.live.redis_url}: {e}") from e
        if state.owner is not None and not self.standby:
            raise LeadershipError(f"{state.owner} leads {self.config.live.trader_id} (epoch {state.epoch}); "
                                  "start this node with --standby")
        self._tasks = [asyncio.create_task(self.controller.run()), asyncio.create_task(self._advertise())]

    async def stop(self) -> None:
        """Stop trading (strategies cancel), then give the lease up so a standby takes over at once."""
        if self.live is not None and self.node_task is not None and not self.node_task.done():
            with contextlib.suppress(Exception):
                await self.live.node.stop_async()
        await self.controller.stop(release=self.leadership.demoted is None)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(redis.RedisError):
            await asyncio.to_thread(self.redis.delete, self._node_key)
        with contextlib.suppress(Exception):
            self.redis.close()

    # -- leadership callbacks ------------------------------------------------------------------

    async def _promote(self, epoch: int) -> None:
        lead = self.leadership
        lead.epoch, lead.acquired_at = epoch, time.time()
        lead.events.append({"event": "acquired", "epoch": epoch, "time": lead.acquired_at})
        loop = asyncio.get_running_loop()
        # Building loads the cache the former leader wrote to Redis (Nautilus does it at build).
        self.live = build_live_node(self.config, loop, run_id=self.run_id, fencing_epoch=epoch,
                                    run_data={"failover": {"epoch": epoch, "owner": lead.owner}})
        self.node_task = asyncio.create_task(self.live.node.run_async())
        self._set_leader_gauge(1)
        self._tasks.append(asyncio.create_task(self._watch_trading()))
        self.promoted.set()

    async def _watch_trading(self) -> None:
        """Note when the node's strategies run: logged on, reconciled, adopted, quoting."""
        assert self.live is not None
        trader = self.live.node.trader
        while not self.ended.is_set():
            strategies = trader.strategies()
            if strategies and all(s.is_running for s in strategies):
                self.leadership.trading_at = time.time()
                self.leadership.events.append({"event": "trading", "epoch": self.leadership.epoch,
                                               "time": self.leadership.trading_at})
                log.warning("leader with epoch %d trading %.3f s after acquiring the lease", self.leadership.epoch,
                            self.leadership.trading_at - (self.leadership.acquired_at or 0))
                await self._publish()
                return
            await asyncio.sleep(0.01)

    @staticmethod
    def _set_leader_gauge(value: int) -> None:
        metrics = NodeMetrics.current()  # installed when the node is built with a metrics port
        if metrics is not None:
            metrics.leader.set(value)

    async def _demote(self, reason: str) -> None:
        self._set_leader_gauge(0)
        self.leadership.demoted = reason
        self.leadership.events.append({"event": "demoted", "reason": reason, "time": time.time()})
        if self.live is not None:
            kernel = self.live.node.kernel
            # Nautilus's risk engine refuses every new order from now on, even if the node is still
            # starting (the risk actor not yet running); then the risk chain halts, so every
            # strategy cancels its quotes, and the node stops.
            kernel.risk_engine.set_trading_state(TradingState.HALTED)
            if HALT_ENDPOINT in kernel.msgbus.endpoints():
                kernel.msgbus.send(HALT_ENDPOINT, {"by": FAILOVER_PLUGIN, "reason": f"leadership lost: {reason}"})
            await asyncio.sleep(0.05)  # let the cancels go out before the clients disconnect
        # A demoted node does not lead again: it stops, and its supervisor restarts it as a standby
        # (its in-memory state may be behind what the new leader does from now on).
        await self.controller.stop(release=False)
        self.ended.set()

    # -- advertisement -------------------------------------------------------------------------

    @property
    def _node_key(self) -> str:
        return f"{lease_name(self.config.live.trader_id)}:node:{self.leadership.owner}"

    def _node_record(self) -> dict[str, Any]:
        lead = self.leadership
        role = "active" if self.controller.active else ("demoted" if lead.demoted else "standby")
        if role == "active" and lead.trading_at is None:
            role = "promoting"
        return {"owner": lead.owner, "role": role, "epoch": lead.epoch, "pid": os.getpid(),
                "host": socket.gethostname(), "since": lead.acquired_at or 0, "trading_at": lead.trading_at,
                "run_id": self.live.run_id if self.live else None, "ts": time.time()}

    async def _publish(self) -> None:
        ttl = max(3 * self.config.live.failover.poll_ms, self.config.live.failover.lease_ttl_ms)
        with contextlib.suppress(redis.RedisError):
            await asyncio.to_thread(self.redis.set, self._node_key, json.dumps(self._node_record()), px=ttl)

    async def _advertise(self) -> None:
        every = min(self.config.live.failover.poll_ms, self.config.live.failover.lease_ttl_ms // 3) / 1000
        while True:
            await self._publish()
            await asyncio.sleep(every)


async def run_failover_node(
    config: LiveConfig, *, standby: bool, duration_s: float | None, run_id: str | None,
    stop: asyncio.Event, while_running: Callable[[LiveNode], Awaitable[None]] | None = None,
) -> FailoverNode:
    """Wait for the lease, lead until ``stop``, ``duration_s`` after promotion, a demotion, or the
    end of ``while_running``; then stop the node and release the lease. Returns the node (its
    ``live`` is None if it never led)."""
    node = FailoverNode(config, standby=standby, run_id=run_id)
    await node.start()
    try:
        waiting = [asyncio.create_task(stop.wait()), asyncio.create_task(node.promoted.wait()),
                   asyncio.create_task(node.ended.wait())]
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        for t in waiting:
            t.cancel()
        if node.promoted.is_set() and not stop.is_set():
            assert node.live is not None and node.node_task is not None
            await wait_while_running(node.live, node.node_task, stop, duration_s, while_running, node.ended)
    finally:
        node.ended.set()
        await node.stop()
        if node.node_task is not None:
            await asyncio.sleep(0.2)
            node.node_task.cancel()
            await asyncio.gather(node.node_task, return_exceptions=True)
    return node
