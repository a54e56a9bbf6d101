"""A first Avellaneda-Stoikov market maker on an L2 book.

Nautilus glue around the pure quote maths in ``strategies.quoting.avellaneda_stoikov``: it keeps one
post-only limit order per side, skews both quotes with inventory, and touches an order only when its
tick-rounded target price changes (amending in place), because the order lifecycle, not the data,
is what bounds backtest speed.

Units: prices in dollars; ``sigma`` in dollars per square root of a second, estimated online from
mid changes; ``k`` in 1/dollar; time to the horizon in seconds; inventory ``q`` in order-size units
(position / order_qty), which is the unit ``gamma`` is set for.
"""

from __future__ import annotations

import math
from typing import Annotated

import msgspec
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import BookType, OrderSide, OrderStatus, TimeInForce
from nautilus_trader.model.events import OrderCanceled, OrderExpired, OrderFilled, OrderRejected
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.trading.strategy import Strategy

from strategies.quoting import avellaneda_stoikov as as_model

_WORKING = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


class AvellanedaStoikovConfig(StrategyConfig, frozen=True, forbid_unknown_fields=True):
    """Parameters of ``AvellanedaStoikovMarketMaker``.

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument to quote (one strategy instance per instrument).
    gamma : float
        Risk aversion, per dollar, for inventory counted in order-size units.
    k : float
        Decay of the fill intensity with distance from the mid, per dollar.
    sigma : float
        Initial volatility of the mid, dollars per sqrt(second).
    sigma_halflife_s : float
        Half-life of the online EWMA volatility estimate, seconds.
    sigma_sample_s : float
        Minimum spacing of the mid samples that feed the volatility estimate, seconds.
    order_qty : int
        Shares per quote.
    max_position : int
        Absolute position cap in shares: the side that would grow the position past it stops quoting.
    min_spread_ticks : int
        Minimum distance between our bid and ask, in ticks.
    trading_start_ns, trading_end_ns : int, optional
        Quote only in [start, end) (UTC ns); outside it, working orders are cancelled.
    session_close_ns : int, optional
        The A-S horizon T (UTC ns). Required: the runner sets it from the session close.
    """

    instrument_id: InstrumentId
    gamma: Annotated[float, msgspec.Meta(gt=0)] = 0.01
    k: Annotated[float, msgspec.Meta(gt=0)] = 100.0
    sigma: Annotated[float, msgspec.Meta(gt=0)] = 0.005
    sigma_halflife_s: Annotated[float, msgspec.Meta(gt=0)] = 300.0
    sigma_sample_s: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    order_qty: Annotated[int, msgspec.Meta(gt=0)] = 100
    max_position: Annotated[int, msgspec.Meta(gt=0)] = 500
    min_spread_ticks: Annotated[int, msgspec.Meta(ge=1)] = 1
    trading_start_ns: int | None = None
    trading_end_ns: int | None = None
    session_close_ns: int | None = None


class AvellanedaStoikovMarketMaker(Strategy):
    """Quotes one level per side at the tick-rounded A-S bid and ask.

    Parameters
    ----------
    config : AvellanedaStoikovConfig
        The strategy configuration.
    """

    def __init__(self, config: AvellanedaStoikovConfig) -> None:
        super().__init__(config)
        self._instrument: Instrument | None = None
        self._tick = 0.0
        self._precision = 0
        self._orders: dict[OrderSide, LimitOrder | None] = {OrderSide.BUY: None, OrderSide.SELL: None}
        self._var_per_s = config.sigma * config.sigma
        self._last_sample_ns = 0
        self._last_sample_mid = math.nan
        self._qty: Quantity | None = None
        self._halted = False

    # -- lifecycle ---------------------------------------------------------------------------

    def on_start(self) -> None:
        """Subscribe to the L2 book and adopt any working orders (so a restart never duplicates quotes)."""
        iid = self.config.instrument_id
        self._instrument = self.cache.instrument(iid)
        if self._instrument is None:
            self.log.error(f"instrument {iid} not in the cache; stopping")
            self.stop()
            return
        if self.config.session_close_ns is None:
            self.log.error("session_close_ns is not set: the A-S horizon is undefined; stopping")
            self.stop()
            return
        self._tick = float(self._instrument.price_increment)
        self._precision = self._instrument.price_precision
        self._qty = Quantity.from_int(self.config.order_qty)
        for order in self.cache.orders_open(instrument_id=iid, strategy_id=self.id):
            if isinstance(order, LimitOrder) and self._orders[order.side] is None:
                self._orders[order.side] = order
            else:
                self.cancel_order(order)
        self.subscribe_order_book_deltas(iid, book_type=BookType.L2_MBP, managed=True)

    def on_stop(self) -> None:
        """Cancel every working quote."""
        if self._instrument is not None:
            self.cancel_all_orders(self.config.instrument_id)

    def on_reset(self) -> None:
        """Forget per-run state."""
        self._orders = {OrderSide.BUY: None, OrderSide.SELL: None}
        self._var_per_s = self.config.sigma * self.config.sigma
        self._last_sample_ns = 0
        self._last_sample_mid = math.nan
        self._halted = False

    # -- market data -------------------------------------------------------------------------

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        """Re-evaluate the quotes on every book event."""
        book: OrderBook | None = self.cache.order_book(self.config.instrument_id)
        if book is None:
            return
        best_bid = book.best_bid_price()
        best_ask = book.best_ask_price()
        if best_bid is None or best_ask is None:
            return
        bid_px, ask_px = float(best_bid), float(best_ask)
        if bid_px >= ask_px:
            # A crossed or locked consolidated book is not a price to quote against.
            return
        now = self.clock.timestamp_ns()
        mid = 0.5 * (bid_px + ask_px)
        self._update_volatility(now, mid)
        cfg = self.config
        if cfg.trading_start_ns is not None and now < cfg.trading_start_ns:
            return
        if cfg.trading_end_ns is not None and now >= cfg.trading_end_ns:
            if not self._halted:
                self._halted = True
                self.cancel_all_orders(cfg.instrument_id)
            return
        self._requote(now, mid, bid_px, ask_px)

    def _update_volatility(self, now: int, mid: float) -> None:
        if math.isnan(self._last_sample_mid):
            self._last_sample_ns, self._last_sample_mid = now, mid
            return
        elapsed_s = (now - self._last_sample_ns) * 1e-9
        if elapsed_s < self.config.sigma_sample_s:
            return
        move = mid - self._last_sample_mid
        # Irregular sampling: weight each observation by the time it covers.
        alpha = 1.0 - 0.5 ** (elapsed_s / self.config.sigma_halflife_s)
        self._var_per_s += alpha * (move * move / elapsed_s - self._var_per_s)
        self._last_sample_ns, self._last_sample_mid = now, mid

    @property
    def sigma(self) -> float:
        """Current volatility estimate, dollars per sqrt(second)."""
        return math.sqrt(self._var_per_s)

    # -- quoting -----------------------------------------------------------------------------

    def _requote(self, now: int, mid: float, best_bid: float, best_ask: float) -> None:
        cfg = self.config
        position = float(self.portfolio.net_position(cfg.instrument_id))
        q = position / cfg.order_qty
        tau_s = max(cfg.session_close_ns - now, 0) * 1e-9
        bid, ask = as_model.quotes(mid, q, cfg.gamma, self.sigma, tau_s, cfg.k)
        tick = self._tick
        # Round away from the mid so rounding never narrows the model's spread.
        bid_t = math.floor(bid / tick + 1e-6)
        ask_t = math.ceil(ask / tick - 1e-6)
        # Post-only: never at or through the opposite touch.
        bid_t = min(bid_t, round(best_ask / tick) - 1)
        ask_t = max(ask_t, round(best_bid / tick) + 1)
        if ask_t - bid_t < cfg.min_spread_ticks:
            widen = cfg.min_spread_ticks - (ask_t - bid_t)
            bid_t -= widen // 2 + widen % 2
            ask_t += widen // 2
        want_bid = bid_t if position + cfg.order_qty <= cfg.max_position else None
        want_ask = ask_t if position - cfg.order_qty >= -cfg.max_position else None
        self._work(OrderSide.BUY, want_bid)
        self._work(OrderSide.SELL, want_ask)

    def _work(self, side: OrderSide, target_ticks: int | None) -> None:
        order = self._orders[side]
        if order is not None and order.is_closed:
            order = self._orders[side] = None
        if target_ticks is None:
            if order is not None and order.status in _WORKING:
                self.cancel_order(order)
            return
        price = Price(target_ticks * self._tick, self._precision)
        if order is None:
            order = self.order_factory.limit(
                instrument_id=self.config.instrument_id,
                order_side=side,
                quantity=self._qty,
                price=price,
                time_in_force=TimeInForce.GTC,
                post_only=True,
            )
            self._orders[side] = order
            self.submit_order(order)
        elif order.status in _WORKING and order.price != price:
            # In flight (submitted, pending update/cancel): wait for the venue's answer first.
            self.modify_order(order, price=price)

    # -- order events ------------------------------------------------------------------------

    def _release(self, client_order_id) -> None:  # noqa: ANN001
        for side, order in self._orders.items():
            if order is not None and order.client_order_id == client_order_id:
                self._orders[side] = None

    def on_order_rejected(self, event: OrderRejected) -> None:
        """A post-only reject frees the side; the next book event quotes again."""
        self._release(event.client_order_id)

    def on_order_canceled(self, event: OrderCanceled) -> None:
        """Free the side."""
        self._release(event.client_order_id)

    def on_order_expired(self, event: OrderExpired) -> None:
        """Free the side."""
        self._release(event.client_order_id)

    def on_order_filled(self, event: OrderFilled) -> None:
        """A full fill frees the side; a partial fill keeps working the remainder."""
        order = self.cache.order(event.client_order_id)
        if order is not None and order.is_closed:
            self._release(event.client_order_id)
