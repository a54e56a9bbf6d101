"""Runtime parameter updates: validated, applied atomically, recorded, and rolled back when they
break a risk check or the strategy."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hftmm.cli.app import app
from hftmm.config import parse_config
from hftmm.control.changes import ChangeError, History, apply_changes, parse_value
from hftmm.engine.backtest import run_backtest
from hftmm.eventlog.log import read_log
from hftmm.eventlog.schema import ParamChange
from tests.backtest.synthetic_catalog import build_catalog

T_UPDATE = pd.Timestamp("2024-03-11 14:00", tz="UTC")  # 10:00 ET


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    build_catalog(root, n_events=3000, seed=3)
    return root


def _run(catalog: Path, runs: Path, strategy: dict, schedule: list[dict], plugins: list[dict]) -> Path:
    config = parse_config({
        "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
        "strategy": strategy, "risk": {"plugins": plugins}, "control": {"grace_s": 120, "schedule": schedule},
    })
    return run_backtest(config, catalog_path=catalog, runs_dir=runs).run_dir


def _history(run: Path) -> dict[int, dict]:
    latest: dict[int, dict] = {}
    for line in (run / "config_history.jsonl").read_text().splitlines():
        row = json.loads(line)
        latest[row["version"]] = row
    return latest


def test_changes_as_data() -> None:
    strategy, plugins = apply_changes({"gamma": 0.1}, [{"path": "MaxPosition", "max_position": 5},
                                                       {"path": "hftmm.risk.checks:PriceCollar"}],
                                      {"strategy.gamma": 0.2, "risk.MaxPosition.max_position": 9,
                                       "risk.PriceCollar.max_deviation_bps": 20})
    assert strategy == {"gamma": 0.2} and plugins[0]["max_position"] == 9 and plugins[1]["max_deviation_bps"] == 20
    with pytest.raises(ChangeError, match="risk.KillSwitch: no such plugin"):
        apply_changes({}, [], {"risk.KillSwitch.max_drawdown": 1})
    with pytest.raises(ChangeError, match="strategy.path: cannot change at runtime"):
        apply_changes({}, [], {"strategy.path": "x:y"})
    assert parse_value("0.05") == 0.05 and parse_value("true") is True and parse_value("microprice") == "microprice"
    h = History({"gamma": 0.1}, [])
    h.add(1, "a", {}, {"gamma": 0.2}, [], "applied")
    h.add(2, "b", {}, {"gamma": 0.3}, [], "rejected", "no")
    assert h.active.version == 1 and h.previous_good().version == 0


def test_an_update_that_breaks_a_risk_check_is_rolled_back(catalog: Path, tmp_path: Path) -> None:
    strategy = {"path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
                "gamma": 0.05, "k": 150.0, "a": 0.2, "sigma": 0.005, "max_position": 1000}
    run = _run(catalog, tmp_path, strategy,
               [{"at": "09:50", "set": {"strategy.gamma": 0.2}}, {"at": "10:00", "set": {"strategy.order_qty": 500}},
                {"at": "10:10", "set": {"strategy.gamma": -1}}],
               [{"path": "MaxOrderSize", "max_quantity": 200}])
    h = _history(run)
    assert [h[v]["status"] for v in range(5)] == ["active", "applied", "rolled_back", "applied", "rejected"]
    assert "vetoed by the risk chain" in h[2]["reason"] and "MaxOrderSize" in h[2]["reason"]
    assert h[3]["by"] == "auto-rollback" and h[3]["changes"] == {"rollback": 1}
    assert h[4]["reason"] == "strategy.gamma: must be > 0, got -1"
    orders = pd.read_parquet(run / "orders.parquet")
    after = orders[pd.to_datetime(orders["ts_init"], utc=True) > T_UPDATE + pd.Timedelta(minutes=1)]
    # The node keeps trading, with the previous order size: nothing of 500 shares reached the venue.
    assert len(after) > 10 and (orders["quantity"] <= 200).all() and (after["quantity"] == 100).all()
    changes = [r for r in read_log(run / "eventlog.jsonl") if isinstance(r, ParamChange)]
    assert [c.status for c in changes][-3:] == ["rolled_back", "applied", "rejected"]
    audit = [json.loads(x) for x in (run / "audit.jsonl").read_text().splitlines()]
    assert sum(r["kind"] == "param_change" for r in audit) == len(changes)
    result = CliRunner().invoke(app, ["config", "history", "--run", str(run)])
    assert result.exit_code == 0 and "rolled_back" in result.output


def test_an_update_that_breaks_the_strategy_is_rolled_back(catalog: Path, tmp_path: Path) -> None:
    strategy = {"path": "tests.control.explosive:ExplosiveQuoter", "config_path": "tests.control.explosive:ExplosiveConfig",
                "max_position": 1000}
    run = _run(catalog, tmp_path, strategy, [{"at": "10:00", "set": {"strategy.explode": True}}], [])
    h = _history(run)
    assert h[1]["status"] == "rolled_back" and "told to explode" in h[1]["reason"]
    # The strategy kept quoting after the rollback: order commands went out through the rest of the run.
    from hftmm.eventlog.schema import Command

    later = [c for c in read_log(run / "eventlog.jsonl") if isinstance(c, Command) and c.allowed
             and c.ts > (T_UPDATE + pd.Timedelta(minutes=1)).value]
    assert len(later) > 10
