"""Value at risk and expected shortfall of the current book, and the VaR limit.

Pure measures:

- ``parametric_var``: normal VaR/ES of the dollar exposures ``e`` with per-instrument return
  volatilities (the GARCH sigma, per sqrt(second)) and a correlation matrix, over ``horizon_s``:
  ``sd = sqrt(e' D C D e * horizon_s)``, ``VaR = z_a sd``, ``ES = sd phi(z_a) / (1 - a)``.
- ``historical_var``: the empirical loss quantile and tail mean of PnL scenarios (today's
  exposures applied to past horizon returns).

Both are losses, reported as positive dollars.
"""

from __future__ import annotations

import math
from typing import Annotated

import msgspec
import numpy as np
from scipy.stats import norm

from hftmm.risk.intent import RiskAction
from hftmm.risk.plugin import PluginConfig, RiskPlugin
from hftmm.risk.state import RiskState


def parametric_var(
    exposure: np.ndarray, vol: np.ndarray, horizon_s: float, confidence: float, corr: np.ndarray | None = None,
) -> tuple[float, float]:
    """Normal ``(VaR, ES)`` in dollars.

    Parameters
    ----------
    exposure : ndarray
        Dollar exposure per instrument (position x price, signed).
    vol : ndarray
        Return volatility per sqrt(second) per instrument (dollar sigma / price).
    horizon_s : float
        Horizon, seconds.
    confidence : float
        E.g. 0.99.
    corr : ndarray, optional
        Correlation matrix of the returns (identity when omitted).
    """
    e = np.asarray(exposure, dtype=float) * np.asarray(vol, dtype=float)
    c = np.eye(e.size) if corr is None else np.asarray(corr, dtype=float)
    sd = math.sqrt(max(float(e @ c @ e), 0.0) * horizon_s)
    z = float(norm.ppf(confidence))
    return z * sd, sd * float(norm.pdf(z)) / (1.0 - confidence)


def historical_var(pnl: np.ndarray, confidence: float) -> tuple[float, float]:
    """Empirical ``(VaR, ES)`` in dollars from PnL scenarios (losses negative).

    VaR is the ``1 - confidence`` quantile of the PnL, negated; ES the mean loss at or beyond it.
    """
    pnl = np.asarray(pnl, dtype=float)
    if pnl.size == 0:
        return math.nan, math.nan
    q = float(np.quantile(pnl, 1.0 - confidence, method="lower"))
    tail = pnl[pnl <= q]
    return -q, -float(tail.mean())


def horizon_returns(mids: np.ndarray, step: int) -> np.ndarray:
    """Simple returns over ``step`` samples, overlapping: ``mid[t + step] / mid[t] - 1`` (rows: t)."""
    if mids.shape[0] <= step:
        return np.zeros((0,) + mids.shape[1:])
    return mids[step:] / mids[:-step] - 1.0


class VarLimit(RiskPlugin):
    """Parametric and historical VaR and ES at 95% and 99% on a timer; above the limit the node
    goes reduce-only until the VaR is back under ``resume_ratio`` of it.

    The parametric figure uses the chain's GARCH sigma per instrument and the correlation of the
    sampled returns; the historical one applies today's exposures to the horizon returns of the
    trailing mid samples (one per risk timer tick).
    """

    class Config(PluginConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
        """``limit``: dollars of 99% VaR (the larger of the two methods); ``horizon_s``; ``every_s``."""

        limit: Annotated[float, msgspec.Meta(gt=0)]
        horizon_s: Annotated[float, msgspec.Meta(gt=0)] = 60.0
        every_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0
        resume_ratio: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.8
        min_samples: Annotated[int, msgspec.Meta(ge=2)] = 30

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self._next_ns = 0
        self._breached = False

    def measure(self, state: RiskState, interval_ns: int) -> dict[str, float]:
        """VaR and ES at 95/99% of the current positions, dollars."""
        cfg = self.config
        names = [i for i in state.quotes if state.position(i) != 0 and math.isfinite(state.quotes[i].mid)]
        out: dict[str, float] = {}
        if not names:
            return {f"{m}_{c}": 0.0 for m in ("parametric", "historical", "es_parametric", "es_historical") for c in (95, 99)}
        mids = np.array([state.quotes[i].mid for i in names])
        exposure = np.array([state.position(i) for i in names]) * mids
        sigma = np.array([state.sigma.get(i, math.nan) for i in names]) / mids
        series = [np.array([m for _, m in state.mids.get(i, ())]) for i in names]
        n = min((s.size for s in series), default=0)
        step = max(int(round(cfg.horizon_s * 1e9 / interval_ns)), 1)
        returns = horizon_returns(np.column_stack([s[-n:] for s in series]), step) if n > step else np.zeros((0, len(names)))
        corr = None
        if returns.shape[0] >= cfg.min_samples and len(names) > 1:
            with np.errstate(invalid="ignore", divide="ignore"):
                c = np.corrcoef(returns, rowvar=False)
            corr = np.where(np.isfinite(c), c, np.eye(len(names)))
        for conf, tag in ((0.95, 95), (0.99, 99)):
            if np.isfinite(sigma).all():
                var, es = parametric_var(exposure, sigma, cfg.horizon_s, conf, corr)
            else:
                var = es = math.nan
            out[f"parametric_{tag}"], out[f"es_parametric_{tag}"] = var, es
            if returns.shape[0] >= cfg.min_samples:
                hvar, hes = historical_var(returns @ exposure, conf)
            else:
                hvar = hes = math.nan
            out[f"historical_{tag}"], out[f"es_historical_{tag}"] = hvar, hes
        return out

    def on_timer(self, state: RiskState) -> RiskAction | None:
        if state.now_ns < self._next_ns:
            return None
        cfg = self.config
        self._next_ns = state.now_ns + int(cfg.every_s * 1e9)
        interval_ns = self._sample_interval(state)
        figures = self.measure(state, interval_ns)
        state.var.update(figures)
        worst = max((v for k, v in figures.items() if k in ("parametric_99", "historical_99") and math.isfinite(v)), default=0.0)
        if worst > cfg.limit and not self._breached:
            self._breached = True
            return RiskAction(mode="REDUCING", plugin=self.name, reason=f"99% VaR ${worst:,.2f} above the limit ${cfg.limit:,.2f}")
        if self._breached and worst < cfg.limit * cfg.resume_ratio and state.mode == "REDUCING" and state.mode_plugin == self.name:
            self._breached = False
            return RiskAction(mode="ACTIVE", plugin=self.name, reason=f"99% VaR ${worst:,.2f} back under {cfg.resume_ratio:g} x limit")
        return None

    @staticmethod
    def _sample_interval(state: RiskState) -> int:
        for samples in state.mids.values():
            if len(samples) >= 2:
                return max(samples[-1][0] - samples[-2][0], 1)
        return 1_000_000_000
