"""The leadership loop of a node: wait as passive, promote on acquiring the lease, renew while
active, and demote (halt, cancel) the moment a renewal fails or cannot be made in time.

The controller is asyncio and Nautilus-free: the node gives it ``on_promote(epoch)`` (load state,
log on, reconcile, adopt orders, then quote) and ``on_demote(reason)`` (halt and cancel before the
passive can trade: the active stops trading when its lease *might* have expired, i.e. after
``ttl - safety`` without a successful renewal, before the passive can acquire it at ``ttl``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import redis

from hftmm.failover.lease import Lease

log = logging.getLogger(__name__)


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
        How often a passive node tries to acquire.
    safety_ms : int
        Margin before the lease's expiry at which an active node that could not renew demotes.
    """

    def __init__(self, lease: Lease, on_promote: Callable[[int], Awaitable[None]],
                 on_demote: Callable[[str], Awaitable[None]], poll_s: float = 0.2, safety_ms: int = 300) -> None:
        self.lease = lease
        self.on_promote = on_promote
        self.on_demote = on_demote
        self.poll_s = poll_s
        self.safety_ms = safety_ms
        self.active = False
        self.promotions = 0
        # When the lease was last known ours (monotonic seconds): acquired or renewed.
        self.last_renewed = 0.0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Loop until ``stop``."""
        renew_every = self.lease.ttl_ms / 3000
        valid_until = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if not self.active:
                try:
                    acquired = await asyncio.to_thread(self.lease.acquire)
                except redis.RedisError as e:
                    log.warning("lease: Redis unavailable (%s), staying passive", e)
                    acquired = False
                if acquired:
                    self.active = True
                    self.promotions += 1
                    valid_until = now + (self.lease.ttl_ms - self.safety_ms) / 1000
                    self.last_renewed = now
                    log.warning("lease acquired: active with epoch %d", self.lease.epoch)
                    await self.on_promote(self.lease.epoch)
                    continue
                await self._sleep(self.poll_s)
                continue
            try:
                renewed = await asyncio.wait_for(asyncio.to_thread(self.lease.renew), timeout=renew_every)
            except (redis.RedisError, TimeoutError) as e:
                renewed = False
                reason = f"cannot renew the lease: {e or type(e).__name__}"
            else:
                reason = "the lease was lost (expired or taken over)"
            if renewed:
                self.last_renewed = time.monotonic()
                valid_until = self.last_renewed + (self.lease.ttl_ms - self.safety_ms) / 1000
            elif not renewed and (time.monotonic() >= valid_until or "lost" in reason):
                self.active = False
                log.error("demoting: %s", reason)
                await self.on_demote(reason)
                continue
            await self._sleep(renew_every)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def stop(self, release: bool = True) -> None:
        """Stop the loop (and release the lease when active, so a standby takes over at once)."""
        self._stop.set()
        if release and self.active:
            try:
                await asyncio.to_thread(self.lease.release)
            except redis.RedisError:
                pass
            self.active = False
