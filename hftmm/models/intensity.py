"""Fill-intensity calibration ``lambda(delta) = A exp(-k delta)`` per side, from trades.

Following hftbacktest's GLFT tutorial without its half-tick unit bug: time is cut into windows
(100 ms by default); in each window the deepest trade through the mid on each side is recorded,
in ticks from the prevailing mid (buyer-initiated prints above the mid reach our ask, seller-
initiated prints below it reach our bid). A quote at depth ``delta`` would have been reached in
every window whose deepest print went at least that deep, so ``lambda(delta)`` is that count per
second. ``log lambda = log A - k delta`` is fitted by least squares over the first ``max_ticks``
depths; a poor fit (R^2 below ``min_r2``) or too few points falls back to a two-point
non-parametric estimate between the touch and the depth reached in a tenth of the windows.

Units: ``delta`` in ticks, ``A`` per second, ``k`` per tick (``k_per_dollar = k / tick``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

NS = 1_000_000_000


@dataclass(frozen=True)
class IntensityFit:
    """One side's fill intensity.

    Attributes
    ----------
    a : float
        Intensity at zero depth, per second.
    k : float
        Decay per tick of depth.
    method : "ols" or "nonparametric"
    r2 : float
        R^2 of the log-linear fit (NaN when not fitted).
    depths, rates : list of float
        The measured curve: depth in ticks and reach rate per second.
    windows : int
        Windows observed.
    reason : str
        Why the fallback was used ("" for an accepted fit).
    """

    a: float
    k: float
    method: Literal["ols", "nonparametric"]
    r2: float
    depths: list[float]
    rates: list[float]
    windows: int
    reason: str = ""

    def k_per_dollar(self, tick: float) -> float:
        """``k`` in the quote formulas' units (per dollar)."""
        return self.k / tick

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


def deepest_per_window(
    ts_ns: np.ndarray, depth_ticks: np.ndarray, start_ns: int, end_ns: int, window_ns: int,
) -> np.ndarray:
    """Deepest non-negative depth reached in each window of [start, end) (-inf where none)."""
    n = max(int((end_ns - start_ns) // window_ns), 1)
    out = np.full(n, -np.inf)
    keep = (ts_ns >= start_ns) & (ts_ns < start_ns + n * window_ns) & (depth_ticks >= 0)
    w = ((ts_ns[keep] - start_ns) // window_ns).astype(np.int64)
    np.maximum.at(out, w, depth_ticks[keep])
    return out


def reach_rates(deepest: np.ndarray, window_ns: int, depths: np.ndarray) -> np.ndarray:
    """Rate per second at which each depth was reached (windows reaching it / observed seconds)."""
    seconds = deepest.size * window_ns / NS
    return np.array([(deepest >= d).sum() for d in depths], dtype=float) / seconds


def fit_side(
    ts_ns: np.ndarray,
    depth_ticks: np.ndarray,
    start_ns: int,
    end_ns: int,
    window_ns: int = 100_000_000,
    max_ticks: int = 20,
    min_r2: float = 0.8,
    min_points: int = 3,
) -> IntensityFit:
    """Fit ``A`` and ``k`` for one side.

    Parameters
    ----------
    ts_ns : ndarray of int64
        Times of this side's aggressive trades.
    depth_ticks : ndarray of float
        Their distance through the prevailing mid, in ticks (negative: did not reach the mid's side).
    start_ns, end_ns : int
        The observed period (windows without trades count as not reached).
    """
    deepest = deepest_per_window(ts_ns, depth_ticks, start_ns, end_ns, window_ns)
    # Depth grid from the touch of a one-tick market (half a tick from the mid) outward.
    depths = np.arange(max_ticks, dtype=float) + 0.5
    rates = reach_rates(deepest, window_ns, depths)
    positive = rates > 0
    x, y = depths[positive], np.log(rates[positive])
    if x.size >= min_points:
        slope, intercept = np.polyfit(x, y, 1)
        fitted = intercept + slope * x
        ss_res = float(((y - fitted) ** 2).sum())
        ss_tot = float(((y - y.mean()) ** 2).sum())
        r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan
        if slope < 0 and np.isfinite(r2) and r2 >= min_r2:
            return IntensityFit(math.exp(intercept), -slope, "ols", r2, depths.tolist(), rates.tolist(), deepest.size)
        reason = f"poor fit (R^2 {r2:.3f}, slope {slope:.3f})"
    else:
        r2, reason = math.nan, f"only {x.size} depth(s) reached"
    return _nonparametric(depths, rates, deepest.size, r2, reason)


def _nonparametric(depths: np.ndarray, rates: np.ndarray, windows: int, r2: float, reason: str) -> IntensityFit:
    """Two points of the measured curve: the touch, and the deepest depth still reached by a tenth
    of the touch's rate; ``k`` is the log-slope between them. With no reach at all, ``A = 0``."""
    if rates.size == 0 or rates[0] <= 0:
        return IntensityFit(0.0, math.inf, "nonparametric", r2, depths.tolist(), rates.tolist(), windows, reason)
    target = rates[0] / 10.0
    far = int(np.flatnonzero(rates >= target)[-1])
    if far == 0:
        # Nothing beyond the touch: the decay is at least as steep as a factor 10 per tick.
        k = math.log(10.0)
    else:
        k = math.log(rates[0] / rates[far]) / (depths[far] - depths[0]) if rates[far] < rates[0] else math.log(10.0)
    a = rates[0] * math.exp(k * depths[0])
    return IntensityFit(a, k, "nonparametric", r2, depths.tolist(), rates.tolist(), windows, reason)


def trade_depths(price: np.ndarray, mid: np.ndarray, tick: float) -> tuple[np.ndarray, np.ndarray]:
    """Depth through the mid in ticks for the ask side (prints above the mid) and the bid side."""
    return (price - mid) / tick, (mid - price) / tick
