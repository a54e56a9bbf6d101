"""``MarketMakingStrategy``: the base class strategy plugin authors subclass.

A plugin implements one method, ``get_quotes(state) -> Quotes``: the bid and ask levels it wants
now, or none per side. The base class owns everything else: the L2 book subscription, the trading
window, tick rounding and post-only safety, the order lifecycle (one working order per level and
side; amend in place when only the price moves or the size shrinks; cancel and replace when the
size grows), routing every order, amendment and cancel through hftmm's risk chain (when the node
runs ``hftmm.risk.actor.RiskActor``; a vetoed order is simply not sent), adopting working orders
from the cache on start so a restart never duplicates quotes, flattening before the close,
pausing on trading halts, and cancelling everything when the risk layer halts trading.

Prices in ``Quotes`` are in dollars; the base rounds bids down and asks up to the tick (never
narrower than asked) and never lets a quote reach the opposite touch.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import msgspec
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import InstrumentStatus, OrderBookDeltas
from nautilus_trader.model.enums import BookType, MarketStatusAction, OrderSide, OrderStatus, TimeInForce
from nautilus_trader.model.events import OrderCanceled, OrderEvent, OrderExpired, OrderFilled, OrderRejected
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.orders import LimitOrder, Order
from nautilus_trader.trading.strategy import Strategy

from hftmm.control.bus import CURRENT_PARAMS_ENDPOINT, PARAMS_ENDPOINT_PREFIX, STRATEGY_ERROR_TOPIC
from hftmm.eventlog.schema import COMMAND_TOPIC, QUOTE_TOPIC, Command, QuoteIntent
from hftmm.metrics.registry import NodeMetrics
from hftmm.models.toxicity import FEATURES
from hftmm.risk.bus import CHECK_ENDPOINT, MODE_ENDPOINT, MODE_TOPIC
from hftmm.risk.intent import OrderIntent, RiskAction
from strategies.quoting.quote_shaping import Level, Quotes
from strategies.toxicity import ToxicityFeatures

__all__ = ["InventoryQuoterConfig", "Level", "MarketMakingConfig", "MarketMakingStrategy", "MarketState", "NO_QUOTES", "Quotes"]

_WORKING = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)
_HALTING = (MarketStatusAction.HALT, MarketStatusAction.PAUSE, MarketStatusAction.SUSPEND, MarketStatusAction.CLOSE)


NO_QUOTES = Quotes()
_VETO_RETRY_NS = 1_000_000_000
# Kept state older than this is not restored: the estimators would be further off than a fresh start.
_STATE_MAX_AGE_NS = 600 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class MarketState:
    """What ``get_quotes`` sees.

    Attributes
    ----------
    ts_ns : int
        Event time, UTC nanoseconds.
    best_bid, best_ask : float
        Touch prices of the consolidated L2 book (never crossed or locked here).
    best_bid_size, best_ask_size : float
        Shares at the touch.
    mid : float
        ``(best_bid + best_ask) / 2``.
    tick : float
        Price increment, dollars.
    position : float
        Signed net position, shares.
    time_to_close_s : float or None
        Seconds to the session close, None when the strategy has no close.
    book : OrderBook
        The maintained Nautilus L2 book, for strategies that look deeper than the touch.
    """

    ts_ns: int
    best_bid: float
    best_ask: float
    best_bid_size: float
    best_ask_size: float
    mid: float
    tick: float
    position: float
    time_to_close_s: float | None
    book: OrderBook


class MarketMakingConfig(StrategyConfig, frozen=True, forbid_unknown_fields=True):
    """Parameters every market maker has; plugin configs subclass this.

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument to quote (one strategy instance per instrument).
    trading_start_ns, trading_end_ns : int, optional
        Quote only in [start, end) (UTC ns); the runner sets them from the config's ET times.
    session_close_ns : int, optional
        The session close (UTC ns), the horizon of finite-horizon models.
    flatten_before_close_s : float
        From this many seconds before ``trading_end_ns``: cancel all quotes and close the position
        (0 disables it).
    state_interval_s : float, optional
        How often the strategy's own state (``state_snapshot``) is written through the cache's
        general store; a live node's cache writes it on to Redis, so a restarted node or a standby
        taking over resumes from it. None (backtests): never.
    """

    instrument_id: InstrumentId
    trading_start_ns: int | None = None
    trading_end_ns: int | None = None
    session_close_ns: int | None = None
    flatten_before_close_s: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    state_interval_s: Annotated[float, msgspec.Meta(gt=0)] | None = None


class InventoryQuoterConfig(MarketMakingConfig, frozen=True, forbid_unknown_fields=True):
    """Parameters shared by the model-based quoters (A-S, GLFT): sizes, the position bound and
    the online volatility estimate.

    Parameters
    ----------
    sigma : float
        Initial volatility of the mid, dollars per sqrt(second).
    sigma_halflife_s : float
        Half-life of the online EWMA volatility estimate, seconds.
    sigma_sample_s : float
        Minimum spacing of the mid samples that feed the estimate, seconds.
    order_qty : int
        Shares per quote (the inventory unit of the models' ``gamma``).
    max_position : int
        Absolute position cap in shares: the side that would grow the position past it stops quoting.
    """

    sigma: Annotated[float, msgspec.Meta(gt=0)] = 0.005
    sigma_halflife_s: Annotated[float, msgspec.Meta(gt=0)] = 300.0
    sigma_sample_s: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    order_qty: Annotated[int, msgspec.Meta(gt=0)] = 100
    max_position: Annotated[int, msgspec.Meta(gt=0)] = 500


class MarketMakingStrategy(Strategy):
    """Base class: implement ``get_quotes``; the order lifecycle is handled here.

    Parameters
    ----------
    config : MarketMakingConfig
        The strategy configuration.
    """

    def __init__(self, config: MarketMakingConfig) -> None:
        super().__init__(config)
        # The parameters in force: the config at start, replaced by runtime updates
        # (``update_params``); Nautilus's own ``config`` attribute is read-only.
        self._params = config
        # Until when an exception in get_quotes is caught and reported (a runtime update's grace
        # period, so a bad update is rolled back instead of stopping the strategy).
        self._guard_until_ns = 0
        self.quote_errors = 0
        self._instrument: Instrument | None = None
        self._tick = 0.0
        self._precision = 0
        # Working (or in-flight) order per side and level index.
        self._slots: dict[OrderSide, dict[int, LimitOrder]] = {OrderSide.BUY: {}, OrderSide.SELL: {}}
        self._halted = False
        self._closed = False
        self._flattened = False
        # The last targets worked, and whether any of our orders changed since: most book events
        # leave both unchanged, and then there is nothing to do.
        self._last_targets: tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]] | None = None
        self._orders_changed = True
        self._disabled_reason: str | None = None
        # Whether a risk chain serves the node (checked on start), and its mode.
        self._risk = False
        self._risk_mode = "ACTIVE"
        self.vetoed = 0
        # When a new order of a side was last refused: the side waits for an order event (a fill
        # changes the position) or _VETO_RETRY_NS before asking again, instead of on every book event.
        self._vetoed_at: dict[OrderSide, int] = {}
        # Toxicity features of the current market, and their values at each of our fills (the
        # runner writes these to fill_features.parquet for hftmm train-toxicity).
        self.features: ToxicityFeatures | None = None
        self.fill_features: list[dict[str, object]] = []
        # ts_init of the book event being handled: orders carry it as an ``md=<ns>`` tag so that a
        # live execution client can measure tick-to-trade (adapters/fix/execution.py reads it).
        self._md_ts_init = 0
        self._md_ts_event = 0
        # How old the state taken over from the previous node was (None: started fresh).
        self.restored_state_age_s: float | None = None

    # -- the plugin API ---------------------------------------------------------------------------

    @property
    def params(self) -> MarketMakingConfig:
        """The parameters in force (read these, not ``config``, so runtime updates apply)."""
        return self._params

    def update_params(self, new: MarketMakingConfig, guard_s: float = 0.0) -> None:
        """Switch to ``new`` parameters now (validated by the caller against this strategy's config
        class); for ``guard_s`` seconds an exception in ``get_quotes`` is reported on
        ``hftmm.strategy.error`` instead of raised, so the update can be rolled back."""
        if new.instrument_id != self._params.instrument_id:
            raise ValueError(f"instrument_id cannot change at runtime ({self._params.instrument_id} -> {new.instrument_id})")
        old, self._params = self._params, new
        self._guard_until_ns = self.clock.timestamp_ns() + int(guard_s * 1e9) if guard_s > 0 else 0
        self._last_targets, self._orders_changed = None, True
        self._vetoed_at.clear()
        self.on_params_changed(old, new)

    def on_params_changed(self, old: MarketMakingConfig, new: MarketMakingConfig) -> None:
        """Drop whatever was derived from the old parameters. The default does nothing."""

    def state_snapshot(self) -> dict[str, Any]:
        """The strategy's own state worth keeping across a restart or a failover (JSON-able:
        estimators, calibrated values). Orders and positions need nothing here: the cache and the
        venue's reconciliation restore them. The default keeps nothing."""
        return {}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Take over the ``state_snapshot()`` of the node this one restarts or replaces (called on
        start, after the parameters in force are applied). The default does nothing."""

    def get_quotes(self, state: MarketState) -> Quotes:
        """Return the quotes to work now. Plugin authors implement this."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_quotes(state)")

    def on_market_state(self, state: MarketState) -> None:
        """Called on every book event before ``get_quotes``, also outside the trading window
        (e.g. to keep estimators warm). The default does nothing."""

    def disable(self, reason: str) -> None:
        """Refuse to quote for the rest of the run (a setup problem), with a logged reason.

        Calling ``stop()`` from ``on_start`` trips Nautilus's component state machine; a disabled
        strategy simply never subscribes nor sends an order.
        """
        self._disabled_reason = reason
        self.log.error(f"not quoting: {reason}")

    @property
    def disabled_reason(self) -> str | None:
        """Why the strategy refused to quote, or None."""
        return self._disabled_reason

    # -- lifecycle --------------------------------------------------------------------------------

    def on_start(self) -> None:
        """Subscribe to the L2 book and adopt working orders (a restart must not duplicate quotes)."""
        if self._disabled_reason is not None:
            return
        iid = self.params.instrument_id
        self._instrument = self.cache.instrument(iid)
        if self._instrument is None:
            self.disable(f"instrument {iid} not in the cache")
            return
        self._tick = float(self._instrument.price_increment)
        self._precision = self._instrument.price_precision
        self.features = ToxicityFeatures(self._tick)
        self._adopt_working_orders()
        self._risk = CHECK_ENDPOINT in self.msgbus.endpoints()
        self.msgbus.register(PARAMS_ENDPOINT_PREFIX + self.id.value, self._on_params_request)
        # Runtime updates in force on the node this one restarts or takes over from.
        current = self._ask(CURRENT_PARAMS_ENDPOINT)
        if current.get("params") is not None:
            restore = {"params": current["params"], "guard_s": 0.0}
            self._on_params_request(restore)
            if not restore["applied"]:
                self.log.error(f"cannot take the parameters in force: {restore['error']}")
        if self.params.state_interval_s is not None:
            self._load_state()
            self.clock.set_timer("hftmm-state", timedelta(seconds=self.params.state_interval_s), callback=self._save_state)
        if self._risk:
            self.msgbus.subscribe(MODE_TOPIC, self._on_risk_mode)
            # A node restarted after a halt, or taking over from a halted leader, starts halted.
            mode = self._ask(MODE_ENDPOINT)
            if mode.get("action") is not None and mode["action"].mode != "ACTIVE":
                self._on_risk_mode(mode["action"])
        self.subscribe_order_book_deltas(iid, book_type=BookType.L2_MBP, managed=True)
        self.subscribe_instrument_status(iid)

    def _ask(self, endpoint: str) -> dict[str, Any]:
        """Send an empty request to ``endpoint`` and return what its handler wrote into it (nothing
        when no component serves it: a backtest without control, a node without risk)."""
        request: dict[str, Any] = {}
        if endpoint in self.msgbus.endpoints():
            self.msgbus.send(endpoint, request)
        return request

    def _adopt_working_orders(self) -> None:
        for side in (OrderSide.BUY, OrderSide.SELL):
            orders = [
                o for o in self.cache.orders_open(instrument_id=self.params.instrument_id, strategy_id=self.id)
                if isinstance(o, LimitOrder) and o.side == side
            ]
            # Best price first, so level 0 is the touch-most order, as in Quotes.
            orders.sort(key=lambda o: -float(o.price) if side == OrderSide.BUY else float(o.price))
            for level, order in enumerate(orders):
                self._slots[side][level] = order

    def on_stop(self) -> None:
        """Cancel every working quote; keep the state a last time."""
        if self._instrument is not None:
            self._cancel_all()
            if self.params.state_interval_s is not None:
                self._save_state()

    @property
    def _state_key(self) -> str:
        return f"hftmm:strategy:{self.id.value}"

    def _save_state(self, _event: object = None) -> None:
        kept = {"ts": self.clock.timestamp_ns(), "state": self.state_snapshot()}
        self.cache.add(self._state_key, json.dumps(kept).encode())

    def _load_state(self) -> None:
        raw = self.cache.get(self._state_key)
        if not raw:
            return
        try:
            kept = json.loads(raw)
            age_ns = self.clock.timestamp_ns() - int(kept["ts"])
            state = dict(kept["state"])
        except (ValueError, KeyError, TypeError) as e:
            self.log.error(f"kept state {self._state_key} is unreadable ({e}): starting fresh")
            return
        if age_ns > _STATE_MAX_AGE_NS:
            self.log.warning(f"kept state is {age_ns / 1e9:.0f} s old: starting fresh")
            return
        try:
            self.restore_state(state)
        except Exception as e:  # noqa: BLE001 - a plugin's restore must not stop the node from quoting
            self.log.error(f"cannot restore the kept state ({type(e).__name__}: {e}): starting fresh")
            return
        self.restored_state_age_s = age_ns / 1e9
        self.log.warning(f"state of the previous node restored (kept {age_ns / 1e9:.2f} s before): {state}")

    def on_reset(self) -> None:
        """Forget per-run state."""
        self._slots = {OrderSide.BUY: {}, OrderSide.SELL: {}}
        self._halted = self._closed = self._flattened = False
        self._risk_mode = "ACTIVE"
        self._last_targets, self._orders_changed = None, True
        self.fill_features = []

    def on_instrument_status(self, data: InstrumentStatus) -> None:
        """Pause on a halt (cancel everything, quote nothing) until trading resumes."""
        halted = data.action in _HALTING
        if halted and not self._halted:
            self.log.warning(f"{data.instrument_id} {data.action.name}: pausing quoting")
            self._cancel_all()
        elif not halted and self._halted:
            self.log.info(f"{data.instrument_id} {data.action.name}: resuming quoting")
        self._halted = halted

    # -- market data ------------------------------------------------------------------------------

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        """Build the market state, ask the plugin for quotes, and work the orders."""
        started = time.perf_counter_ns()
        self._md_ts_init = deltas.ts_init
        self._md_ts_event = deltas.ts_event
        cfg = self.params
        book: OrderBook | None = self.cache.order_book(cfg.instrument_id)
        if book is None:
            return
        best_bid, best_ask = book.best_bid_price(), book.best_ask_price()
        if best_bid is None or best_ask is None:
            return
        bid_px, ask_px = float(best_bid), float(best_ask)
        if bid_px >= ask_px:
            # A crossed or locked consolidated book is not a price to quote against.
            return
        now = self.clock.timestamp_ns()
        close = cfg.session_close_ns
        state = MarketState(
            ts_ns=now,
            best_bid=bid_px,
            best_ask=ask_px,
            best_bid_size=float(book.best_bid_size()),
            best_ask_size=float(book.best_ask_size()),
            mid=0.5 * (bid_px + ask_px),
            tick=self._tick,
            position=float(self.portfolio.net_position(cfg.instrument_id)),
            time_to_close_s=max(close - now, 0) * 1e-9 if close is not None else None,
            book=book,
        )
        if self.features is not None:
            self.features.update(now, bid_px, state.best_bid_size, ask_px, state.best_ask_size)
        self.on_market_state(state)
        if cfg.trading_start_ns is not None and now < cfg.trading_start_ns:
            return
        if cfg.trading_end_ns is not None:
            if now >= cfg.trading_end_ns:
                if not self._closed:
                    self._closed = True
                    self._cancel_all()
                return
            if cfg.flatten_before_close_s and now >= cfg.trading_end_ns - int(cfg.flatten_before_close_s * 1e9):
                self._flatten()
                return
        if self._halted or self._risk_mode == "HALTED":
            return
        if self._guard_until_ns and now < self._guard_until_ns:
            try:
                quotes = self.get_quotes(state)
            except Exception as e:  # noqa: BLE001 - reported; the control actor rolls the update back
                self.quote_errors += 1
                self.log.error(f"get_quotes failed with the new parameters: {type(e).__name__}: {e}")
                self.msgbus.publish(STRATEGY_ERROR_TOPIC, {"strategy": self.id.value, "error": f"{type(e).__name__}: {e}"})
                return
        else:
            quotes = self.get_quotes(state)
        self.work_quotes(quotes, state)
        metrics = NodeMetrics.current()
        if metrics is not None:
            metrics.strategy_calc.labels(cfg.instrument_id.value).observe((time.perf_counter_ns() - started) * 1e-9)

    def _flatten(self) -> None:
        if self._flattened:
            return
        self._flattened = True
        self.log.info("flattening before the close")
        self._cancel_all()
        position = float(self.portfolio.net_position(self.params.instrument_id))
        if position == 0:
            return
        order = self.order_factory.market(
            instrument_id=self.params.instrument_id,
            order_side=OrderSide.SELL if position > 0 else OrderSide.BUY,
            quantity=Quantity.from_int(int(abs(position))),
            reduce_only=True,
        )
        if self._allowed("new", order, float(order.quantity), math.nan, reduce_only=True):
            self.submit_order(order)

    # -- risk ---------------------------------------------------------------------------------------

    def _allowed(self, kind: str, order: Order, quantity: float, price: float, reduce_only: bool = False) -> bool:
        """Ask the node's risk chain (synchronously, over the message bus; True without one) and
        record the command with its verdict in the event log."""
        side = 1 if order.side == OrderSide.BUY else -1
        post_only = bool(getattr(order, "is_post_only", False))
        allowed, plugin, reason = True, "", ""
        if self._risk:
            intent = OrderIntent(
                kind=kind, strategy_id=self.id.value, instrument_id=self.params.instrument_id.value,
                client_order_id=order.client_order_id.value, side=side, quantity=quantity, price=price,
                post_only=post_only, reduce_only=reduce_only,
            )
            self.msgbus.send(CHECK_ENDPOINT, intent)
            allowed, plugin, reason = intent.allowed, intent.plugin, intent.reason
            if not allowed:
                self.vetoed += 1
        self.msgbus.publish(COMMAND_TOPIC, Command(
            ts=self.clock.timestamp_ns(), strategy=self.id.value, instrument=self.params.instrument_id.value,
            kind="submit" if kind == "new" else kind, order=order.client_order_id.value, side=side, quantity=quantity,
            price=None if math.isnan(price) else price, order_type=order.order_type.name, post_only=post_only,
            reduce_only=reduce_only, allowed=allowed, plugin=plugin, reason=reason,
            md_ts_init=self._md_ts_init, md_ts_event=self._md_ts_event))
        return allowed

    def _cancel(self, order: Order) -> None:
        self._allowed("cancel", order, float(order.leaves_qty), float(order.price) if order.has_price else math.nan)
        self.cancel_order(order)

    def _cancel_all(self) -> None:
        iid = self.params.instrument_id
        orders = {o.client_order_id: o for o in self.cache.orders_inflight(instrument_id=iid, strategy_id=self.id)}
        orders.update((o.client_order_id, o) for o in self.cache.orders_open(instrument_id=iid, strategy_id=self.id))
        for order in orders.values():
            if order.status != OrderStatus.PENDING_CANCEL and not order.is_closed:
                self._cancel(order)

    def _on_params_request(self, request: dict) -> None:
        """``{"params": {...}, "guard_s": s}`` from the control actor: validate into this
        strategy's config class and apply; the outcome is written back into the request."""
        import msgspec

        from nautilus_trader.common.config import msgspec_decoding_hook

        try:
            raw = {**request["params"], "instrument_id": self._params.instrument_id.value,
                   "order_id_tag": self._params.order_id_tag, "trading_start_ns": self._params.trading_start_ns,
                   "state_interval_s": self._params.state_interval_s,
                   "trading_end_ns": self._params.trading_end_ns, "session_close_ns": self._params.session_close_ns}
            new = msgspec.convert(raw, type(self._params), dec_hook=msgspec_decoding_hook)
            self.update_params(new, float(request.get("guard_s", 0.0)))
            request["applied"] = True
        except Exception as e:  # noqa: BLE001 - the reason goes back to the operator
            request["applied"], request["error"] = False, f"{type(e).__name__}: {e}"

    def _on_risk_mode(self, action: RiskAction) -> None:
        """HALTED: cancel everything and stop quoting until resumed. REDUCING: cancel the quotes
        that would grow the position. ACTIVE: quote again on the next book event."""
        self._risk_mode = action.mode
        self._orders_changed = True
        self._vetoed_at.clear()
        if action.mode == "HALTED":
            self.log.error(f"risk halt ({action.plugin}: {action.reason}): cancelling all orders")
            self._cancel_all()
        elif action.mode == "REDUCING":
            position = float(self.portfolio.net_position(self.params.instrument_id))
            for order in self.cache.orders_open(instrument_id=self.params.instrument_id, strategy_id=self.id):
                grows = (order.side == OrderSide.BUY and position >= 0) or (order.side == OrderSide.SELL and position <= 0)
                if grows:
                    self._cancel(order)

    # -- order lifecycle --------------------------------------------------------------------------

    def work_quotes(self, quotes: Quotes, state: MarketState) -> None:
        """Make the working orders match ``quotes`` with as few messages as possible."""
        touch_bid = round(state.best_bid / self._tick)
        touch_ask = round(state.best_ask / self._tick)
        bid_targets: dict[int, tuple[int, int]] = {}
        ask_targets: dict[int, tuple[int, int]] = {}
        for i, level in enumerate(quotes.bids):
            if level.size > 0 and math.isfinite(level.price):
                # Round away from the mid, and post-only: strictly below the best ask.
                bid_targets[i] = (min(math.floor(level.price / self._tick + 1e-6), touch_ask - 1), int(level.size))
        for i, level in enumerate(quotes.asks):
            if level.size > 0 and math.isfinite(level.price):
                ask_targets[i] = (max(math.ceil(level.price / self._tick - 1e-6), touch_bid + 1), int(level.size))
        targets = (bid_targets, ask_targets)
        if targets == self._last_targets:
            if not self._orders_changed:
                return
        else:
            tick = self._tick
            self.msgbus.publish(QUOTE_TOPIC, QuoteIntent(
                ts=state.ts_ns, strategy=self.id.value, instrument=self.params.instrument_id.value,
                bids=[(round(t * tick, self._precision), n) for _, (t, n) in sorted(bid_targets.items())],
                asks=[(round(t * tick, self._precision), n) for _, (t, n) in sorted(ask_targets.items())]))
        self._last_targets, self._orders_changed = targets, False
        for side, side_targets in ((OrderSide.BUY, bid_targets), (OrderSide.SELL, ask_targets)):
            for i in sorted(set(self._slots[side]) | set(side_targets)):
                self._work_level(side, i, side_targets.get(i))

    def _work_level(self, side: OrderSide, level: int, target: tuple[int, int] | None) -> None:
        slots = self._slots[side]
        order = slots.get(level)
        if order is not None and order.is_closed:
            del slots[level]
            order = None
        if order is None:
            if target is not None:
                vetoed_at = self._vetoed_at.get(side)
                if vetoed_at is not None and self.clock.timestamp_ns() - vetoed_at < _VETO_RETRY_NS:
                    return
                self._submit(side, level, *target)
            return
        if order.status not in _WORKING:
            return  # in flight: wait for the venue's answer before touching it again
        if target is None:
            self._cancel(order)
            return
        ticks, size = target
        price = Price(ticks * self._tick, self._precision)
        if size > int(order.quantity):
            # More than the order was placed for: an amend up would lose the queue anyway, so
            # cancel and replace (the new order goes in once the cancel is acknowledged, keeping
            # one order per level). A partial fill alone never triggers this: the remainder works.
            self._cancel(order)
            return
        filled, leaves = int(order.filled_qty), int(order.leaves_qty)
        # Nautilus amends the order's total quantity; shrinking the remainder keeps what filled.
        quantity = Quantity.from_int(filled + size) if size < leaves else None
        if quantity is not None or price != order.price:
            leaves_after = float(size if size < leaves else leaves)
            if self._allowed("modify", order, leaves_after, float(price)):
                self.modify_order(order, quantity=quantity, price=price if price != order.price else None)

    def _submit(self, side: OrderSide, level: int, ticks: int, size: int) -> None:
        order = self.order_factory.limit(
            instrument_id=self.params.instrument_id,
            order_side=side,
            quantity=Quantity.from_int(size),
            price=Price(ticks * self._tick, self._precision),
            time_in_force=TimeInForce.GTC,
            post_only=True,
            # The receive time of the market data behind this order: live execution clients
            # measure tick-to-trade from it.
            tags=[f"md={self._md_ts_init}"] if self._md_ts_init else None,
        )
        if not self._allowed("new", order, float(size), float(order.price)):
            self._vetoed_at[side] = self.clock.timestamp_ns()
            return
        self._slots[side][level] = order
        self.submit_order(order)

    def _release(self, client_order_id: ClientOrderId) -> None:
        for slots in self._slots.values():
            for level, order in list(slots.items()):
                if order.client_order_id == client_order_id:
                    del slots[level]

    def on_order_event(self, event: OrderEvent) -> None:
        """Any event on our orders (ack, amend, fill, cancel, reject) means the quotes need a look."""
        self._orders_changed = True
        self._vetoed_at.clear()

    def on_order_rejected(self, event: OrderRejected) -> None:
        """A post-only reject frees the level; the next book event quotes again."""
        self._release(event.client_order_id)

    def on_order_canceled(self, event: OrderCanceled) -> None:
        """Free the level."""
        self._release(event.client_order_id)

    def on_order_expired(self, event: OrderExpired) -> None:
        """Free the level."""
        self._release(event.client_order_id)

    def on_order_filled(self, event: OrderFilled) -> None:
        """Record the fill's features; a full fill frees the level, a partial one keeps working."""
        side = 1 if event.order_side == OrderSide.BUY else -1
        vector = self.features.vector(side) if self.features is not None else None
        if vector is not None:
            self.fill_features.append(
                {"ts_event": event.ts_event, "instrument_id": event.instrument_id.value,
                 "client_order_id": event.client_order_id.value, "trade_id": event.trade_id.value, "side": side,
                 "price": float(event.last_px), "quantity": float(event.last_qty), **dict(zip(FEATURES, vector, strict=True))},
            )
        order = self.cache.order(event.client_order_id)
        if order is not None and order.is_closed:
            self._release(event.client_order_id)
