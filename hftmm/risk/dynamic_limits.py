"""Position and order-size limits that tighten with volatility and after losses.

Every ``every_s`` the scale of each instrument becomes
``min(clip(sigma_ref / sigma, min_scale, 1), clip(1 - loss / loss_budget, min_scale, 1))``: twice
the reference volatility halves the limits; losing half the loss budget on the instrument halves
them too. ``MaxPosition`` and ``MaxOrderSize`` multiply their limits by it. The reference sigma is
configured per instrument or taken from the first estimate of the day.
"""

from __future__ import annotations

import math
from typing import Annotated

import msgspec

from hftmm.risk.plugin import PluginConfig, RiskPlugin
from hftmm.risk.intent import RiskAction
from hftmm.risk.state import RiskState


def limit_scale(sigma: float, sigma_ref: float, loss: float, loss_budget: float | None, min_scale: float) -> float:
    """The multiplier on limits for one instrument (1: no tightening)."""
    vol = 1.0
    if sigma > 0 and sigma_ref > 0 and math.isfinite(sigma):
        vol = min(max(sigma_ref / sigma, min_scale), 1.0)
    pnl = 1.0
    if loss_budget is not None and loss > 0:
        pnl = min(max(1.0 - loss / loss_budget, min_scale), 1.0)
    return min(vol, pnl)


class DynamicLimits(RiskPlugin):
    """Recomputes ``state.limit_scale`` on a timer (see the module docstring)."""

    class Config(PluginConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
        """``every_s``; ``sigma_ref`` ($/sqrt(s) per instrument); ``loss_budget`` ($); ``min_scale``."""

        every_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0
        sigma_ref: dict[str, Annotated[float, msgspec.Meta(gt=0)]] = msgspec.field(default_factory=dict)
        loss_budget: Annotated[float, msgspec.Meta(gt=0)] | None = None
        min_scale: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.25

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self._ref: dict[str, float] = dict(config.sigma_ref)
        self._next_ns = 0

    def on_timer(self, state: RiskState) -> RiskAction | None:
        if state.now_ns < self._next_ns:
            return None
        cfg = self.config
        self._next_ns = state.now_ns + int(cfg.every_s * 1e9)
        marks = state.marks()
        for iid in state.quotes:
            sigma = state.sigma.get(iid, math.nan)
            if iid not in self._ref and math.isfinite(sigma) and sigma > 0:
                self._ref[iid] = sigma
            pos = state.positions.by_instrument.get(iid)
            loss = -pos.total(marks.get(iid, math.nan)) if pos is not None else 0.0
            state.limit_scale[iid] = limit_scale(sigma, self._ref.get(iid, math.nan), loss, cfg.loss_budget, cfg.min_scale)
        return None
