"""What the risk checks read: market, positions, working orders, limits and the trading mode.

One ``RiskState`` per node, updated by the chain from market data, order events and fills, and
read by every plugin. The quantities the pre-trade checks need on every order (working shares per
side, working orders per instrument) are maintained incrementally so a check is O(1).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from hftmm.risk.intent import BUY, OrderIntent
from hftmm.risk.positions import PositionBook

Mode = Literal["ACTIVE", "REDUCING", "HALTED"]


@dataclass(slots=True)
class MarketQuote:
    """The latest NBBO of an instrument (dollars, shares, UTC ns) and its short-sale restriction."""

    bid: float = math.nan
    ask: float = math.nan
    bid_size: float = 0.0
    ask_size: float = 0.0
    ts_ns: int = 0
    ssr: bool = False

    @property
    def mid(self) -> float:
        """``(bid + ask) / 2``, NaN without both sides."""
        return 0.5 * (self.bid + self.ask)

    @property
    def microprice(self) -> float:
        """Size-weighted mid: ``(bid * ask_size + ask * bid_size) / (bid_size + ask_size)``."""
        total = self.bid_size + self.ask_size
        if total <= 0:
            return self.mid
        return (self.bid * self.ask_size + self.ask * self.bid_size) / total


@dataclass(slots=True)
class WorkingOrder:
    """An order sent and not yet closed, as the risk layer sees it."""

    strategy_id: str
    instrument_id: str
    side: int
    price: float
    leaves: float


@dataclass(slots=True)
class RiskState:
    """Everything the risk plugins read; mutated only by ``RiskChain``."""

    now_ns: int = 0
    mode: Mode = "ACTIVE"
    mode_plugin: str = ""
    mode_reason: str = ""
    quotes: dict[str, MarketQuote] = field(default_factory=dict)
    positions: PositionBook = field(default_factory=PositionBook)
    working: dict[str, WorkingOrder] = field(default_factory=dict)
    # Working shares per (instrument, side) and working orders per instrument.
    working_qty: dict[tuple[str, int], float] = field(default_factory=dict)
    working_count: dict[str, int] = field(default_factory=dict)
    # Multipliers (<= 1) on size and position limits from the dynamic limits, per instrument.
    limit_scale: dict[str, float] = field(default_factory=dict)
    # Notional budget per instrument from the capital allocator (absent: no budget).
    allocation: dict[str, float] = field(default_factory=dict)
    # Volatility per instrument, dollars per sqrt(second), and how it was estimated.
    sigma: dict[str, float] = field(default_factory=dict)
    sigma_method: dict[str, str] = field(default_factory=dict)
    # Mid samples per instrument (ts_ns, mid), one per risk timer tick, for sigma and VaR.
    mids: dict[str, deque[tuple[int, float]]] = field(default_factory=dict)
    # Latest VaR figures by name (e.g. "parametric_99"), dollars.
    var: dict[str, float] = field(default_factory=dict)
    # PnL tracking for drawdown and daily loss, dollars.
    pnl: float = 0.0
    peak_pnl: float = 0.0
    # Venue connections (live): venue -> (connected, since_ns).
    venues: dict[str, tuple[bool, int]] = field(default_factory=dict)

    # -- reads used by the checks ------------------------------------------------------------

    def position(self, instrument_id: str) -> float:
        """Net shares over all strategies."""
        return self.positions.quantity(instrument_id)

    def working_shares(self, instrument_id: str, side: int) -> float:
        """Shares on working orders of one side."""
        return self.working_qty.get((instrument_id, side), 0.0)

    def worst_position(self, instrument_id: str, side: int, extra: float) -> float:
        """The position if every working order of ``side`` and ``extra`` more shares filled."""
        pos = self.position(instrument_id)
        return pos + side * (self.working_shares(instrument_id, side) + extra)

    def worst_exposure(self, instrument_id: str) -> float:
        """``max(|pos + working buys|, |pos - working sells|)``: the largest position reachable."""
        pos = self.position(instrument_id)
        return max(abs(pos + self.working_shares(instrument_id, BUY)), abs(pos - self.working_shares(instrument_id, -BUY)))

    def scale(self, instrument_id: str) -> float:
        """The dynamic-limit multiplier (1 when none applies)."""
        return self.limit_scale.get(instrument_id, 1.0)

    def marks(self) -> dict[str, float]:
        """Mids of every instrument with a two-sided quote."""
        return {i: q.mid for i, q in self.quotes.items() if math.isfinite(q.mid)}

    def worst_after(self, intent: OrderIntent) -> float:
        """The position if the intent and every working order of its side filled."""
        return self.worst_position(intent.instrument_id, intent.side, self._extra(intent))

    def increases_exposure(self, intent: OrderIntent) -> bool:
        """Whether filling the intent (after the working orders of its side) moves further from flat."""
        pos = self.position(intent.instrument_id)
        worst = self.worst_after(intent)
        return abs(worst) > abs(pos) and (worst > 0) == (intent.side > 0)

    def _extra(self, intent: OrderIntent) -> float:
        """Shares the intent adds to its side's working total (an amendment replaces its leaves)."""
        if intent.kind == "modify":
            old = self.working.get(intent.client_order_id)
            return intent.quantity - (old.leaves if old is not None else 0.0)
        return intent.quantity if intent.kind == "new" else 0.0

    # -- updates (RiskChain calls these) -----------------------------------------------------

    def add_working(self, intent: OrderIntent) -> None:
        """A new order left the strategy."""
        self.working[intent.client_order_id] = WorkingOrder(
            intent.strategy_id, intent.instrument_id, intent.side, intent.price, intent.quantity)
        key = (intent.instrument_id, intent.side)
        self.working_qty[key] = self.working_qty.get(key, 0.0) + intent.quantity
        self.working_count[intent.instrument_id] = self.working_count.get(intent.instrument_id, 0) + 1

    def update_working(self, client_order_id: str, leaves: float, price: float | None = None) -> None:
        """An order's remaining quantity or price changed (amendment or partial fill)."""
        order = self.working.get(client_order_id)
        if order is None:
            return
        key = (order.instrument_id, order.side)
        self.working_qty[key] = self.working_qty.get(key, 0.0) + leaves - order.leaves
        order.leaves = leaves
        if price is not None and math.isfinite(price):
            order.price = price
        if leaves <= 0:
            self.remove_working(client_order_id)

    def remove_working(self, client_order_id: str) -> None:
        """An order closed (filled, cancelled, rejected, expired or denied)."""
        order = self.working.pop(client_order_id, None)
        if order is None:
            return
        key = (order.instrument_id, order.side)
        self.working_qty[key] = max(self.working_qty.get(key, 0.0) - order.leaves, 0.0)
        self.working_count[order.instrument_id] = max(self.working_count.get(order.instrument_id, 0) - 1, 0)
