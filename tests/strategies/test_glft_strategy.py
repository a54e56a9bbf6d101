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


def test_calibrate_then_quote_with_the_calibration(catalog: Path, tmp_path: Path) -> None:
    import datetime as dt
    import json

    from hftmm.engine.calibration import calibrate, calibration_path, save_calibration

    result = calibrate(catalog, "ACME.XNYS", dt.date(2024, 3, 11), "09:30", "10:30")
    assert result["volatility"]["sigma"] > 0 and result["units"]["sigma"] == "dollars per sqrt(second)"
    assert result["intensity"]["ask"]["a"] > 0 and result["intensity"]["bid"]["a"] > 0
    path = save_calibration(result, calibration_path(tmp_path / "cal", "ACME.XNYS", dt.date(2024, 3, 11)))
    assert json.loads(path.read_text())["instrument_id"] == "ACME.XNYS"
    strategy = {
        "path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
        "gamma": 0.05, "max_position": 300, "calibration_dir": str(tmp_path / "cal" / "calibration"),
    }
    config = parse_config({"backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
                           "strategy": strategy})
    out = run_backtest(config, catalog_path=catalog, runs_dir=tmp_path / "runs")
    assert len(pd.read_parquet(out.run_dir / "orders.parquet")) > 0
    # Without the day's file the strategy refuses to trade.
    config = parse_config({"backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
                           "strategy": {**strategy, "calibration_dir": str(tmp_path / "missing")}})
    out = run_backtest(config, catalog_path=catalog, runs_dir=tmp_path / "runs2")
    assert len(pd.read_parquet(out.run_dir / "orders.parquet")) == 0


def test_online_recalibration_on_a_timer(catalog: Path) -> None:
    from nautilus_trader.backtest.node import BacktestNode

    from hftmm.engine.backtest import build_run_config

    config = parse_config(
        {
            "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
            "strategy": {
                "path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
                "gamma": 0.05, "k": 150.0, "a": 0.2, "sigma": 0.05, "max_position": 300,
                "recalibrate_every_s": 600, "recalibrate_window_s": 1800, "fair_value": "microprice",
            },
        },
    )
    rc = build_run_config(config, catalog, None)
    node = BacktestNode([rc])
    node.run()
    try:
        [strategy] = node.get_engine(rc.id).trader.strategies()
        fits = strategy.recalibrations
        # The data covers 09:25-10:30 ET: timers from the start of the day fire every 10 minutes.
        assert len(fits) >= 5
        # The deliberately wrong initial sigma (0.05 $/sqrt(s)) is replaced by the data's (~0.005).
        assert fits[-1]["sigma"] < 0.02
        assert any(f["intensity_sides"] == 2 for f in fits)
        # Stoikov's g(I, S) is fitted from the strategy's own touch snapshots once enough are kept.
        assert fits[-1]["microprice"]
        table = strategy._microprice
        assert table is not None and len(table.g_ticks) >= 1
    finally:
        node.dispose()


def test_glft_quotes_several_shaped_levels(catalog: Path, tmp_path: Path) -> None:
    from tests.strategies.test_plugin_guide import resting_counts

    config = parse_config(
        {
            "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
            "strategy": {
                "path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
                "gamma": 0.05, "k": 150.0, "a": 0.2, "max_position": 400, "levels": 3, "level_step_ticks": 2,
                "size_skew_eta": 2.0, "rounding": "join",
            },
        },
    )
    out = run_backtest(config, catalog_path=catalog, runs_dir=tmp_path)
    counts = resting_counts(out.run_dir)
    assert counts["resting"].max() <= 3 and (counts["resting"] == 3).any()
    versions = pd.read_parquet(out.run_dir / "quote_versions.parquet")
    # Size skew: with inventory, the side that adds to it quotes fewer shares than order_qty.
    assert versions["quantity"].min() < 100 and versions["quantity"].max() == 100
    assert pd.read_parquet(out.run_dir / "orders.parquet")["post_only"].all()


def test_per_side_intensities_and_seasonal_sigma_from_the_calibration(catalog: Path, tmp_path: Path) -> None:
    import datetime as dt

    from nautilus_trader.backtest.node import BacktestNode

    from hftmm.engine.backtest import build_run_config
    from hftmm.engine.calibration import calibrate, calibration_path, save_calibration
    from strategies.quoting.glft import GlftSided

    day = dt.date(2024, 3, 11)
    result = calibrate(catalog, "ACME.XNYS", day, "09:30", "10:30")
    # Make the sides plainly different, whatever the synthetic day gave, and the curve U-shaped.
    result["intensity"]["bid"].update(a=0.3, k_per_dollar=120.0)
    result["intensity"]["ask"].update(a=0.9, k_per_dollar=60.0)
    n = len(result["seasonality"]["factors"])
    result["seasonality"]["factors"] = [4.0 if i == 0 else 0.25 for i in range(n)]
    save_calibration(result, calibration_path(tmp_path / "cal", "ACME.XNYS", day))
    config = parse_config({
        "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
        "strategy": {"path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
                     "gamma": 0.05, "max_position": 300, "calibration_dir": str(tmp_path / "cal" / "calibration"),
                     "seasonality": True},
    })
    rc = build_run_config(config, catalog, None)
    node = BacktestNode([rc])
    node.run()
    try:
        [strategy] = node.get_engine(rc.id).trader.strategies()
        assert strategy.disabled_reason is None
        assert strategy._bid_intensity == (0.3, 120.0) and strategy._ask_intensity == (0.9, 60.0)
        assert isinstance(strategy._sided, GlftSided)  # the sides differ: the nonlinear solution quotes
        open_ns = int(dt.datetime(2024, 3, 11, 13, 30, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
        level = result["volatility"]["sigma"]
        # sigma(t) = level * sqrt(factor): twice the level in the first bucket, half afterwards.
        assert strategy._sigma(open_ns + 60 * 10**9) == pytest.approx(2 * level)
        assert strategy._sigma(open_ns + 900 * 10**9) == pytest.approx(0.5 * level)
        assert node.get_engine(rc.id).cache.orders_total_count() > 0
    finally:
        node.dispose()
    # A curve-less file with seasonality on is refused with the reason.
    result.pop("seasonality")
    save_calibration(result, calibration_path(tmp_path / "cal", "ACME.XNYS", day))
    rc = build_run_config(config, catalog, None)
    node = BacktestNode([rc])
    node.run()
    try:
        [strategy] = node.get_engine(rc.id).trader.strategies()
        assert "no seasonality curve" in (strategy.disabled_reason or "")
    finally:
        node.dispose()
