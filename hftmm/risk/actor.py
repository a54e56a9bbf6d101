"""Nautilus glue: runs the ``RiskChain`` inside a node (backtest or live).

``RiskActor`` builds the chain from the ``risk`` section, and

- serves the check endpoint ``hftmm.risk.check`` on the message bus: ``MarketMakingStrategy``
  sends every ``OrderIntent`` there before an order, amendment or cancel leaves it (the bus
  calls handlers synchronously, so the verdict is on the intent when ``send`` returns);
- feeds the chain NBBO quotes, short-sale-restriction flags, order events and fills;
- runs the chain's timer, and publishes mode changes on ``hftmm.risk.mode``: strategies cancel
  their orders on HALTED; the node's own RiskEngine is set to the same TradingState (HALTED,
  REDUCING, ACTIVE) when the assembly binds it (``bind_trading_state``), a second line of defence;
- listens on ``hftmm.venue.connection`` for ``(venue, connected)`` from execution clients;
- serves ``hftmm.risk.resume`` (an operator's explicit resume, with who and why) and
  ``hftmm.risk.halt`` (an operator's halt, or failover on losing the lease), and
  ``hftmm.risk.current_mode`` (strategies ask on start);
- keeps the mode in force in the cache's general store (``hftmm:risk:mode``; written through to
  Redis on a live node) and takes it over on start: a node restarted after a halt, or a standby
  taking over from a halted leader, stays halted until an operator resumes. The halt of a node
  that lost the failover lease is its own and is not kept.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from nautilus_trader.common.actor import Actor
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import ActorConfig
from nautilus_trader.model.data import InstrumentStatus, QuoteTick
from nautilus_trader.model.enums import OrderSide, TradingState
from nautilus_trader.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderUpdated,
)
from nautilus_trader.model.identifiers import InstrumentId

from hftmm.metrics.registry import NodeMetrics
from hftmm.risk.audit import AuditTrail
from hftmm.control.bus import PARAM_CHANGE_TOPIC, RISK_PARAMS_ENDPOINT
from hftmm.risk.bus import (
    CHECK_ENDPOINT,
    FAILOVER_PLUGIN,
    HALT_ENDPOINT,
    MODE_ENDPOINT,
    MODE_KEY,
    MODE_TOPIC,
    RESUME_ENDPOINT,
    VENUE_TOPIC,
)
from hftmm.risk.chain import RiskChain
from hftmm.risk.config import build_plugins
from hftmm.risk.intent import OrderIntent, RiskAction


_CLOSED = {OrderCanceled: "canceled", OrderRejected: "rejected", OrderExpired: "expired", OrderDenied: "denied"}
_STATES = {"ACTIVE": TradingState.ACTIVE, "REDUCING": TradingState.REDUCING, "HALTED": TradingState.HALTED}


class RiskActorConfig(ActorConfig, frozen=True):
    """Configuration of ``RiskActor``.

    Parameters
    ----------
    instruments : list[str]
        Instrument ids whose NBBO and status the chain follows.
    plugins : list[dict]
        ``risk.plugins`` entries (``{"path": ..., **params}``).
    timer_interval_s : float
        Period of the chain's timer, seconds.
    sigma_refit_s : float
        Period of the volatility refit, seconds.
    audit_path : str, optional
        The audit trail file (none: no trail).
    run_id : str
        Stated in the trail's opening record.
    timer_start_ns : int, optional
        When the timer starts (UTC ns): a backtest starts it a warm-up before trading rather than
        at the first event of the day (None: now).
    """

    instruments: list[str]
    plugins: list[dict[str, Any]] = []
    timer_interval_s: float = 1.0
    sigma_refit_s: float = 900.0
    audit_path: str | None = None
    run_id: str = ""
    timer_start_ns: int | None = None


class RiskActor(Actor):
    """Runs the risk chain in the node (see the module docstring)."""

    def __init__(self, config: RiskActorConfig) -> None:
        super().__init__(config)
        self.chain = RiskChain(build_plugins(list(config.plugins)), sigma_refit_s=config.sigma_refit_s)
        self._set_trading_state: Callable[[TradingState], None] | None = None

    def bind_trading_state(self, setter: Callable[[TradingState], None]) -> None:
        """Give the actor the node RiskEngine's ``set_trading_state`` (the assembly does this)."""
        self._set_trading_state = setter

    def on_start(self) -> None:
        """Open the trail, subscribe, register the endpoints and start the timer."""
        cfg = self.config
        if cfg.audit_path is not None:
            self.chain.audit = AuditTrail(Path(cfg.audit_path), {
                "run_id": cfg.run_id, "trader_id": self.trader_id.value if self.trader_id else "",
                "plugins": [p.name for p in self.chain.plugins], "instruments": list(cfg.instruments)})
        for iid in cfg.instruments:
            instrument_id = InstrumentId.from_str(iid)
            self.subscribe_quote_ticks(instrument_id)
            self.subscribe_instrument_status(instrument_id)
        self.msgbus.register(CHECK_ENDPOINT, self._check)
        self.msgbus.register(RESUME_ENDPOINT, self._resume)
        self.msgbus.register(HALT_ENDPOINT, self._halt)
        self.msgbus.register(RISK_PARAMS_ENDPOINT, self._on_params_request)
        self.msgbus.register(MODE_ENDPOINT, self._current_mode)
        self._restore_mode()
        self.msgbus.subscribe(PARAM_CHANGE_TOPIC, self._on_param_change)
        self.msgbus.subscribe("events.order.*", self._on_order_event)
        self.msgbus.subscribe(VENUE_TOPIC, self._on_venue)
        self._declare_veto_series()
        start = cfg.timer_start_ns
        self.clock.set_timer(
            "hftmm-risk", timedelta(seconds=cfg.timer_interval_s), callback=self._on_timer,
            start_time=pd.Timestamp(start, tz="UTC") if start is not None and start > self.clock.timestamp_ns() else None)

    def on_stop(self) -> None:
        """Close the audit trail (with its closing record)."""
        if self.chain.audit is not None:
            self.chain.audit.close(self.clock.timestamp_ns())

    # -- inputs ---------------------------------------------------------------------------------

    def _check(self, intent: OrderIntent) -> None:
        intent.ts_ns = self.clock.timestamp_ns()
        metrics = NodeMetrics.current()
        if metrics is None:
            self.chain.check(intent)
        else:
            t = time.perf_counter_ns()
            self.chain.check(intent)
            metrics.risk_chain.observe((time.perf_counter_ns() - t) * 1e-9)
        if not intent.allowed:
            self.log.warning(f"risk veto {intent.plugin}: {intent.kind} {intent.client_order_id} "
                             f"{intent.instrument_id}: {intent.reason}")

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """Keep the chain's NBBO current."""
        self.chain.on_quote(tick.instrument_id.value, float(tick.bid_price), float(tick.ask_price),
                            float(tick.bid_size), float(tick.ask_size), tick.ts_event)

    def on_instrument_status(self, data: InstrumentStatus) -> None:
        """Follow the short-sale restriction flag."""
        restricted = data.is_short_sell_restricted
        if restricted is not None:
            self.chain.on_short_sale_restriction(data.instrument_id.value, bool(restricted), data.ts_event)

    def _on_order_event(self, event: Any) -> None:
        ts = event.ts_event
        if isinstance(event, OrderFilled):
            order = self.cache.order(event.client_order_id)
            leaves = float(order.leaves_qty) if order is not None else 0.0
            fee = float(event.commission) if event.commission is not None else 0.0
            actions = self.chain.on_fill(
                event.strategy_id.value, event.instrument_id.value, event.client_order_id.value,
                1 if event.order_side == OrderSide.BUY else -1, float(event.last_qty), float(event.last_px),
                fee, leaves, ts, event.trade_id.value)
            self._act(actions)
            return
        kind = _CLOSED.get(type(event))
        if kind is not None:
            detail = getattr(event, "reason", "") or ""
            self.chain.on_order_event(kind, event.client_order_id.value, ts, detail=str(detail))
        elif isinstance(event, OrderUpdated):
            order = self.cache.order(event.client_order_id)
            leaves = float(order.leaves_qty) if order is not None else float(event.quantity)
            price = float(event.price) if event.price is not None else None
            self.chain.on_order_event("updated", event.client_order_id.value, ts, leaves, price)
        elif isinstance(event, OrderAccepted):
            self.chain.on_order_event("accepted", event.client_order_id.value, ts,
                                      detail=event.venue_order_id.value)

    def _on_venue(self, message: tuple[str, bool]) -> None:
        venue, connected = message
        self.chain.set_venue_connected(venue, connected, self.clock.timestamp_ns())

    def _on_timer(self, event: TimeEvent) -> None:
        self._act(self.chain.on_timer(event.ts_event))

    def _resume(self, request: dict[str, str]) -> None:
        action = self.chain.resume(request.get("by", "operator"), request.get("reason", ""))
        if action is not None:
            self._act([action])

    def _halt(self, request: dict[str, str]) -> None:
        action = self.chain.halt(request.get("by", "operator"), request.get("reason", ""))
        if action is not None:
            self._act([action])

    def _current_mode(self, request: dict[str, Any]) -> None:
        request["action"] = self.chain.current_action()

    def _restore_mode(self) -> None:
        raw = self.cache.get(MODE_KEY)
        if not raw:
            return
        try:
            kept = json.loads(raw)
            action = self.chain.restore_mode(str(kept["mode"]), str(kept["plugin"]), str(kept["reason"]))
        except (ValueError, KeyError, TypeError) as e:
            # Unreadable: refuse to guess that trading may go on.
            action = self.chain.halt("restore", f"the kept risk mode {raw!r} is unreadable ({e}): halted until resumed")
        if action is not None:
            self._act([action])

    def _keep_mode(self, action: RiskAction) -> None:
        if action.plugin == FAILOVER_PLUGIN:
            return
        kept = self.chain.current_action()
        self.cache.add(MODE_KEY, json.dumps({"mode": kept.mode, "plugin": kept.plugin, "reason": kept.reason,
                                             "ts": self.clock.timestamp_ns()}).encode())

    def _on_params_request(self, request: dict[str, Any]) -> None:
        """``{"plugins": [...]}``: validate and swap the plugins (a runtime update)."""
        try:
            self.chain.replace_plugins(build_plugins(list(request["plugins"])))
            request["applied"] = True
            self._declare_veto_series()
        except Exception as e:  # noqa: BLE001 - the reason goes back to the operator
            request["applied"], request["error"] = False, str(e)

    def _declare_veto_series(self) -> None:
        # One veto series per plugin at zero, so a rate or increase over them sees the first veto.
        metrics = NodeMetrics.current()
        if metrics is not None:
            for plugin in self.chain.plugins:
                metrics.risk_vetoes.labels(plugin.name)

    def _on_param_change(self, change: dict[str, Any]) -> None:
        if self.chain.audit is not None:
            self.chain.audit.append("param_change", self.clock.timestamp_ns(), change)

    # -- outputs --------------------------------------------------------------------------------

    def _act(self, actions: list[RiskAction]) -> None:
        for action in actions:
            self.log.warning(f"risk mode {action.mode} by {action.plugin}: {action.reason}")
            if self._set_trading_state is not None:
                self._set_trading_state(_STATES[action.mode])
            self.msgbus.publish(MODE_TOPIC, action)
            self._keep_mode(action)
