"""The capital allocator: splits a notional budget across instruments on a schedule.

Methods (weights are floored at ``min_weight`` of an equal share, then normalised):

- ``"equal"``;
- ``"inverse_var"``: weight proportional to 1 / VaR of one dollar held (so to 1 / return sigma):
  each instrument gets the same standalone risk;
- ``"risk_adjusted_pnl"``: proportional to the instrument's PnL so far per unit of its risk
  (PnL / return sigma), negative values counting as zero: capital follows what earns per risk.

The result, ``state.allocation[instrument] = dollars``, caps ``MaxPosition`` at
``budget / mid`` shares.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import msgspec
import numpy as np

from hftmm.risk.intent import RiskAction
from hftmm.risk.plugin import PluginConfig, RiskPlugin
from hftmm.risk.state import RiskState


def allocation_weights(
    method: Literal["equal", "inverse_var", "risk_adjusted_pnl"], vol: np.ndarray, pnl: np.ndarray, min_weight: float,
) -> np.ndarray:
    """Weights summing to 1 (see the module docstring); an instrument without a usable sigma gets
    the floor.

    Parameters
    ----------
    vol : ndarray
        Return volatility per instrument (any common unit).
    pnl : ndarray
        PnL per instrument so far, dollars (used by ``risk_adjusted_pnl``).
    min_weight : float
        Floor as a fraction of the equal weight ``1/n``.
    """
    n = vol.size
    if n == 0:
        return np.zeros(0)
    ok = np.isfinite(vol) & (vol > 0)
    if method == "equal" or not ok.any():
        raw = np.ones(n)
    elif method == "inverse_var":
        raw = np.where(ok, 1.0 / np.where(ok, vol, 1.0), 0.0)
    else:
        raw = np.where(ok, np.maximum(pnl, 0.0) / np.where(ok, vol, 1.0), 0.0)
        if raw.sum() <= 0:
            raw = np.ones(n)
    w = raw / raw.sum()
    floor = min_weight / n
    w = np.maximum(w, floor)
    return w / w.sum()


class CapitalAllocator(RiskPlugin):
    """Sets ``state.allocation`` every ``every_s`` (see the module docstring)."""

    class Config(PluginConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
        """``budget`` dollars; ``method``; ``every_s``; ``min_weight`` (fraction of an equal share)."""

        budget: Annotated[float, msgspec.Meta(gt=0)]
        method: Literal["equal", "inverse_var", "risk_adjusted_pnl"] = "inverse_var"
        every_s: Annotated[float, msgspec.Meta(gt=0)] = 300.0
        min_weight: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.25

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self._next_ns = 0

    def on_timer(self, state: RiskState) -> RiskAction | None:
        if state.now_ns < self._next_ns:
            return None
        cfg = self.config
        names = [i for i, q in state.quotes.items() if math.isfinite(q.mid) and q.mid > 0]
        if not names:
            return None
        self._next_ns = state.now_ns + int(cfg.every_s * 1e9)
        marks = state.marks()
        vol = np.array([state.sigma.get(i, math.nan) / state.quotes[i].mid for i in names])
        pnl = np.array([p.total(marks.get(i, math.nan)) if (p := state.positions.by_instrument.get(i)) else 0.0 for i in names])
        weights = allocation_weights(cfg.method, vol, pnl, cfg.min_weight)
        for iid, w in zip(names, weights, strict=True):
            state.allocation[iid] = float(w * cfg.budget)
        return None
