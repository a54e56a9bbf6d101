"""Fixtures: the synthetic catalog day and its market events (built once per module run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hftmm.venue.catalog_feed import catalog_day_events, symbol_specs
from tests.backtest.synthetic_catalog import build_catalog
from tests.venue_app.harness import DATE, IID, Day


@pytest.fixture(scope="session")
def venue_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venue_catalog")
    build_catalog(root, DATE, n_events=3000, seed=7)
    return root


@pytest.fixture(scope="session")
def day(venue_catalog: Path) -> Day:
    return list(catalog_day_events(venue_catalog, [IID], DATE)), symbol_specs(venue_catalog, [IID])
