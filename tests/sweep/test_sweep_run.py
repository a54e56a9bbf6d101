"""Sweeps that really run: every run in its own process, failures recorded, the same numbers on Ray.

The catalog is the small synthetic one of the backtest tests (one symbol, half an hour); each sweep
adds a symbol the catalog does not have, so half the runs fail the way a missing day or symbol does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hftmm.sweep import SweepError, prepare_sweep, run_sweep
from hftmm.sweep.results import NONDETERMINISTIC_COLUMNS
from hftmm.sweep.runner import CRASHED
from tests.backtest.synthetic_catalog import build_catalog

REPO = Path(__file__).resolve().parents[2]
BASE = {
    "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_start": "09:30", "trading_end": "09:45",
                 "event_stream": "off"},
    "strategy": {
        "path": "strategies.avellaneda_stoikov:AvellanedaStoikovMarketMaker",
        "config_path": "strategies.avellaneda_stoikov:AvellanedaStoikovConfig",
        "gamma": 0.01, "k": 100.0, "sigma": 0.005, "order_qty": 100, "max_position": 500,
    },
}
SWEEP: dict[str, Any] = {"base": BASE, "grid": {"order_qty": [100, 200]}, "symbols": ["ACME.XNYS", "NOPE.XNYS"],
                         "workers": 2}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    build_catalog(root, n_events=1200, seed=3, start="09:25", end="09:50")
    return root


@pytest.fixture(scope="module")
def cli_sweep(catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``hftmm sweep`` on the process pool, as a user runs it; returns the process and the sweep folder."""
    work = tmp_path_factory.mktemp("cli")
    (work / "sweep.json").write_text(json.dumps(SWEEP))
    runs = work / "runs"
    result = subprocess.run(
        [sys.executable, "-m", "hftmm", "sweep", "-c", str(work / "sweep.json"), "--catalog", str(catalog),
         "--runs-dir", str(runs)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "PYTHONPATH": str(REPO)},
    )
    [sweep_dir] = runs.iterdir()
    return result, sweep_dir


def test_cli_dry_run_lists_the_demo_sweep() -> None:
    result = subprocess.run([sys.executable, "-m", "hftmm", "sweep", "--dry-run"], cwd=REPO, capture_output=True, text=True,
                            timeout=120, env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert "12 run(s) planned" in result.stdout
    assert "run-0011   CRUX.ARCX   2024-03-11   0.1     3" in result.stdout


def test_cli_sweep_reports_and_exits_1_on_a_failed_run(cli_sweep: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, sweep_dir = cli_sweep
    assert result.returncode == 1, result.stderr
    assert "4 run(s): 2 ok, 2 failed" in result.stdout
    assert f"report: {sweep_dir / 'report.html'}" in result.stdout
    assert "failed: run-0001 NOPE.XNYS 2024-03-11: BacktestError: instrument NOPE.XNYS is not in catalog" in result.stderr
    assert result.stderr.strip().endswith("error: 2 of 4 run(s) failed; their errors are in the results table")
    assert "Traceback" not in result.stderr


def test_every_run_is_in_the_table_with_its_own_process(cli_sweep: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, sweep_dir = cli_sweep
    df = pd.read_parquet(sweep_dir / "results.parquet")
    assert list(df["run_id"]) == ["run-0000", "run-0001", "run-0002", "run-0003"]
    assert list(df["status"]) == ["ok", "failed", "ok", "failed"]
    assert list(df["param.order_qty"]) == [100, 100, 200, 200]
    assert list(df["symbol"]) == ["ACME.XNYS", "NOPE.XNYS"] * 2
    # One fresh interpreter per run, none of them the driver.
    assert df["pid"].nunique() == 4
    assert len(pd.read_csv(sweep_dir / "results.csv")) == 4
    assert len((sweep_dir / "results.jsonl").read_text().splitlines()) == 4
    meta = json.loads((sweep_dir / "sweep.json").read_text())
    assert (meta["backend"], meta["workers"], meta["runs"], meta["ok"], meta["failed"]) == ("pool", 2, 4, 2, 2)
    assert len(json.loads((sweep_dir / "plan.json").read_text())["runs"]) == 4
    for _, row in df[df["status"] == "ok"].iterrows():
        summary = json.loads((Path(row["run_dir"]) / "summary.json").read_text())
        assert (row["total_pnl"], row["fills"], row["orders"]) == (summary["total_pnl"], summary["fills"], summary["orders"])
        assert summary["instruments"] == ["ACME.XNYS"]
        assert row["orders"] > 0 and pd.notna(row["mtm_pnl"]) and row["error"] == ""
    assert df.loc[df["status"] == "ok", "fills"].sum() > 0


def test_a_failed_run_keeps_its_error_and_traceback(cli_sweep: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, sweep_dir = cli_sweep
    df = pd.read_parquet(sweep_dir / "results.parquet")
    failed = df[df["status"] == "failed"]
    assert len(failed) == 2
    for _, row in failed.iterrows():
        assert row["error"].startswith("BacktestError: instrument NOPE.XNYS is not in catalog")
        assert row["traceback"].startswith("Traceback") and "_check_catalog" in row["traceback"]
        assert pd.isna(row["total_pnl"])
    report = (sweep_dir / "report.html").read_text()
    assert "instrument NOPE.XNYS is not in catalog" in report and "<summary>traceback</summary>" in report


def crashing_sweep(catalog: Path, runs_dir: Path) -> Any:
    base = json.loads(json.dumps(BASE))
    base["strategy"]["path"] = "tests.sweep.crashing_strategy:CrashingMarketMaker"
    base["strategy"]["config_path"] = "tests.sweep.crashing_strategy:CrashingConfig"
    return prepare_sweep({"base": base, "grid": {"exit_on_start": [False, True]}}, catalog=catalog, runs_dir=runs_dir)


def test_a_crashing_worker_is_recorded_and_the_others_kept(catalog: Path, tmp_path: Path) -> None:
    outcome = run_sweep(crashing_sweep(catalog, tmp_path), workers=2, report=False)
    df = outcome.results
    assert list(df["status"]) == ["ok", "failed"]
    assert df.loc[0, "orders"] > 0
    assert df.loc[1, "error"] == CRASHED
    # What the crashed attempt wrote is kept beside the clean re-run's folder.
    assert (outcome.sweep_dir / "runs" / "run-0001.interrupted-1" / "config.json").is_file()


def deterministic(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=list(NONDETERMINISTIC_COLUMNS)).reset_index(drop=True)


def test_local_ray_cluster_gives_the_same_results(catalog: Path, cli_sweep: tuple[subprocess.CompletedProcess[str], Path],
                                                  tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'hftmm[ray]')")
    _, pool_dir = cli_sweep
    prepared = prepare_sweep(SWEEP, catalog=catalog, runs_dir=tmp_path)
    try:
        outcome = run_sweep(prepared, backend="ray", ray_address="local", workers=2, report=False)
    except SweepError as e:
        if "cannot start or reach the Ray cluster" in str(e):
            pytest.skip(f"no local Ray cluster here: {e}")
        raise
    ray_df = outcome.results
    assert outcome.info.backend == "ray" and outcome.counts == {"ok": 2, "failed": 2, "cancelled": 0}
    assert ray_df["pid"].nunique() == 4 and os.getpid() not in set(ray_df["pid"])
    pool_df = pd.read_parquet(pool_dir / "results.parquet")
    pd.testing.assert_frame_equal(deterministic(ray_df), deterministic(pool_df), check_exact=True)


def test_a_crashing_worker_on_ray_is_recorded_and_the_others_kept(catalog: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'hftmm[ray]')")
    try:
        outcome = run_sweep(crashing_sweep(catalog, tmp_path), backend="ray", ray_address="local", workers=2, report=False)
    except SweepError as e:
        if "cannot start or reach the Ray cluster" in str(e):
            pytest.skip(f"no local Ray cluster here: {e}")
        raise
    df = outcome.results
    assert list(df["status"]) == ["ok", "failed"]
    assert df.loc[0, "orders"] > 0
    assert df.loc[1, "error"].startswith("WorkerCrashedError: The worker died unexpectedly while executing this task")
