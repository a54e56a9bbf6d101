"""Live replay end to end: a live node against the real ``hftmm venue`` and ``hftmm feed``
processes records its market data; ``hftmm replay RUN_DIR`` backtests over it and explains every
divergence from the data; ``--project positions`` checks the live run's positions; a run folder
without recorded market data is refused, naming what is missing."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hftmm.config import parse_live_config
from hftmm.eventlog.divergence import clock
from hftmm.eventlog.log import read_run_started
from hftmm.eventlog.recorded import read_stream, recorded_book_events, recorded_quotes, recorded_trades
from hftmm.live.demo import run_demo_live
from tests.backtest.synthetic_catalog import build_catalog

DATE = dt.date(2024, 3, 11)
ROOT = Path(__file__).resolve().parents[2]


def hftmm(*args: str) -> subprocess.CompletedProcess[str]:
    # A fresh process: Nautilus does not support a backtest engine after a live node in one process.
    return subprocess.run([sys.executable, "-m", "hftmm", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "COLUMNS": "400"}, timeout=600)


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("live_replay")
    build_catalog(root / "catalog", n_events=6000, seed=11)
    raw = json.loads((ROOT / "configs" / "live.json").read_text())
    raw["live"]["instruments"] = ["ACME.XNYS"]
    raw["live"]["runs_dir"] = str(root / "runs")
    raw["catalog"]["path"] = str(root / "catalog")
    outcome = asyncio.run(run_demo_live(parse_live_config(raw), catalog=root / "catalog", date=DATE, duration_s=20,
                                        speed=20.0, start="09:30", work_dir=root / "runs"))
    outcome.live.dispose()
    assert outcome.reconciliation.matches, outcome.reconciliation
    return outcome.run_dir, outcome.summary


def test_the_node_records_every_market_data_object_it_received(live_run: tuple[Path, dict]) -> None:
    run_dir, summary = live_run
    md = summary["market_data"]
    assert md["received"]["order_book_deltas"] > 100 and md["received"]["trade_tick"] > 0
    assert md["recorded"] == md["received"]
    assert len(recorded_book_events(run_dir, "ACME.XNYS")) == md["received"]["order_book_deltas"]
    assert len(recorded_quotes(run_dir, "ACME.XNYS")) == md["received"]["quote_tick"]
    assert len(recorded_trades(run_dir, "ACME.XNYS")) == md["received"]["trade_tick"]
    arrivals = [read_stream(run_dir / "market_data" / "arrival" / kind / "ACME.XNYS.feather")["arrival"].to_pylist()
                for kind in ("quote_tick", "order_book_deltas", "trade_tick")]
    assert sorted(n for a in arrivals for n in a) == list(range(sum(md["received"].values()))), \
        "every object the node received has its own arrival number"
    started = read_run_started(run_dir / "eventlog.jsonl")
    assert started.data["market_data"] == "market_data" and started.data["strategy_window"]["close_ns"] > 0


def test_replay_of_a_live_run_reports_divergences_with_causes_from_the_data(live_run: tuple[Path, dict]) -> None:
    run_dir, summary = live_run
    result = hftmm("replay", str(run_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    received = summary["market_data"]["received"]
    assert (f"recorded market data replayed: {received['quote_tick']:,} quote_tick, "
            f"{received['order_book_deltas']:,} order_book_deltas, {received['trade_tick']:,} trade_tick") in result.stdout
    [replay_dir] = (run_dir / "replays").iterdir()
    report = json.loads((replay_dir / "replay.json").read_text())
    assert report["mode"] == "live" and report["market_data"] == received
    assert report["counts"]["commands"][1] > 0 and report["counts"]["orders"][1] > 0, "the replay ran and traded"
    assert (replay_dir / "summary.json").is_file() and (replay_dir / "eventlog.jsonl").is_file()
    # A live run on another venue is not expected to reproduce; each divergence comes with a cause
    # built from the data: it names a time or price of the rows it explains.
    assert report["divergences"], "a 20 s live run against the venue simulator reproduced exactly: check the test"
    for d in report["divergences"]:
        rows = [r for r in (d["recorded"], d["replayed"]) if r]
        facts = {clock(r[k]) for r in rows for k in ("md_ts_init",) if k in r} | {f"{r['price']:.2f}" for r in rows if r.get("price")}
        assert d["cause"] and any(f in d["cause"] for f in facts), d
        assert f"{d['sequence']} diverge first at #{d['index']}" in result.stdout
        assert d["cause"][:80] in " ".join(result.stdout.split())


def test_positions_of_a_live_run_rebuilt_from_its_events_match(live_run: tuple[Path, dict]) -> None:
    run_dir, summary = live_run
    result = hftmm("replay", str(run_dir), "--project", "positions")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "match" in result.stdout and f"{summary['per_instrument']['ACME.XNYS']['final_position']:+,.0f}" in result.stdout


def test_a_live_run_without_recorded_market_data_is_refused(live_run: tuple[Path, dict], tmp_path: Path) -> None:
    run_dir, _ = live_run
    old = tmp_path / "old-run"
    shutil.copytree(run_dir, old, ignore=shutil.ignore_patterns("market_data", "replays", "node", "venue"))
    result = hftmm("replay", str(old))
    assert result.returncode == 1
    assert f"error: {old / 'market_data'}: missing: this live run recorded no market data" in result.stderr
    cut = tmp_path / "cut-run"
    shutil.copytree(run_dir, cut, ignore=shutil.ignore_patterns("replays", "node", "venue"))
    for path in (cut / "market_data").glob("*/ACME.XNYS.feather"):
        if path.parent.name != "equity":
            path.write_bytes(path.read_bytes()[:100])  # the node died before its first flush completed
    result = hftmm("replay", str(cut))
    assert result.returncode == 1
    assert f"{cut / 'market_data' / 'order_book_deltas' / 'ACME.XNYS.feather'}" in result.stderr
    assert "no complete batch (the node died before its first flush)" in result.stderr
