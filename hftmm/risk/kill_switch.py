"""The kill switch: cancel everything and halt on a drawdown, a daily loss, stale market data or a
lost venue connection. Halting is sticky: only an explicit resume (``RiskChain.resume``) lifts it.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from hftmm.risk.intent import RiskAction
from hftmm.risk.plugin import PluginConfig, RiskPlugin
from hftmm.risk.state import RiskState

Positive = Annotated[float, msgspec.Meta(gt=0)]


class KillSwitch(RiskPlugin):
    """Halts trading when a loss, data or connectivity limit is crossed.

    - ``max_drawdown``: total PnL (realized + unrealized - fees, marked to the mid) this far below
      its running peak, dollars;
    - ``max_daily_loss``: total PnL this far below zero, dollars;
    - ``stale_data_s``: an instrument with a working order or a position whose quote is older;
    - ``venue_grace_s``: a venue disconnected for longer (live).
    """

    class Config(PluginConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
        """See the class docstring; each limit may be omitted."""

        max_drawdown: Positive | None = None
        max_daily_loss: Positive | None = None
        stale_data_s: Positive | None = None
        venue_grace_s: Positive = 2.0

    def _evaluate(self, state: RiskState) -> RiskAction | None:
        if state.mode == "HALTED":
            return None
        cfg = self.config
        drawdown = state.peak_pnl - state.pnl
        if cfg.max_drawdown is not None and drawdown >= cfg.max_drawdown:
            return self._halt(f"drawdown ${drawdown:,.2f} reached the limit ${cfg.max_drawdown:,.2f}")
        if cfg.max_daily_loss is not None and -state.pnl >= cfg.max_daily_loss:
            return self._halt(f"loss of the day ${-state.pnl:,.2f} reached the limit ${cfg.max_daily_loss:,.2f}")
        return None

    def _halt(self, reason: str) -> RiskAction:
        return RiskAction(mode="HALTED", plugin=self.name, reason=reason)

    def on_fill(self, state: RiskState) -> RiskAction | None:
        return self._evaluate(state)

    def on_timer(self, state: RiskState) -> RiskAction | None:
        action = self._evaluate(state)
        if action is not None or state.mode == "HALTED":
            return action
        cfg = self.config
        now = state.now_ns
        if cfg.stale_data_s is not None:
            limit_ns = int(cfg.stale_data_s * 1e9)
            for iid, quote in state.quotes.items():
                exposed = state.position(iid) != 0 or state.working_count.get(iid, 0) > 0
                if exposed and now - quote.ts_ns > limit_ns:
                    return self._halt(f"market data for {iid} is {(now - quote.ts_ns) * 1e-9:.1f} s old "
                                      f"(limit {cfg.stale_data_s:g} s)")
        grace_ns = int(cfg.venue_grace_s * 1e9)
        for venue, (connected, since) in state.venues.items():
            if not connected and now - since >= grace_ns:
                return self._halt(f"venue {venue} disconnected for {(now - since) * 1e-9:.1f} s")
        return None
