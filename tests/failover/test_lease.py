"""The lease and the leadership loop against a real redis-server: one leader at a time, strictly
increasing epochs, takeover after expiry, and a leader that cannot renew demotes itself before
the standby can take over."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis

from hftmm.failover.controller import LeadershipController
from hftmm.failover.lease import Lease

pytestmark = pytest.mark.redis


@pytest.fixture
def client(redis_server: tuple[str, int]) -> redis.Redis:
    host, port = redis_server
    return redis.Redis(host=host, port=port)


def _name() -> str:
    return f"test:{uuid.uuid4().hex}"


def test_one_holder_and_increasing_epochs(client: redis.Redis) -> None:
    name = _name()
    a, b = Lease(client, name, "a", ttl_ms=300), Lease(client, name, "b", ttl_ms=300)
    assert a.acquire() and a.epoch == 1
    assert not b.acquire() and not b.renew()
    assert a.renew() and a.state().owner == "a"
    time.sleep(0.4)  # a stops renewing: the lease expires
    assert not a.renew()
    assert b.acquire() and b.epoch == 2
    assert not a.release() and b.release()
    assert a.acquire() and a.epoch == 3


def test_a_standby_takes_over_when_the_leader_stops_renewing(client: redis.Redis) -> None:
    name = _name()
    events: list[tuple[str, str, float]] = []

    def node(tag: str) -> LeadershipController:
        async def promote(epoch: int) -> None:
            events.append((tag, f"promote {epoch}", time.monotonic()))

        async def demote(reason: str) -> None:
            events.append((tag, f"demote: {reason}", time.monotonic()))

        return LeadershipController(Lease(client, name, tag, ttl_ms=600), promote, demote, poll_s=0.05, safety_ms=200)

    async def scenario() -> None:
        first, second = node("first"), node("second")
        t1 = asyncio.create_task(first.run())
        await asyncio.sleep(0.3)
        t2 = asyncio.create_task(second.run())
        await asyncio.sleep(0.5)
        assert first.active and not second.active
        # The leader's process freezes (no renewals): simulate by cancelling its loop.
        t1.cancel()
        frozen_at = time.monotonic()
        for _ in range(100):
            if second.active:
                break
            await asyncio.sleep(0.02)
        assert second.active and time.monotonic() - frozen_at < 1.5
        await second.stop()
        t2.cancel()
        await asyncio.gather(t1, t2, return_exceptions=True)

    asyncio.run(scenario())
    promotes = [(t, e) for t, e, _ in events if e.startswith("promote")]
    assert promotes == [("first", "promote 1"), ("second", "promote 2")]


def test_a_leader_that_cannot_reach_redis_demotes_before_the_lease_can_expire(redis_server: tuple[str, int]) -> None:
    host, port = redis_server
    name = _name()
    client = redis.Redis(host=host, port=port, socket_timeout=0.1)
    demoted: list[float] = []
    acquired_at: list[float] = []
    last_renewed: list[float] = []

    async def promote(epoch: int) -> None:
        acquired_at.append(time.monotonic())

    async def demote(reason: str) -> None:
        demoted.append(time.monotonic())

    async def scenario() -> None:
        lease = Lease(client, name, "solo", ttl_ms=900)
        ctl = LeadershipController(lease, promote, demote, poll_s=0.05, safety_ms=300)
        task = asyncio.create_task(ctl.run())
        await asyncio.sleep(0.4)
        assert ctl.active
        # Redis becomes unreachable for this node (its renewals fail).
        lease.client = redis.Redis(host=host, port=1, socket_timeout=0.05)
        lease._renew = lease.client.register_script("return 1")  # noqa: SLF001 - point the script at the dead server
        for _ in range(100):
            if demoted:
                break
            await asyncio.sleep(0.02)
        last_renewed.append(ctl.last_renewed)
        await ctl.stop(release=False)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    # Demoted before the lease (900 ms after its last renewal) could expire and go to a standby.
    assert last_renewed[0] < demoted[0] < last_renewed[0] + 0.9


def test_status_shows_the_leader(redis_server: tuple[str, int]) -> None:
    from typer.testing import CliRunner

    from hftmm.cli.app import app

    host, port = redis_server
    client = redis.Redis(host=host, port=port)
    trader = f"T{uuid.uuid4().hex[:6].upper()}-001"
    url = f"redis://{host}:{port}/0"
    result = CliRunner().invoke(app, ["status", "--redis", url, "--trader", trader])
    assert result.exit_code == 0 and "no leader" in result.output
    lease = Lease(client, f"hftmm:{trader}", "node-a@host", ttl_ms=5000)
    assert lease.acquire()
    result = CliRunner().invoke(app, ["status", "--redis", url, "--trader", trader])
    assert result.exit_code == 0 and "leader node-a@host" in result.output and "epoch 1" in result.output


def test_a_briefly_blocked_loop_keeps_the_lease_and_a_hung_one_loses_it(client: redis.Redis) -> None:
    """Building a node blocks the event loop for longer than a short lease: the keeper thread
    renews meanwhile. A loop stuck past ``max_stall_ms`` is a hung leader: renewals stop and a
    standby takes over."""
    name = _name()
    demotions: list[str] = []

    async def promote(epoch: int) -> None:
        return None

    async def demote(reason: str) -> None:
        demotions.append(reason)

    async def scenario() -> tuple[bool, bool]:
        leader = LeadershipController(Lease(client, name, "leader", ttl_ms=600), promote, demote, poll_s=0.05,
                                      safety_ms=200, max_stall_ms=1500)
        task = asyncio.create_task(leader.run())
        await asyncio.sleep(0.3)
        assert leader.active
        time.sleep(1.0)  # the loop blocked for 1.7 TTLs (a node build under load)
        await asyncio.sleep(0.2)
        kept = leader.active and Lease(client, name, "probe").state().owner == "leader"
        time.sleep(2.5)  # hung past max_stall_ms: the keeper stops renewing
        standby = Lease(client, name, "standby", ttl_ms=600)
        taken = standby.acquire()
        await asyncio.sleep(0.2)  # the loop runs again: it finds the lease gone and demotes
        await leader.stop(release=False)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return kept, taken

    kept, taken = asyncio.run(scenario())
    assert kept and not demotions[:-1]
    assert taken and len(demotions) == 1 and "stalled" in demotions[0], demotions
