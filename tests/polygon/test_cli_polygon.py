"""``hftmm ingest polygon`` and ``hftmm feed`` as a user runs them: real processes, real servers."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.backtest.synthetic_catalog import build_catalog
from tests.polygon.rest_server import FixtureRestServer

REPO = Path(__file__).resolve().parents[2]
KEY = "cli-key-5a6b"


def hftmm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hftmm", *args], cwd=REPO, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "PYTHONPATH": str(REPO), **(env or {})},
    )


@pytest.fixture
def rest(shared_data: Path) -> Iterator[tuple[FixtureRestServer, str]]:
    s = FixtureRestServer(shared_data / "polygon/rest", shared_data / "polygon/reference/massive_rest_spec.json", KEY)
    base = s.start()
    yield s, base
    s.stop()


def test_ingest_polygon_from_the_environment_key(rest: tuple[FixtureRestServer, str], tmp_path: Path) -> None:
    server, base = rest
    cat = tmp_path / "cat"
    result = hftmm("ingest", "polygon", "--symbols", "AAPL", "--date", "2022-05-10", "--catalog", str(cat),
                   "--rest-url", base, env={"MASSIVE_API_KEY": KEY})
    assert result.returncode == 0, result.stderr
    assert "AAPL.XNAS" in result.stdout and "lots" in result.stdout
    assert "2 trades row(s) outside 2022-05-10" in result.stderr
    assert KEY not in result.stdout + result.stderr
    assert server.count("quotes-page2") == 1


def test_ingest_polygon_without_a_key_is_one_line(tmp_path: Path) -> None:
    result = hftmm("ingest", "polygon", "--symbols", "AAPL", "--date", "2022-05-10", "--catalog", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: no API key: set one of MASSIVE_API_KEY")
    assert "Traceback" not in result.stderr


def test_ingest_polygon_wrong_key_does_not_show_it(rest: tuple[FixtureRestServer, str], tmp_path: Path) -> None:
    _, base = rest
    result = hftmm("ingest", "polygon", "--symbols", "AAPL", "--date", "2022-05-10", "--catalog", str(tmp_path),
                   "--rest-url", base, env={"POLYGON_API_KEY": "wrong-key-77"})
    assert result.returncode == 1 and "HTTP 401" in result.stderr and "wrong-key-77" not in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_feed_serves_a_catalog_day_over_the_polygon_protocol(tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    build_catalog(cat, dt.date(2024, 3, 11), n_events=200)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hftmm", "feed", "--catalog", str(cat), "--date", "2024-03-11", "--port", str(port),
         "--speed", "0", "--hold-when-idle"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "MASSIVE_API_KEY": KEY},
    )

    async def session() -> list[dict]:
        deadline = time.monotonic() + 60
        while True:
            try:
                ws = await connect(f"ws://127.0.0.1:{port}")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                await asyncio.sleep(0.2)
        async with ws:
            frames = [json.loads(await ws.recv())]
            await ws.send(json.dumps({"action": "auth", "params": KEY}))
            frames.append(json.loads(await ws.recv()))
            await ws.send(json.dumps({"action": "subscribe", "params": "Q.ACME,T.ACME"}))
            messages: list[dict] = []
            while sum(1 for m in messages if m["ev"] in ("Q", "T")) < 200:
                messages += json.loads(await asyncio.wait_for(ws.recv(), 10))
            return frames + [messages]

    try:
        connected, auth, messages = asyncio.run(session())
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert connected == [{"ev": "status", "status": "connected", "message": "Connected Successfully"}]
    assert auth == [{"ev": "status", "status": "auth_success", "message": "authenticated"}]
    assert {"ev": "status", "status": "success", "message": "subscribed to: Q.ACME"} in messages
    data = [m for m in messages if m["ev"] in ("Q", "T")]
    assert [m["t"] for m in data] == sorted(m["t"] for m in data)
    assert {m["sym"] for m in data} == {"ACME"}
    assert "any API key" not in out and "required" in out
