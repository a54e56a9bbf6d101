"""The backtest runner on a synthetic L2 catalog: venue settings, run folder, determinism, quoting rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from nautilus_trader.backtest.node import BacktestNode
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.objects import Price

from hftmm.config import parse_config
from hftmm.engine.backtest import BacktestError, build_run_config, run_backtest
from tests.backtest.synthetic_catalog import build_catalog

STRATEGY = {
    "path": "strategies.avellaneda_stoikov:AvellanedaStoikovMarketMaker",
    "config_path": "strategies.avellaneda_stoikov:AvellanedaStoikovConfig",
    "gamma": 0.01,
    "k": 100.0,
    "sigma": 0.005,
    "order_qty": 100,
    "max_position": 200,
}


def make_config(**backtest: Any) -> Any:
    return parse_config(
        {
            "backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30", **backtest},
            "strategy": STRATEGY,
        },
    )


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    build_catalog(root, n_events=3000, seed=1)
    return root


@pytest.fixture(scope="module")
def run(catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return run_backtest(make_config(), catalog_path=catalog, runs_dir=tmp_path_factory.mktemp("runs"))


def test_venue_is_configured_for_an_honest_l2_backtest(catalog: Path) -> None:
    rc = build_run_config(make_config(), catalog, None)
    [venue] = rc.venues
    assert venue.book_type == "L2_MBP"
    assert venue.trade_execution and venue.queue_position and venue.liquidity_consumption
    assert not venue.bar_execution
    assert venue.account_type == "MARGIN"
    # Nautilus's default base latency is 1 s; ours must be explicit.
    assert venue.latency_model.config["base_latency_nanos"] == 100_000
    assert venue.fee_model.fee_model_path == "hftmm.engine.fees:PerShareFeeModel"
    assert sorted(d.data_cls.__name__ for d in rc.data) == ["OrderBookDelta", "QuoteTick", "TradeTick"]


def test_run_folder_contents(run: Any) -> None:
    names = {p.name for p in run.run_dir.iterdir()}
    assert {"config.json", "summary.json", "fills.parquet", "orders.parquet", "market.parquet", "stream"} <= names
    summary = json.loads((run.run_dir / "summary.json").read_text())
    fills = pd.read_parquet(run.run_dir / "fills.parquet")
    orders = pd.read_parquet(run.run_dir / "orders.parquet")
    assert summary["fills"] == len(fills) > 0
    assert summary["orders"] == len(orders) > 0
    assert summary["fees"] == pytest.approx(fills["commission"].sum())
    assert summary["total_pnl"] == pytest.approx(summary["realized_pnl"] + summary["unrealized_pnl"])
    assert summary["events"] > 20_000
    assert summary["events_per_second"] > 0
    # The resolved config is complete enough to be loaded again.
    resolved = json.loads((run.run_dir / "config.json").read_text())
    assert parse_config(resolved).strategy.params["gamma"] == 0.01
    stream = list((run.run_dir / "stream").rglob("order_filled_*.feather"))
    assert stream, "the event stream must record fills for replay"


def test_markouts_recorded_per_fill(run: Any) -> None:
    fills = pd.read_parquet(run.run_dir / "fills.parquet")
    mk = pd.read_parquet(run.run_dir / "markouts.parquet")
    assert len(mk) == len(fills) and set(mk["trade_id"]) == set(fills["trade_id"])
    market = pd.read_parquet(run.run_dir / "market.parquet")
    first = mk.sort_values("ts_event").iloc[0]
    # Direct check of one: the mid prevailing 5 s after the fill, signed by the side.
    later = market[market["ts_event"] <= first["ts_event"] + 5_000_000_000].iloc[-1]
    d = 1 if first["side"] == "BUY" else -1
    assert first["markout_5s"] == pytest.approx(d * ((later["bid_price"] + later["ask_price"]) / 2 - first["price"]))


def test_quote_versions_chain_each_orders_prices(run: Any) -> None:
    orders = pd.read_parquet(run.run_dir / "orders.parquet").set_index("client_order_id")
    versions = pd.read_parquet(run.run_dir / "quote_versions.parquet")
    assert len(versions) == len(orders) + orders["amendments"].sum()
    for cid, v in versions.groupby("client_order_id"):
        v = v.sort_values("version")
        order = orders.loc[cid]
        # Versions tile the order's life: each ends where the next starts, the last when the order
        # stops resting (at or before its last event: a late modify-reject can follow the fill).
        assert v["ts_init"].iloc[0] == order["ts_init"] and v["ts_last"].iloc[-1] <= order["ts_last"]
        assert (v["ts_last"].to_numpy()[:-1] == v["ts_init"].to_numpy()[1:]).all()
        assert v["price"].iloc[-1] == order["price"]
        assert (v["status"].iloc[:-1] == "AMENDED").all() and v["status"].iloc[-1] == order["status"]


def test_quotes_are_post_only_makers_and_inventory_is_capped(run: Any) -> None:
    fills = pd.read_parquet(run.run_dir / "fills.parquet")
    orders = pd.read_parquet(run.run_dir / "orders.parquet")
    assert orders["post_only"].all()
    assert set(fills["liquidity_side"]) == {"MAKER"}
    signed = fills["quantity"].where(fills["side"] == "BUY", -fills["quantity"])
    assert signed.cumsum().abs().max() <= STRATEGY["max_position"]
    assert set(fills["side"]) == {"BUY", "SELL"}


def test_pnl_accounting_matches_fills(run: Any) -> None:
    # With a flat final position, realized PnL (net of fees) is the cash flow of the fills.
    fills = pd.read_parquet(run.run_dir / "fills.parquet")
    summary = json.loads((run.run_dir / "summary.json").read_text())
    signed = fills["quantity"].where(fills["side"] == "BUY", -fills["quantity"])
    if signed.sum() == 0:
        cash = -(signed * fills["price"]).sum() - fills["commission"].sum()
        assert summary["realized_pnl"] == pytest.approx(cash, abs=1e-6)


def test_same_config_same_orders_and_fills(catalog: Path, run: Any, tmp_path: Path) -> None:
    again = run_backtest(make_config(), catalog_path=catalog, runs_dir=tmp_path)
    cols = ["ts_event", "side", "quantity", "price", "commission"]
    a = pd.read_parquet(run.run_dir / "fills.parquet")[cols]
    b = pd.read_parquet(again.run_dir / "fills.parquet")[cols]
    pd.testing.assert_frame_equal(a, b)
    oa = pd.read_parquet(run.run_dir / "orders.parquet").drop(columns=["client_order_id"])
    ob = pd.read_parquet(again.run_dir / "orders.parquet").drop(columns=["client_order_id"])
    pd.testing.assert_frame_equal(oa, ob)


def test_orders_are_touched_only_when_the_target_price_changes(catalog: Path) -> None:
    rc = build_run_config(make_config(), catalog, None)
    node = BacktestNode(configs=[rc])
    node.run()
    engine = node.get_engine(rc.id)
    try:
        amendments = 0
        for order in engine.cache.orders():
            prices = [e.price for e in order.events if type(e).__name__ == "OrderUpdated"]
            initial = Price.from_str(order.events[0].options["price"])
            previous = [initial, *prices[:-1]]
            for before, after in zip(previous, prices, strict=True):
                assert after != before, f"{order.client_order_id} amended to an unchanged price {after}"
            amendments += len(prices)
        assert amendments > 0
        book = engine.cache.order_book(rc.data[0].instrument_id)
        assert book.book_type == BookType.L2_MBP
    finally:
        node.dispose()


def test_no_quotes_outside_the_trading_window(run: Any) -> None:
    orders = pd.read_parquet(run.run_dir / "orders.parquet")
    start = pd.Timestamp("2024-03-11 09:30", tz="America/New_York").value
    end = pd.Timestamp("2024-03-11 10:30", tz="America/New_York").value
    assert (orders["ts_init"] >= start).all() and (orders["ts_init"] < end).all()


def test_missing_instrument_is_a_clear_error(catalog: Path, tmp_path: Path) -> None:
    config = parse_config({"backtest": {"date": "2024-03-11", "instruments": ["NOPE.XNYS"]}, "strategy": STRATEGY})
    with pytest.raises(BacktestError, match=r"instrument NOPE.XNYS is not in catalog .* \(has: ACME.XNYS\)"):
        run_backtest(config, catalog_path=catalog, runs_dir=tmp_path)


def test_day_without_data_is_a_clear_error(catalog: Path, tmp_path: Path) -> None:
    config = parse_config({"backtest": {"date": "2024-03-12", "instruments": ["ACME.XNYS"]}, "strategy": STRATEGY})
    with pytest.raises(BacktestError, match="no order book deltas for ACME.XNYS on 2024-03-12"):
        run_backtest(config, catalog_path=catalog, runs_dir=tmp_path)


def test_empty_catalog_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BacktestError, match="has no data: ingest a day first"):
        run_backtest(make_config(), catalog_path=tmp_path / "empty", runs_dir=tmp_path)


def test_bulk_event_stream_equals_nautilus_stream(catalog: Path, tmp_path: Path) -> None:
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    streams = {}
    for mode in ("bulk", "nautilus"):
        out = run_backtest(make_config(event_stream=mode), catalog_path=catalog, runs_dir=tmp_path / mode)
        stream = ParquetDataCatalog(str(out.run_dir / "stream"))
        [instance] = stream.list_backtest_runs()
        streams[mode] = stream.read_backtest(instance_id=instance, return_as_dict=True)
    bulk, nautilus = streams["bulk"], streams["nautilus"]
    assert {k: len(v) for k, v in bulk.items() if v} == {k: len(v) for k, v in nautilus.items() if v}
    assert bulk["order_filled"] and bulk["position_opened"] and bulk["account_state"]

    def key(e: Any) -> tuple:
        d = e.to_dict(e)
        return tuple(sorted((k, str(v)) for k, v in d.items() if k not in ("event_id", "id", "ts_init", "position_id", "info")))

    for table in bulk:
        assert sorted(map(key, bulk[table])) == sorted(map(key, nautilus[table])), table
