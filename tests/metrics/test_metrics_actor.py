"""The metrics actor inside a node: its counters agree with the run's own records."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import msgspec
import pytest
from nautilus_trader.backtest.node import BacktestNode
from nautilus_trader.config import ImportableActorConfig
from prometheus_client.parser import text_string_to_metric_families

from hftmm.config import parse_config
from hftmm.engine.backtest import bind_risk_engine, build_run_config
from hftmm.metrics.actor import MetricsActor
from hftmm.metrics.registry import NodeMetrics
from hftmm.risk.bus import MODE_KEY
from tests.backtest.synthetic_catalog import build_catalog


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    build_catalog(root, n_events=3000, seed=3)
    return root


def _value(metrics: NodeMetrics, name: str, **labels: str) -> float:
    total = 0.0
    for family in metrics.registry.collect():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def test_metrics_follow_orders_fills_and_vetoes(catalog: Path, tmp_path: Path) -> None:
    config = parse_config({
        "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
        "strategy": {"path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
                     "gamma": 0.05, "k": 150.0, "a": 0.2, "sigma": 0.005, "max_position": 1000},
        "risk": {"plugins": [{"path": "MaxPosition", "max_position": 200}]},
    })
    rc = build_run_config(config, catalog, None, tmp_path, "metrics-test")
    metrics_actor = ImportableActorConfig(actor_path="hftmm.metrics.actor:MetricsActor",
                                          config_path="hftmm.metrics.actor:MetricsActorConfig",
                                          config={"instruments": ["ACME.XNYS"], "port": 0})
    engine = msgspec.structs.replace(rc.engine, actors=[*rc.engine.actors, metrics_actor])
    rc = msgspec.structs.replace(rc, engine=engine)
    node = BacktestNode([rc])
    node.build()
    bind_risk_engine(node.get_engine(rc.id))
    node.run()
    try:
        engine = node.get_engine(rc.id)
        [actor] = [a for a in engine.trader.actors() if isinstance(a, MetricsActor)]
        [strategy] = engine.trader.strategies()
        m = actor.metrics
        orders = engine.cache.orders()
        fills = sum(len([e for e in o.events if type(e).__name__ == "OrderFilled"]) for o in orders)
        assert _value(m, "hftmm_orders_total", kind="submit") == len(orders)
        assert _value(m, "hftmm_fills_total") == fills > 0
        assert _value(m, "hftmm_risk_vetoes_total", plugin="MaxPosition") == strategy.vetoed > 0
        assert _value(m, "hftmm_market_data_messages_total", kind="quote") > 100
        assert _value(m, "hftmm_inventory_shares", instrument="ACME.XNYS") == float(engine.portfolio.net_position(strategy.params.instrument_id))
        assert _value(m, "hftmm_quoted_spread_ticks", instrument="ACME.XNYS") >= 1
        assert _value(m, "hftmm_markout_bps", instrument="ACME.XNYS", horizon_s="5") != 0
        assert _value(m, "hftmm_strategy_calc_seconds_count", instrument="ACME.XNYS") > 100
        assert _value(m, "hftmm_risk_chain_seconds_count") >= len(orders)
        assert NodeMetrics.current() is None, "the actor uninstalls its metrics when it stops"
    finally:
        node.dispose()


def test_the_endpoint_is_served_while_the_actor_runs() -> None:
    metrics = NodeMetrics()
    port = metrics.serve(0)
    try:
        metrics.orders.labels("ACME.XNYS", "submit").inc(2)
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        samples = {s.name: s.value for f in text_string_to_metric_families(body) for s in f.samples}
        assert samples["hftmm_orders_total"] == 2
    finally:
        metrics.stop()


def test_a_risk_mode_kept_from_a_previous_node_shows_from_the_start(catalog: Path, tmp_path: Path) -> None:
    """The risk actor starts before the metrics actor and may restore a halt kept in the cache by a
    previous node: the mode gauge must show it, not the default ACTIVE."""
    config = parse_config({
        "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "09:45"},
        "strategy": {"path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
                     "gamma": 0.05, "k": 150.0, "a": 0.2, "sigma": 0.005, "max_position": 1000},
        "risk": {"plugins": [{"path": "MaxPosition", "max_position": 200}]},
    })
    rc = build_run_config(config, catalog, None, tmp_path, "metrics-kept-mode")
    metrics_actor = ImportableActorConfig(actor_path="hftmm.metrics.actor:MetricsActor",
                                          config_path="hftmm.metrics.actor:MetricsActorConfig",
                                          config={"instruments": ["ACME.XNYS"], "port": 0})
    rc = msgspec.structs.replace(rc, engine=msgspec.structs.replace(rc.engine, actors=[*rc.engine.actors, metrics_actor]))
    node = BacktestNode([rc])
    node.build()
    engine = node.get_engine(rc.id)
    bind_risk_engine(engine)
    engine.cache.add(MODE_KEY, json.dumps({"mode": "HALTED", "plugin": "operator", "reason": "kept halt"}).encode())
    node.run()
    try:
        [actor] = [a for a in engine.trader.actors() if isinstance(a, MetricsActor)]
        assert {m: _value(actor.metrics, "hftmm_risk_mode", mode=m) for m in ("ACTIVE", "REDUCING", "HALTED")} == {
            "ACTIVE": 0.0, "REDUCING": 0.0, "HALTED": 1.0}
        assert _value(actor.metrics, "hftmm_orders_total", kind="submit") == 0, "a halted node sends no orders"
    finally:
        node.dispose()
