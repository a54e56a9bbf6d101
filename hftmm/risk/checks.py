"""Pre-trade checks: position, order size and notional, price collar, open orders, rates,
self-crossing and short-sale rules.

Every check is worst-case: a working order counts as if it filled, so no sequence of fills of the
orders that passed can take the book beyond a limit. Limits are in shares or dollars; size and
position limits are multiplied by the dynamic-limit scale of the instrument (``DynamicLimits``)
and capped by the capital allocator's notional budget when one is set (``CapitalAllocator``).
Notional checks use the limit price (or the far touch for a market order), so they work for
MARGIN accounts, where Nautilus's own RiskEngine skips them.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Annotated, Literal

import msgspec

from hftmm.risk.intent import BUY, OrderIntent
from hftmm.risk.plugin import PluginConfig, RiskPlugin
from hftmm.risk.state import RiskState

Positive = Annotated[float, msgspec.Meta(gt=0)]
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]


def _symbol(instrument_id: str) -> str:
    return instrument_id.rsplit(".", 1)[0]


class MaxPosition(RiskPlugin):
    """Caps the position per instrument (and the gross over instruments), in shares."""

    class Config(PluginConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
        """``max_position``: shares per instrument (``per_instrument`` overrides by instrument id);
        ``max_gross``: the sum over instruments of the largest reachable position, shares."""

        max_position: Positive
        per_instrument: dict[str, Positive] = msgspec.field(default_factory=dict)
        max_gross: Positive | None = None

    def limit(self, instrument_id: str, state: RiskState) -> float:
        """The effective per-instrument limit now, shares."""
        cfg = self.config
        limit = cfg.per_instrument.get(instrument_id, cfg.max_position) * state.scale(instrument_id)
        budget = state.allocation.get(instrument_id)
        if budget is not None:
            quote = state.quotes.get(instrument_id)
            if quote is not None and quote.mid > 0:
                limit = min(limit, budget / quote.mid)
        return limit

    def check(self, intent: OrderIntent, state: RiskState) -> str | None:
        if not state.increases_exposure(intent):
            return None
        iid = intent.instrument_id
        worst = state.worst_after(intent)
        limit = self.limit(iid, state)
        if abs(worst) > limit + 1e-9:
            return f"position could reach {worst:+.0f} shares, limit {limit:.0f}"
        gross_cap = self.config.max_gross
        if gross_cap is not None:
            others = sum(state.worst_exposure(i) for i in set(state.quotes) | set(state.positions.by_instrument) if i != iid)
            gross = others + max(abs(worst), state.worst_exposure(iid))
            if gross > gross_cap * min(state.scale(iid), 1.0) + 1e-9:
                return f"gross position could reach {gross:.0f} shares, limit {gross_cap:.0f}"
        return None


class MaxOrderSize(RiskPlugin):
    """Caps each order's shares and notional (limit price, or the far touch for a market order)."""

    class Config(PluginConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
        """``max_quantity`` shares and ``max_notional`` dollars per order (either may be omitted)."""

        max_quantity: Positive | None = None
        max_notional: Positive | None = None

    def check(self, intent: OrderIntent, state: RiskState) -> str | None:
        cfg = self.config
        qty = intent.quantity
        if cfg.max_quantity is not None:
            limit = cfg.max_quantity * state.scale(intent.instrument_id)
            if qty > limit + 1e-9:
                return f"order of {qty:.0f} shares exceeds {limit:.0f}"
        if cfg.max_notional is not None:
            price = intent.price
            if math.isnan(price):
                quote = state.quotes.get(intent.instrument_id)
                price = (quote.ask if intent.side == BUY else quote.bid) if quote is not None else math.nan
                if not math.isfinite(price):
                    return "market order without a quote to value it"
            notional = qty * price
            if notional > cfg.max_notional + 1e-9:
                return f"order notional ${notional:,.2f} exceeds ${cfg.max_notional:,.2f}"
        return None


class PriceCollar(RiskPlugin):
    """Refuses prices far through the market (fat finger): a buy above the reference by more than
    ``max_deviation_bps``, a sell below it; and any order when the reference is missing or stale.

    The reference is the far touch (``"nbbo"``: a buy is compared with the ask, a sell with the
    bid) or the size-weighted ``"microprice"``. Prices away from the market pass: they risk
    nothing.
    """

    class Config(PluginConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
        """``max_deviation_bps``; ``reference``; ``max_quote_age_s``: refuse when the NBBO is older
        (off by default: an unchanged NBBO in a quiet name is not stale; enable it live, where the
        feed's silence means a problem)."""

        max_deviation_bps: Positive = 50.0
        reference: Literal["nbbo", "microprice"] = "nbbo"
        max_quote_age_s: Positive | None = None

    def check(self, intent: OrderIntent, state: RiskState) -> str | None:
        cfg = self.config
        quote = state.quotes.get(intent.instrument_id)
        if quote is None or not (math.isfinite(quote.bid) and math.isfinite(quote.ask)):
            return "no two-sided quote to collar the price against"
        age_s = (state.now_ns - quote.ts_ns) * 1e-9
        if cfg.max_quote_age_s is not None and age_s > cfg.max_quote_age_s:
            return f"reference quote is {age_s:.1f} s old (max {cfg.max_quote_age_s:g} s)"
        if intent.is_market:
            return None
        if cfg.reference == "nbbo":
            ref = quote.ask if intent.side == BUY else quote.bid
        else:
            ref = quote.microprice
        band = ref * cfg.max_deviation_bps * 1e-4
        if intent.side == BUY and intent.price > ref + band + 1e-9:
            return f"buy at {intent.price:.4f} is more than {cfg.max_deviation_bps:g} bps above {cfg.reference} {ref:.4f}"
        if intent.side != BUY and intent.price < ref - band - 1e-9:
            return f"sell at {intent.price:.4f} is more than {cfg.max_deviation_bps:g} bps below {cfg.reference} {ref:.4f}"
        return None


class MaxOpenOrders(RiskPlugin):
    """Caps working orders per instrument and in total."""

    class Config(PluginConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
        """``max_per_instrument`` and ``max_total`` working orders."""

        max_per_instrument: PositiveInt = 20
        max_total: PositiveInt | None = None

    def check(self, intent: OrderIntent, state: RiskState) -> str | None:
        if intent.kind != "new":
            return None
        cfg = self.config
        n = state.working_count.get(intent.instrument_id, 0)
        if n >= cfg.max_per_instrument:
            return f"{n} orders already working on {intent.instrument_id} (max {cfg.max_per_instrument})"
        if cfg.max_total is not None:
            total = len(state.working)
            if total >= cfg.max_total:
                return f"{total} orders already working (max {cfg.max_total})"
        return None


class RateLimit(RiskPlugin):
    """New orders and messages (new, amend, cancel) per sliding ``window_s``, per strategy or node.

    Cancels are counted but never refused: a rate limit must not keep a quote in the market.
    """

    sees_cancels = True

    class Config(PluginConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
        """``max_orders`` new orders and ``max_messages`` messages per ``window_s``; ``scope``."""

        max_orders: PositiveInt = 50
        max_messages: PositiveInt = 200
        window_s: Positive = 1.0
        scope: Literal["strategy", "node"] = "strategy"

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self._window_ns = int(config.window_s * 1e9)
        self._orders: dict[str, deque[int]] = {}
        self._messages: dict[str, deque[int]] = {}

    def _recent(self, table: dict[str, deque[int]], key: str, now: int) -> deque[int]:
        times = table.get(key)
        if times is None:
            times = table[key] = deque()
        cutoff = now - self._window_ns
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def check(self, intent: OrderIntent, state: RiskState) -> str | None:
        cfg = self.config
        key = intent.strategy_id if cfg.scope == "strategy" else "*"
        now = intent.ts_ns
        messages = self._recent(self._messages, key, now)
        if intent.kind == "cancel":
            messages.append(now)
            return None
        if len(messages) >= cfg.max_messages:
            return f"{len(messages)} messages in {cfg.window_s:g} s (max {cfg.max_messages})"
        if intent.kind == "new":
            orders = self._recent(self._orders, key, now)
            if len(orders) >= cfg.max_orders:
                return f"{len(orders)} new orders in {cfg.window_s:g} s (max {cfg.max_orders})"
            orders.append(now)
        messages.append(now)
        return None


class NoSelfCross(RiskPlugin):
    """Refuses a buy at or above one of our working sells on the instrument (any strategy), and a
    sell at or below one of our working buys: it would trade with ourselves (a wash trade)."""

    class Config(PluginConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
        """No parameters."""

    def check(self, intent: OrderIntent, state: RiskState) -> str | None:
        iid, side = intent.instrument_id, intent.side
        if state.working_shares(iid, -side) <= 0:
            return None
        price = intent.price
        for coid, order in state.working.items():
            if order.instrument_id != iid or order.side == side or coid == intent.client_order_id:
                continue
            if intent.is_market or (side == BUY and price >= order.price) or (side != BUY and price <= order.price):
                what = "market order" if intent.is_market else f"{'buy' if side == BUY else 'sell'} at {price:.4f}"
                return f"{what} would cross our own {'sell' if side == BUY else 'buy'} {coid} at {order.price:.4f}"
        return None


class ShortSale(RiskPlugin):
    """Reg SHO for sells that open or extend a short position.

    Under the short-sale restriction (Rule 201: the instrument's status flag, or listed in
    ``ssr_instruments``) a short sale must be priced above the national best bid; a market short
    sale is refused. With ``require_locate``, the short quantity must be covered by a locate
    (``locates``: shares located per symbol or instrument id).
    """

    class Config(PluginConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
        """See the class docstring."""

        ssr_instruments: list[str] = msgspec.field(default_factory=list)
        require_locate: bool = False
        locates: dict[str, Annotated[float, msgspec.Meta(ge=0)]] = msgspec.field(default_factory=dict)

    def check(self, intent: OrderIntent, state: RiskState) -> str | None:
        if intent.side == BUY:
            return None
        iid = intent.instrument_id
        worst = state.worst_after(intent)
        if worst >= 0:
            return None  # a sale of shares we hold: not a short sale
        cfg = self.config
        quote = state.quotes.get(iid)
        restricted = iid in cfg.ssr_instruments or (quote is not None and quote.ssr)
        if restricted:
            if intent.is_market:
                return "market short sale under the short-sale restriction (Rule 201)"
            bid = quote.bid if quote is not None else math.nan
            if not math.isfinite(bid):
                return "short sale under the short-sale restriction without a national best bid"
            if intent.price <= bid + 1e-9:
                return f"short sale at {intent.price:.4f} not above the national best bid {bid:.4f} (Rule 201)"
        if cfg.require_locate:
            located = cfg.locates.get(iid, cfg.locates.get(_symbol(iid), 0.0))
            if -worst > located + 1e-9:
                return f"short of {-worst:.0f} shares needs a locate, {located:.0f} located"
        return None
