"""Volatility calibration for the quote formulas: GARCH(1,1) on intraday returns, EWMA fallback,
and an intraday seasonality curve.

Units are the point of this module. The quote formulas take ``sigma`` in **dollars per square root
of a second** (an arithmetic Brownian mid). Returns here are log returns of the mid sampled every
``interval_s`` seconds; a per-interval return volatility ``s`` converts to
``sigma = s * price / sqrt(interval_s)``.

Fitting is done off the hot path (at start or on a schedule), never per book event.
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

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


def sample_mids(ts_ns: np.ndarray, mid: np.ndarray, interval_s: float, start_ns: int | None = None,
                end_ns: int | None = None) -> np.ndarray:
    """The prevailing mid at the end of each ``interval_s`` bucket in [start, end] (previous-tick)."""
    if ts_ns.size == 0:
        return np.zeros(0)
    start = int(ts_ns[0] if start_ns is None else start_ns)
    end = int(ts_ns[-1] if end_ns is None else end_ns)
    step = int(round(interval_s * NS))
    grid = np.arange(start + step, end + 1, step, dtype=np.int64)
    idx = np.searchsorted(ts_ns, grid, side="right") - 1
    valid = idx >= 0
    return mid[idx[valid]]


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
) -> VolatilityFit:
    """Fit GARCH(1,1) (zero mean) to mid log returns; fall back to EWMA when it is not usable.

    The fallback is taken with fewer than ``min_returns`` returns, a constant price, an optimiser
    that did not converge, or a non-stationary fit (``alpha + beta >= 1``).
    """
    samples = sample_mids(ts_ns, mid, interval_s)
    returns = log_returns(samples)
    price = float(samples[-1]) if samples.size else float(mid[-1]) if mid.size else math.nan
    to_dollars = price / math.sqrt(interval_s)

    def fallback(reason: str) -> VolatilityFit:
        return VolatilityFit(ewma_volatility(returns) * to_dollars, "ewma", interval_s, price, int(returns.size),
                             {"lambda": EWMA_LAMBDA}, reason)

    if returns.size < min_returns:
        return fallback(f"{returns.size} returns < {min_returns}")
    if not np.any(returns):
        return fallback("constant price")
    from arch import arch_model

    # Basis points keep the optimiser's scale sane; convert back below.
    bps = returns * 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = arch_model(bps, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    if result.convergence_flag != 0:
        return fallback(f"GARCH optimiser did not converge (flag {result.convergence_flag})")
    omega, alpha, beta = (float(result.params[n]) for n in ("omega", "alpha[1]", "beta[1]"))
    if alpha + beta >= 1.0:
        return fallback(f"non-stationary GARCH fit (alpha + beta = {alpha + beta:.4f})")
    forecast_var_bps = float(result.forecast(horizon=1, reindex=False).variance.values[-1, 0])
    sigma = math.sqrt(forecast_var_bps) * 1e-4 * to_dollars
    return VolatilityFit(sigma, "garch", interval_s, price, int(returns.size),
                         {"omega": omega, "alpha": alpha, "beta": beta})


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
