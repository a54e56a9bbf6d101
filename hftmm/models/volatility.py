"""Volatility calibration for the quote formulas: GARCH(1,1) on intraday returns, EWMA fallback,
and an intraday seasonality curve.

Units are the point of this module. The quote formulas take ``sigma`` in **dollars per square root
of a second** (an arithmetic Brownian mid) when their time unit is the second (``tau`` in seconds,
``A`` per second). Returns here are log returns of the mid sampled every ``interval_s`` seconds; a
per-interval return volatility ``s`` converts to ``sigma = s * price / sqrt(interval_s)``
(``dollars_per_sqrt_second``). A-S quotes with ``tau`` as a fraction of the session need
``sigma`` in dollars per sqrt(session): ``per_sqrt_session``; ``sigma^2 tau`` is the same number
either way, which is the invariant the tests check.

Fitting is done off the hot path (at start or on a schedule: ``ScheduledVolatility``), never per
book event; the hot path reads ``ScheduledVolatility.sigma_at(now)``, an O(1) lookup.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

NS = 1_000_000_000
# RiskMetrics' daily decay, used per sample for the fallback.
EWMA_LAMBDA = 0.94


@dataclass(frozen=True)
class VolatilityFit:
    """A calibrated volatility.

    Attributes
    ----------
    sigma : float
        One-step-ahead volatility in dollars per sqrt(second).
    method : "garch" or "ewma"
        What produced it; ``ewma`` when GARCH was refused (see ``reason``).
    interval_s : float
        Sampling interval of the returns, seconds.
    price : float
        Last mid, dollars (converts return volatility to dollars).
    n_returns : int
        Returns used.
    params : dict
        GARCH ``omega``, ``alpha``, ``beta`` (returns in basis points) or EWMA ``lambda``.
    reason : str
        Why the fallback was used ("" for a GARCH fit).
    """

    sigma: float
    method: Literal["garch", "ewma"]
    interval_s: float
    price: float
    n_returns: int
    params: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    deseasonalised: bool = False  # True: sigma is the base level, scale by sqrt(seasonal factor)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


def dollars_per_sqrt_second(return_vol: float, price: float, interval_s: float) -> float:
    """Per-interval log-return volatility -> dollars per sqrt(second): ``s * price / sqrt(interval_s)``."""
    return return_vol * price / math.sqrt(interval_s)


def return_vol_per_interval(sigma_per_sqrt_s: float, price: float, interval_s: float) -> float:
    """Inverse of ``dollars_per_sqrt_second``: dollars per sqrt(second) -> log-return vol per interval."""
    return sigma_per_sqrt_s * math.sqrt(interval_s) / price


def per_sqrt_session(sigma_per_sqrt_s: float, session_s: float) -> float:
    """Dollars per sqrt(second) -> dollars per sqrt(session), for ``tau`` as a session fraction."""
    return sigma_per_sqrt_s * math.sqrt(session_s)


def per_sqrt_second_from_session(sigma_per_sqrt_session: float, session_s: float) -> float:
    """Dollars per sqrt(session) -> dollars per sqrt(second)."""
    return sigma_per_sqrt_session / math.sqrt(session_s)


def _sampled(ts_ns: np.ndarray, mid: np.ndarray, interval_s: float, start_ns: int | None,
             end_ns: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Grid times (ns) and the prevailing mid at each (previous-tick), for the grid in (start, end]."""
    if ts_ns.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    start = int(ts_ns[0] if start_ns is None else start_ns)
    end = int(ts_ns[-1] if end_ns is None else end_ns)
    step = int(round(interval_s * NS))
    grid = np.arange(start + step, end + 1, step, dtype=np.int64)
    idx = np.searchsorted(ts_ns, grid, side="right") - 1
    valid = idx >= 0
    return grid[valid], mid[idx[valid]]


def sample_mids(ts_ns: np.ndarray, mid: np.ndarray, interval_s: float, start_ns: int | None = None,
                end_ns: int | None = None) -> np.ndarray:
    """The prevailing mid at the end of each ``interval_s`` bucket in [start, end] (previous-tick)."""
    return _sampled(ts_ns, mid, interval_s, start_ns, end_ns)[1]


def seasonal_factor(factors: np.ndarray, session_start_ns: int, bucket_s: float, ts_ns: np.ndarray) -> np.ndarray:
    """Variance factor of the bucket holding each time (clamped to the first and last bucket)."""
    b = (ts_ns - session_start_ns) // int(round(bucket_s * NS))
    return factors[np.clip(b, 0, factors.size - 1)]


def garch_rejection(convergence_flag: int, alpha: float, beta: float) -> str:
    """Why a GARCH(1,1) fit must not be used ("" if it can): no convergence, or non-stationary."""
    if convergence_flag != 0:
        return f"GARCH optimiser did not converge (flag {convergence_flag})"
    if alpha + beta >= 1.0:
        return f"non-stationary GARCH fit (alpha + beta = {alpha + beta:.4f})"
    return ""


def log_returns(samples: np.ndarray) -> np.ndarray:
    """Log returns of positive samples."""
    samples = samples[samples > 0]
    return np.diff(np.log(samples)) if samples.size > 1 else np.zeros(0)


def ewma_volatility(returns: np.ndarray, lam: float = EWMA_LAMBDA) -> float:
    """``sqrt`` of the EWMA of squared returns, seeded with the first squared return."""
    if returns.size == 0:
        return 0.0
    var = float(returns[0] ** 2)
    for r in returns[1:]:
        var = lam * var + (1.0 - lam) * float(r) ** 2
    return math.sqrt(var)


def fit_volatility(
    ts_ns: np.ndarray, mid: np.ndarray, interval_s: float = 10.0, min_returns: int = 100,
    seasonality: np.ndarray | None = None, session_start_ns: int | None = None, bucket_s: float = 300.0,
) -> VolatilityFit:
    """Fit GARCH(1,1) (zero mean) to mid log returns; fall back to EWMA when it is not usable.

    The fallback is taken with fewer than ``min_returns`` returns, a constant price, an optimiser
    that did not converge, or a non-stationary fit (``alpha + beta >= 1``).

    Parameters
    ----------
    ts_ns, mid : ndarray
        Mid observations (ns, dollars), sorted by time.
    interval_s : float
        Sampling interval of the returns, seconds.
    min_returns : int
        Fewest returns for a GARCH fit.
    seasonality, session_start_ns, bucket_s : optional
        A ``seasonality_curve`` (variance factors per ``bucket_s`` from ``session_start_ns``):
        each return is divided by the square root of its bucket's factor before fitting, and the
        result is marked ``deseasonalised`` (its ``sigma`` is the base level; multiply by
        ``sqrt(factor)`` of the bucket being quoted, as ``ScheduledVolatility.sigma_at`` does).

    Returns
    -------
    VolatilityFit
        ``sigma`` in dollars per sqrt(second), one step ahead.
    """
    times, samples = _sampled(ts_ns, mid, interval_s, None, None)
    positive = samples > 0
    times, samples = times[positive], samples[positive]
    returns = np.diff(np.log(samples)) if samples.size > 1 else np.zeros(0)
    deseason = seasonality is not None and session_start_ns is not None and returns.size > 0
    if deseason:
        returns = returns / np.sqrt(seasonal_factor(np.asarray(seasonality), int(session_start_ns), bucket_s, times[1:]))
    price = float(samples[-1]) if samples.size else float(mid[-1]) if mid.size else math.nan
    to_dollars = price / math.sqrt(interval_s)

    def fallback(reason: str) -> VolatilityFit:
        return VolatilityFit(ewma_volatility(returns) * to_dollars, "ewma", interval_s, price, int(returns.size),
                             {"lambda": EWMA_LAMBDA}, reason, deseason)

    if returns.size < min_returns:
        return fallback(f"{returns.size} returns < {min_returns}")
    if not np.any(returns):
        return fallback("constant price")
    from arch import arch_model

    # Basis points keep the optimiser's scale sane; convert back below.
    bps = returns * 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = arch_model(bps, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off", show_warning=False)
    omega, alpha, beta = (float(result.params[n]) for n in ("omega", "alpha[1]", "beta[1]"))
    rejection = garch_rejection(int(result.convergence_flag), alpha, beta)
    if rejection:
        return fallback(rejection)
    forecast_var_bps = float(result.forecast(horizon=1, reindex=False).variance.values[-1, 0])
    sigma = math.sqrt(forecast_var_bps) * 1e-4 * to_dollars
    return VolatilityFit(sigma, "garch", interval_s, price, int(returns.size),
                         {"omega": omega, "alpha": alpha, "beta": beta}, "", deseason)


def seasonality_curve(
    ts_ns: np.ndarray, mid: np.ndarray, session_start_ns: int, session_end_ns: int,
    bucket_s: float = 300.0, interval_s: float = 10.0,
) -> np.ndarray:
    """Intraday variance factors per ``bucket_s`` bucket of the session, mean 1.

    ``sigma(t) = sigma * sqrt(factor[bucket(t)])`` restores the intraday U shape that a single
    sigma averages away. Buckets without returns get factor 1.
    """
    samples = sample_mids(ts_ns, mid, interval_s, session_start_ns, session_end_ns)
    r2 = log_returns(samples) ** 2
    per_bucket = max(int(round(bucket_s / interval_s)), 1)
    n_buckets = max(int(math.ceil((session_end_ns - session_start_ns) / (bucket_s * NS))), 1)
    means = np.array([r2[b * per_bucket:(b + 1) * per_bucket].mean() if r2[b * per_bucket:(b + 1) * per_bucket].size else np.nan
                      for b in range(n_buckets)])
    overall = np.nanmean(means) if np.isfinite(means).any() else math.nan
    if not np.isfinite(overall) or overall <= 0:
        return np.ones(n_buckets)
    factors = np.where(np.isfinite(means), means / overall, 1.0)
    return factors / factors.mean()


class ScheduledVolatility:
    """A volatility refitted on a schedule and read in O(1) on the hot path.

    ``due(now)`` says when to refit (every ``refit_every_s``); the caller runs ``refit`` off the
    hot path (a timer, a worker) with the recent mids. ``sigma_at(now)`` is the last fit's sigma,
    scaled by the square root of the seasonal variance factor of ``now``'s bucket when the fit was
    made on deseasonalised returns.

    Parameters
    ----------
    refit_every_s : float
        Seconds between fits.
    interval_s, min_returns : float, int
        As in ``fit_volatility``.
    seasonality : ndarray, optional
        Variance factors per ``bucket_s`` bucket from ``session_start_ns`` (``seasonality_curve``,
        typically from previous sessions).
    session_start_ns : int, optional
        Start of the session the factors are indexed from (needed with ``seasonality``).
    sigma0 : float
        Dollars per sqrt(second) until the first fit.
    """

    __slots__ = ("refit_every_s", "interval_s", "min_returns", "bucket_s", "_factors", "_start_ns",
                 "_bucket_ns", "fit", "_next_ns", "_base")

    def __init__(self, refit_every_s: float, interval_s: float = 10.0, min_returns: int = 100,
                 seasonality: np.ndarray | None = None, session_start_ns: int | None = None,
                 bucket_s: float = 300.0, sigma0: float = math.nan) -> None:
        if seasonality is not None and session_start_ns is None:
            raise ValueError("seasonality needs session_start_ns")
        self.refit_every_s = refit_every_s
        self.interval_s = interval_s
        self.min_returns = min_returns
        self.bucket_s = bucket_s
        self._factors = None if seasonality is None else [float(f) for f in seasonality]
        self._start_ns = session_start_ns
        self._bucket_ns = int(round(bucket_s * NS))
        self.fit: VolatilityFit | None = None
        self._next_ns = -(2**62)
        self._base = sigma0

    def due(self, now_ns: int) -> bool:
        """Whether a refit is scheduled at or before ``now_ns``."""
        return now_ns >= self._next_ns

    def refit(self, ts_ns: np.ndarray, mid: np.ndarray, now_ns: int) -> VolatilityFit:
        """Fit on the given mids (off the hot path) and schedule the next fit."""
        fit = fit_volatility(ts_ns, mid, self.interval_s, self.min_returns,
                             None if self._factors is None else np.array(self._factors), self._start_ns, self.bucket_s)
        self.fit = fit
        self._base = fit.sigma
        self._next_ns = now_ns + int(round(self.refit_every_s * NS))
        return fit

    def sigma_at(self, now_ns: int) -> float:
        """Volatility for quoting at ``now_ns``, dollars per sqrt(second); O(1)."""
        factors = self._factors
        if factors is None or self._start_ns is None or (self.fit is not None and not self.fit.deseasonalised):
            return self._base
        b = min(max((now_ns - self._start_ns) // self._bucket_ns, 0), len(factors) - 1)
        return self._base * math.sqrt(factors[b])
