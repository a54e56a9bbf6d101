"""Markouts of fills against the NBBO mid (pure pandas/numpy).

For a fill at ``t`` with side ``d`` (+1 buy, -1 sell) and price ``p``, the markout at horizon ``h``
is ``d (M_{t+h} - p)`` dollars per share: the realised half-spread ``d (M_t - p)`` plus the adverse
move ``d (M_{t+h} - M_t)``. ``M`` is the mid of the last two-sided NBBO at or before a time. The
backtest runner records them per fill (``markouts.parquet``) and the report summarises them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NS_PER_S = 1_000_000_000
MARKOUT_HORIZONS_S: tuple[int, ...] = (1, 5, 30, 60)


def signed_side(side: pd.Series | np.ndarray) -> np.ndarray:
    """``d``: +1.0 for ``BUY``, -1.0 for ``SELL``.

    Parameters
    ----------
    side : pandas.Series or numpy.ndarray
        Side strings.

    Returns
    -------
    numpy.ndarray
        float64 signs.
    """
    return np.where(np.asarray(side, dtype=object) == "BUY", 1.0, -1.0)


def mid_series(market: pd.DataFrame) -> pd.DataFrame:
    """The NBBO mid of every valid market row.

    A row is valid when both sides are finite and positive; one-sided or empty books (a zero or NaN side,
    as TAQ NBBO files carry at the open) have no meaningful mid and are dropped, so the as-of joins fall
    back to the last two-sided quote. Crossed quotes are kept: the mid is still the best estimate.

    Parameters
    ----------
    market : pandas.DataFrame
        ``ts_event``, ``instrument_id``, ``bid_price``, ``ask_price``.

    Returns
    -------
    pandas.DataFrame
        ``ts_event``, ``instrument_id``, ``bid_price``, ``ask_price``, ``mid``, sorted by ``ts_event``.
    """
    bid = market["bid_price"].to_numpy(dtype="float64")
    ask = market["ask_price"].to_numpy(dtype="float64")
    valid = np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask > 0)
    out = market.loc[valid, ["ts_event", "instrument_id", "bid_price", "ask_price"]].copy()
    out["mid"] = 0.5 * (out["bid_price"] + out["ask_price"])
    return out.sort_values("ts_event", kind="stable").reset_index(drop=True)


def mid_asof(mids: pd.DataFrame, ts: np.ndarray) -> np.ndarray:
    """Mid prevailing at each time (last valid row with ``ts_event <= t``) for ONE instrument.

    Parameters
    ----------
    mids : pandas.DataFrame
        :func:`mid_series` of one instrument.
    ts : numpy.ndarray
        int64 UTC nanoseconds.

    Returns
    -------
    numpy.ndarray
        The mids; NaN before the first valid quote.
    """
    ts = np.asarray(ts, dtype="int64")
    if mids.empty:
        return np.full(ts.shape, np.nan)
    idx = np.searchsorted(mids["ts_event"].to_numpy(), ts, side="right") - 1
    values = mids["mid"].to_numpy()
    return np.where(idx >= 0, values[np.clip(idx, 0, None)], np.nan)


def markouts(
    fills: pd.DataFrame,
    mids: pd.DataFrame,
    market_end_ns: int,
    horizons_s: tuple[int, ...] = MARKOUT_HORIZONS_S,
) -> pd.DataFrame:
    """Per-fill markouts of ONE instrument.

    Parameters
    ----------
    fills : pandas.DataFrame
        Fills of one instrument.
    mids : pandas.DataFrame
        :func:`mid_series` of the instrument.
    market_end_ns : int
        Time of the instrument's last market-data row; a horizon ending after it is excluded (NaN).
    horizons_s : tuple of int
        Horizons in seconds.

    Returns
    -------
    pandas.DataFrame
        Per fill: ``ts_event``, ``side``, ``d``, ``quantity``, ``price``, ``mid`` (``M_t``, NaN without a
        prior quote), ``half_spread`` = ``d (M_t - p)`` and ``half_spread_bps``; per horizon ``h``:
        ``mid_{h}s``, ``markout_{h}s`` = ``d (M_{t+h} - p)`` ($/share), ``markout_{h}s_bps``,
        ``adverse_{h}s`` = ``d (M_{t+h} - M_t)``.
    """
    f = fills.sort_values("ts_event", kind="stable")
    t = f["ts_event"].to_numpy(dtype="int64")
    p = f["price"].to_numpy(dtype="float64")
    d = signed_side(f["side"])
    m0 = mid_asof(mids, t)
    out = pd.DataFrame(
        {"ts_event": t, "side": f["side"].to_numpy(), "d": d, "quantity": f["quantity"].to_numpy(dtype="float64"),
         "price": p, "mid": m0},
    )
    if "trade_id" in f.columns:
        out["trade_id"] = f["trade_id"].to_numpy()
    out["half_spread"] = d * (m0 - p)
    out["half_spread_bps"] = 1e4 * out["half_spread"] / p
    for h in horizons_s:
        th = t + np.int64(h) * NS_PER_S
        mh = np.where(th <= market_end_ns, mid_asof(mids, th), np.nan)
        out[f"mid_{h}s"] = mh
        out[f"markout_{h}s"] = d * (mh - p)
        out[f"markout_{h}s_bps"] = 1e4 * out[f"markout_{h}s"] / p
        out[f"adverse_{h}s"] = d * (mh - m0)
    return out
