"""A runtime parameter update that breaks a risk check, on a live node: the node trades against the
real ``hftmm feed`` and ``hftmm venue`` processes with its control channel on a real Redis; the
real CLI (``python -m hftmm set``) raises the order size above the risk chain's MaxOrderSize; the
node applies it, sees its orders vetoed within the grace period, rolls back by itself, and keeps
trading with the previous size, every order of which the venue accepts; the node ends reconciled
with the venue."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from hftmm.eventlog.log import read_log
from hftmm.eventlog.schema import Command, ParamChange
from hftmm.live.demo import free_port
from hftmm.live.node import LiveNode
from hftmm.venue.record import read_record
from tests.backtest.synthetic_catalog import build_catalog
from tests.live.harness import live_config, run_on_local_market

pytestmark = pytest.mark.redis

MAX_ORDER = 200  # the risk chain's MaxOrderSize.max_quantity in this test
ORDER_QTY = 100  # the strategy's order size at start
BAD_QTY = 300  # valid for the strategy's schema (> 0, under its max_position), refused by MaxOrderSize
GRACE_S = 8.0


@dataclass
class Observed:
    """What the test saw while the node traded."""

    cli_set: subprocess.CompletedProcess[str] | None = None
    set_at_ns: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    orders_after_rollback: int = 0
    # The node's /metrics after the rollback: vetoes by plugin and the parameter version.
    vetoes: dict[str, float] = field(default_factory=dict)
    config_version: float | None = None


def _hftmm(*args: str) -> subprocess.CompletedProcess[str]:
    # A wide terminal so the history table's reason column is not cut.
    return subprocess.run([sys.executable, "-m", "hftmm", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "400"})


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL built here
        return response.read().decode()


def _history(client: redis.Redis, trader: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in client.lrange(f"hftmm:{trader}:config:history", 0, -1)]


def _latest(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    # A version appears again when its status changes (rolled back): the last word counts.
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        out[row["version"]] = row
    return out


def test_a_bad_update_is_rolled_back_and_the_node_keeps_trading(redis_server: tuple[str, int], tmp_path: Path) -> None:
    host, port = redis_server
    url = f"redis://{host}:{port}/0"
    trader = f"CTRL{uuid.uuid4().hex[:8].upper()}-001"  # its own keys in the shared Redis
    client = redis.Redis(host=host, port=port)
    build_catalog(tmp_path / "catalog", n_events=6000, seed=11)
    metrics_port = free_port()

    def edit(raw: dict[str, Any]) -> None:
        raw["live"].update(trader_id=trader, redis_url=url, metrics_port=metrics_port)
        raw["control"] = {"grace_s": GRACE_S}
        for plugin in raw["risk"]["plugins"]:
            if plugin["path"] == "MaxOrderSize":
                plugin["max_quantity"] = MAX_ORDER
        raw["strategy"]["order_qty"] = ORDER_QTY

    config = live_config(tmp_path / "catalog", tmp_path / "runs", edit)
    seen = Observed()

    async def operate(live: LiveNode) -> None:
        cache = live.node.kernel.cache
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not cache.orders_open():
            await asyncio.sleep(0.2)  # quoting at the venue before the operator touches anything
        assert cache.orders_open(), "the node never quoted"
        seen.set_at_ns = time.time_ns()
        seen.cli_set = await asyncio.to_thread(_hftmm, "set", "strategy.order_qty", str(BAD_QTY), "--redis", url,
                                               "--trader", trader, "--wait", "30")
        deadline = time.monotonic() + 60 + GRACE_S
        while time.monotonic() < deadline:
            seen.history = await asyncio.to_thread(_history, client, trader)
            if any(r["by"] == "auto-rollback" for r in seen.history):
                break
            await asyncio.sleep(0.2)
        rollback = [r for r in seen.history if r["by"] == "auto-rollback"]
        if not rollback:
            return  # the assertions below say what the history holds
        # Trade on with the previous values until the venue has seen a few new orders.
        since = rollback[0]["ts"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # Orders created after the rollback that the venue acknowledged.
            seen.orders_after_rollback = sum(1 for o in cache.orders() if o.ts_init > since and o.venue_order_id is not None)
            if seen.orders_after_rollback >= 4:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        body = await asyncio.to_thread(_get, f"http://127.0.0.1:{metrics_port}/metrics")
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name == "hftmm_risk_vetoes_total":
                    seen.vetoes[sample.labels["plugin"]] = sample.value
                elif sample.name == "hftmm_config_version":
                    seen.config_version = sample.value

    try:
        run = asyncio.run(run_on_local_market(config, catalog=tmp_path / "catalog", work_dir=tmp_path / "runs",
                                              duration_s=240, while_running=operate))
        run.outcome.dispose()

        # The operator's CLI: the node applied the change (and said it would watch it).
        assert seen.cli_set is not None
        assert seen.cli_set.returncode == 0, seen.cli_set.stdout + seen.cli_set.stderr
        assert "applied as version 1" in seen.cli_set.stdout and "rolled back automatically" in seen.cli_set.stdout

        # The node rolled it back by itself, within the grace period, because of the risk chain.
        h = _latest(_history(client, trader))
        assert [h[v]["status"] for v in sorted(h)] == ["active", "rolled_back", "applied"], h
        assert h[1]["changes"] == {"strategy.order_qty": BAD_QTY} and h[1]["strategy"]["order_qty"] == BAD_QTY
        assert "vetoed by the risk chain" in h[1]["reason"] and "MaxOrderSize" in h[1]["reason"], h[1]
        assert h[2]["by"] == "auto-rollback" and h[2]["changes"] == {"rollback": 0} and h[2]["rollback_of"] == 1
        assert h[2]["strategy"]["order_qty"] == ORDER_QTY and h[2]["reason"] == h[1]["reason"]
        assert h[1]["ts"] <= h[2]["ts"] <= h[1]["ts"] + int(GRACE_S * 1e9), "rolled back after the grace period"
        applied_at, rolled_back_at = h[1]["ts"], h[2]["ts"]
        assert applied_at >= seen.set_at_ns

        # ... which `hftmm config history` shows the operator.
        shown = _hftmm("config", "history", "--redis", url, "--trader", trader)
        assert shown.returncode == 0, shown.stdout + shown.stderr
        lines = {line.split()[0]: line for line in shown.stdout.splitlines() if line.strip()[:1].isdigit()}
        assert "rolled_back" in lines["1"] and "MaxOrderSize" in lines["1"], shown.stdout
        assert "auto-rollback" in lines["2"] and "applied" in lines["2"], shown.stdout

        # The event log records every version as param_change records.
        log = list(read_log(run.run_dir / "eventlog.jsonl"))
        changes = [(r.version, r.status, r.by) for r in log if isinstance(r, ParamChange)]
        assert changes == [(0, "active", "start"), (1, "applied", h[1]["by"]), (1, "rolled_back", h[1]["by"]),
                           (2, "applied", "auto-rollback")], changes
        assert (run.run_dir / "config_history.jsonl").is_file()
        # The metrics endpoint saw it too: vetoes counted under the plugin, the version in force.
        vetoed = sum(1 for c in log if isinstance(c, Command) and not c.allowed)
        assert seen.vetoes.get("MaxOrderSize") == vetoed >= 4, seen.vetoes
        assert seen.config_version == 2

        # During the grace period the strategy asked for BAD_QTY and the risk chain refused it.
        commands = [r for r in log if isinstance(r, Command) and r.kind != "cancel"]
        bad = [c for c in commands if applied_at <= c.ts <= rolled_back_at]
        assert bad and all(not c.allowed and c.plugin == "MaxOrderSize" for c in bad if c.quantity == BAD_QTY)
        assert any(c.quantity == BAD_QTY and not c.allowed for c in bad)
        # After the rollback: the previous size again, sent and not vetoed.
        after = [c for c in commands if c.ts > rolled_back_at]
        assert len(after) >= 3 and all(c.allowed for c in after), [c for c in after if not c.allowed][:3]
        # New orders of the previous size; amends carry what is left of an order (less after a partial fill).
        assert {c.quantity for c in after if c.kind == "submit"} == {ORDER_QTY}
        assert all(c.quantity <= ORDER_QTY for c in after)
        assert seen.orders_after_rollback >= 1, "no order of the node's was acknowledged after the rollback"

        # No order of the refused size reached the venue; those sent after the rollback did and were accepted.
        record = [e for e in read_record(run.market.record) if e.participant in run.market.participants]
        assert record and all(float(e.get(38) or 0) <= MAX_ORDER for e in record)
        acked = {e.cl_ord_id.split("#")[0] for e in record if e.msg_type == "8" and e.exec_type == "0"}
        orders = pd.read_parquet(run.run_dir / "orders.parquet")
        later = orders[orders["ts_init"].astype("int64") > rolled_back_at]
        assert len(later) >= 3 and (later["quantity"].astype(float) == ORDER_QTY).all()
        assert later["client_order_id"].isin(acked).all(), later[["client_order_id", "status"]]
        assert not later["status"].isin(["REJECTED", "DENIED"]).any(), later[["client_order_id", "status"]]
        assert (orders["quantity"].astype(float) <= MAX_ORDER).all()

        # And the node ends with exactly the venue's fills and positions.
        assert run.reconciliation.matches, run.reconciliation
    finally:
        for key in client.scan_iter(f"*{trader}*"):
            client.delete(key)
