"""Fill-intensity calibration ``lambda(delta) = A exp(-k delta)`` per side, from trades.

Following hftbacktest's GLFT tutorial without its half-tick unit bug: time is cut into windows
(100 ms by default); in each window the deepest trade through the mid on each side is recorded,
in ticks from the prevailing mid (buyer-initiated prints above the mid reach our ask, seller-
initiated prints below it reach our bid). A quote at depth ``delta`` would have been reached in
every window whose deepest print went at least that deep, so ``lambda(delta)`` is that count per
second, corrected for windows holding several such prints (``poisson_rates``).
``log lambda = log A - k delta`` is fitted by least squares, weighted by the windows behind each
point, over the first ``max_ticks`` depths (``method = "ols"`` names this accepted log-linear
fit); a poor fit (weighted R^2 below ``min_r2``), too few points or too few trades falls back to a two-point
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


def poisson_rates(deepest: np.ndarray, window_ns: int, depths: np.ndarray) -> np.ndarray:
    """Intensity per second at each depth, correcting ``reach_rates`` for windows with several hits.

    Prints reaching depth ``d`` arrive as a Poisson process of rate ``lambda(d)``, so a window of
    ``w`` seconds reaches ``d`` with probability ``p = 1 - exp(-lambda w)``; counting windows
    estimates ``p / w``, which undercounts busy depths (by 10% at ``lambda w = 0.2``). The inverse
    ``lambda = -ln(1 - p) / w`` is unbiased in that model; ``p = 1`` is capped at ``1 - 1/(2n)``.
    """
    n = deepest.size
    w = window_ns / NS
    p = np.array([(deepest >= d).sum() for d in depths], dtype=float) / n
    return -np.log1p(-np.minimum(p, 1.0 - 0.5 / n)) / w


def fit_side(
    ts_ns: np.ndarray,
    depth_ticks: np.ndarray,
    start_ns: int,
    end_ns: int,
    window_ns: int = 100_000_000,
    max_ticks: int = 20,
    min_r2: float = 0.8,
    min_points: int = 3,
    min_reached: int = 20,
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
    window_ns : int
        Window length, ns (hftbacktest uses 100 ms).
    max_ticks : int
        Depths fitted: the first ``max_ticks`` tick levels (a fit over the whole range
        overestimates the shallow intensity and underestimates the deep one).
    min_r2 : float
        Smallest R^2 of ``log lambda`` on depth accepted.
    min_points : int
        Fewest depths with a positive rate needed to fit.
    min_reached : int
        Fewest windows reaching the first depth needed to fit (too few trades otherwise).

    Returns
    -------
    IntensityFit
        ``a`` per second and ``k`` per tick; ``method`` says whether the fit was accepted.
    """
    deepest = deepest_per_window(ts_ns, depth_ticks, start_ns, end_ns, window_ns)
    # Depth grid from the touch of a one-tick market (half a tick from the mid) outward.
    depths = np.arange(max_ticks, dtype=float) + 0.5
    rates = poisson_rates(deepest, window_ns, depths)
    counts = np.array([(deepest >= d).sum() for d in depths], dtype=float)
    positive = rates > 0
    x, y, wts = depths[positive], np.log(rates[positive]), counts[positive]
    reached = int(counts[0])
    if reached < min_reached:
        r2, reason = math.nan, f"too few trades: {reached} window(s) reached the touch < {min_reached}"
        return _nonparametric(depths, rates, deepest.size, r2, reason)
    if x.size >= min_points:
        # The log of a count of n windows has variance about 1/n: weight by n, or the deep, sparse
        # depths (a handful of windows) pull the slope as hard as the touch does.
        slope, intercept = np.polyfit(x, y, 1, w=np.sqrt(wts))
        fitted = intercept + slope * x
        y_bar = float((wts * y).sum() / wts.sum())
        ss_res = float((wts * (y - fitted) ** 2).sum())
        ss_tot = float((wts * (y - y_bar) ** 2).sum())
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


@dataclass(frozen=True)
class SideIntensities:
    """Per-side fits: ``bid`` from prints below the mid (sells reaching our bid), ``ask`` above."""

    bid: IntensityFit
    ask: IntensityFit


def fit_intensity(
    ts_ns: np.ndarray,
    price: np.ndarray,
    mid: np.ndarray,
    tick: float,
    start_ns: int | None = None,
    end_ns: int | None = None,
    aggressor: np.ndarray | None = None,
    window_ns: int = 100_000_000,
    max_ticks: int = 20,
    min_r2: float = 0.8,
    min_reached: int = 20,
) -> SideIntensities:
    """Fit ``lambda(delta) = A exp(-k delta)`` on each side from trades and the mid before each.

    Parameters
    ----------
    ts_ns : ndarray of int64
        Trade times, ns, sorted.
    price : ndarray of float
        Trade prices, dollars.
    mid : ndarray of float
        The mid prevailing just before each trade, dollars (NaN: trade skipped).
    tick : float
        Dollars per tick; depths are measured in ticks (not half-ticks).
    start_ns, end_ns : int, optional
        The observed period; defaults to the first and last trade (prefer the session bounds:
        quiet stretches at the ends are observations of "not reached").
    aggressor : ndarray of int, optional
        +1 buyer-initiated, -1 seller-initiated, 0 unknown. Without it (or where 0), a print above
        the mid is a buy and below a sell; a print at the mid reaches neither side.
    window_ns, max_ticks, min_r2, min_reached
        As in ``fit_side``.

    Returns
    -------
    SideIntensities
        ``a`` per second, ``k`` per tick on each side (``k_per_dollar(tick)`` converts).
    """
    if not tick > 0:
        raise ValueError(f"tick must be > 0, got {tick}")
    start = int(ts_ns[0]) if start_ns is None else start_ns
    end = int(ts_ns[-1]) + 1 if end_ns is None else end_ns
    ask_depth, bid_depth = trade_depths(price, mid, tick)
    known = np.isfinite(mid)
    side = np.zeros(price.size, dtype=np.int64) if aggressor is None else np.asarray(aggressor)
    buys = known & ((side > 0) | ((side == 0) & (ask_depth > 0)))
    sells = known & ((side < 0) | ((side == 0) & (bid_depth > 0)))
    kw = {"window_ns": window_ns, "max_ticks": max_ticks, "min_r2": min_r2, "min_reached": min_reached}
    return SideIntensities(
        bid=fit_side(ts_ns[sells], bid_depth[sells], start, end, **kw),
        ask=fit_side(ts_ns[buys], ask_depth[buys], start, end, **kw),
    )
