"""The risk chain in a backtest: limits hold at the venue, vetoes reach the report, the kill
switch cancels everything and nothing is sent after it, and the audit trail verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hftmm.config import parse_config
from hftmm.engine.backtest import run_backtest
from hftmm.reports import build_report
from hftmm.risk.audit import verify_trail
from tests.backtest.synthetic_catalog import build_catalog

STRATEGY = {"path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
            "gamma": 0.05, "k": 150.0, "a": 0.2, "sigma": 0.005, "order_qty": 100, "max_position": 1000}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    build_catalog(root, n_events=3000, seed=3)
    return root


def _run(catalog: Path, runs: Path, plugins: list[dict]) -> Path:
    config = parse_config({
        "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
        "strategy": STRATEGY, "risk": {"plugins": plugins},
    })
    return run_backtest(config, catalog_path=catalog, runs_dir=runs).run_dir


def _positions(fills: pd.DataFrame) -> pd.Series:
    return fills["quantity"].where(fills["side"] == "BUY", -fills["quantity"]).cumsum()


def test_position_limit_holds_at_the_venue_and_vetoes_are_reported(catalog: Path, tmp_path: Path) -> None:
    run = _run(catalog, tmp_path, [{"path": "MaxPosition", "max_position": 200},
                                   {"path": "MaxOrderSize", "max_quantity": 100, "max_notional": 6000},
                                   {"path": "PriceCollar"}, {"path": "NoSelfCross"}])
    fills = pd.read_parquet(run / "fills.parquet")
    orders = pd.read_parquet(run / "orders.parquet")
    vetoes = pd.read_parquet(run / "vetoes.parquet")
    # The strategy alone would go to 1000 shares; the chain keeps every reachable position within 200.
    assert len(fills) > 20 and _positions(fills).abs().max() <= 200
    assert (orders["quantity"] <= 100).all() and (orders["price"] * orders["quantity"] <= 6000).all()
    assert (vetoes["plugin"] == "MaxPosition").sum() > 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["risk"]["vetoes_by_plugin"]["MaxPosition"] == (vetoes["plugin"] == "MaxPosition").sum()
    # The chain's own position manager agrees with Nautilus's portfolio (realized PnL net of fees).
    [mine] = summary["risk"]["positions"]
    nautilus = summary["per_instrument"]["ACME.XNYS"]
    assert mine["quantity"] == nautilus["final_position"]
    assert mine["realized"] - mine["fees"] == pytest.approx(nautilus["realized_pnl"], abs=0.011)
    assert mine["fees"] == pytest.approx(nautilus["fees"], abs=1e-6)
    # No vetoed order id ever reached the venue.
    assert not set(vetoes.loc[vetoes["kind"] == "new", "client_order_id"]) & set(orders["client_order_id"])
    html = build_report(run).read_text()
    assert "Vetoes by plugin and reason" in html and "Risk mode changes" not in html and "MaxPosition" in html and "position could reach" in html
    assert verify_trail(run / "audit.jsonl").ok


def test_kill_switch_cancels_everything_and_nothing_follows(catalog: Path, tmp_path: Path) -> None:
    run = _run(catalog, tmp_path, [{"path": "KillSwitch", "max_drawdown": 15}])
    actions = pd.read_parquet(run / "risk_actions.parquet")
    assert list(actions["mode"]) == ["HALTED"] and "drawdown" in actions["reason"][0]
    halt = int(actions["ts_ns"][0])
    orders = pd.read_parquet(run / "orders.parquet")
    fills = pd.read_parquet(run / "fills.parquet")
    assert (orders["ts_init"] < halt).all(), "an order was created after the halt"
    assert orders["status"].isin(["FILLED", "CANCELED"]).all(), "an order was left working"
    # Whatever was working at the halt was cancelled as soon as the simulated venue processed the
    # cancels (the next event: at most the next 1 s risk timer), and no fill came after that.
    canceled = orders[orders["status"] == "CANCELED"]
    assert len(canceled) > 0 and (canceled["ts_last"] <= halt + 1_000_000_000).all()
    assert (fills["ts_event"] <= canceled["ts_last"].max()).all()
    trail = [json.loads(line) for line in (run / "audit.jsonl").read_text().splitlines()]
    [mode] = [r for r in trail if r["kind"] == "mode"]
    assert mode["data"]["mode"] == "HALTED" and mode["data"]["plugin"] == "KillSwitch"
    assert verify_trail(run / "audit.jsonl").ok
    assert "Risk mode changes" in build_report(run).read_text()
