"""What a node decided must survive its death: a standby taking over from a leader killed with
SIGKILL keeps the leader's runtime parameter update, its risk halt (no order goes out until an
operator resumes) and its strategy's own estimates, all read back from Redis."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from hftmm.live.demo import reconcile
from tests.failover.harness import hftmm_cli, leader, leader_and_standby, new_orders, wait_until
from tests.redis_process import RedisProcess

STRATEGY = "GlftMarketMaker-001"


def test_parameters_halt_and_estimates_survive_a_takeover(catalog: Path, redis_aof: RedisProcess, tmp_path: Path) -> None:
    asyncio.run(_takeover_keeps_state(catalog, redis_aof, tmp_path))


async def _takeover_keeps_state(catalog: Path, server: RedisProcess, work: Path) -> None:
    async with leader_and_standby(catalog, server, work) as cluster:
        market, nodes, client, first = cluster.market, cluster.nodes, cluster.client, cluster.first
        await wait_until("the leader's first order", lambda: new_orders(market.record, first["epoch"]), 30, nodes)
        changed = await asyncio.to_thread(hftmm_cli, "set", "strategy.gamma", "0.2", "--redis", server.url)
        assert changed.returncode == 0 and "applied as version 1" in changed.stdout, changed.stdout + changed.stderr
        await asyncio.sleep(1.5)  # the strategy keeps its state every second
        halted = await asyncio.to_thread(hftmm_cli, "halt", "--reason", "desk review", "--redis", server.url)
        assert halted.returncode == 0 and "trading halted" in halted.stdout, halted.stdout + halted.stderr
        await asyncio.sleep(0.5)
        os.kill(first["pid"], signal.SIGKILL)
        await asyncio.to_thread(nodes.by_pid(first["pid"]).wait)
        second = await wait_until("the standby to take over", lambda: leader(client, first["epoch"]), 15, nodes)
        # Halted as its predecessor was: nothing goes out until an operator resumes.
        await asyncio.sleep(3.0)
        assert new_orders(market.record, second["epoch"]) == 0, nodes.tail()
        resumed = await asyncio.to_thread(hftmm_cli, "resume", "--reason", "review done", "--redis", server.url)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        await wait_until("the new leader's first order", lambda: new_orders(market.record, second["epoch"]), 30, nodes)
        await asyncio.sleep(2.0)
        kept = json.loads(client.get(f"trader-HFTMM-001:general:hftmm:strategy:{STRATEGY}") or b"null")
    # One history for both nodes: each row names its node's run (both number their versions from 0).
    history = hftmm_cli("config", "history", "--redis", server.url)
    assert history.returncode == 0, history.stderr
    rows = [line.split() for line in history.stdout.splitlines()]
    assert [r[:2] for r in rows if r and r[0] in (first["run_id"], second["run_id"])] == [
        [first["run_id"], "0"], [first["run_id"], "1"], [second["run_id"], "0"], [second["run_id"], "1"]], history.stdout
    assert cluster.statuses[second["pid"]] == 0, nodes.tail()
    run = work / "runs" / second["run_id"]
    records = [json.loads(line) for line in (run / "eventlog.jsonl").read_text().splitlines()]
    restored = [r for r in records if r.get("type") == "param_change" and r["by"] == "restore"]
    assert restored and restored[0]["status"] == "applied" and restored[0]["changes"] == {"restore": 1}, restored
    audit = (run / "audit.jsonl").read_text()
    assert "desk review (restored from the previous node)" in audit
    node_log = "".join(p.read_text() for p in run.glob("node*.log"))
    assert "GlftMarketMaker: state of the previous node restored" in node_log, node_log[-3000:]
    assert kept is not None and kept["state"]["vol"]["var"] > 0
    rec = reconcile(run, market.record, market.participants)
    assert rec.matches, rec
