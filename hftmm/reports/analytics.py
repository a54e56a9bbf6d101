"""Market-making analytics on a run folder's tables (pure pandas/numpy, no NautilusTrader).

Sign conventions: ``d`` is +1 for a buy fill and -1 for a sell; ``M_t`` is the NBBO mid; a positive
commission is a cost, a negative one a rebate.

- spread capture of a fill: ``d * q * (M_fill - p)`` (what we earned against the mid at the fill);
- inventory PnL: ``sum_i d_i q_i (M_t - M_fill_i)`` (how the mid moved against the position);
- total = spread capture + inventory - fees = cash + position * M_t (the mark-to-mid PnL);
- markout at horizon h, per share: ``d * (M_{t+h} - p)`` = realised half-spread ``d (M_t - p)`` plus the
  adverse move ``d (M_{t+h} - M_t)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

MARKOUT_HORIZONS_S = (1, 5, 30, 60)
NS = 1_000_000_000


class ReportError(RuntimeError):
    """A run folder is missing a file or a column the report needs."""


REQUIRED = {
    "fills.parquet": ["ts_event", "instrument_id", "side", "quantity", "price", "commission"],
    "orders.parquet": ["client_order_id", "instrument_id", "side", "price", "quantity", "filled_qty", "status", "ts_init", "ts_last"],
    "market.parquet": ["ts_event", "instrument_id", "bid_price", "ask_price"],
}


def read_run(run_dir: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """summary, fills, orders, market of a run folder, checked for the columns the report uses."""
    if not (run_dir / "summary.json").is_file():
        raise ReportError(f"{run_dir}: not a run folder (no summary.json)")
    summary = json.loads((run_dir / "summary.json").read_text())
    frames = []
    for name, cols in REQUIRED.items():
        path = run_dir / name
        if not path.is_file():
            raise ReportError(f"{path}: missing")
        df = pd.read_parquet(path)
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ReportError(f"{path}: missing column(s) {', '.join(missing)}")
        frames.append(df)
    return summary, *frames


def signed(fills: pd.DataFrame) -> np.ndarray:
    """+1 for buys, -1 for sells."""
    return np.where(fills["side"].to_numpy() == "BUY", 1.0, -1.0)


def mid_at(market: pd.DataFrame, ts: np.ndarray) -> np.ndarray:
    """Prevailing mid (last NBBO at or before each time) of one instrument's market table."""
    if market.empty:
        return np.full(len(ts), np.nan)
    mts = market["ts_event"].to_numpy()
    mid = 0.5 * (market["bid_price"].to_numpy() + market["ask_price"].to_numpy())
    i = np.searchsorted(mts, ts, side="right") - 1
    out = np.where(i >= 0, mid[np.clip(i, 0, None)], np.nan)
    return out


def pnl_series(fills: pd.DataFrame, market: pd.DataFrame) -> pd.DataFrame:
    """PnL decomposition over time for one instrument, at every fill and every NBBO update.

    Columns: ``ts``, ``mid``, ``position``, ``spread``, ``inventory``, ``fees``, ``total``.
    """
    f = fills.sort_values("ts_event", kind="stable")
    m = market.sort_values("ts_event", kind="stable")
    ts = np.union1d(m["ts_event"].to_numpy(), f["ts_event"].to_numpy())
    mid = mid_at(m, ts)
    d = signed(f)
    q = f["quantity"].to_numpy()
    fill_mid = mid_at(m, f["ts_event"].to_numpy())
    k = np.searchsorted(f["ts_event"].to_numpy(), ts, side="right")  # fills up to and including ts
    cum = lambda x: np.r_[0.0, np.cumsum(x)][k]  # noqa: E731
    position = cum(d * q)
    spread = cum(np.nan_to_num(d * q * (fill_mid - f["price"].to_numpy())))
    # sum_i d_i q_i (M_t - M_i) = position * M_t - sum_i d_i q_i M_i
    inventory = position * mid - cum(np.nan_to_num(d * q * fill_mid))
    fees = cum(f["commission"].to_numpy())
    total = spread + np.nan_to_num(inventory) - fees
    return pd.DataFrame(
        {"ts": ts, "mid": mid, "position": position, "spread": spread, "inventory": inventory, "fees": fees, "total": total},
    )


def markouts(fills: pd.DataFrame, market: pd.DataFrame, horizons_s: tuple[int, ...] = MARKOUT_HORIZONS_S) -> pd.DataFrame:
    """Per-fill markouts (dollars per share) at each horizon; NaN where the horizon passes the data."""
    f = fills.sort_values("ts_event", kind="stable")
    t = f["ts_event"].to_numpy()
    p = f["price"].to_numpy()
    d = signed(f)
    m = market.sort_values("ts_event", kind="stable")
    end = m["ts_event"].max() if not m.empty else -1
    out = pd.DataFrame({"ts_event": t, "side": f["side"].to_numpy(), "price": p})
    out["realized_half_spread"] = d * (mid_at(m, t) - p)
    for h in horizons_s:
        th = t + h * NS
        value = d * (mid_at(m, th) - p)
        out[f"markout_{h}s"] = np.where(th <= end, value, np.nan)
    return out


def fill_rates(orders: pd.DataFrame, fills: pd.DataFrame) -> pd.DataFrame:
    """Per side: orders, fills, fill ratio, filled/quoted quantity, cancel ratio."""
    rows = []
    for side in ("BUY", "SELL"):
        o = orders[orders["side"] == side]
        f = fills[fills["side"] == side]
        n = len(o)
        rows.append(
            {
                "side": side,
                "orders": n,
                "fills": len(f),
                "orders_filled": int((o["filled_qty"] > 0).sum()),
                "fill_ratio": (o["filled_qty"] > 0).mean() if n else np.nan,
                "qty_fill_ratio": o["filled_qty"].sum() / o["quantity"].sum() if n else np.nan,
                "cancel_ratio": (o["status"] == "CANCELED").mean() if n else np.nan,
            },
        )
    return pd.DataFrame(rows)


def max_drawdown(total: np.ndarray) -> float:
    """Largest fall of a PnL curve from its running peak (a positive number)."""
    if total.size == 0:
        return 0.0
    peak = np.maximum.accumulate(total)
    return float(np.max(peak - total))


@dataclass
class InstrumentAnalytics:
    """Everything the report shows for one instrument."""

    instrument_id: str
    pnl: pd.DataFrame
    markouts: pd.DataFrame
    fill_rates: pd.DataFrame
    orders: pd.DataFrame
    market: pd.DataFrame
    stats: dict[str, float] = field(default_factory=dict)


def instrument_analytics(iid: str, fills: pd.DataFrame, orders: pd.DataFrame, market: pd.DataFrame) -> InstrumentAnalytics:
    """Analytics of one instrument."""
    f = fills[fills["instrument_id"] == iid]
    o = orders[orders["instrument_id"] == iid]
    m = market[market["instrument_id"] == iid]
    pnl = pnl_series(f, m)
    mk = markouts(f, m)
    fr = fill_rates(o, f)
    last = pnl.iloc[-1] if len(pnl) else None
    volume = float(f["quantity"].sum())
    notional = float((f["quantity"] * f["price"]).sum())
    total = float(last["total"]) if last is not None else 0.0
    # 1-minute PnL changes; Sharpe is intraday and not annualised.
    per_min = pnl.set_index(pd.to_datetime(pnl["ts"]))["total"].resample("1min").last().ffill().diff().dropna() if len(pnl) else pd.Series(dtype=float)
    stats = {
        "total PnL ($)": total,
        "spread capture ($)": float(last["spread"]) if last is not None else 0.0,
        "inventory PnL ($)": float(last["inventory"]) if last is not None else 0.0,
        "fees ($, negative = rebate)": float(last["fees"]) if last is not None else 0.0,
        "fills": float(len(f)),
        "orders": float(len(o)),
        "volume (shares)": volume,
        "PnL per share ($)": total / volume if volume else np.nan,
        "PnL (bps of notional)": 1e4 * total / notional if notional else np.nan,
        "max drawdown ($)": max_drawdown(pnl["total"].to_numpy()),
        "Sharpe of 1-min PnL (intraday, not annualised)": float(per_min.mean() / per_min.std()) if per_min.std() > 0 else np.nan,
        "max |inventory| (shares)": float(np.abs(pnl["position"]).max()) if len(pnl) else 0.0,
        "fill ratio": float((o["filled_qty"] > 0).mean()) if len(o) else np.nan,
    }
    for h in MARKOUT_HORIZONS_S:
        stats[f"mean markout {h}s ($/share)"] = float(mk[f"markout_{h}s"].mean()) if len(mk) else np.nan
    return InstrumentAnalytics(iid, pnl, mk, fr, o, m, stats)


@dataclass
class RunAnalytics:
    """A run's summary and per-instrument analytics."""

    summary: dict
    instruments: list[InstrumentAnalytics]


def compute_run_analytics(run_dir: Path) -> RunAnalytics:
    """Read a run folder and compute the analytics of every instrument."""
    summary, fills, orders, market = read_run(run_dir)
    ids = summary.get("instruments") or sorted(set(orders["instrument_id"]) | set(fills["instrument_id"]))
    return RunAnalytics(summary, [instrument_analytics(i, fills, orders, market) for i in ids])
