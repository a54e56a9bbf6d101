"""The hftmm command line as a user runs it: a real process, its exit code and its output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backtest.synthetic_catalog import build_catalog

REPO = Path(__file__).resolve().parents[2]


def hftmm(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hftmm", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "PYTHONPATH": str(REPO)},
    )


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ((), ["ingest", "backtest", "report", "demo", "version", "sample", "feed"]),
        (("ingest", "taq"), ["--trades", "--quotes", "--nbbo", "--master", "--symbols", "--catalog", "--strict"]),
        (("ingest", "polygon"), ["--symbols", "--date", "--catalog", "--rest-url", "--trades-file", "--quotes-file"]),
        (("feed",), ["--catalog", "--date", "--port", "--speed", "--hold-when-idle"]),
        (("backtest",), ["--config", "--catalog", "--runs-dir", "--report"]),
        (("report",), ["RUN_DIR", "--out"]),
        (("sweep",), ["--config", "--workers", "--ray", "--catalog", "--runs-dir", "--dry-run"]),
        (("demo",), ["--config", "--sample-dir", "--catalog"]),
        (("sample", "taq"), ["--out", "--date", "--seed", "--scale", "--gzip"]),
    ],
)
def test_help_is_useful(command: tuple[str, ...], expected: list[str]) -> None:
    result = hftmm(*command, "--help")
    assert result.returncode == 0, result.stderr
    for word in expected:
        assert word in result.stdout


def test_version() -> None:
    result = hftmm("version")
    assert result.returncode == 0
    assert "nautilus_trader 1.231.0" in result.stdout


def test_bad_config_is_one_line_and_exit_1(tmp_path: Path) -> None:
    raw = json.loads((REPO / "configs" / "backtest.json").read_text())
    raw["strategy"]["gamma"] = -1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    result = hftmm("backtest", "--config", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"error: {path}: strategy.gamma: must be > 0, got -1"


def test_usage_error_exits_2() -> None:
    result = hftmm("ingest", "taq", "--master", "/nonexistent/master")
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_config_validate() -> None:
    result = hftmm("config", "validate", "configs/backtest.json")
    assert result.returncode == 0
    assert "ok" in result.stdout


def test_backtest_command_writes_a_run_folder(tmp_path: Path) -> None:
    build_catalog(tmp_path / "catalog", n_events=1500)
    config = {
        "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
        "strategy": {
            "path": "strategies.avellaneda_stoikov:AvellanedaStoikovMarketMaker",
            "config_path": "strategies.avellaneda_stoikov:AvellanedaStoikovConfig",
        },
    }
    (tmp_path / "bt.json").write_text(json.dumps(config))
    result = hftmm(
        "backtest", "-c", str(tmp_path / "bt.json"), "--catalog", str(tmp_path / "catalog"),
        "--runs-dir", str(tmp_path / "runs"),
    )
    assert result.returncode == 0, result.stderr
    [run_dir] = (tmp_path / "runs").iterdir()
    assert f"run folder: {run_dir}" in result.stdout.replace("\n", "")
    assert (run_dir / "summary.json").is_file()
    assert "ACME.XNYS" in result.stdout
