"""Write a finished backtest's artifacts into its run folder.

The tables are built from the engine's cache (typed order objects and their events), not from
Nautilus's string-formatted report frames, so prices, quantities and times keep their types. Their
schemas are the contract the report reads (see docs/architecture.md, "Run folder").
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from hftmm.models.markouts import markouts, mid_series

FILLS_SCHEMA = pa.schema(
    [
        ("ts_event", pa.int64()),
        ("instrument_id", pa.string()),
        ("side", pa.string()),
        ("quantity", pa.float64()),
        ("price", pa.float64()),
        ("commission", pa.float64()),
        ("liquidity_side", pa.string()),
        ("client_order_id", pa.string()),
        ("venue_order_id", pa.string()),
        ("trade_id", pa.string()),
    ],
)
ORDERS_SCHEMA = pa.schema(
    [
        ("client_order_id", pa.string()),
        ("instrument_id", pa.string()),
        ("side", pa.string()),
        ("order_type", pa.string()),
        ("price", pa.float64()),
        ("quantity", pa.float64()),
        ("filled_qty", pa.float64()),
        ("status", pa.string()),
        ("ts_init", pa.int64()),
        ("ts_last", pa.int64()),
        ("post_only", pa.bool_()),
        ("amendments", pa.int64()),
    ],
)
# One row per price an order rested at: its creation price until the first amendment, then each
# amended price until the next. Same columns as orders.parquet, so order analytics apply to it;
# superseded versions have status AMENDED and end at the amendment's time.
QUOTE_VERSIONS_SCHEMA = pa.schema([*ORDERS_SCHEMA, ("version", pa.int64())])
# Every order message the risk chain refused, and every trading-mode change.
RISK_VETOES_SCHEMA = pa.schema(
    [
        ("ts_event", pa.int64()),
        ("strategy_id", pa.string()),
        ("instrument_id", pa.string()),
        ("client_order_id", pa.string()),
        ("kind", pa.string()),
        ("side", pa.string()),
        ("quantity", pa.float64()),
        ("price", pa.float64()),
        ("plugin", pa.string()),
        ("reason", pa.string()),
    ],
)
RISK_ACTIONS_SCHEMA = pa.schema(
    [("ts_ns", pa.int64()), ("mode", pa.string()), ("plugin", pa.string()), ("reason", pa.string())],
)
MARKET_SCHEMA = pa.schema(
    [
        ("ts_event", pa.int64()),
        ("instrument_id", pa.string()),
        ("bid_price", pa.float64()),
        ("ask_price", pa.float64()),
        ("bid_size", pa.float64()),
        ("ask_size", pa.float64()),
    ],
)


_TERMINAL_EVENTS = ("OrderCanceled", "OrderExpired", "OrderRejected", "OrderDenied")


def _enum_name(value: Any) -> str:
    return getattr(value, "name", str(value))


def orders_and_fills(engine: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    orders: list[dict[str, Any]] = []
    fills: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    for order in sorted(engine.cache.orders(), key=lambda o: (o.ts_init, o.client_order_id.value)):
        price = getattr(order, "price", None)
        amendments = 0
        # (start ns, price, quantity) of each resting version, from the creation price on.
        init = order.events[0]  # OrderInitialized: the price and quantity the order was placed with
        first = init.options.get("price") if price is not None else None
        spans: list[tuple[int, float, float]] = [(order.ts_init, float(first) if first else math.nan, float(init.quantity))]
        for event in order.events:
            name = type(event).__name__
            if name == "OrderUpdated":
                amendments += 1
                spans.append((event.ts_event, float(event.price) if event.price is not None else spans[-1][1], float(event.quantity)))
            elif isinstance(event, OrderFilled):
                fills.append(
                    {
                        "ts_event": event.ts_event,
                        "instrument_id": event.instrument_id.value,
                        "side": _enum_name(event.order_side),
                        "quantity": float(event.last_qty),
                        "price": float(event.last_px),
                        "commission": float(event.commission.as_double()),
                        "liquidity_side": _enum_name(event.liquidity_side),
                        "client_order_id": event.client_order_id.value,
                        "venue_order_id": event.venue_order_id.value,
                        "trade_id": event.trade_id.value,
                    },
                )
        orders.append(
            {
                "client_order_id": order.client_order_id.value,
                "instrument_id": order.instrument_id.value,
                "side": _enum_name(order.side),
                "order_type": _enum_name(order.order_type),
                "price": float(price) if price is not None else math.nan,
                "quantity": float(order.quantity),
                "filled_qty": float(order.filled_qty),
                "status": _enum_name(order.status),
                "ts_init": order.ts_init,
                "ts_last": order.ts_last,
                "post_only": bool(getattr(order, "is_post_only", False)),
                "amendments": amendments,
            },
        )
        # An order stops resting at its terminal event (the fill that completes it, or its cancel,
        # expiry or reject), which need not be its last event: an amendment in flight when the
        # order fills comes back rejected afterwards.
        end = order.ts_last
        if order.is_closed:
            terminal = [e.ts_event for e in order.events if type(e).__name__ in _TERMINAL_EVENTS]
            fills_ts = [e.ts_event for e in order.events if isinstance(e, OrderFilled)]
            end = min(terminal) if terminal else (fills_ts[-1] if fills_ts else order.ts_last)
        for k, (start, px, qty) in enumerate(spans):
            last = k == len(spans) - 1
            versions.append(
                {
                    **orders[-1],
                    "price": px,
                    "quantity": qty,
                    "status": orders[-1]["status"] if last else "AMENDED",
                    "ts_init": start,
                    "ts_last": end if last else spans[k + 1][0],
                    "amendments": 0,
                    "version": k,
                },
            )
    fills.sort(key=lambda f: (f["ts_event"], f["trade_id"]))
    return orders, fills, versions


def _market(catalog_path: Path, instruments: list[str], window: tuple[int, int]) -> list[dict[str, Any]]:
    catalog = ParquetDataCatalog(str(catalog_path))
    rows: list[dict[str, Any]] = []
    for iid in instruments:
        for q in catalog.query(QuoteTick, identifiers=[iid], start=window[0], end=window[1]):
            rows.append(
                {
                    "ts_event": q.ts_event,
                    "instrument_id": iid,
                    "bid_price": float(q.bid_price),
                    "ask_price": float(q.ask_price),
                    "bid_size": float(q.bid_size),
                    "ask_size": float(q.ask_size),
                },
            )
    return rows


def write_risk(engine: Any, run_dir: Path) -> dict[str, Any] | None:
    """The risk chain's vetoes and mode changes, and its summary (None without a chain)."""
    from hftmm.risk.actor import RiskActor

    for actor in engine.trader.actors():
        if isinstance(actor, RiskActor):
            chain = actor.chain
            rows = [{**v, "side": "BUY" if v["side"] > 0 else "SELL"} for v in chain.vetoes]
            write_table(rows, RISK_VETOES_SCHEMA, run_dir / "vetoes.parquet")
            write_table(chain.actions, RISK_ACTIONS_SCHEMA, run_dir / "risk_actions.parquet")
            summary = chain.summary()
            summary["audit_records"] = chain.audit.records if chain.audit is not None else 0
            return summary
    return None


def write_table(rows: list[dict[str, Any]], schema: pa.Schema, path: Path) -> None:
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path)


def _write_markouts(fills: list[dict[str, Any]], market: list[dict[str, Any]], path: Path) -> None:
    """Per-fill markouts at 1/5/30/60 s against the NBBO mid (NaN where the data ends first)."""
    if not fills:
        return
    f = pd.DataFrame(fills)
    m = pd.DataFrame(market, columns=MARKET_SCHEMA.names)
    parts = []
    for iid, rows in f.groupby("instrument_id"):
        mids = mid_series(m[m["instrument_id"] == iid])
        end = int(mids["ts_event"].max()) if len(mids) else -1
        parts.append(markouts(rows, mids, end).assign(instrument_id=iid))
    pd.concat(parts, ignore_index=True).to_parquet(path)


def _max_abs_inventory(fills: list[dict[str, Any]]) -> dict[str, float]:
    position: dict[str, float] = {}
    peak: dict[str, float] = {}
    for f in fills:
        iid = f["instrument_id"]
        position[iid] = position.get(iid, 0.0) + (f["quantity"] if f["side"] == "BUY" else -f["quantity"])
        peak[iid] = max(peak.get(iid, 0.0), abs(position[iid]))
    return peak


def money(value: Any) -> float:
    return 0.0 if value is None else float(value.as_double())


def instrument_figures(portfolio: Any, iid: str, orders: list[dict[str, Any]], fills: list[dict[str, Any]]) -> dict[str, float]:
    """Orders, fills, PnL (Nautilus's, realized net of fees), fees and final position of one instrument."""
    instrument_id = InstrumentId.from_str(iid)
    inst_fills = [f for f in fills if f["instrument_id"] == iid]
    return {
        "fills": len(inst_fills),
        "orders": sum(1 for o in orders if o["instrument_id"] == iid),
        "realized_pnl": money(portfolio.realized_pnl(instrument_id)),
        "unrealized_pnl": money(portfolio.unrealized_pnl(instrument_id)),
        "fees": sum(f["commission"] for f in inst_fills),
        "final_position": float(portfolio.net_position(instrument_id)),
    }


def write_run_outputs(
    *,
    run_dir: Path,
    run_id: str,
    engine: Any,
    result: Any,
    catalog_path: Path,
    instruments: list[str],
    window: tuple[int, int],
    wall_seconds: float,
) -> dict[str, Any]:
    """Write fills, orders, market and summary files for a finished engine; return the summary."""
    orders, fills, versions = orders_and_fills(engine)
    write_table(fills, FILLS_SCHEMA, run_dir / "fills.parquet")
    write_table(orders, ORDERS_SCHEMA, run_dir / "orders.parquet")
    write_table(versions, QUOTE_VERSIONS_SCHEMA, run_dir / "quote_versions.parquet")
    market_rows = _market(catalog_path, instruments, window)
    write_table(market_rows, MARKET_SCHEMA, run_dir / "market.parquet")
    _write_markouts(fills, market_rows, run_dir / "markouts.parquet")
    feature_rows = [row for s in engine.trader.strategies() for row in getattr(s, "fill_features", [])]
    if feature_rows:
        # The strategies' toxicity features at each fill (training data for hftmm train-toxicity).
        pq.write_table(pa.Table.from_pylist(sorted(feature_rows, key=lambda r: r["ts_event"])), run_dir / "fill_features.parquet")
    risk = write_risk(engine, run_dir)
    positions = engine.trader.generate_positions_report()
    if len(positions):
        # Nautilus's report holds lists of Money objects and timestamps: keep it readable as text.
        positions.astype(str).reset_index().to_parquet(run_dir / "positions.parquet")

    peaks = _max_abs_inventory(fills)
    per_instrument = {iid: {**instrument_figures(engine.portfolio, iid, orders, fills), "max_abs_inventory": peaks.get(iid, 0.0)}
                      for iid in instruments}
    realized = sum(v["realized_pnl"] for v in per_instrument.values())
    unrealized = sum(v["unrealized_pnl"] for v in per_instrument.values())
    events = int(result.iterations)

    def iso(ns: int | None) -> str | None:
        return None if ns is None else dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).isoformat()

    summary = {
        "run_id": run_id,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "nautilus_instance_id": result.instance_id,
        "instruments": instruments,
        "backtest_start": iso(result.backtest_start),
        "backtest_end": iso(result.backtest_end),
        "trading_window": [iso(window[0]), iso(window[1])],
        "events": events,
        "orders": len(orders),
        "amendments": sum(o["amendments"] for o in orders),
        "fills": len(fills),
        "filled_qty": sum(f["quantity"] for f in fills),
        # Nautilus's realized PnL is net of commissions; fees are reported separately as well.
        "realized_pnl": realized,
        "unrealized_pnl": unrealized,
        "total_pnl": realized + unrealized,
        "fees": sum(f["commission"] for f in fills),
        "max_abs_inventory": max(peaks.values(), default=0.0),
        "wall_seconds": wall_seconds,
        "events_per_second": events / wall_seconds if wall_seconds > 0 else 0.0,
        "currency": "USD",
        "per_instrument": per_instrument,
    }
    if risk is not None:
        summary["risk"] = risk
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
