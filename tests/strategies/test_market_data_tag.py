"""Orders of the market-making base carry the ts_init of the book event that triggered them (``md=<ns>``),
which the live FIX client turns into tick-to-trade."""

from __future__ import annotations

from pathlib import Path

from nautilus_trader.backtest.node import BacktestNode
from nautilus_trader.model.orders import LimitOrder

from adapters.fix.execution import market_data_ts
from hftmm.config import parse_config
from hftmm.engine.backtest import build_run_config
from tests.backtest.synthetic_catalog import build_catalog


def test_limit_orders_carry_the_triggering_book_event_time(tmp_path: Path) -> None:
    build_catalog(tmp_path / "catalog", n_events=600, seed=3)
    config = parse_config({
        "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"},
        "strategy": {"path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
                     "gamma": 0.05, "k": 150.0, "a": 0.2, "sigma": 0.005, "max_position": 300},
    })
    rc = build_run_config(config, tmp_path / "catalog", None)
    node = BacktestNode([rc])
    node.run()
    try:
        orders = [o for o in node.get_engine(rc.id).cache.orders() if isinstance(o, LimitOrder)]
        assert orders
        for order in orders:
            md = market_data_ts(order)
            # the book event came first (in a backtest the order is created at that event's time)
            assert md is not None and 0 < md <= order.ts_init
    finally:
        node.dispose()
