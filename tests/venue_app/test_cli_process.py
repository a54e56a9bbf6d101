"""``hftmm venue`` as a real process, and its configuration errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hftmm.config.errors import ConfigError
from hftmm.venue.config import load_venue_config
from hftmm.venue.record import read_record
from hftmm.venue.server import RECORD_FILE, STATE_FILE
from tests.conftest import REPO
from tests.redis_process import free_port as _free_port
from tests.venue_app.harness import connect, new_order, run, until


def test_venue_subprocess_trades_over_fix_and_saves_state_on_sigint(venue_catalog: Path, tmp_path: Path) -> None:
    port = _free_port()
    state = tmp_path / "state"
    cmd = [sys.executable, "-m", "hftmm", "venue", "--catalog", str(venue_catalog), "--date", "2024-03-11",
           "--instruments", "ACME.XNYS", "--port", str(port), "--start", "09:30", "--clock-origin", str(time.time()),
           "--state-dir", str(state), "--participants", "HFTMM"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert "venue listening on 127.0.0.1" in line, line + (proc.stderr.read() if proc.stderr else "")

        async def scenario() -> None:
            initiator, session, app = await connect(port)
            session.send("D", new_order("CLI1", "2", 100, "99.00"))
            await until(lambda: len(app.of("8", t11="CLI1")) == 1, what="ack from the process")
            assert app.of("8", t11="CLI1")[0][150] == "0"
            await initiator.stop()

        run(scenario)
    finally:
        proc.send_signal(signal.SIGINT)
        out, errors = proc.communicate(timeout=30)
    assert proc.returncode == 0, errors
    assert "state saved" in out
    assert (state / STATE_FILE).stat().st_size > 0
    assert [(e.participant, e.cl_ord_id, e.exec_type) for e in read_record(state / RECORD_FILE)] == [("HFTMM", "CLI1", "0")]


def test_config_file_with_overrides_and_errors_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "venue.json"
    path.write_text(json.dumps({"catalog": "c", "date": "2024-03-11", "instruments": ["ACME.XNYS"], "speed": 2}))
    config = load_venue_config(path, {"port": 1234, "speed": None})
    assert (config.port, config.speed, config.symbols) == (1234, 2.0, {"ACME": "XNYS"})
    path.write_text(json.dumps({"catalog": "c", "date": "2024-03-11", "instruments": ["ACME.XNYS"], "sped": 2}))
    with pytest.raises(ConfigError, match="sped: unknown key"):
        load_venue_config(path)
    with pytest.raises(ConfigError, match="port: must be <= 65535"):
        load_venue_config(None, {"catalog": "c", "date": "2024-03-11", "instruments": ["ACME.XNYS"], "port": 70000})
    with pytest.raises(ConfigError, match="participants\\[1\\]: CompID 'HFTMM' is used twice"):
        load_venue_config(None, {"catalog": "c", "date": "2024-03-11", "instruments": ["ACME.XNYS"],
                                 "participants": ["HFTMM", "HFTMM"]})
    with pytest.raises(ConfigError, match="start: must be HH:MM"):
        load_venue_config(None, {"catalog": "c", "date": "2024-03-11", "instruments": ["ACME.XNYS"], "start": "25:00"})
