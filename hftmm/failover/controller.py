"""The leadership loop of a node: wait as passive, promote on acquiring the lease, renew while
active, and demote (halt, cancel) the moment a renewal fails or cannot be made in time.

The controller is asyncio and Nautilus-free: the node gives it ``on_promote(epoch)`` (load state,
log on, reconcile, adopt orders, then quote) and ``on_demote(reason)`` (halt and cancel before the
passive can trade: the active stops trading when its lease *might* have expired, i.e. after
``ttl - safety`` without a successful renewal, before the passive can acquire it at ``ttl``).

While active, a keeper thread renews the lease every ``ttl / 3``: building and starting a node
blocks the event loop for longer than a short lease under load, and a lease renewed from the loop
would expire during the promotion itself. The keeper renews only while the loop shows signs of
life (it stamps the keeper every poll): a loop stalled for ``max_stall_ms`` stops the renewals, so
a hung leader loses the lease as a dead one does, and demotes when its loop runs again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable

import redis

from hftmm.failover.lease import Lease

log = logging.getLogger(__name__)


class _Keeper(threading.Thread):
    """Renews the lease from its own thread (see the module docstring)."""

    def __init__(self, lease: Lease, every_s: float, max_stall_s: float) -> None:
        super().__init__(name="hftmm-lease-keeper", daemon=True)
        self.lease = lease
        self.every_s = every_s
        self.max_stall_s = max_stall_s
        now = time.monotonic()
        self.renewed_at = now  # when the last successful renewal was sent
        self.loop_alive_at = now
        self.lost: str | None = None
        self.error = ""
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self.every_s):
            sent = time.monotonic()
            if sent - self.loop_alive_at > self.max_stall_s:
                self.lost = f"the event loop stalled for {sent - self.loop_alive_at:.1f} s: renewals stopped"
                return
            try:
                renewed = self.lease.renew()
            except redis.RedisError as e:
                self.error = str(e) or type(e).__name__
                continue
            if not renewed:
                self.lost = "the lease was lost (expired or taken over)"
                return
            self.renewed_at, self.error = sent, ""

    def stop(self) -> None:
        self._stop.set()


class LeadershipController:
    """Drives a ``Lease`` (see the module docstring).

    Parameters
    ----------
    lease : Lease
        The lease handle.
    on_promote : async callable(epoch)
        Becoming active.
    on_demote : async callable(reason)
        Losing (or possibly losing) the lease.
    poll_s : float
        How often a passive node tries to acquire, and an active one checks its keeper.
    safety_ms : int
        Margin before the lease's expiry at which an active node that could not renew demotes.
    max_stall_ms : int, optional
        How long the event loop may stall before the keeper stops renewing (default: 3 TTLs).
    """

    def __init__(self, lease: Lease, on_promote: Callable[[int], Awaitable[None]],
                 on_demote: Callable[[str], Awaitable[None]], poll_s: float = 0.2, safety_ms: int = 300,
                 max_stall_ms: int | None = None) -> None:
        self.lease = lease
        self.on_promote = on_promote
        self.on_demote = on_demote
        self.poll_s = poll_s
        self.safety_ms = safety_ms
        self.max_stall_s = (max_stall_ms if max_stall_ms is not None else 3 * lease.ttl_ms) / 1000
        self.active = False
        self.promotions = 0
        self._keeper: _Keeper | None = None
        self._stop = asyncio.Event()

    @property
    def last_renewed(self) -> float:
        """When the lease was last known ours (monotonic seconds): acquired or renewed."""
        return self._keeper.renewed_at if self._keeper is not None else 0.0

    async def run(self) -> None:
        """Loop until ``stop`` (or cancellation, which stops the keeper too)."""
        try:
            await self._run()
        finally:
            self._stop_keeper()

    async def _run(self) -> None:
        valid_s = (self.lease.ttl_ms - self.safety_ms) / 1000
        while not self._stop.is_set():
            if not self.active:
                sent = time.monotonic()
                try:
                    acquired = await asyncio.to_thread(self.lease.acquire)
                except redis.RedisError as e:
                    log.warning("lease: Redis unavailable (%s), staying passive", e)
                    acquired = False
                if acquired:
                    self.active = True
                    self.promotions += 1
                    self._keeper = _Keeper(self.lease, self.lease.ttl_ms / 3000, self.max_stall_s)
                    self._keeper.renewed_at = sent
                    self._keeper.start()
                    log.warning("lease acquired: active with epoch %d", self.lease.epoch)
                    await self.on_promote(self.lease.epoch)
                    continue
                await self._sleep(self.poll_s)
                continue
            keeper = self._keeper
            assert keeper is not None
            now = time.monotonic()
            keeper.loop_alive_at = now
            reason = keeper.lost
            if reason is None and now >= keeper.renewed_at + valid_s:
                reason = f"cannot renew the lease: {keeper.error or 'no answer in time'}"
            if reason is not None:
                self.active = False
                self._stop_keeper()
                log.error("demoting: %s", reason)
                await self.on_demote(reason)
                continue
            await self._sleep(min(self.poll_s, valid_s / 4))

    def _stop_keeper(self) -> None:
        if self._keeper is not None:
            self._keeper.stop()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def stop(self, release: bool = True) -> None:
        """Stop the loop (and release the lease when active, so a standby takes over at once)."""
        self._stop.set()
        self._stop_keeper()
        if release and self.active:
            try:
                await asyncio.to_thread(self.lease.release)
            except redis.RedisError:
                pass
            self.active = False
