"""Online features of the adverse-selection model (``hftmm.models.toxicity``), computed by the strategy.

The same object serves training (its values at each of our fills are recorded in the run folder)
and live scoring, so the model sees in production exactly what it was trained on.
"""

from __future__ import annotations

from collections import deque

from hftmm.models.toxicity import FEATURES
from strategies.signals import OrderFlowImbalance, book_imbalance

__all__ = ["FEATURES", "ToxicityFeatures"]


class ToxicityFeatures:
    """Online feature state, O(1) per update (amortised)."""

    def __init__(self, tick: float) -> None:
        self.tick = tick
        self._ofi = OrderFlowImbalance(5_000_000_000)
        self._mids: deque[tuple[int, float]] = deque()
        self._last: tuple[int, float, float, float, float] | None = None

    def update(self, ts_ns: int, bid: float, bid_size: float, ask: float, ask_size: float) -> None:
        """Feed the touch after a book event."""
        self._ofi.update(ts_ns, bid, bid_size, ask, ask_size)
        self._mids.append((ts_ns, 0.5 * (bid + ask)))
        while len(self._mids) > 1 and self._mids[1][0] <= ts_ns - 5_000_000_000:
            self._mids.popleft()
        self._last = (ts_ns, bid, bid_size, ask, ask_size)

    def _mid_at(self, ts_ns: int) -> float:
        """Mid prevailing at ``ts_ns`` (the oldest kept when older)."""
        mid = self._mids[0][1]
        for t, m in self._mids:
            if t > ts_ns:
                break
            mid = m
        return mid

    def vector(self, side: int) -> list[float] | None:
        """Feature values, in the order of ``hftmm.models.toxicity.FEATURES``, for a fill on ``side``;
        None before any update."""
        if self._last is None:
            return None
        ts, bid, bid_size, ask, ask_size = self._last
        mid = 0.5 * (bid + ask)
        depth = max(bid_size + ask_size, 1.0)
        # Adverse for a buy: the book leans to the ask (sellers), the mid falls, flow sells.
        return [
            (ask - bid) / self.tick,
            -side * book_imbalance(bid_size, ask_size),
            -side * (mid - self._mid_at(ts - 1_000_000_000)) / self.tick,
            -side * (mid - self._mid_at(ts - 5_000_000_000)) / self.tick,
            -side * self._ofi.value(ts) / depth,
        ]
