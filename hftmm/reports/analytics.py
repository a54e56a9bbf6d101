"""Market-making analytics of a backtest run folder (pure pandas/numpy, no NautilusTrader imports).

Conventions used throughout
---------------------------
- ``d`` is +1 for a buy fill and -1 for a sell; ``q`` is the filled quantity (shares, > 0); ``p`` the
  fill price; ``c`` the commission in USD (a positive commission is a cost, a negative one a rebate).
- ``M_t`` is the NBBO mid ``(bid + ask) / 2`` prevailing at ``t``: the last *valid* NBBO row (both
  sides finite and > 0) with ``ts_event <= t``. An NBBO update stamped at the same nanosecond as a fill
  counts as prevailing.
- PnL decomposition of one instrument, evaluated at time ``t`` over the fills ``i`` with ``t_i <= t``:

  - spread capture ``S(t) = sum_i d_i q_i (M_{t_i} - p_i)``: the edge against the mid at each fill;
  - inventory PnL ``I(t) = sum_i d_i q_i (M_t - M_{t_i})``: how the mid moved against the position;
  - fees ``F(t) = sum_i c_i`` (a cost; negative means a net rebate);
  - total ``T(t) = S(t) + I(t) - F(t)``, which equals ``cash(t) + position(t) * M_t`` with
    ``cash = -sum_i d_i q_i p_i - sum_i c_i`` and ``position = sum_i d_i q_i``: the mark-to-mid PnL.

- Markout of a fill at horizon ``h``, per share: ``d (M_{t+h} - p)``, the realised half-spread
  ``d (M_t - p)`` plus the adverse move ``d (M_{t+h} - M_t)`` (negative adverse move = the market went
  against us after the fill). In bps: ``1e4 * markout / p``. A fill whose ``t + h`` is after the last
  market-data row of its instrument is excluded from that horizon (its value is NaN and it is counted in
  ``n_excluded``).
- Quote placement: ``ticks_ahead = d (p_order - touch) / tick`` with ``touch`` the same-side NBBO price
  (bid for buys, ask for sells) prevailing at the order's ``ts_init``: 0 = joins the touch, > 0 = improves
  it, < 0 = behind it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from hftmm.models.markouts import MARKOUT_HORIZONS_S, NS_PER_S, markouts, mid_asof, mid_series, signed_side
DEFAULT_TICK_SIZE = 0.01
TOTAL = "TOTAL"
SIDES = ("BUY", "SELL")

# Statuses after which an order no longer rests on the book; any other status at the end of the run
# means the order was still working when the data ended.
# AMENDED: a superseded price version of an order (quote_versions.parquet), ended by the amendment.
TERMINAL_STATUSES = frozenset({"CANCELED", "FILLED", "REJECTED", "DENIED", "EXPIRED", "AMENDED"})
# Orders in these states were never on the book, so they add no resting time.
NEVER_RESTED_STATUSES = frozenset({"REJECTED", "DENIED"})

REQUIRED_FILES = ("summary.json", "fills.parquet", "orders.parquet", "market.parquet")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "fills.parquet": ("ts_event", "instrument_id", "side", "quantity", "price", "commission", "liquidity_side"),
    "orders.parquet": (
        "client_order_id", "instrument_id", "side", "price", "quantity", "filled_qty", "status", "ts_init", "ts_last",
    ),
    "market.parquet": ("ts_event", "instrument_id", "bid_price", "ask_price"),
    "vetoes.parquet": ("ts_event", "plugin", "reason"),
}
REQUIRED_SUMMARY_KEYS = ("run_id",)
_INT_COLUMNS = {"fills.parquet": ("ts_event",), "orders.parquet": ("ts_init", "ts_last"), "market.parquet": ("ts_event",),
                "vetoes.parquet": ("ts_event",)}
_FLOAT_COLUMNS = {
    "fills.parquet": ("quantity", "price", "commission"),
    "orders.parquet": ("price", "quantity", "filled_qty"),
    "market.parquet": ("bid_price", "ask_price"),
}


class ReportError(RuntimeError):
    """A run folder is missing a file, a column or a key the report needs, or holds invalid values."""


class Stat(NamedTuple):
    """One entry of a statistics table.

    Attributes
    ----------
    value : float
        The number (NaN when undefined, e.g. a ratio with a zero denominator).
    unit : str
        Its unit, e.g. ``"USD"``, ``"shares"``, ``"bps"``.
    note : str
        How it is defined, where that is not obvious from the name.
    """

    value: float
    unit: str
    note: str = ""


# -- loading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunTables:
    """The raw tables of a run folder, as the report reads them.

    Attributes
    ----------
    summary : dict
        ``summary.json``.
    config : dict
        ``config.json`` (empty when the file is absent).
    fills, orders, market : pandas.DataFrame
        ``fills.parquet``, ``orders.parquet`` and ``market.parquet``, normalised by :func:`normalise_tables`.
    vetoes : pandas.DataFrame or None
        ``vetoes.parquet`` when the run has one.
    quote_versions : pandas.DataFrame or None
        ``quote_versions.parquet`` when the run has one: orders-shaped, one row per price an order
        rested at, so placement and presence can measure amended orders too.
    """

    summary: dict[str, Any]
    config: dict[str, Any]
    fills: pd.DataFrame
    orders: pd.DataFrame
    market: pd.DataFrame
    vetoes: pd.DataFrame | None = None
    quote_versions: pd.DataFrame | None = None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ReportError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a corrupt or truncated file
        raise ReportError(f"{path}: cannot be read as parquet ({exc})") from exc


def _check_columns(df: pd.DataFrame, name: str, where: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS[name] if c not in df.columns]
    if missing:
        raise ReportError(f"{where}: missing column(s) {', '.join(missing)}")


def _as_int_ns(col: pd.Series, where: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col):
        # A writer that stored timestamps as a timestamp type: take them as UTC nanoseconds.
        col = col.dt.tz_localize(None) if getattr(col.dt, "tz", None) is not None else col
        return col.astype("datetime64[ns]").astype("int64")
    if not pd.api.types.is_integer_dtype(col):
        raise ReportError(f"{where}: expected integer nanoseconds, got dtype {col.dtype}")
    return col.astype("int64")


def _normalise_table(name: str, df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check one run table's columns (by its file name) and give them the dtypes the analytics use."""
    _check_columns(df, name, where)
    df = df.copy()
    for col in _INT_COLUMNS.get(name, ()):
        df[col] = _as_int_ns(df[col], f"{where} column {col}")
    for col in _FLOAT_COLUMNS.get(name, ()):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    for col in ("instrument_id", "side", "status", "liquidity_side", "plugin", "reason"):
        if col in df.columns:
            df[col] = df[col].astype(str)
    if "side" in df.columns:
        df["side"] = df["side"].str.upper()
        bad = sorted(set(df["side"]) - set(SIDES))
        if bad:
            raise ReportError(f"{where} column side: unexpected value(s) {bad[:5]} (expected BUY or SELL)")
    return df


def normalise_tables(
    fills: pd.DataFrame,
    orders: pd.DataFrame,
    market: pd.DataFrame,
    vetoes: pd.DataFrame | None = None,
    *,
    source: str = "<tables>",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Check the columns of the run tables and give them the dtypes the analytics rely on.

    Parameters
    ----------
    fills, orders, market : pandas.DataFrame
        The tables of the run-folder contract.
    vetoes : pandas.DataFrame, optional
        The optional veto table.
    source : str
        Folder name used in error messages.

    Returns
    -------
    tuple
        Copies of ``fills``, ``orders``, ``market`` (sorted by time) and ``vetoes``.

    Raises
    ------
    ReportError
        When a required column is missing, a time column is not integer nanoseconds, or a side is
        neither ``BUY`` nor ``SELL``.
    """
    out: dict[str, pd.DataFrame] = {}
    named = (("fills.parquet", fills), ("orders.parquet", orders), ("market.parquet", market), ("vetoes.parquet", vetoes))
    for name, df in named:
        if df is not None:
            out[name] = _normalise_table(name, df, f"{source}/{name}")
    f = out["fills.parquet"].sort_values(["ts_event"], kind="stable").reset_index(drop=True)
    o = out["orders.parquet"].sort_values(["ts_init"], kind="stable").reset_index(drop=True)
    m = out["market.parquet"].sort_values(["ts_event"], kind="stable").reset_index(drop=True)
    return f, o, m, out.get("vetoes.parquet")


def load_run(run_dir: Path) -> RunTables:
    """Read and check a run folder.

    Parameters
    ----------
    run_dir : pathlib.Path
        ``runs/<run-id>/`` as written by the backtest runner.

    Returns
    -------
    RunTables

    Raises
    ------
    ReportError
        Naming the missing file, column or summary key.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: not a directory")
    for name in REQUIRED_FILES:
        if not (run_dir / name).is_file():
            raise ReportError(f"{run_dir / name}: missing (an incomplete run folder?)")
    summary = _read_json(run_dir / "summary.json")
    missing_keys = [k for k in REQUIRED_SUMMARY_KEYS if k not in summary]
    if missing_keys:
        raise ReportError(f"{run_dir / 'summary.json'}: missing key(s) {', '.join(missing_keys)}")
    # config.json is shown only as highlights, so a folder without it still gets a report.
    config = _read_json(run_dir / "config.json") if (run_dir / "config.json").is_file() else {}
    vetoes_path = run_dir / "vetoes.parquet"
    vetoes = _read_parquet(vetoes_path) if vetoes_path.is_file() else None
    fills, orders, market, vetoes = normalise_tables(
        _read_parquet(run_dir / "fills.parquet"),
        _read_parquet(run_dir / "orders.parquet"),
        _read_parquet(run_dir / "market.parquet"),
        vetoes,
        source=str(run_dir),
    )
    versions_path = run_dir / "quote_versions.parquet"
    versions = None
    if versions_path.is_file():
        # Orders-shaped, so the orders checks and dtypes apply.
        versions = _normalise_table("orders.parquet", _read_parquet(versions_path), str(versions_path))
        versions = versions.sort_values(["ts_init"], kind="stable").reset_index(drop=True)
    return RunTables(summary, config, fills, orders, market, vetoes, versions)


# -- mids and as-of joins ----------------------------------------------------------------------------


def join_prevailing_quote(
    left: pd.DataFrame,
    mids: pd.DataFrame,
    *,
    on: str = "ts_event",
    backfill: bool = False,
) -> pd.DataFrame:
    """As-of join of rows to the NBBO prevailing at their time, per instrument.

    Parameters
    ----------
    left : pandas.DataFrame
        Rows with ``instrument_id`` and the int64 time column ``on``.
    mids : pandas.DataFrame
        :func:`mid_series` (any number of instruments).
    on : str
        Time column of ``left``.
    backfill : bool
        When True, a row before the first valid quote of its instrument takes the first quote after it
        (and ``quote_after`` is True for it) instead of NaN.

    Returns
    -------
    pandas.DataFrame
        ``left`` (same index and row order) plus ``bid``, ``ask``, ``mid``, ``quote_ts`` and ``quote_after``.
    """
    cols = ["quote_ts", "bid", "ask", "mid"]
    rhs = pd.DataFrame(
        {"_t": mids["ts_event"].to_numpy(dtype="int64"), "instrument_id": mids["instrument_id"].to_numpy(dtype=object),
         "quote_ts": mids["ts_event"].to_numpy(dtype="float64"), "bid": mids["bid_price"].to_numpy(dtype="float64"),
         "ask": mids["ask_price"].to_numpy(dtype="float64"), "mid": mids["mid"].to_numpy(dtype="float64")},
    ).sort_values("_t", kind="stable")
    lhs = pd.DataFrame(
        {"_row": np.arange(len(left)), "_t": left[on].to_numpy(dtype="int64"),
         "instrument_id": left["instrument_id"].to_numpy(dtype=object)},
    ).sort_values("_t", kind="stable")
    joined = pd.merge_asof(lhs, rhs, on="_t", by="instrument_id", direction="backward", allow_exact_matches=True)
    joined["quote_after"] = False
    if backfill:
        missing = np.flatnonzero(joined["mid"].isna().to_numpy())
        if missing.size:
            # merge_asof keeps the left order, so the forward join lines up with the missing rows.
            ahead = pd.merge_asof(lhs.iloc[missing], rhs, on="_t", by="instrument_id", direction="forward")
            for col in cols:
                joined.loc[joined.index[missing], col] = ahead[col].to_numpy()
            joined.loc[joined.index[missing], "quote_after"] = ahead["mid"].notna().to_numpy()
    joined = joined.sort_values("_row", kind="stable")
    out = left.copy()
    for col in [*cols, "quote_after"]:
        out[col] = joined[col].to_numpy()
    return out


# -- PnL decomposition -------------------------------------------------------------------------------

PNL_COLUMNS = ("ts", "mid", "position", "cash", "spread", "inventory", "fees", "total")


def pnl_decomposition(fills: pd.DataFrame, mids: pd.DataFrame) -> pd.DataFrame:
    """Spread capture, inventory PnL, fees and total of ONE instrument as time series.

    Evaluated at every fill time and every valid NBBO time, so the curve is exact between points
    (it is a step function). Times before the first valid quote cannot be marked and are left out; a fill
    that happened before any quote is referenced to the first quote after it (it keeps the identity
    ``total = cash + position * mid`` exact).

    Parameters
    ----------
    fills : pandas.DataFrame
        Fills of one instrument (``ts_event``, ``side``, ``quantity``, ``price``, ``commission``).
    mids : pandas.DataFrame
        :func:`mid_series` of the same instrument.

    Returns
    -------
    pandas.DataFrame
        Columns ``ts`` (int64 ns), ``mid``, ``position`` (signed shares), ``cash``, ``spread``, ``inventory``,
        ``fees`` (sum of commissions, a cost) and ``total`` (USD); see the module docstring for formulas.
    """
    if mids.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "ts" else "float64") for c in PNL_COLUMNS})
    f = fills.sort_values("ts_event", kind="stable")
    t_fill = f["ts_event"].to_numpy(dtype="int64")
    mid_ts = mids["ts_event"].to_numpy(dtype="int64")
    ts = np.union1d(mid_ts, t_fill)
    ts = ts[ts >= mid_ts[0]]
    mid = mid_asof(mids, ts)
    d = signed_side(f["side"])
    q = f["quantity"].to_numpy(dtype="float64")
    p = f["price"].to_numpy(dtype="float64")
    c = f["commission"].to_numpy(dtype="float64")
    m_fill = mid_asof(mids, t_fill)
    # Fills before the first quote: reference them to the first quote (see docstring).
    m_fill = np.where(np.isnan(m_fill), mids["mid"].iloc[0], m_fill)
    # Number of fills at or before each evaluation time: prefix sums then give every cumulative term.
    k = np.searchsorted(t_fill, ts, side="right")

    def cum(x: np.ndarray) -> np.ndarray:
        return np.concatenate(([0.0], np.cumsum(x)))[k]

    position = cum(d * q)
    spread = cum(d * q * (m_fill - p))
    # sum_i d_i q_i (M_t - M_i) = position(t) * M_t - sum_i d_i q_i M_i
    inventory = position * mid - cum(d * q * m_fill)
    fees = cum(c)
    cash = -cum(d * q * p) - fees
    total = spread + inventory - fees
    return pd.DataFrame(
        {"ts": ts, "mid": mid, "position": position, "cash": cash, "spread": spread, "inventory": inventory,
         "fees": fees, "total": total},
    )


def combine_pnl(per_instrument: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Sum the PnL curves of several instruments on the union of their times.

    Each curve is a step function, so it is carried forward between its own points; before its first
    point an instrument contributes 0.

    Parameters
    ----------
    per_instrument : mapping of str to pandas.DataFrame
        :func:`pnl_decomposition` results.

    Returns
    -------
    pandas.DataFrame
        ``ts``, ``spread``, ``inventory``, ``fees``, ``total`` (USD).
    """
    cols = ("spread", "inventory", "fees", "total")
    frames = [df for df in per_instrument.values() if not df.empty]
    if not frames:
        return pd.DataFrame({"ts": pd.Series(dtype="int64"), **{c: pd.Series(dtype="float64") for c in cols}})
    ts = np.unique(np.concatenate([df["ts"].to_numpy() for df in frames]))
    out = {c: np.zeros(len(ts)) for c in cols}
    for df in frames:
        idx = np.searchsorted(df["ts"].to_numpy(), ts, side="right") - 1
        has = idx >= 0
        for c in cols:
            out[c][has] += df[c].to_numpy()[idx[has]]
    return pd.DataFrame({"ts": ts, **out})


def max_drawdown(values: np.ndarray) -> float:
    """Largest fall of a curve from its running peak.

    Parameters
    ----------
    values : numpy.ndarray
        The curve (e.g. intraday total PnL, USD). NaNs are ignored.

    Returns
    -------
    float
        The drawdown as a non-negative number (0 for a non-decreasing or empty curve).
    """
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0
    return float(np.max(np.maximum.accumulate(v) - v))


def minute_pnl_changes(pnl: pd.DataFrame) -> np.ndarray:
    """Changes of the total PnL over consecutive 1-minute intervals.

    The curve is sampled (as-of, step function) at each whole UTC minute strictly inside its span plus
    its first and last points, so a partial first or last minute counts as one interval.

    Parameters
    ----------
    pnl : pandas.DataFrame
        ``ts`` and ``total``.

    Returns
    -------
    numpy.ndarray
        The changes (USD).
    """
    if len(pnl) < 2:
        return np.array([])
    ts = pnl["ts"].to_numpy()
    minute = 60 * NS_PER_S
    grid = np.arange((ts[0] // minute + 1) * minute, ts[-1], minute, dtype="int64")
    points = np.concatenate(([ts[0]], grid, [ts[-1]]))
    values = pnl["total"].to_numpy()[np.searchsorted(ts, points, side="right") - 1]
    return np.diff(values)


def minute_sharpe(pnl: pd.DataFrame) -> float:
    """Sharpe ratio of 1-minute PnL changes: ``mean / std`` (sample std), intraday, NOT annualised.

    Parameters
    ----------
    pnl : pandas.DataFrame
        ``ts`` and ``total``.

    Returns
    -------
    float
        NaN with fewer than two intervals or a flat curve.
    """
    x = minute_pnl_changes(pnl)
    if x.size < 2:
        return math.nan
    sd = float(np.std(x, ddof=1))
    return float(np.mean(x) / sd) if sd > 0 else math.nan


# -- inventory ---------------------------------------------------------------------------------------


def inventory_path(fills: pd.DataFrame, start_ns: int, end_ns: int) -> pd.DataFrame:
    """Signed position (shares) of ONE instrument as a step function over ``[start_ns, end_ns]``.

    Parameters
    ----------
    fills : pandas.DataFrame
        Fills of one instrument.
    start_ns, end_ns : int
        The window (UTC ns); the position is 0 at ``start_ns``.

    Returns
    -------
    pandas.DataFrame
        ``ts`` and ``position``: the position from ``ts`` until the next row; the last row is at ``end_ns``.
    """
    f = fills.sort_values("ts_event", kind="stable")
    t = f["ts_event"].to_numpy(dtype="int64")
    pos = np.cumsum(signed_side(f["side"]) * f["quantity"].to_numpy(dtype="float64"))
    # Several fills in the same nanosecond: keep the position after the last of them.
    last = np.r_[t[1:] != t[:-1], True] if t.size else np.array([], dtype=bool)
    ts = np.concatenate(([start_ns], t[last], [end_ns])).astype("int64")
    position = np.concatenate(([0.0], pos[last], [pos[-1] if pos.size else 0.0]))
    return pd.DataFrame({"ts": ts, "position": position})


def inventory_stats(path: pd.DataFrame, limit: float | None = None) -> dict[str, float]:
    """Peak, time-weighted and final inventory of an :func:`inventory_path`.

    Parameters
    ----------
    path : pandas.DataFrame
        ``ts`` and ``position``.
    limit : float, optional
        The strategy's position limit (shares); when given, the share of time at ``|position| >= limit``.

    Returns
    -------
    dict
        ``max_abs``, ``twa_abs`` (``sum |pos_k| (t_{k+1} - t_k) / (t_end - t_start)``), ``final`` and
        ``time_at_limit`` (NaN without a limit).
    """
    ts = path["ts"].to_numpy(dtype="int64")
    pos = path["position"].to_numpy(dtype="float64")
    dt = np.diff(ts).astype("float64")
    span = float(ts[-1] - ts[0]) if ts.size else 0.0
    abs_pos = np.abs(pos[:-1]) if ts.size else np.array([])
    twa = float(np.sum(abs_pos * dt) / span) if span > 0 else (float(np.abs(pos).max()) if pos.size else 0.0)
    at_limit = math.nan
    if limit is not None and limit > 0 and span > 0:
        at_limit = float(np.sum(dt[abs_pos >= limit - 1e-9]) / span)
    return {
        "max_abs": float(np.abs(pos).max()) if pos.size else 0.0,
        "twa_abs": twa,
        "final": float(pos[-1]) if pos.size else 0.0,
        "time_at_limit": at_limit,
    }


# -- markouts ----------------------------------------------------------------------------------------


def markout_summary(mk: pd.DataFrame, horizons_s: tuple[int, ...] = MARKOUT_HORIZONS_S) -> pd.DataFrame:
    """Mean markouts per horizon, for all fills and by side.

    Means are simple means over fills (each fill weighs the same, whatever its size). ``n`` counts the
    fills with a markout at that horizon, ``n_excluded`` those whose horizon passes the end of the market
    data (or that had no quote). ``ci95`` is ``1.96 * std / sqrt(n)`` (normal approximation).

    Parameters
    ----------
    mk : pandas.DataFrame
        :func:`markouts` (possibly of several instruments concatenated).
    horizons_s : tuple of int
        Horizons in seconds.

    Returns
    -------
    pandas.DataFrame
        Rows ``(side, horizon_s)`` with side in ``ALL``, ``BUY``, ``SELL``; columns ``n``, ``n_excluded``,
        ``mean``, ``ci95`` ($/share), ``mean_bps``, ``ci95_bps``, ``half_spread``, ``adverse`` ($/share,
        over the same included fills).
    """
    rows = []
    for side in ("ALL", *SIDES):
        s = mk if side == "ALL" else mk[mk["side"] == side]
        for h in horizons_s:
            x = s[f"markout_{h}s"]
            ok = x.notna()
            n = int(ok.sum())
            bps = s.loc[ok, f"markout_{h}s_bps"]

            def ci(v: pd.Series, n: int = n) -> float:
                return float(1.96 * v.std(ddof=1) / math.sqrt(n)) if n >= 2 else math.nan

            rows.append(
                {
                    "side": side, "horizon_s": h, "n": n, "n_excluded": int(len(s) - n),
                    "mean": float(x[ok].mean()) if n else math.nan, "ci95": ci(x[ok]),
                    "mean_bps": float(bps.mean()) if n else math.nan, "ci95_bps": ci(bps),
                    "half_spread": float(s.loc[ok, "half_spread"].mean()) if n else math.nan,
                    "adverse": float(s.loc[ok, f"adverse_{h}s"].mean()) if n else math.nan,
                },
            )
    return pd.DataFrame(rows)


# -- orders: fill rate and quote placement -----------------------------------------------------------


def fill_rates(orders: pd.DataFrame, fills: pd.DataFrame) -> pd.DataFrame:
    """Fill rate, order-to-trade and cancel ratios, for all orders and by side.

    Parameters
    ----------
    orders, fills : pandas.DataFrame
        Order and fill tables (any instruments).

    Returns
    -------
    pandas.DataFrame
        Indexed by side (``ALL``, ``BUY``, ``SELL``): ``orders`` (submitted), ``orders_filled`` (with any fill),
        ``fills``, ``quoted_qty`` (sum of order quantities), ``filled_qty``, ``fills_per_order`` (fills /
        orders), ``orders_filled_ratio``, ``qty_fill_ratio`` (filled / quoted quantity), ``order_to_trade``
        (orders / fills), ``canceled``, ``cancel_ratio`` (canceled / orders), ``rejected``, ``amendments``
        (sum of the optional ``amendments`` column, else 0) and ``messages_per_fill`` ((orders + amendments +
        cancels) / fills).
    """
    rows = {}
    for side in ("ALL", *SIDES):
        o = orders if side == "ALL" else orders[orders["side"] == side]
        f = fills if side == "ALL" else fills[fills["side"] == side]
        n, nf = len(o), len(f)
        status = o["status"].str.upper()
        quoted = float(o["quantity"].sum())
        filled = float(o["filled_qty"].sum())
        canceled = int((status == "CANCELED").sum())
        amendments = int(o["amendments"].sum()) if "amendments" in o.columns else 0
        rows[side] = {
            "orders": n, "orders_filled": int((o["filled_qty"] > 0).sum()), "fills": nf,
            "quoted_qty": quoted, "filled_qty": filled,
            "fills_per_order": nf / n if n else math.nan,
            "orders_filled_ratio": float((o["filled_qty"] > 0).mean()) if n else math.nan,
            "qty_fill_ratio": filled / quoted if quoted > 0 else math.nan,
            "order_to_trade": n / nf if nf else math.nan,
            "canceled": canceled, "cancel_ratio": canceled / n if n else math.nan,
            "rejected": int(status.isin(NEVER_RESTED_STATUSES).sum()),
            "amendments": amendments,
            "messages_per_fill": (n + amendments + canceled) / nf if nf else math.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def amended_mask(orders: pd.DataFrame) -> np.ndarray:
    """Orders whose price may have changed during their life (``amendments > 0``).

    ``orders.parquet`` keeps only an order's latest price, so for these the price at any earlier time is
    unknown; quote-placement statistics leave them out. Without an ``amendments`` column no order is
    taken as amended.

    Parameters
    ----------
    orders : pandas.DataFrame
        Orders.

    Returns
    -------
    numpy.ndarray
        Boolean mask.
    """
    if "amendments" not in orders.columns:
        return np.zeros(len(orders), dtype=bool)
    return pd.to_numeric(orders["amendments"], errors="coerce").fillna(0).to_numpy() > 0


def quote_placement(orders: pd.DataFrame, mids: pd.DataFrame, tick_size: float = DEFAULT_TICK_SIZE) -> pd.DataFrame:
    """Where each priced order sat against the same-side NBBO when it was created.

    ``orders.parquet`` holds an order's *latest* price, so amended orders are flagged (``amended``) and
    :func:`quote_placement_summary` leaves them out.

    Parameters
    ----------
    orders : pandas.DataFrame
        Orders (any instruments).
    mids : pandas.DataFrame
        :func:`mid_series` of the same instruments.
    tick_size : float
        Price increment for the tick distance.

    Returns
    -------
    pandas.DataFrame
        Priced orders with a prior quote: ``client_order_id``, ``instrument_id``, ``side``, ``price``,
        ``ts_init``, ``touch`` (bid for buys, ask for sells), ``ticks_ahead`` (``d (price - touch) / tick``;
        rounded to 1e-6 so float noise does not split "at the touch"), ``crosses`` (a buy at or above the
        ask, a sell at or below the bid), ``amended``.
    """
    o = orders[np.isfinite(orders["price"].to_numpy(dtype="float64"))]
    cols = ["client_order_id", "instrument_id", "side", "price", "ts_init"]
    if o.empty or mids.empty:
        return pd.DataFrame({**{c: pd.Series(dtype=orders[c].dtype) for c in cols}, "touch": pd.Series(dtype="float64"),
                             "ticks_ahead": pd.Series(dtype="float64"), "crosses": pd.Series(dtype=bool),
                             "amended": pd.Series(dtype=bool)})
    j = join_prevailing_quote(o[cols].assign(amended=amended_mask(o)), mids, on="ts_init")
    j = j[j["mid"].notna()].reset_index(drop=True)
    d = signed_side(j["side"])
    buy = d > 0
    j["touch"] = np.where(buy, j["bid"], j["ask"])
    j["ticks_ahead"] = np.round(d * (j["price"] - j["touch"]) / tick_size, 6)
    j["crosses"] = np.where(buy, j["price"] >= j["ask"], j["price"] <= j["bid"])
    return j[[*cols, "touch", "ticks_ahead", "crosses", "amended"]]


def quote_placement_summary(placement: pd.DataFrame) -> pd.DataFrame:
    """Share of unamended orders ahead of, at and behind the touch at creation, by side.

    Parameters
    ----------
    placement : pandas.DataFrame
        :func:`quote_placement`.

    Returns
    -------
    pandas.DataFrame
        Indexed by side (``ALL``, ``BUY``, ``SELL``): ``orders`` (measured), ``amended_excluded``,
        ``mean_ticks_ahead``, ``median_ticks_ahead``, ``share_ahead``, ``share_at_touch``, ``share_behind``,
        ``share_crossing``.
    """
    rows = {}
    for side in ("ALL", *SIDES):
        s = placement if side == "ALL" else placement[placement["side"] == side]
        amended = s["amended"].to_numpy(dtype=bool)
        s = s[~amended]
        x = s["ticks_ahead"]
        n = len(s)
        rows[side] = {
            "orders": n,
            "amended_excluded": int(amended.sum()),
            "mean_ticks_ahead": float(x.mean()) if n else math.nan,
            "median_ticks_ahead": float(x.median()) if n else math.nan,
            "share_ahead": float((x > 0).mean()) if n else math.nan,
            "share_at_touch": float((x == 0).mean()) if n else math.nan,
            "share_behind": float((x < 0).mean()) if n else math.nan,
            "share_crossing": float(s["crosses"].mean()) if n else math.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def order_lifetimes(orders: pd.DataFrame, end_ns: int) -> pd.DataFrame:
    """Resting interval ``[start, end)`` of each priced order.

    An order rests from ``ts_init`` to ``ts_last``; one still working at the end of the run (a non-terminal
    status) rests until ``end_ns``; a rejected or denied order never rests (empty interval).

    Parameters
    ----------
    orders : pandas.DataFrame
        Orders of one instrument.
    end_ns : int
        End of the market data.

    Returns
    -------
    pandas.DataFrame
        ``side``, ``price``, ``start``, ``end`` (int64 ns), ``amended`` (see :func:`amended_mask`), one row per
        priced order.
    """
    o = orders[np.isfinite(orders["price"].to_numpy(dtype="float64"))]
    status = o["status"].str.upper()
    start = o["ts_init"].to_numpy(dtype="int64")
    end = np.where(status.isin(TERMINAL_STATUSES), o["ts_last"].to_numpy(dtype="int64"), max(end_ns, 0))
    end = np.where(status.isin(NEVER_RESTED_STATUSES), start, np.maximum(end, start))
    return pd.DataFrame({"side": o["side"].to_numpy(), "price": o["price"].to_numpy(dtype="float64"), "start": start,
                         "end": end.astype("int64"), "amended": amended_mask(o)})


def union_length(start: np.ndarray, end: np.ndarray) -> int:
    """Total length covered by a set of intervals ``[start, end)`` (overlaps counted once).

    Parameters
    ----------
    start, end : numpy.ndarray
        int64 bounds.

    Returns
    -------
    int
        Covered length.
    """
    if len(start) == 0:
        return 0
    order = np.argsort(start, kind="stable")
    s = np.asarray(start, dtype="int64")[order]
    e = np.asarray(end, dtype="int64")[order]
    # Intervals sorted by start: the earlier ones cover [s_i, reach_{i-1}) of the later start s_i, so each
    # interval adds only what lies beyond the furthest end reached so far.
    reach = np.concatenate(([np.iinfo(np.int64).min], np.maximum.accumulate(e)[:-1]))
    return int(np.sum(np.maximum(0, e - np.maximum(s, reach))))


def quote_presence(orders: pd.DataFrame, mids: pd.DataFrame, start_ns: int, end_ns: int) -> pd.DataFrame:
    """Quote uptime and time at the touch of ONE instrument, by side.

    Time at touch sums, over every resting order and every NBBO interval inside its life, the time during
    which the order's price was at or better than the same-side NBBO (``d (price - touch) >= 0``); it is
    divided by the resting time of the orders measured. Only unamended orders are measured (their price is
    known over their whole life). Uptime is the share of ``[start_ns, end_ns]`` with at least one order of
    that side resting, amended or not; in the ``BOTH`` row, with both sides resting at once
    (``|A ∩ B| = |A| + |B| - |A ∪ B|``).

    Parameters
    ----------
    orders : pandas.DataFrame
        Orders of one instrument.
    mids : pandas.DataFrame
        :func:`mid_series` of the instrument.
    start_ns, end_ns : int
        The run window of the instrument.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``BUY``, ``SELL`` and ``BOTH``: ``resting_s`` (sum of order lifetimes), ``measured_s`` (that of
        unamended orders), ``at_touch_s``, ``time_at_touch`` (``at_touch_s / measured_s``), ``uptime`` (share
        of the window; two-sided for ``BOTH``). ``BOTH`` sums the times of the two sides.
    """
    life = order_lifetimes(orders, end_ns)
    life = life.assign(start=life["start"].clip(lower=start_ns), end=life["end"].clip(upper=end_ns))
    life = life[life["end"] > life["start"]]
    span = float(end_ns - start_ns)
    q_ts = mids["ts_event"].to_numpy(dtype="int64")
    rows: dict[str, dict[str, float]] = {}
    for side in SIDES:
        side_life = life[life["side"] == side]
        resting = float(np.sum(side_life["end"].to_numpy() - side_life["start"].to_numpy()))
        s = side_life[~side_life["amended"].to_numpy(dtype=bool)]
        st, en, px = s["start"].to_numpy(), s["end"].to_numpy(), s["price"].to_numpy()
        measured = float(np.sum(en - st))
        at_touch = 0.0
        if len(s) and q_ts.size:
            touch_all = mids["bid_price" if side == "BUY" else "ask_price"].to_numpy(dtype="float64")
            # Quote intervals overlapping each order: [i0, i1) where i0 is the quote prevailing at start.
            i0 = np.searchsorted(q_ts, st, side="right") - 1
            i1 = np.searchsorted(q_ts, en, side="left")
            i0c = np.maximum(i0, 0)
            counts = np.maximum(i1 - i0c, 0)
            owner = np.repeat(np.arange(len(s)), counts)
            # k runs over i0c[o], i0c[o]+1, ..., i1[o]-1 for each order o.
            k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(i0c, counts)
            seg_start = np.maximum(q_ts[k], st[owner])
            nxt = np.where(k + 1 < q_ts.size, q_ts[np.minimum(k + 1, q_ts.size - 1)], np.iinfo(np.int64).max)
            seg_end = np.minimum(nxt, en[owner])
            d = 1.0 if side == "BUY" else -1.0
            ok = (d * (px[owner] - touch_all[k]) >= -1e-9) & (seg_end > seg_start)
            at_touch = float(np.sum((seg_end - seg_start)[ok]))
        rows[side] = {
            "resting_s": resting / NS_PER_S,
            "measured_s": measured / NS_PER_S,
            "at_touch_s": at_touch / NS_PER_S,
            "time_at_touch": at_touch / measured if measured > 0 else math.nan,
            "uptime": _ratio(union_length(side_life["start"].to_numpy(), side_life["end"].to_numpy()), span),
        }
    both = {k: rows["BUY"][k] + rows["SELL"][k] for k in ("resting_s", "measured_s", "at_touch_s")}
    both["time_at_touch"] = both["at_touch_s"] / both["measured_s"] if both["measured_s"] > 0 else math.nan
    either = _ratio(union_length(life["start"].to_numpy(), life["end"].to_numpy()), span)
    both["uptime"] = rows["BUY"]["uptime"] + rows["SELL"]["uptime"] - either
    rows["BOTH"] = both
    return pd.DataFrame.from_dict(rows, orient="index")


# -- per-section and run analytics ---------------------------------------------------------------------


@dataclass(frozen=True)
class SectionAnalytics:
    """Everything the report shows for one instrument, or for the whole run (``name == "TOTAL"``).

    Attributes
    ----------
    name : str
        Instrument id, or ``"TOTAL"``.
    pnl : pandas.DataFrame
        :func:`pnl_decomposition` (or :func:`combine_pnl` for the total).
    inventory : pandas.DataFrame
        ``instrument_id``, ``ts``, ``position``: :func:`inventory_path` of each instrument in the section.
    markouts : pandas.DataFrame
        Per-fill :func:`markouts` with an ``instrument_id`` column.
    markout_summary : pandas.DataFrame
        :func:`markout_summary`.
    fill_rates : pandas.DataFrame
        :func:`fill_rates`.
    placement : pandas.DataFrame
        :func:`quote_placement`.
    placement_summary : pandas.DataFrame
        :func:`quote_placement_summary`.
    presence : pandas.DataFrame
        :func:`quote_presence` (summed over instruments for the total).
    stats : dict of str to Stat
        The statistics table.
    fills, orders : pandas.DataFrame
        The section's rows of the run tables.
    quotes : pandas.DataFrame
        :func:`mid_series` of the instrument (empty for the total).
    quote_versions : pandas.DataFrame or None
        The section's price versions of orders, when the run recorded them.
    """

    name: str
    pnl: pd.DataFrame
    inventory: pd.DataFrame
    markouts: pd.DataFrame
    markout_summary: pd.DataFrame
    fill_rates: pd.DataFrame
    placement: pd.DataFrame
    placement_summary: pd.DataFrame
    presence: pd.DataFrame
    stats: dict[str, Stat]
    fills: pd.DataFrame
    orders: pd.DataFrame
    quotes: pd.DataFrame = field(default_factory=pd.DataFrame)
    quote_versions: pd.DataFrame | None = None


def _summary_number(summary: Mapping[str, Any], key: str, instrument: str | None = None) -> float:
    src: Any = summary if instrument is None else (summary.get("per_instrument") or {}).get(instrument, {})
    value = src.get(key) if isinstance(src, Mapping) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


def _statistics(
    *,
    pnl: pd.DataFrame,
    fills: pd.DataFrame,
    fr: pd.DataFrame,
    ms: pd.DataFrame,
    presence: pd.DataFrame,
    inv: dict[str, float],
    summary: Mapping[str, Any],
    instrument: str | None,
    limit: float | None,
) -> dict[str, Stat]:
    last = pnl.iloc[-1] if len(pnl) else None
    measured_share = _ratio(float(presence.loc["BOTH", "measured_s"]), float(presence.loc["BOTH", "resting_s"]))

    def end(col: str) -> float:
        return float(last[col]) if last is not None else 0.0

    total = end("total")
    volume = float(fills["quantity"].sum())
    notional = float((fills["quantity"] * fills["price"]).sum())
    n_min = minute_pnl_changes(pnl).size
    nautilus = "from summary.json (NautilusTrader, net of fees; its marks need not be the mid)"
    maker = fills["liquidity_side"].str.upper() == "MAKER"
    stats: dict[str, Stat] = {
        "total PnL (mark-to-mid)": Stat(total, "USD", "spread capture + inventory PnL - fees"),
        "spread capture": Stat(end("spread"), "USD", "sum d q (M_fill - p)"),
        "inventory PnL": Stat(end("inventory"), "USD", "sum d q (M_end - M_fill)"),
        "fees": Stat(end("fees"), "USD", "sum of commissions; negative = net rebate"),
        "realized PnL (Nautilus)": Stat(_summary_number(summary, "realized_pnl", instrument), "USD", nautilus),
        "unrealized PnL (Nautilus)": Stat(_summary_number(summary, "unrealized_pnl", instrument), "USD", nautilus),
        "total PnL (Nautilus)": Stat(
            _summary_number(summary, "total_pnl", instrument) if instrument is None
            else _summary_number(summary, "realized_pnl", instrument) + _summary_number(summary, "unrealized_pnl", instrument),
            "USD", nautilus),
        "fills": Stat(float(len(fills)), "count"),
        "maker share of fills": Stat(float(maker.mean()) if len(fills) else math.nan, "fraction"),
        "orders": Stat(float(fr.loc["ALL", "orders"]), "count"),
        "volume traded": Stat(volume, "shares"),
        "notional traded": Stat(notional, "USD"),
        "PnL per share": Stat(_ratio(total, volume), "USD/share", "total PnL / shares traded"),
        "PnL per notional": Stat(1e4 * _ratio(total, notional), "bps", "1e4 * total PnL / notional traded"),
        "max drawdown": Stat(max_drawdown(pnl["total"].to_numpy()), "USD", "of the intraday mark-to-mid total PnL curve"),
        "Sharpe of 1-min PnL changes": Stat(
            minute_sharpe(pnl), "ratio", f"mean/std of {n_min} one-minute changes; intraday, NOT annualised"),
        "max |inventory|": Stat(inv["max_abs"], "shares"),
        "time-weighted mean |inventory|": Stat(inv["twa_abs"], "shares"),
        "final inventory": Stat(inv["final"], "shares"),
        "fills per order": Stat(float(fr.loc["ALL", "fills_per_order"]), "ratio", "fills / orders submitted"),
        "filled / quoted quantity": Stat(float(fr.loc["ALL", "qty_fill_ratio"]), "fraction"),
        "order-to-trade ratio": Stat(float(fr.loc["ALL", "order_to_trade"]), "ratio", "orders submitted / fills"),
        "cancel ratio": Stat(float(fr.loc["ALL", "cancel_ratio"]), "fraction", "canceled orders / orders"),
        "bid quote uptime": Stat(float(presence.loc["BUY", "uptime"]), "fraction", "share of time with a resting buy order"),
        "ask quote uptime": Stat(float(presence.loc["SELL", "uptime"]), "fraction", "share of time with a resting sell order"),
        "two-sided quote uptime": Stat(float(presence.loc["BOTH", "uptime"]), "fraction",
                                       "share of time with orders resting on both sides"),
        "messages per fill": Stat(float(fr.loc["ALL", "messages_per_fill"]), "ratio",
                                  "(orders + amendments + cancels) / fills"),
        "time at touch": Stat(
            float(presence.loc["BOTH", "time_at_touch"]), "fraction",
            f"share of resting time at or better than the same-side NBBO; "
            "orders at a known price (each price version with quote_versions.parquet, else unamended orders) "
            f"({measured_share:.1%} of resting time)"),
    }
    if limit is not None:
        stats["time at position limit"] = Stat(inv["time_at_limit"], "fraction", f"|inventory| >= {limit:g} shares")
    allrows = ms[ms["side"] == "ALL"].set_index("horizon_s")
    for h, row in allrows.iterrows():
        stats[f"mean markout {h}s"] = Stat(
            float(row["mean_bps"]), "bps", f"{int(row['n'])} fills; {int(row['n_excluded'])} excluded (horizon past data end)")
    if len(allrows):
        first = allrows.iloc[0]
        stats["mean realized half-spread"] = Stat(
            float(first["half_spread"]), "USD/share", "d (M_fill - p), over the fills of the shortest horizon")
    if instrument is None:
        stats["events"] = Stat(_summary_number(summary, "events"), "count", "from summary.json")
        stats["events per second"] = Stat(_summary_number(summary, "events_per_second"), "1/s", "backtest throughput")
    return stats


def position_limit(config: Mapping[str, Any]) -> float | None:
    """The strategy's position limit, ``config["strategy"]["max_position"]``, when the config has one.

    Parameters
    ----------
    config : mapping
        ``config.json``.

    Returns
    -------
    float or None
    """
    strategy = config.get("strategy")
    value = strategy.get("max_position") if isinstance(strategy, Mapping) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _instrument_section(
    iid: str,
    fills: pd.DataFrame,
    orders: pd.DataFrame,
    market: pd.DataFrame,
    summary: Mapping[str, Any],
    limit: float | None,
    tick_size: float,
    horizons_s: tuple[int, ...],
    quote_versions: pd.DataFrame | None = None,
) -> SectionAnalytics:
    f = fills[fills["instrument_id"] == iid].reset_index(drop=True)
    o = orders[orders["instrument_id"] == iid].reset_index(drop=True)
    # With price versions, an amended order is measured at each price it rested at.
    v = quote_versions[quote_versions["instrument_id"] == iid].reset_index(drop=True) if quote_versions is not None else None
    resting = v if v is not None else o
    m = market[market["instrument_id"] == iid]
    mids = mid_series(m)
    times = [x for x in (m["ts_event"], f["ts_event"], o["ts_init"]) if len(x)]
    start = int(min(x.min() for x in times)) if times else 0
    stop = int(max(max(x.max() for x in times), o["ts_last"].max() if len(o) else 0)) if times else 0
    market_end = int(m["ts_event"].max()) if len(m) else -1
    pnl = pnl_decomposition(f, mids)
    inv_path = inventory_path(f, start, stop)
    inv = inventory_stats(inv_path, limit)
    mk = markouts(f, mids, market_end, horizons_s).assign(instrument_id=iid)
    ms = markout_summary(mk, horizons_s)
    fr = fill_rates(o, f)
    placement = quote_placement(resting, mids, tick_size)
    presence = quote_presence(resting, mids, start, stop)
    stats = _statistics(pnl=pnl, fills=f, fr=fr, ms=ms, presence=presence, inv=inv, summary=summary, instrument=iid,
                        limit=limit)
    return SectionAnalytics(
        name=iid, pnl=pnl, inventory=inv_path.assign(instrument_id=iid), markouts=mk, markout_summary=ms, fill_rates=fr,
        placement=placement, placement_summary=quote_placement_summary(placement), presence=presence, stats=stats,
        fills=f, orders=o, quotes=mids, quote_versions=v,
    )


def _total_section(
    sections: list[SectionAnalytics],
    fills: pd.DataFrame,
    orders: pd.DataFrame,
    summary: Mapping[str, Any],
    horizons_s: tuple[int, ...],
) -> SectionAnalytics:
    pnl = combine_pnl({s.name: s.pnl for s in sections})
    inventory = pd.concat([s.inventory for s in sections], ignore_index=True) if sections else pd.DataFrame(
        {"ts": pd.Series(dtype="int64"), "position": pd.Series(dtype="float64"), "instrument_id": pd.Series(dtype=str)})
    mk = pd.concat([s.markouts for s in sections], ignore_index=True) if sections else markouts(
        fills.iloc[:0], mid_series(pd.DataFrame(columns=["ts_event", "instrument_id", "bid_price", "ask_price"])), -1,
        horizons_s)
    ms = markout_summary(mk, horizons_s)
    fr = fill_rates(orders, fills)
    placement = pd.concat([s.placement for s in sections], ignore_index=True) if sections else quote_placement(
        orders.iloc[:0], pd.DataFrame())
    summed = ["resting_s", "measured_s", "at_touch_s", "uptime"]
    presence = sum((s.presence[summed] for s in sections),
                   start=pd.DataFrame(0.0, index=[*SIDES, "BOTH"], columns=summed))
    presence = presence.assign(
        time_at_touch=(presence["at_touch_s"] / presence["measured_s"]).where(presence["measured_s"] > 0),
        uptime=presence["uptime"] / max(len(sections), 1),
    )
    inv_stats = [inventory_stats(s.inventory) for s in sections]
    inv = {
        # Shares of different names do not add up meaningfully: the peak is the largest single-name peak.
        "max_abs": max((x["max_abs"] for x in inv_stats), default=0.0),
        "twa_abs": float(sum(x["twa_abs"] for x in inv_stats)),
        "final": float(sum(abs(x["final"]) for x in inv_stats)),
        "time_at_limit": math.nan,
    }
    stats = _statistics(pnl=pnl, fills=fills, fr=fr, ms=ms, presence=presence, inv=inv, summary=summary, instrument=None,
                        limit=None)
    stats["max |inventory|"] = Stat(inv["max_abs"], "shares", "largest single-instrument peak")
    stats["time-weighted mean |inventory|"] = Stat(inv["twa_abs"], "shares", "sum over instruments")
    stats["final inventory"] = Stat(inv["final"], "shares", "sum of |final position| over instruments")
    for key in ("bid quote uptime", "ask quote uptime", "two-sided quote uptime"):
        stats[key] = stats[key]._replace(note=stats[key].note + "; mean over instruments")
    return SectionAnalytics(
        name=TOTAL, pnl=pnl, inventory=inventory, markouts=mk, markout_summary=ms, fill_rates=fr, placement=placement,
        placement_summary=quote_placement_summary(placement), presence=presence, stats=stats, fills=fills, orders=orders,
    )


@dataclass(frozen=True)
class RunAnalytics:
    """The analytics of a run: one section per instrument plus the total.

    Attributes
    ----------
    run_id : str
        The run id.
    summary, config : dict
        ``summary.json`` and ``config.json``.
    instruments : dict of str to SectionAnalytics
        Per instrument, in the summary's order.
    total : SectionAnalytics
        The whole run.
    vetoes : pandas.DataFrame or None
        Counts of ``vetoes.parquet`` by ``plugin`` and ``reason`` (columns ``plugin``, ``reason``, ``count``),
        None when the run has no veto table.
    horizons_s : tuple of int
        Markout horizons.
    """

    run_id: str
    summary: dict[str, Any]
    config: dict[str, Any]
    instruments: dict[str, SectionAnalytics]
    total: SectionAnalytics
    vetoes: pd.DataFrame | None = None
    horizons_s: tuple[int, ...] = MARKOUT_HORIZONS_S

    @property
    def sections(self) -> list[SectionAnalytics]:
        """Per-instrument sections followed by the total."""
        return [*self.instruments.values(), self.total]

    def stats_table(self) -> pd.DataFrame:
        """Statistics of every section side by side, e.g. for a CLI summary table.

        Returns
        -------
        pandas.DataFrame
            Index: statistic name; columns: ``unit``, each instrument id, ``TOTAL``.
        """
        names: list[str] = list(self.total.stats)
        for s in self.instruments.values():
            names += [k for k in s.stats if k not in names]
        units = {k: v.unit for s in self.sections for k, v in s.stats.items()}
        data: dict[str, Any] = {"unit": [units[k] for k in names]}
        for s in self.sections:
            data[s.name] = [s.stats[k].value if k in s.stats else math.nan for k in names]
        return pd.DataFrame(data, index=pd.Index(names, name="statistic"))


def compute_run_analytics(
    source: Path | str | RunTables,
    *,
    tick_size: float = DEFAULT_TICK_SIZE,
    horizons_s: tuple[int, ...] = MARKOUT_HORIZONS_S,
) -> RunAnalytics:
    """Compute the report analytics of a run folder, or of its tables already in memory.

    Parameters
    ----------
    source : pathlib.Path, str or RunTables
        A run folder, or :class:`RunTables` built from DataFrames (they are normalised here too).
    tick_size : float
        Price increment for quote distances (US equities above $1: 0.01).
    horizons_s : tuple of int
        Markout horizons in seconds.

    Returns
    -------
    RunAnalytics

    Raises
    ------
    ReportError
        When the folder or tables are incomplete.
    """
    if isinstance(source, RunTables):
        fills, orders, market, vetoes = normalise_tables(source.fills, source.orders, source.market, source.vetoes)
        versions = None
        if source.quote_versions is not None:
            versions = _normalise_table("orders.parquet", source.quote_versions, "<tables>/quote_versions")
        tables = RunTables(source.summary, source.config, fills, orders, market, vetoes, versions)
    else:
        tables = load_run(Path(source))
    summary = tables.summary
    listed = summary.get("instruments")
    seen = set(tables.fills["instrument_id"]) | set(tables.orders["instrument_id"]) | set(tables.market["instrument_id"])
    ids = [str(i) for i in listed] if isinstance(listed, list) and listed else []
    ids += sorted(seen - set(ids))
    limit = position_limit(tables.config)
    sections = [
        _instrument_section(i, tables.fills, tables.orders, tables.market, summary, limit, tick_size, horizons_s,
                            tables.quote_versions)
        for i in ids
    ]
    total = _total_section(sections, tables.fills, tables.orders, summary, horizons_s)
    vetoes = None
    if tables.vetoes is not None:
        vetoes = (tables.vetoes.groupby(["plugin", "reason"]).size().rename("count").reset_index()
                  .sort_values("count", ascending=False, kind="stable").reset_index(drop=True))
    return RunAnalytics(
        run_id=str(summary.get("run_id", "")), summary=dict(summary), config=dict(tables.config),
        instruments={s.name: s for s in sections}, total=total, vetoes=vetoes, horizons_s=horizons_s,
    )
