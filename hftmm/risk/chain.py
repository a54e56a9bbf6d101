"""The risk chain: the trading-mode gate, then every plugin, on each order message.

``RiskChain`` owns the shared ``RiskState`` and keeps it current from market data, order events
and fills; runs the plugins' timers (and its own volatility estimate, GARCH on the sampled mids
with an EWMA fallback, refitted every ``sigma_refit_s``); applies mode changes; counts and keeps
every veto; and writes every decision to the audit trail when one is attached.

Modes: ``ACTIVE``; ``REDUCING`` (only orders that shrink a position pass); ``HALTED`` (nothing
but cancels passes, until ``resume``). A HALTED chain never leaves HALTED by itself.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from hftmm.models.volatility import fit_volatility
from hftmm.risk.audit import AuditTrail
from hftmm.risk.intent import OrderIntent, RiskAction
from hftmm.risk.plugin import RiskPlugin
from hftmm.risk.state import MarketQuote, RiskState

GATE = "TradingState"
_SIGMA_INTERVAL_S = 10.0


class RiskChain:
    """Runs the plugins on every order message and on a timer.

    Parameters
    ----------
    plugins : sequence of RiskPlugin
        In the order they check.
    audit : AuditTrail, optional
        Where every decision is recorded.
    sigma_refit_s : float
        Seconds between volatility refits per instrument.
    sample_window : int
        Mid samples kept per instrument (one per timer tick).
    """

    def __init__(
        self, plugins: Sequence[RiskPlugin], *, audit: AuditTrail | None = None, sigma_refit_s: float = 900.0,
        sample_window: int = 3600,
    ) -> None:
        self.state = RiskState()
        self.audit = audit
        self.replace_plugins(plugins)
        self._sigma_refit_ns = int(sigma_refit_s * 1e9)
        self._next_sigma_ns = 0
        self._sample_window = sample_window
        self.checked = 0
        self.vetoes: list[dict[str, Any]] = []
        self.veto_counts: dict[str, int] = {}
        self.actions: list[dict[str, Any]] = []

    def replace_plugins(self, plugins: Sequence[RiskPlugin]) -> None:
        """Swap the plugins (a runtime update); the state, counts and mode are kept."""
        self.plugins = list(plugins)
        self._checks = [p for p in self.plugins if p.overrides("check")]
        self._cancel_checks = [p for p in self._checks if p.sees_cancels]
        self._timers = [p for p in self.plugins if p.overrides("on_timer")]
        self._fill_hooks = [p for p in self.plugins if p.overrides("on_fill")]

    # -- the order path -----------------------------------------------------------------------

    def check(self, intent: OrderIntent) -> bool:
        """Judge one order message; the verdict is also written onto ``intent``."""
        state = self.state
        if intent.ts_ns > state.now_ns:
            state.now_ns = intent.ts_ns
        self.checked += 1
        if intent.kind == "cancel":
            for plugin in self._cancel_checks:
                plugin.check(intent, state)
            self._record(intent)
            return True
        if state.mode != "ACTIVE" and not intent.reduce_only:
            if state.mode == "HALTED":
                intent.veto(GATE, f"trading halted by {state.mode_plugin}: {state.mode_reason}")
            elif state.increases_exposure(intent):
                intent.veto(GATE, f"reduce-only ({state.mode_plugin}: {state.mode_reason})")
        if intent.allowed:
            for plugin in self._checks:
                reason = plugin.check(intent, state)
                if reason is not None:
                    intent.veto(plugin.name, reason)
                    break
        if intent.allowed:
            if intent.kind == "new":
                state.add_working(intent)
            else:
                state.update_working(intent.client_order_id, intent.quantity, intent.price)
        else:
            self.veto_counts[intent.plugin] = self.veto_counts.get(intent.plugin, 0) + 1
            self.vetoes.append({
                "ts_event": intent.ts_ns, "strategy_id": intent.strategy_id, "instrument_id": intent.instrument_id,
                "client_order_id": intent.client_order_id, "kind": intent.kind, "side": intent.side,
                "quantity": intent.quantity, "price": intent.price, "plugin": intent.plugin, "reason": intent.reason,
            })
        self._record(intent)
        return intent.allowed

    def _record(self, intent: OrderIntent) -> None:
        if self.audit is not None:
            data = {"kind": intent.kind, "strategy": intent.strategy_id, "instrument": intent.instrument_id,
                    "order": intent.client_order_id, "side": intent.side, "qty": intent.quantity,
                    "price": None if math.isnan(intent.price) else intent.price, "allowed": intent.allowed}
            if not intent.allowed:
                data["plugin"], data["reason"] = intent.plugin, intent.reason
            self.audit.append("intent", intent.ts_ns, data)

    # -- what happened ------------------------------------------------------------------------

    def on_quote(self, instrument_id: str, bid: float, ask: float, bid_size: float, ask_size: float, ts_ns: int) -> None:
        """The latest NBBO of an instrument."""
        quote = self.state.quotes.get(instrument_id)
        if quote is None:
            quote = self.state.quotes[instrument_id] = MarketQuote()
        quote.bid, quote.ask, quote.bid_size, quote.ask_size, quote.ts_ns = bid, ask, bid_size, ask_size, ts_ns

    def on_short_sale_restriction(self, instrument_id: str, restricted: bool, ts_ns: int) -> None:
        """The instrument's Rule 201 flag changed."""
        quote = self.state.quotes.setdefault(instrument_id, MarketQuote())
        if quote.ssr != restricted:
            quote.ssr = restricted
            if self.audit is not None:
                self.audit.append("ssr", ts_ns, {"instrument": instrument_id, "restricted": restricted})

    def on_order_event(self, kind: str, client_order_id: str, ts_ns: int, leaves: float | None = None,
                       price: float | None = None, detail: str = "") -> None:
        """An order was accepted, updated, cancelled, rejected, expired or denied."""
        if kind in ("canceled", "rejected", "expired", "denied"):
            self.state.remove_working(client_order_id)
        elif kind == "updated" and leaves is not None:
            self.state.update_working(client_order_id, leaves, price)
        if self.audit is not None:
            data: dict[str, Any] = {"order": client_order_id}
            if leaves is not None:
                data["leaves"] = leaves
            if price is not None:
                data["price"] = price
            if detail:
                data["detail"] = detail
            self.audit.append(kind, ts_ns, data)

    def on_fill(self, strategy_id: str, instrument_id: str, client_order_id: str, side: int, quantity: float,
                price: float, fee: float, leaves: float, ts_ns: int, trade_id: str = "") -> list[RiskAction]:
        """Apply a fill to positions and working orders; run the fill hooks (e.g. the kill switch)."""
        state = self.state
        state.now_ns = max(state.now_ns, ts_ns)
        state.positions.fill(strategy_id, instrument_id, side, quantity, price, fee)
        state.update_working(client_order_id, leaves)
        self._mark()
        if self.audit is not None:
            self.audit.append("fill", ts_ns, {"strategy": strategy_id, "instrument": instrument_id, "order": client_order_id,
                                              "trade": trade_id, "side": side, "qty": quantity, "price": price, "fee": fee,
                                              "position": state.position(instrument_id)})
        return self._apply_all(hook(state) for hook in (p.on_fill for p in self._fill_hooks))

    def set_venue_connected(self, venue: str, connected: bool, ts_ns: int) -> None:
        """A venue session came up or went down (live)."""
        self.state.venues[venue] = (connected, ts_ns)
        if self.audit is not None:
            self.audit.append("venue", ts_ns, {"venue": venue, "connected": connected})

    def _mark(self) -> None:
        state = self.state
        state.pnl = state.positions.pnl(state.marks())
        state.peak_pnl = max(state.peak_pnl, state.pnl)

    # -- the timer ----------------------------------------------------------------------------

    def on_timer(self, now_ns: int) -> list[RiskAction]:
        """Sample mids, refit sigma when due, mark PnL, run the plugins' timers."""
        state = self.state
        state.now_ns = max(state.now_ns, now_ns)
        for iid, quote in state.quotes.items():
            mid = quote.mid
            if math.isfinite(mid):
                samples = state.mids.get(iid)
                if samples is None:
                    samples = state.mids[iid] = deque(maxlen=self._sample_window)
                samples.append((now_ns, mid))
        if now_ns >= self._next_sigma_ns:
            self._refit_sigma()
            self._next_sigma_ns = now_ns + self._sigma_refit_ns
        self._mark()
        actions = self._apply_all(p.on_timer(state) for p in self._timers)
        if self.audit is not None:
            self.audit.flush()
        return actions

    def _refit_sigma(self) -> None:
        state = self.state
        for iid, samples in state.mids.items():
            if len(samples) < 3:
                continue
            ts = np.fromiter((t for t, _ in samples), dtype=np.int64, count=len(samples))
            mid = np.fromiter((m for _, m in samples), dtype=float, count=len(samples))
            # 10-second returns: enough for GARCH over the window, and a tenth of the fitting cost
            # of per-tick samples (the fit runs in the node's thread, between events).
            interval_s = max(float(np.median(np.diff(ts))) * 1e-9, _SIGMA_INTERVAL_S)
            fit = fit_volatility(ts, mid, interval_s=interval_s, min_returns=60)
            if fit.sigma > 0 and math.isfinite(fit.sigma):
                state.sigma[iid], state.sigma_method[iid] = fit.sigma, fit.method

    # -- modes --------------------------------------------------------------------------------

    def _apply_all(self, actions: Any) -> list[RiskAction]:
        return [a for a in actions if a is not None and self._apply(a)]

    def _apply(self, action: RiskAction) -> bool:
        state = self.state
        if state.mode == "HALTED" and action.mode != "HALTED":
            return False  # only resume() leaves HALTED
        if state.mode == action.mode:
            return False
        state.mode, state.mode_plugin, state.mode_reason = action.mode, action.plugin, action.reason
        self.actions.append({"ts_ns": state.now_ns, "mode": action.mode, "plugin": action.plugin, "reason": action.reason})
        if self.audit is not None:
            self.audit.append("mode", state.now_ns, {"mode": action.mode, "plugin": action.plugin, "reason": action.reason})
        return True

    def halt(self, plugin: str, reason: str) -> RiskAction | None:
        """Halt now (an operator or another component asks)."""
        action = RiskAction(mode="HALTED", plugin=plugin, reason=reason)
        return action if self._apply(action) else None

    def restore_mode(self, mode: str, plugin: str, reason: str) -> RiskAction | None:
        """Take over the mode a previous node of this trader was in (HALTED or REDUCING), so a
        restart or a failover does not lift a halt that only an operator may lift."""
        if mode not in ("HALTED", "REDUCING"):
            return None
        note = " (restored from the previous node)"
        action = RiskAction(mode=mode, plugin=plugin, reason=reason if reason.endswith(note) else reason + note)
        return action if self._apply(action) else None

    def current_action(self) -> RiskAction:
        """The mode in force, as the action that set it."""
        state = self.state
        return RiskAction(mode=state.mode, plugin=state.mode_plugin, reason=state.mode_reason)

    def resume(self, by: str, reason: str) -> RiskAction | None:
        """Leave HALTED or REDUCING: the explicit command a halt needs."""
        state = self.state
        if state.mode == "ACTIVE":
            return None
        state.mode, state.mode_plugin, state.mode_reason = "ACTIVE", by, reason
        self.actions.append({"ts_ns": state.now_ns, "mode": "ACTIVE", "plugin": by, "reason": reason})
        if self.audit is not None:
            self.audit.append("resume", state.now_ns, {"by": by, "reason": reason})
        return RiskAction(mode="ACTIVE", plugin=by, reason=reason)

    def summary(self) -> dict[str, Any]:
        """Counts for the run folder's summary."""
        state = self.state
        return {"checked": self.checked, "vetoed": len(self.vetoes), "vetoes_by_plugin": dict(self.veto_counts),
                "mode": state.mode, "mode_reason": state.mode_reason, "actions": list(self.actions),
                "plugins": [p.name for p in self.plugins], "pnl": state.pnl, "peak_pnl": state.peak_pnl,
                "positions": state.positions.snapshot(state.marks()), "var": dict(state.var)}
