"""Nautilus glue: feeds ``NodeMetrics`` from the node's message bus and serves the endpoint.

Counts order commands and risk vetoes (from the event log's command records), fills and order
closes (from order events), market data messages; tracks the quoted spread (from quote intents),
the risk mode; and every ``update_interval_s`` sets PnL, inventory, fill rate and the mean markouts
of recent fills at 1, 5 and 30 seconds (against the NBBO mid).
"""

from __future__ import annotations

from collections import deque
from datetime import timedelta
from typing import Any

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import ActorConfig
from nautilus_trader.model.data import QuoteTick, TradeTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderCanceled, OrderExpired, OrderFilled, OrderRejected
from nautilus_trader.model.identifiers import InstrumentId

from hftmm.eventlog.schema import COMMAND_TOPIC, QUOTE_TOPIC, Command, QuoteIntent
from hftmm.metrics.registry import NodeMetrics
from hftmm.risk.bus import MODE_ENDPOINT, MODE_TOPIC
from hftmm.risk.intent import RiskAction

MARKOUT_HORIZONS_S = (1, 5, 30)
_CLOSES = {OrderCanceled: "canceled", OrderRejected: "rejected", OrderExpired: "expired"}


class MetricsActorConfig(ActorConfig, frozen=True):
    """Parameters of ``MetricsActor``.

    Parameters
    ----------
    instruments : list[str]
        Instrument ids to follow.
    port : int
        HTTP port of ``/metrics`` (0: any free port, see ``MetricsActor.port``).
    host : str
        Bind address; loopback by default (the endpoint has no authentication).
    update_interval_s : float
        Period of the PnL, inventory, fill-rate and markout gauges.
    """

    instruments: list[str]
    port: int = 9464
    host: str = "127.0.0.1"
    update_interval_s: float = 1.0


class MetricsActor(Actor):
    """See the module docstring."""

    def __init__(self, config: MetricsActorConfig) -> None:
        super().__init__(config)
        self.metrics = NodeMetrics()
        # Installed now, when the node is built, not in on_start: a live node connects its data
        # and FIX clients before it starts its actors, and what they report while connecting
        # (the session's logon, the feed's series) must reach the endpoint.
        NodeMetrics.install(self.metrics)
        self.port: int | None = None
        self._mids: dict[str, float] = {}
        self._ticks: dict[str, float] = {}
        self._submits: dict[str, int] = {}
        self._fills: dict[str, int] = {}
        # Fills waiting for their markouts: (instrument, due_ns, horizon, side, price).
        self._pending: deque[tuple[str, int, int, int, float]] = deque()
        self._markouts: dict[tuple[str, int], deque[float]] = {}

    def on_start(self) -> None:
        """Install the metrics (again, after a stop), start the endpoint, subscribe."""
        NodeMetrics.install(self.metrics)
        self.port = self.metrics.serve(self.config.port, self.config.host)
        self.log.info(f"metrics on http://{self.config.host}:{self.port}/metrics")
        for iid in self.config.instruments:
            instrument_id = InstrumentId.from_str(iid)
            instrument = self.cache.instrument(instrument_id)
            if instrument is not None:
                self._ticks[iid] = float(instrument.price_increment)
            self.subscribe_quote_ticks(instrument_id)
            self.subscribe_trade_ticks(instrument_id)
        self.msgbus.subscribe("events.order.*", self._on_order_event)
        self.msgbus.subscribe(COMMAND_TOPIC, self._on_command)
        self.msgbus.subscribe(QUOTE_TOPIC, self._on_quote_intent)
        self.msgbus.subscribe(MODE_TOPIC, self._on_mode)
        # The risk actor starts first and may already be in a mode kept from a previous node
        # (a halt survives a restart): ask for the mode in force rather than wait for a change.
        if MODE_ENDPOINT in self.msgbus.endpoints():
            request: dict[str, Any] = {}
            self.msgbus.send(MODE_ENDPOINT, request)
            if request.get("action") is not None:
                self._on_mode(request["action"])
        self.clock.set_timer("hftmm-metrics", timedelta(seconds=self.config.update_interval_s), callback=self._update)

    def on_stop(self) -> None:
        """Stop serving."""
        self.metrics.stop()
        if NodeMetrics.current() is self.metrics:
            NodeMetrics.install(None)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """Count it and keep the mid for markouts."""
        self.metrics.market_data.labels("market", "quote").inc()
        self.metrics.last_market_data.labels("market").set(tick.ts_init / 1e9)
        self._mids[tick.instrument_id.value] = (float(tick.bid_price) + float(tick.ask_price)) / 2

    def on_trade_tick(self, tick: TradeTick) -> None:
        """Count it."""
        self.metrics.market_data.labels("market", "trade").inc()
        self.metrics.last_market_data.labels("market").set(tick.ts_init / 1e9)

    def _on_command(self, command: Command) -> None:
        if command.allowed:
            self.metrics.orders.labels(command.instrument, command.kind).inc()
            if command.kind == "submit":
                self._submits[command.instrument] = self._submits.get(command.instrument, 0) + 1
        else:
            self.metrics.risk_vetoes.labels(command.plugin).inc()

    def _on_quote_intent(self, intent: QuoteIntent) -> None:
        tick = self._ticks.get(intent.instrument)
        if tick and intent.bids and intent.asks:
            self.metrics.quoted_spread.labels(intent.instrument).set(round((intent.asks[0][0] - intent.bids[0][0]) / tick, 6))

    def _on_mode(self, action: RiskAction) -> None:
        self.metrics.set_risk_mode(action.mode)

    def _on_order_event(self, event: object) -> None:
        if isinstance(event, OrderFilled):
            iid = event.instrument_id.value
            side = 1 if event.order_side == OrderSide.BUY else -1
            self.metrics.fills.labels(iid, "BUY" if side > 0 else "SELL", event.liquidity_side.name).inc()
            self.metrics.filled_shares.labels(iid, "BUY" if side > 0 else "SELL").inc(float(event.last_qty))
            self._fills[iid] = self._fills.get(iid, 0) + 1
            for h in MARKOUT_HORIZONS_S:
                self._pending.append((iid, event.ts_event + h * 1_000_000_000, h, side, float(event.last_px)))
            return
        reason = _CLOSES.get(type(event))
        if reason is not None:
            self.metrics.order_closes.labels(event.instrument_id.value, reason).inc()

    def _update(self, event: TimeEvent) -> None:
        now = event.ts_event
        m = self.metrics
        for iid in self.config.instruments:
            instrument_id = InstrumentId.from_str(iid)
            m.inventory.labels(iid).set(float(self.portfolio.net_position(instrument_id)))
            realized = self.portfolio.realized_pnl(instrument_id)
            unrealized = self.portfolio.unrealized_pnl(instrument_id)
            m.pnl.labels(iid).set((float(realized) if realized is not None else 0.0)
                                  + (float(unrealized) if unrealized is not None else 0.0))
            submits = self._submits.get(iid, 0)
            if submits:
                m.fill_rate.labels(iid).set(self._fills.get(iid, 0) / submits)
        # Markouts whose horizon has passed, against the mid now, in bps of the fill price.
        pending = self._pending
        for _ in range(len(pending)):
            iid, due, h, side, px = pending.popleft()
            if due > now:
                pending.append((iid, due, h, side, px))
                continue
            mid = self._mids.get(iid)
            if mid is not None and px > 0:
                window = self._markouts.setdefault((iid, h), deque(maxlen=500))
                window.append(side * (mid - px) / px * 1e4)
                m.markout.labels(iid, str(h)).set(sum(window) / len(window))
