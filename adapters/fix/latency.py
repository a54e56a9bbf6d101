"""Latency samples of the execution client (tick-to-trade, FIX round trip), free of Nautilus."""

from __future__ import annotations

import math
from collections import deque


class LatencySamples:
    """The last ``capacity`` samples of one latency, in nanoseconds, with percentiles.

    Parameters
    ----------
    capacity : int
        Samples kept (the oldest drop out), so a day-long session has bounded memory.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.samples: deque[int] = deque(maxlen=capacity)
        self.count = 0

    def add(self, nanoseconds: int) -> None:
        """Record one sample."""
        self.samples.append(nanoseconds)
        self.count += 1

    def __len__(self) -> int:
        return len(self.samples)

    def percentiles(self, points: tuple[float, ...] = (50.0, 90.0, 99.0, 99.9)) -> dict[float, float]:
        """Nearest-rank percentiles of the kept samples in microseconds (empty dict without samples)."""
        if not self.samples:
            return {}
        ordered = sorted(self.samples)
        n = len(ordered)
        return {p: ordered[min(n - 1, max(0, math.ceil(p / 100.0 * n) - 1))] / 1_000.0 for p in points}

    def summary(self) -> str:
        """``n=…, p50=… µs, …`` for logs and reports."""
        pct = self.percentiles()
        if not pct:
            return "n=0"
        return f"n={self.count}, " + ", ".join(f"p{p:g}={v:.1f} µs" for p, v in pct.items())
