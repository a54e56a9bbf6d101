"""A leader that is paused (SIGSTOP: a GC pause, a hung VM) past its lease is the case fencing is
for: it still believes it leads when it wakes up. The standby must take over, the venue must
refuse everything the old leader sends afterwards, and the old leader must halt and stop on its
own without touching the new leader's state."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from hftmm.live.demo import reconcile
from hftmm.venue.record import read_record
from tests.failover.harness import leader, leader_and_standby, venue_order_checks, wait_until
from tests.redis_process import RedisProcess


def test_a_paused_leader_is_fenced_and_stands_down(catalog: Path, redis_aof: RedisProcess, tmp_path: Path) -> None:
    asyncio.run(_pause_the_leader(catalog, redis_aof, tmp_path))


async def _pause_the_leader(catalog: Path, server: RedisProcess, work: Path) -> None:
    async with leader_and_standby(catalog, server, work) as cluster:
        nodes, client, first = cluster.nodes, cluster.client, cluster.first
        await asyncio.sleep(2.0)
        os.kill(first["pid"], signal.SIGSTOP)
        paused_at = time.time()
        second = await wait_until("the standby to take over", lambda: leader(client, first["epoch"]), 30, nodes)
        takeover_s = second["trading_at"] - paused_at
        await asyncio.sleep(2.0)
        os.kill(first["pid"], signal.SIGCONT)  # it wakes up believing it leads
        status = await asyncio.to_thread(nodes.by_pid(first["pid"]).wait, 30)
        assert status == 3, nodes.tail()
        await asyncio.sleep(3.0)  # the new leader goes on trading
    market, statuses = cluster.market, cluster.statuses
    print(f"\npaused leader: the standby traded {takeover_s:.2f} s after the pause")
    assert statuses[second["pid"]] == 0, nodes.tail()
    orders = venue_order_checks(market.record, market.participants)
    assert orders["epoch_regressions"] == [], orders["epoch_regressions"]
    assert all(n == 1 for n in orders["acks"].values())
    assert max(orders["max_open"].values()) == 1, orders["max_open"]
    # Whatever the old leader sent after waking was refused or never arrived: nothing of its
    # epoch was accepted once the new leader had logged on.
    logon_seq = next(e.seq for e in read_record(market.record) if e.epoch == second["epoch"])
    late = [e for e in read_record(market.record)
            if e.seq > logon_seq and e.epoch == first["epoch"] and e.msg_type == "8" and e.exec_type not in ("8", "9")]
    assert late == [], late
    rec = reconcile(work / "runs" / second["run_id"], market.record, market.participants)
    assert rec.matches, (rec, nodes.tail())
