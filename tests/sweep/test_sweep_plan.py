"""Sweep files: validation errors name the sweep file's path; expansion is complete and deterministic."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from hftmm.config import ConfigError
from hftmm.sweep import expand_sweep, load_sweep_config, parse_sweep_config, prepare_sweep
from hftmm.sweep.plan import parameter_points

REPO = Path(__file__).resolve().parents[2]
AS_STRATEGY = {
    "path": "strategies.avellaneda_stoikov:AvellanedaStoikovMarketMaker",
    "config_path": "strategies.avellaneda_stoikov:AvellanedaStoikovConfig",
    "gamma": 0.01, "k": 100.0, "sigma": 0.005, "order_qty": 100, "max_position": 500,
}
BASE = {"backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS", "BOLT.XNAS"]}, "strategy": AS_STRATEGY}


def sweep_error(raw: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        prepare_sweep({"base": BASE, **raw}, runs_dir=Path("/tmp/unused"))
    return info.value


def test_shipped_sweep_expands_to_twelve_demo_runs() -> None:
    sweep, base, base_source = load_sweep_config(REPO / "configs" / "sweep.json")
    assert base_source == str(REPO / "configs" / "backtest.json")
    plan = expand_sweep(sweep, base, sweep_runs_dir=Path("/tmp/s/runs"), catalog=Path("/tmp/cat"))
    assert len(plan.runs) == 12 and plan.param_names == ["gamma", "min_spread_ticks"]
    assert [r.symbol for r in plan.runs[:3]] == ["ACME.XNYS", "BOLT.XNAS", "CRUX.ARCX"]
    first = plan.runs[0].config
    # Each run trades one symbol, keeps the base's risk chain, and has the override applied.
    assert first["backtest"]["instruments"] == ["ACME.XNYS"] and first["backtest"]["event_stream"] == "off"
    assert first["risk"]["plugins"] == json.loads((REPO / "configs" / "backtest.json").read_text())["risk"]["plugins"]
    assert first["catalog"]["path"] == "/tmp/cat" and plan.runs[0].runs_dir == "/tmp/s/runs"


def test_grid_order_and_run_numbering() -> None:
    prepared = prepare_sweep(
        {"base": BASE, "grid": {"gamma": [0.01, 0.1], "order_qty": [100, 200, 300]}, "dates": ["2024-03-11", "2024-03-12"]},
        runs_dir=Path("/tmp/unused"), sweep_id="sweep-x",
    )
    runs = prepared.plan.runs
    assert len(runs) == 2 * 3 * 2 * 2
    assert [r.run_id for r in runs[:3]] == ["run-0000", "run-0001", "run-0002"]
    # Point-major, then day, then symbol; the grid's last parameter varies fastest.
    assert [(r.params["gamma"], r.params["order_qty"], r.date, r.symbol) for r in runs[:5]] == [
        (0.01, 100, "2024-03-11", "ACME.XNYS"), (0.01, 100, "2024-03-11", "BOLT.XNAS"),
        (0.01, 100, "2024-03-12", "ACME.XNYS"), (0.01, 100, "2024-03-12", "BOLT.XNAS"),
        (0.01, 200, "2024-03-11", "ACME.XNYS"),
    ]
    assert runs[6].config["strategy"]["order_qty"] == 200 and runs[6].config["backtest"]["date"] == "2024-03-12"
    assert runs[6].config["backtest"]["instruments"] == ["ACME.XNYS"]
    assert prepared.sweep_dir == Path("/tmp/unused/sweep-x").resolve()


def test_random_search_is_seeded_and_respects_ranges() -> None:
    raw = {"random": {"n": 50, "seed": 7, "params": {
        "gamma": {"low": 0.001, "high": 1.0, "log": True},
        "order_qty": {"low": 100, "high": 300},
        "k": {"low": 50.0, "high": 60.0},
        "min_spread_ticks": [1, 2, 3],
    }}}
    points = parameter_points(parse_sweep_config({"base": BASE, **raw}))
    assert points == parameter_points(parse_sweep_config({"base": BASE, **raw}))
    assert len(points) == 50
    gammas = [p["gamma"] for p in points]
    assert all(0.001 <= g <= 1.0 for g in gammas)
    # Log-uniform: about half the draws below the geometric middle (0.0316), far more than uniform's 3 %.
    assert 15 <= sum(g < math.sqrt(0.001) for g in gammas) <= 35
    assert all(isinstance(p["order_qty"], int) and 100 <= p["order_qty"] <= 300 for p in points)
    assert all(isinstance(p["k"], float) and 50.0 <= p["k"] <= 60.0 for p in points)
    assert {p["min_spread_ticks"] for p in points} == {1, 2, 3}
    other = parameter_points(parse_sweep_config({"base": BASE, "random": {**raw["random"], "seed": 8}}))
    assert other != points


def test_grid_times_random_points() -> None:
    points = parameter_points(parse_sweep_config({
        "base": BASE, "grid": {"order_qty": [100, 200]},
        "random": {"n": 3, "seed": 1, "params": {"gamma": {"low": 0.01, "high": 0.1}}},
    }))
    assert len(points) == 6
    # The same three draws are crossed with each grid value.
    assert [p["gamma"] for p in points[:3]] == [p["gamma"] for p in points[3:]]
    assert [p["order_qty"] for p in points] == [100, 100, 100, 200, 200, 200]


def test_dotted_parameter_sets_another_section() -> None:
    prepared = prepare_sweep({"base": BASE, "grid": {"venue.latency.base_ns": [0, 1_000_000]}, "symbols": ["ACME.XNYS"]},
                             runs_dir=Path("/tmp/unused"))
    assert [r.config["venue"]["latency"]["base_ns"] for r in prepared.plan.runs] == [0, 1_000_000]


def test_no_grid_runs_each_base_symbol_once() -> None:
    prepared = prepare_sweep({"base": BASE}, runs_dir=Path("/tmp/unused"))
    assert [(r.symbol, r.params) for r in prepared.plan.runs] == [("ACME.XNYS", {}), ("BOLT.XNAS", {})]


@pytest.mark.parametrize(
    ("raw", "path", "reason"),
    [
        ({"grid": {"gamma": []}}, "grid.gamma", "must have at least 1 item(s)"),
        ({"gird": {"gamma": [1]}}, "gird", "unknown key"),
        ({"random": {"n": 0, "params": {"gamma": [1]}}}, "random.n", "must be >= 1, got 0"),
        ({"random": {"n": 2, "params": {"gamma": {"low": 2, "high": 1}}}}, "random.params.gamma",
         "high (1) must be >= low (2)"),
        ({"random": {"n": 2, "params": {"gamma": {"low": 0, "high": 1, "log": True}}}}, "random.params.gamma",
         "a log range needs low > 0, got 0"),
        ({"random": {"n": 2, "params": {"gamma": {"low": 0.1, "hi": 1}}}}, "random.params.gamma.hi", "unknown key"),
        ({"grid": {"gamma": [0.1]}, "random": {"n": 2, "params": {"strategy.gamma": [0.2]}}},
         "random.params.strategy.gamma", "the same setting as grid.gamma"),
        ({"grid": {"backtest.date": ["2024-03-12"]}}, "grid.backtest.date", "is set by the sweep's 'symbols' and 'dates'"),
        ({"grid": {"trading.gamma": [1]}}, "grid.trading.gamma", "unknown section 'trading' (one of: backtest, strategy, venue, risk, catalog)"),
        ({"grid": {"strategy.path": ["x:Y"]}}, "grid.strategy.path", "the strategy class cannot be swept; run one sweep per strategy"),
        ({"symbols": ["acme"]}, "symbols[0]", "must be an instrument id SYMBOL.VENUE (e.g. ACME.XNYS), got \"acme\""),
        ({"symbols": ["ACME.XNYS", "ACME.XNYS"]}, "symbols", "lists ACME.XNYS twice"),
        ({"dates": ["2024-13-01"]}, "dates[0]", "invalid RFC3339 encoded date, got \"2024-13-01\""),
        ({"workers": 0}, "workers", "must be >= 1, got 0"),
    ],
)
def test_sweep_file_errors_name_the_path(raw: dict[str, Any], path: str, reason: str) -> None:
    e = sweep_error(raw)
    assert (e.path, e.reason) == (path, reason)


def test_bad_value_for_the_strategy_names_the_grid_entry_and_the_run() -> None:
    e = sweep_error({"grid": {"gamma": [0.1, -1]}, "symbols": ["ACME.XNYS"]})
    assert e.path == "grid.gamma"
    assert e.reason == "must be > 0, got -1 (run ACME.XNYS 2024-03-11, gamma=-1)"
    e = sweep_error({"grid": {"gama": [0.1]}})
    assert (e.path, e.reason.split(" (")[0]) == ("grid.gama", "unknown key")
    e = sweep_error({"overrides": {"venue.book_type": "L9"}})
    assert e.path == "overrides.venue.book_type"


def test_missing_base_file(tmp_path: Path) -> None:
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps({"base": "nothere.json"}))
    with pytest.raises(ConfigError) as info:
        prepare_sweep(path, runs_dir=tmp_path)
    assert str(info.value) == f"{path}: base: run configuration {str(tmp_path / 'nothere.json')!r} not found"


def test_sweep_file_error_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "base.json").write_text(json.dumps(BASE))
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps({"base": "base.json", "grid": {"order_qty": [0]}}))
    with pytest.raises(ConfigError) as info:
        prepare_sweep(path, runs_dir=tmp_path)
    assert str(info.value).startswith(f"{path}: grid.order_qty: ")
