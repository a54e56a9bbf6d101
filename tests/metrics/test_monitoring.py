"""The metrics endpoint's exposition, and the shipped alert rules and dashboard: validated with
promtool when it is installed (Debian's prometheus package), and always checked against the
metric names the node really exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from hftmm.metrics.registry import NodeMetrics

MONITORING = Path(__file__).resolve().parents[2] / "configs" / "monitoring"
_BUILTIN = {"up", "time", "rate", "increase", "sum", "max", "histogram_quantile", "by", "le", "humanizeDuration"}


def _exported_names(metrics: NodeMetrics) -> set[str]:
    names = set()
    for family in metrics.registry.collect():
        for sample in family.samples:
            names.add(sample.name)
        names.add(family.name)
        if family.type == "histogram":
            names |= {family.name + s for s in ("_bucket", "_sum", "_count")}
        if family.type == "counter":
            names.add(family.name + "_total")
    return names


def _metric_names(expr: str) -> set[str]:
    return {t for t in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", re.sub(r'"[^"]*"|\{[^}]*\}|\[[^\]]*\]', " ", expr))
            if t.startswith("hftmm_")}


def test_the_endpoint_serves_every_metric_on_loopback() -> None:
    metrics = NodeMetrics()
    port = metrics.serve(0)
    try:
        metrics.tick_to_trade.labels("ACME.XNYS").observe(42e-6)
        metrics.risk_vetoes.labels("MaxPosition").inc(3)
        metrics.set_risk_mode("HALTED")
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    finally:
        metrics.stop()
    families = {f.name: f for f in text_string_to_metric_families(body)}
    ttt = {s.labels.get("le"): s.value for s in families["hftmm_tick_to_trade_seconds"].samples if s.name.endswith("_bucket")}
    assert ttt["3.5e-05"] == 0 and ttt["5e-05"] == 1, "microsecond buckets"
    vetoes = [s for s in families["hftmm_risk_vetoes"].samples if s.name == "hftmm_risk_vetoes_total"]
    assert vetoes[0].labels == {"plugin": "MaxPosition"} and vetoes[0].value == 3
    modes = {s.labels["mode"]: s.value for s in families["hftmm_risk_mode"].samples}
    assert modes == {"ACTIVE": 0, "REDUCING": 0, "HALTED": 1}


def test_rules_and_dashboard_use_only_exported_metrics() -> None:
    exported = _exported_names(NodeMetrics())
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set().union(*(_metric_names(e) for e in exprs))
    assert used and not used - exported, f"unknown metrics: {sorted(used - exported)}"
    assert len(rules["groups"]) >= 3 and len(dashboard["panels"]) >= 10


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (apt-get install prometheus)")
def test_promtool_checks_and_unit_tests_the_rules() -> None:
    for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"], ["check", "config", "prometheus.yml"]):
        result = subprocess.run(["promtool", *args], cwd=MONITORING, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
