"""The control channel over a real Redis: `hftmm set` and `hftmm resume` reach a running node's
control actor, which answers; the history is readable with `hftmm config history`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from hftmm.cli.app import app
from hftmm.config import parse_config
from hftmm.engine.backtest import run_backtest
from tests.backtest.synthetic_catalog import build_catalog

pytestmark = pytest.mark.redis


def test_set_and_resume_reach_the_node(redis_server: tuple[str, int], tmp_path: Path) -> None:
    host, port = redis_server
    url = f"redis://{host}:{port}/0"
    client = redis.Redis(host=host, port=port)
    for key in client.keys("hftmm:HFTMM-001:*"):
        client.delete(key)
    build_catalog(tmp_path / "catalog", n_events=1500, seed=5)
    hftmm = [sys.executable, "-m", "hftmm"]
    procs = {
        "set": subprocess.Popen([*hftmm, "set", "strategy.gamma", "0.2", "--redis", url, "--wait", "120"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
        "bad": subprocess.Popen([*hftmm, "set", "--redis", url, "--wait", "120", "--", "strategy.gamma", "-3"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
        "resume": subprocess.Popen([*hftmm, "resume", "--reason", "reviewed the halt", "--redis", url, "--wait", "120"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
    }
    deadline = time.monotonic() + 60
    while client.llen("hftmm:HFTMM-001:control:requests") < 3:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs.values()):
            texts = {n: (p.poll(), p.stdout.read() if p.poll() is not None and p.stdout else "") for n, p in procs.items()}
            pytest.fail(f"the CLI did not queue its requests: {texts}")
        time.sleep(0.05)
    config = parse_config({
        "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
        "strategy": {"path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
                     "gamma": 0.05, "k": 150.0, "a": 0.2, "sigma": 0.005, "max_position": 1000},
        "control": {"redis_url": url},
    })
    run = run_backtest(config, catalog_path=tmp_path / "catalog", runs_dir=tmp_path / "runs").run_dir
    results = {name: (p.wait(timeout=120), p.stdout.read() if p.stdout else "") for name, p in procs.items()}
    (good_code, good), (bad_code, bad) = results["set"], results["bad"]
    assert good_code == 0 and "applied as version" in good, good
    assert bad_code == 1 and "strategy.gamma: must be > 0, got -3" in bad, bad
    assert results["resume"][0] == 0 and "trading resumed" in results["resume"][1]
    history = CliRunner().invoke(app, ["config", "history", "--redis", url])
    assert history.exit_code == 0 and "applied" in history.output and "rejected" in history.output
    assert (run / "config_history.jsonl").is_file()
