"""Microstructure signals, updated in O(1) per book update or trade (pure, no NautilusTrader).

- order book imbalance ``rho = (Qb - Qa) / (Qb + Qa)`` at the touch, and a depth-weighted version;
- the weighted mid ``I * Pa + (1 - I) * Pb`` with ``I = Qb / (Qb + Qa)`` (Gatheral-Oomen; the
  first-order microprice);
- order-flow imbalance (Cont, Kukanov, Stoikov 2014) summed over a rolling time window;
- trade-flow imbalance ``(Vbuy - Vsell) / (Vbuy + Vsell)`` over a rolling time window.

Times are integer nanoseconds; a window holds the events with ``ts > now - window``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence


def book_imbalance(bid_size: float, ask_size: float) -> float:
    """``(Qb - Qa) / (Qb + Qa)`` in [-1, 1]; 0 for an empty touch."""
    total = bid_size + ask_size
    return (bid_size - ask_size) / total if total > 0 else 0.0


def weighted_imbalance(bid_sizes: Sequence[float], ask_sizes: Sequence[float], weights: Sequence[float]) -> float:
    """Depth-weighted imbalance over the first ``len(weights)`` levels (missing levels count 0)."""
    num = den = 0.0
    for i, w in enumerate(weights):
        b = bid_sizes[i] if i < len(bid_sizes) else 0.0
        a = ask_sizes[i] if i < len(ask_sizes) else 0.0
        num += w * (b - a)
        den += w * (b + a)
    return num / den if den > 0 else 0.0


def weighted_mid(bid: float, ask: float, bid_size: float, ask_size: float) -> float:
    """``I * ask + (1 - I) * bid`` with ``I = Qb / (Qb + Qa)``: leans toward the thinner side's price."""
    total = bid_size + ask_size
    if total <= 0:
        return 0.5 * (bid + ask)
    i = bid_size / total
    return i * ask + (1.0 - i) * bid


def ofi_event(
    bid: float, bid_size: float, ask: float, ask_size: float,
    prev_bid: float, prev_bid_size: float, prev_ask: float, prev_ask_size: float,
) -> float:
    """One book update's order-flow contribution ``e_n`` (Cont, Kukanov, Stoikov 2014, eq. 2)."""
    e = 0.0
    if bid >= prev_bid:
        e += bid_size
    if bid <= prev_bid:
        e -= prev_bid_size
    if ask <= prev_ask:
        e -= ask_size
    if ask >= prev_ask:
        e += prev_ask_size
    return e


class _RollingSum:
    """Sum of values over a trailing time window."""

    __slots__ = ("window_ns", "_items", "total")

    def __init__(self, window_ns: int) -> None:
        if window_ns <= 0:
            raise ValueError(f"window_ns must be > 0, got {window_ns}")
        self.window_ns = window_ns
        self._items: deque[tuple[int, float]] = deque()
        self.total = 0.0

    def add(self, ts_ns: int, value: float) -> None:
        self._items.append((ts_ns, value))
        self.total += value
        self.expire(ts_ns)

    def expire(self, now_ns: int) -> None:
        cutoff = now_ns - self.window_ns
        items = self._items
        while items and items[0][0] <= cutoff:
            self.total -= items.popleft()[1]
        if not items:
            self.total = 0.0  # drop accumulated rounding when the window empties


class OrderFlowImbalance:
    """Rolling OFI: the sum of ``e_n`` over the book updates of the last ``window_ns``."""

    __slots__ = ("_sum", "_prev")

    def __init__(self, window_ns: int) -> None:
        self._sum = _RollingSum(window_ns)
        self._prev: tuple[float, float, float, float] | None = None

    def update(self, ts_ns: int, bid: float, bid_size: float, ask: float, ask_size: float) -> float:
        """Feed the touch after a book update; returns the current OFI (shares)."""
        if self._prev is not None:
            self._sum.add(ts_ns, ofi_event(bid, bid_size, ask, ask_size, *self._prev))
        else:
            self._sum.expire(ts_ns)
        self._prev = (bid, bid_size, ask, ask_size)
        return self._sum.total

    def value(self, now_ns: int) -> float:
        """OFI at ``now_ns`` (old updates expire even without new ones)."""
        self._sum.expire(now_ns)
        return self._sum.total


class TradeFlowImbalance:
    """Rolling ``(Vbuy - Vsell) / (Vbuy + Vsell)`` of aggressor-signed trade volume."""

    __slots__ = ("_signed", "_total")

    def __init__(self, window_ns: int) -> None:
        self._signed = _RollingSum(window_ns)
        self._total = _RollingSum(window_ns)

    def update(self, ts_ns: int, size: float, side: int) -> float:
        """Feed a trade (``side`` +1 buyer-initiated, -1 seller-initiated, 0 unknown: volume only)."""
        self._signed.add(ts_ns, side * size)
        self._total.add(ts_ns, size)
        return self.value(ts_ns)

    def value(self, now_ns: int) -> float:
        """The imbalance at ``now_ns`` in [-1, 1]; 0 without volume."""
        self._signed.expire(now_ns)
        self._total.expire(now_ns)
        return self._signed.total / self._total.total if self._total.total > 0 else 0.0
