"""A leadership lease in Redis with a fencing epoch.

- ``acquire``: ``SET key owner NX PX ttl``; on success the epoch is ``INCR``-ed in the same Lua
  script, so every leadership term has a strictly larger epoch than the last.
- ``renew``: a Lua compare-and-``PEXPIRE``: only the owner extends, so a node that lost the lease
  (expired, taken over) learns it on its next renewal.
- ``release``: a Lua compare-and-``DEL``.

A TTL lease alone is not safe leadership (a paused process can believe it still leads); the epoch
is the fencing token: every order carries it and the venue refuses an epoch lower than the highest
it has seen (``hftmm.venue`` does this per participant).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class LeaseState:
    """Who holds the lease now (from Redis)."""

    owner: str | None
    ttl_ms: int
    epoch: int


class Lease:
    """One node's handle on the leadership lease.

    Parameters
    ----------
    client : redis.Redis
        Connection to the Redis holding the lease.
    name : str
        The lease's name (e.g. ``hftmm:HFTMM-001``): keys ``<name>:leader`` and ``<name>:epoch``.
    owner : str
        This node's unique id (host, pid, start time).
    ttl_ms : int
        Lease lifetime; the holder renews every ``ttl_ms / 3``.
    """

    def __init__(self, client: redis.Redis, name: str, owner: str, ttl_ms: int = 1500) -> None:
        self.client = client
        self.key = f"{name}:leader"
        self.epoch_key = f"{name}:epoch"
        self.owner = owner
        self.ttl_ms = ttl_ms
        self.epoch = 0
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self) -> bool:
        """Take the lease if it is free; on success ``epoch`` is the new term's fencing epoch."""
        epoch = int(self._acquire(keys=[self.key, self.epoch_key], args=[self.owner, self.ttl_ms]))
        if epoch:
            self.epoch = epoch
            return True
        return False

    def renew(self) -> bool:
        """Extend the lease; False means it is no longer ours."""
        return bool(int(self._renew(keys=[self.key], args=[self.owner, self.ttl_ms])))

    def release(self) -> bool:
        """Give the lease up (when stopping cleanly)."""
        return bool(int(self._release(keys=[self.key], args=[self.owner])))

    def state(self) -> LeaseState:
        """Who leads, the lease's remaining life, and the current epoch."""
        pipe = self.client.pipeline()
        pipe.get(self.key).pttl(self.key).get(self.epoch_key)
        owner, ttl, epoch = pipe.execute()
        return LeaseState(owner.decode() if owner else None, int(ttl) if ttl and int(ttl) > 0 else 0,
                          int(epoch) if epoch else 0)
