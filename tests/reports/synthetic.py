"""Synthetic run folders following the backtest runner's contract, for report tests and size checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from hftmm.reports import RunTables

S = 1_000_000_000
SESSION_START = int(pd.Timestamp("2024-03-11 09:30", tz="America/New_York").value)


def market_frame(points: list[tuple[int, float, float]], iid: str = "X.XNYS") -> pd.DataFrame:
    """NBBO rows ``(ts_ns, bid, ask)`` of one instrument."""
    return pd.DataFrame(
        {"ts_event": np.array([p[0] for p in points], dtype="int64"), "instrument_id": iid,
         "bid_price": [float(p[1]) for p in points], "ask_price": [float(p[2]) for p in points],
         "bid_size": 100.0, "ask_size": 100.0},
    )


def fills_frame(rows: list[tuple[int, str, float, float, float]], iid: str = "X.XNYS") -> pd.DataFrame:
    """Fills ``(ts_ns, side, quantity, price, commission)`` of one instrument."""
    n = len(rows)
    return pd.DataFrame(
        {"ts_event": np.array([r[0] for r in rows], dtype="int64"), "instrument_id": [iid] * n,
         "side": [r[1] for r in rows], "quantity": [float(r[2]) for r in rows], "price": [float(r[3]) for r in rows],
         "commission": [float(r[4]) for r in rows], "liquidity_side": ["MAKER"] * n,
         "client_order_id": [f"O-{i}" for i in range(n)], "venue_order_id": [f"V-{i}" for i in range(n)],
         "trade_id": [f"T-{i}" for i in range(n)]},
    )


def orders_frame(rows: list[tuple[str, str, float, float, float, str, int, int]], iid: str = "X.XNYS") -> pd.DataFrame:
    """Orders ``(client_order_id, side, price, quantity, filled_qty, status, ts_init, ts_last)``."""
    n = len(rows)
    return pd.DataFrame(
        {"client_order_id": [r[0] for r in rows], "instrument_id": [iid] * n, "side": [r[1] for r in rows],
         "order_type": ["LIMIT"] * n, "price": [float(r[2]) for r in rows], "quantity": [float(r[3]) for r in rows],
         "filled_qty": [float(r[4]) for r in rows], "status": [r[5] for r in rows],
         "ts_init": np.array([r[6] for r in rows], dtype="int64"), "ts_last": np.array([r[7] for r in rows], dtype="int64"),
         "post_only": [True] * n, "amendments": np.zeros(n, dtype="int64")},
    )


def summary_for(run_id: str, instruments: list[str], fills: pd.DataFrame, orders: pd.DataFrame, market: pd.DataFrame) -> dict:
    """A summary.json matching the tables (PnL numbers are placeholders the report only displays)."""
    t0 = int(market["ts_event"].min()) if len(market) else SESSION_START
    t1 = int(market["ts_event"].max()) if len(market) else SESSION_START
    iso = lambda ns: pd.Timestamp(ns, tz="UTC").isoformat()  # noqa: E731
    return {
        "run_id": run_id, "created_at": "2024-03-12T01:02:03+00:00", "instruments": instruments,
        "backtest_start": iso(t0), "backtest_end": iso(t1), "events": int(len(market) * 3), "orders": len(orders),
        "fills": len(fills), "realized_pnl": 1.5, "unrealized_pnl": -0.5, "total_pnl": 1.0,
        "fees": float(fills["commission"].sum()), "max_abs_inventory": 0.0, "wall_seconds": 2.0,
        "events_per_second": len(market) * 1.5, "currency": "USD",
    }


CONFIG = {
    "backtest": {"date": "2024-03-11", "trading_start": "09:30", "trading_end": "16:00"},
    "venue": {"book_type": "L2_MBP", "fees": {"maker_per_share": -0.002, "taker_per_share": 0.003}},
    "strategy": {"path": "strategies.avellaneda_stoikov:AvellanedaStoikovMarketMaker", "gamma": 0.01, "k": 100.0,
                 "order_qty": 100, "max_position": 500},
}


def write_run(run_dir: Path, tables: RunTables) -> Path:
    """Write ``tables`` as a run folder."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "summary.json").write_text(json.dumps(tables.summary))
    (run_dir / "config.json").write_text(json.dumps(tables.config))
    tables.fills.to_parquet(run_dir / "fills.parquet", index=False)
    tables.orders.to_parquet(run_dir / "orders.parquet", index=False)
    tables.market.to_parquet(run_dir / "market.parquet", index=False)
    if tables.vetoes is not None:
        tables.vetoes.to_parquet(run_dir / "vetoes.parquet", index=False)
    return run_dir


def random_run(
    *,
    n_quotes: int,
    n_fills: int,
    instruments: tuple[str, ...] = ("ACME.XNYS",),
    orders_per_fill: int = 4,
    duration_s: float = 23_400.0,
    seed: int = 0,
) -> RunTables:
    """A day of random-walk NBBO per instrument with touch-joining orders, some of them filled.

    ``n_quotes`` and ``n_fills`` are per instrument.
    """
    rng = np.random.default_rng(seed)
    markets, orders, fills = [], [], []
    for k, iid in enumerate(instruments):
        ts = SESSION_START + np.sort(rng.integers(0, int(duration_s * S), n_quotes))
        mid_ticks = 2_000 * (k + 1) + np.cumsum(rng.choice([-1, 0, 0, 0, 1], n_quotes))
        half = rng.choice([1, 1, 1, 2], n_quotes)
        bid = (mid_ticks - half) * 0.01
        ask = (mid_ticks + half) * 0.01
        m = pd.DataFrame({"ts_event": ts, "instrument_id": iid, "bid_price": bid.round(2), "ask_price": ask.round(2),
                          "bid_size": 100.0 * rng.integers(1, 20, n_quotes), "ask_size": 100.0 * rng.integers(1, 20, n_quotes)})
        n_orders = max(n_fills * orders_per_fill, 1)
        at = np.sort(rng.integers(0, n_quotes, n_orders))
        side = rng.choice(["BUY", "SELL"], n_orders)
        behind = rng.choice([0, 0, 1], n_orders) * 0.01
        price = np.where(side == "BUY", bid[at] - behind, ask[at] + behind).round(2)
        t_init = ts[at]
        life = (rng.exponential(3.0, n_orders) * S).astype("int64") + 1
        filled = np.zeros(n_orders, dtype=bool)
        filled[rng.choice(n_orders, min(n_fills, n_orders), replace=False)] = True
        status = np.where(filled, "FILLED", "CANCELED")
        status[-3:] = "ACCEPTED"  # still working at the end of the day
        filled &= status == "FILLED"
        qty = 100.0
        orders.append(pd.DataFrame(
            {"client_order_id": [f"O-{k}-{i}" for i in range(n_orders)], "instrument_id": iid, "side": side,
             "order_type": "LIMIT", "price": price, "quantity": qty, "filled_qty": np.where(filled, qty, 0.0),
             "status": status, "ts_init": t_init, "ts_last": t_init + life, "post_only": True, "amendments": 0},
        ))
        fi = np.flatnonzero(filled)
        fills.append(pd.DataFrame(
            {"ts_event": t_init[fi] + life[fi], "instrument_id": iid, "side": side[fi], "quantity": qty, "price": price[fi],
             "commission": -0.002 * qty, "liquidity_side": "MAKER", "client_order_id": [f"O-{k}-{i}" for i in fi],
             "venue_order_id": [f"V-{k}-{i}" for i in fi], "trade_id": [f"T-{k}-{i}" for i in fi]},
        ))
        markets.append(m)
    market = pd.concat(markets, ignore_index=True).sort_values("ts_event", kind="stable").reset_index(drop=True)
    order_df = pd.concat(orders, ignore_index=True).sort_values("ts_init", kind="stable").reset_index(drop=True)
    fill_df = pd.concat(fills, ignore_index=True).sort_values("ts_event", kind="stable").reset_index(drop=True)
    summary = summary_for("20240311T143000Z-synth", list(instruments), fill_df, order_df, market)
    return RunTables(summary, CONFIG, fill_df, order_df, market)
