"""The Prometheus endpoint of a live node, scraped over HTTP while the node trades against the real
``hftmm feed`` and ``hftmm venue`` processes on loopback: latency histograms with microsecond
buckets, market data, order, fill and close counts, risk vetoes and the business gauges all carry
real samples; the endpoint answers on loopback only; and the shipped alert rules and dashboard use
only metrics this endpoint serves."""

from __future__ import annotations

import asyncio
import json
import math
import re
import socket
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from hftmm.live.demo import free_port
from hftmm.live.node import LiveNode
from hftmm.metrics.registry import LATENCY_BUCKETS_S
from tests.backtest.synthetic_catalog import build_catalog
from tests.live.harness import INSTRUMENT, REPO, LiveRun, live_config, run_on_local_market

MONITORING = REPO / "configs" / "monitoring"
PLUGINS = [p["path"] for p in json.loads((REPO / "configs" / "live.json").read_text())["risk"]["plugins"]]
HISTOGRAMS = ("hftmm_tick_to_trade_seconds", "hftmm_strategy_calc_seconds", "hftmm_risk_chain_seconds",
              "hftmm_fix_round_trip_seconds")


@dataclass
class Scrape:
    """What the test saw on the endpoint while the node traded."""

    port: int
    body: str = ""
    scrapes: int = 0
    # Non-loopback address of this machine -> what connecting to the metrics port there did.
    elsewhere: dict[str, str] = field(default_factory=dict)
    run: LiveRun | None = None

    def families(self) -> dict[str, list[Sample]]:
        """Family name -> samples of the last scrape."""
        return {f.name: list(f.samples) for f in text_string_to_metric_families(self.body)}

    def samples(self, name: str) -> list[Sample]:
        """Samples named ``name`` (``..._total``, ``..._bucket``, ...) in the last scrape."""
        return [s for samples in self.families().values() for s in samples if s.name == name]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL built here
        return response.read().decode()


def _ready(body: str) -> bool:
    """Trading has produced everything the assertions look at (fills, and markouts of them)."""
    names = {s.name: s.value for f in text_string_to_metric_families(body) for s in f.samples
             if s.name in ("hftmm_fills_total", "hftmm_markout_bps", "hftmm_fix_round_trip_seconds_count")}
    return all(names.get(n, 0) != 0 for n in ("hftmm_fills_total", "hftmm_fix_round_trip_seconds_count")) \
        and "hftmm_markout_bps" in names


def _non_loopback_addresses() -> list[str]:
    return sorted({a.address for addrs in psutil.net_if_addrs().values() for a in addrs
                   if a.family in (socket.AF_INET, socket.AF_INET6) and not a.address.startswith(("127.", "::1", "fe80"))})


def _try_connect(address: str, port: int) -> str:
    try:
        with socket.create_connection((address, port), timeout=2):
            return "connected"
    except OSError as e:
        return type(e).__name__


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Scrape:
    """Run a live node with ``live.metrics_port`` set and scrape it until it has filled orders."""
    root = tmp_path_factory.mktemp("live-metrics")
    build_catalog(root / "catalog", n_events=6000, seed=11)
    port = free_port()

    def edit(raw: dict[str, Any]) -> None:
        raw["live"]["metrics_port"] = port

    config = live_config(root / "catalog", root / "runs", edit)
    seen = Scrape(port)

    async def scrape(live: LiveNode) -> None:
        url = f"http://127.0.0.1:{port}/metrics"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                seen.body = await asyncio.to_thread(_get, url)
                seen.scrapes += 1
            except OSError:
                pass  # the node has not started its actors yet
            if seen.body and _ready(seen.body):
                break
            await asyncio.sleep(0.5)
        # One more scrape a couple of update periods later, with the markouts and gauges settled.
        await asyncio.sleep(2.5)
        seen.body = await asyncio.to_thread(_get, url)
        for address in _non_loopback_addresses():
            seen.elsewhere[address] = await asyncio.to_thread(_try_connect, address, port)

    seen.run = asyncio.run(run_on_local_market(config, catalog=root / "catalog", work_dir=root / "runs",
                                               duration_s=180, while_running=scrape))
    seen.run.outcome.dispose()
    return seen


def test_the_node_traded_and_agrees_with_the_venue(scraped: Scrape) -> None:
    assert scraped.run is not None
    rec = scraped.run.reconciliation
    assert rec.venue_fills > 0 and rec.matches, rec


def test_latency_histograms_have_microsecond_buckets_and_samples(scraped: Scrape) -> None:
    families = scraped.families()
    for name in HISTOGRAMS:
        assert name in families, f"{name} not served"
        buckets = [s for s in families[name] if s.name == name + "_bucket"]
        bounds = sorted({float(s.labels["le"]) for s in buckets})
        assert bounds == [*LATENCY_BUCKETS_S, math.inf], name
        assert bounds[0] == 5e-6 and 20e-6 in bounds and 100e-6 in bounds, "microsecond buckets"
        count = sum(s.value for s in families[name] if s.name == name + "_count")
        total = sum(s.value for s in families[name] if s.name == name + "_sum")
        assert count > 0 and total > 0, f"{name}: no observations on a trading node"
    ttt = {s.labels["instrument"] for s in scraped.samples("hftmm_tick_to_trade_seconds_count")}
    assert ttt == {INSTRUMENT}
    # Submits (D) were round-tripped; cancels or amends (F/G) too once quotes moved.
    kinds = {s.labels["msg_type"]: s.value for s in scraped.samples("hftmm_fix_round_trip_seconds_count")}
    assert kinds.get("D", 0) > 0 and kinds.keys() <= {"D", "F", "G"}, kinds


def test_market_data_orders_fills_and_closes_are_counted(scraped: Scrape) -> None:
    md = {s.labels["kind"]: s.value for s in scraped.samples("hftmm_market_data_messages_total")}
    assert md.get("quote", 0) > 0 and md.get("trade", 0) > 0, md
    orders = {s.labels["kind"]: s.value for s in scraped.samples("hftmm_orders_total")
              if s.labels["instrument"] == INSTRUMENT}
    assert orders.get("submit", 0) > 0, orders
    fills = scraped.samples("hftmm_fills_total")
    assert sum(s.value for s in fills) > 0
    assert {s.labels["side"] for s in fills} <= {"BUY", "SELL"}
    assert {s.labels["liquidity"] for s in fills} <= {"MAKER", "TAKER"}
    assert sum(s.value for s in scraped.samples("hftmm_filled_shares_total")) > 0
    # Orders ended without a full fill, by reason (the strategy amends its quotes, so a short run
    # may have few or none: the family must be there, with known reasons).
    assert "hftmm_order_closes" in scraped.families()
    closes = {s.labels["reason"]: s.value for s in scraped.samples("hftmm_order_closes_total")}
    assert closes.keys() <= {"canceled", "rejected", "expired"}, closes
    # Vetoes are counted by plugin; the family is served even before the first veto.
    assert "hftmm_risk_vetoes" in scraped.families()
    assert {s.labels["plugin"] for s in scraped.samples("hftmm_risk_vetoes_total")} <= set(PLUGINS)


def test_session_and_risk_state_gauges(scraped: Scrape) -> None:
    assert {s.labels["venue"]: s.value for s in scraped.samples("hftmm_venue_session_logged_on")} == {"XNYS": 1.0}
    assert {s.labels["mode"]: s.value for s in scraped.samples("hftmm_risk_mode")} == {
        "ACTIVE": 1.0, "REDUCING": 0.0, "HALTED": 0.0}
    # Reconnect and gap series exist from the start, at zero on this undisturbed run.
    assert {s.labels["source"]: s.value for s in scraped.samples("hftmm_reconnects_total")} == {"polygon": 0, "fix": 0}
    assert {s.labels["source"]: s.value for s in scraped.samples("hftmm_feed_gaps_total")} == {"polygon": 0}
    assert {s.labels["source"]: s.value for s in scraped.samples("hftmm_feed_gap_seconds_total")} == {"polygon": 0}
    # One veto series per configured plugin, zero unless that plugin refused something.
    assert {s.labels["plugin"] for s in scraped.samples("hftmm_risk_vetoes_total")} == set(PLUGINS)
    last = scraped.samples("hftmm_last_market_data_timestamp_seconds")
    assert last and last[0].value > 1.7e9  # a real Unix time, not zero


def test_business_metrics_have_values(scraped: Scrape) -> None:
    def one(name: str) -> float:
        values = [s.value for s in scraped.samples(name) if s.labels.get("instrument") == INSTRUMENT]
        assert len(values) == 1, f"{name}: {values}"
        return values[0]

    assert one("hftmm_pnl_dollars") != 0.0, "PnL of a node that filled orders (fees at least)"
    assert math.isfinite(one("hftmm_inventory_shares"))
    assert one("hftmm_quoted_spread_ticks") >= 1
    assert one("hftmm_fill_rate") > 0  # fills per submitted order (partial fills of amended quotes may exceed 1)
    markouts = {s.labels["horizon_s"]: s.value for s in scraped.samples("hftmm_markout_bps")}
    assert "1" in markouts and all(math.isfinite(v) for v in markouts.values()), markouts


def test_the_endpoint_answers_on_loopback_only(scraped: Scrape) -> None:
    assert scraped.scrapes > 0
    if not scraped.elsewhere:
        pytest.skip("this machine has no non-loopback address to try the metrics port on")
    assert all(result != "connected" for result in scraped.elsewhere.values()), scraped.elsewhere


def _metric_names(expr: str) -> set[str]:
    # Drop strings, label matchers and ranges, keep identifiers that are hftmm metrics.
    return {t for t in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", re.sub(r'"[^"]*"|\{[^}]*\}|\[[^\]]*\]', " ", expr))
            if t.startswith("hftmm_")}


def test_alert_rules_and_dashboard_use_only_series_the_live_node_serves(scraped: Scrape) -> None:
    """A rule over a series the node never serves never fires; ``increase()`` of a counter whose
    series appears only at its first increment misses that increment: every series the rules use
    must be served, with a sample, from the start."""
    served = {s.name for samples in scraped.families().values() for s in samples}
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set().union(*(_metric_names(e) for e in exprs))
    assert used, "no hftmm metric in the rules"
    assert not used - served, f"used by the rules or dashboard but not served by the live node: {sorted(used - served)}"


def test_the_scraped_run_folder_is_complete(scraped: Scrape) -> None:
    assert scraped.run is not None
    run_dir: Path = scraped.run.run_dir
    for name in ("summary.json", "orders.parquet", "fills.parquet", "eventlog.jsonl", "audit.jsonl"):
        assert (run_dir / name).is_file(), name
