"""A backtest's event log: its records, an exact replay, divergence and tamper detection, and
positions rebuilt from the events alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hftmm.cli.app import app
from hftmm.config import parse_config
from hftmm.engine.backtest import run_backtest
from hftmm.eventlog.log import EventLogError, load_log
from hftmm.eventlog.projection import project_positions
from hftmm.eventlog.replay import ReplayError, compare_runs, replay_run
from tests.backtest.synthetic_catalog import build_catalog

CONFIG = {
    "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
    "strategy": {"path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
                 "gamma": 0.05, "k": 150.0, "a": 0.2, "sigma": 0.005, "max_position": 1000},
    "risk": {"plugins": [{"path": "MaxPosition", "max_position": 200}, {"path": "PriceCollar"}]},
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replay")
    build_catalog(root / "catalog", n_events=3000, seed=3)
    config = parse_config({**CONFIG, "catalog": {"path": str(root / "catalog")}})
    return run_backtest(config, catalog_path=root / "catalog", runs_dir=root / "runs").run_dir


def test_the_log_holds_run_metadata_intents_and_commands_with_verdicts(recorded: Path) -> None:
    started, quotes, commands, ended = load_log(recorded / "eventlog.jsonl")
    assert started.mode == "backtest" and started.seed == 42 and started.versions["nautilus_trader"] == "1.231.0"
    assert started.config["strategy"]["gamma"] == 0.05
    assert any(name.startswith("data/order_book_deltas/ACME.XNYS/") for name in started.data["files"])
    assert len(quotes) > 100 and all(q.bids or q.asks for q in quotes)
    vetoed = [c for c in commands if not c.allowed]
    assert vetoed and {c.plugin for c in vetoed} <= {"MaxPosition", "PriceCollar"}
    orders = pd.read_parquet(recorded / "orders.parquet")
    sent = {c.order for c in commands if c.kind == "submit" and c.allowed}
    assert sent == set(orders["client_order_id"]), "every allowed submit reached the venue, no other"
    assert ended is not None and ended.records == 1 + len(quotes) + len(commands)


def test_a_replay_reproduces_the_same_commands_orders_and_fills(recorded: Path, tmp_path: Path) -> None:
    report = replay_run(recorded, tmp_path)
    assert report.identical, report.divergences
    assert report.counts["fills"][0] > 20 and report.counts["commands"][0] > 100
    assert json.loads((report.replay_dir / "replay.json").read_text())["identical"] is True


def test_a_divergence_is_located(recorded: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(recorded, other, ignore=shutil.ignore_patterns("replays", "stream"))
    fills = pd.read_parquet(other / "fills.parquet")
    fills.loc[7, "price"] += 0.01
    fills.to_parquet(other / "fills.parquet")
    report = compare_runs(recorded, other)
    [d] = report.divergences
    assert d.sequence == "fills" and d.index == 7 and d.replayed["price"] == pytest.approx(d.recorded["price"] + 0.01)


def test_a_changed_catalog_file_is_refused(recorded: Path, tmp_path: Path) -> None:
    started, _, _, _ = load_log(recorded / "eventlog.jsonl")
    catalog = Path(started.data["catalog"])
    rel = next(n for n in started.data["files"] if "trade_tick" in n)
    original = (catalog / rel).read_bytes()
    try:
        (catalog / rel).write_bytes(original + b"\0")
        with pytest.raises(ReplayError, match=r"catalog file .*trade_tick.* changed since the run"):
            replay_run(recorded, tmp_path)
    finally:
        (catalog / rel).write_bytes(original)


def test_positions_rebuilt_from_the_events_match_the_reports(recorded: Path) -> None:
    [row] = project_positions(recorded)
    assert row.fills > 20 and row.matches, row
    result = CliRunner().invoke(app, ["replay", str(recorded), "--project", "positions"])
    assert result.exit_code == 0 and "match" in result.output


def test_a_corrupt_log_line_names_file_and_line(tmp_path: Path, recorded: Path) -> None:
    lines = (recorded / "eventlog.jsonl").read_text().splitlines()
    lines[3] = lines[3][:40]
    (tmp_path / "eventlog.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(EventLogError, match=r"eventlog.jsonl:4: not an event-log record"):
        load_log(tmp_path / "eventlog.jsonl")
