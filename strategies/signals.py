"""Microstructure signals, updated in O(1) per book update or trade (pure, no NautilusTrader).

- order book imbalance ``rho = (Qb - Qa) / (Qb + Qa)`` at the touch, and a depth-weighted version;
- the weighted mid ``I * Pa + (1 - I) * Pb`` with ``I = Qb / (Qb + Qa)`` (Gatheral-Oomen; the
  first-order microprice);
- order-flow imbalance (Cont, Kukanov, Stoikov 2014) summed over a rolling time window;
- trade-flow imbalance ``(Vbuy - Vsell) / (Vbuy + Vsell)`` over a rolling time window;
- Stoikov's (2018) micro-price ``M + g(I, S)``: ``fit_microprice`` estimates the ``g`` table from
  historical book snapshots (market-making-models.md §4.2), ``MicropriceTable.price`` looks it up;
- ``MicrostructureSignals``: all of the above kept current from book updates and trades.

Times are integer nanoseconds; a window holds the events with ``ts > now - window``. Sizes are
shares, prices dollars; OFI is in shares, imbalances are dimensionless.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


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


class MultiLevelImbalance:
    """Depth-weighted imbalance ``sum w_i (Qb_i - Qa_i) / sum w_i (Qb_i + Qa_i)``, kept in O(1) per
    level change (the two weighted sums are adjusted, not recomputed).

    Parameters
    ----------
    weights : sequence of float
        Weight of level ``i`` (0 = touch), e.g. decaying ``0.5 ** i``; levels beyond are ignored.
    """

    __slots__ = ("_weights", "_bid", "_ask", "_num", "_den")

    def __init__(self, weights: Sequence[float]) -> None:
        if not weights or any(w < 0 for w in weights):
            raise ValueError("weights must be non-empty and >= 0")
        self._weights = tuple(float(w) for w in weights)
        self._bid = [0.0] * len(weights)
        self._ask = [0.0] * len(weights)
        self._num = 0.0
        self._den = 0.0

    def set_level(self, side: int, level: int, size: float) -> float:
        """Set the size (shares) of ``level`` on ``side`` (+1 bid, -1 ask); returns the imbalance."""
        if level >= len(self._weights):
            return self.value
        book = self._bid if side > 0 else self._ask
        w = self._weights[level]
        change = size - book[level]
        book[level] = size
        self._num += w * change * (1.0 if side > 0 else -1.0)
        self._den += w * change
        if self._den <= 1e-9 * w * (abs(size) + abs(size - change)):
            # Cancellation: the running sums may now be rounding residue (an emptied book would
            # read as +-1), so recompute them exactly; O(levels), and only when the depth collapses.
            self._num = sum(wi * (b - a) for wi, b, a in zip(self._weights, self._bid, self._ask, strict=True))
            self._den = sum(wi * (b + a) for wi, b, a in zip(self._weights, self._bid, self._ask, strict=True))
        return self.value

    @property
    def value(self) -> float:
        """The imbalance in [-1, 1]; 0 for an empty book."""
        return self._num / self._den if self._den > 0 else 0.0


@dataclass(frozen=True)
class MicropriceTable:
    """Stoikov's micro-price adjustment ``g(I, S)`` on a grid, in ticks.

    Attributes
    ----------
    g_ticks : tuple of tuple of float
        ``g_ticks[s - 1][b]``: expected eventual mid change, ticks, from spread ``s`` ticks and
        imbalance bucket ``b`` (``I = Qb / (Qb + Qa)`` in ``[b/n, (b+1)/n)``).
    tick : float
        Dollars per tick.
    counts : tuple of tuple of int
        Observations per state (after symmetrisation), to judge each cell's reliability.
    """

    g_ticks: tuple[tuple[float, ...], ...]
    tick: float
    counts: tuple[tuple[int, ...], ...]

    @property
    def n_imbalance(self) -> int:
        """Imbalance buckets."""
        return len(self.g_ticks[0])

    def adjustment(self, bid_size: float, ask_size: float, spread_ticks: int) -> float:
        """``g(I, S)`` in dollars; 0 off the grid (spread beyond the table or an empty touch)."""
        total = bid_size + ask_size
        if total <= 0 or not 1 <= spread_ticks <= len(self.g_ticks):
            return 0.0
        n = len(self.g_ticks[0])
        b = min(int(bid_size / total * n), n - 1)
        return self.g_ticks[spread_ticks - 1][b] * self.tick

    def price(self, bid: float, ask: float, bid_size: float, ask_size: float) -> float:
        """Micro-price ``(bid + ask)/2 + g(I, S)``, dollars."""
        spread_ticks = int(round((ask - bid) / self.tick))
        return 0.5 * (bid + ask) + self.adjustment(bid_size, ask_size, spread_ticks)


def microprice_states(
    bid: npt.NDArray[np.float64], ask: npt.NDArray[np.float64], bid_size: npt.NDArray[np.float64],
    ask_size: npt.NDArray[np.float64], tick: float, n_imbalance: int, n_spread: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Per snapshot: spread in ticks, imbalance bucket, and mid in ticks (-1 state where off-grid)."""
    total = bid_size + ask_size
    spread = np.rint((ask - bid) / tick).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        imb = np.where(total > 0, bid_size / total, np.nan)
    bucket = np.minimum(np.floor(np.nan_to_num(imb, nan=-1.0) * n_imbalance), n_imbalance - 1).astype(np.int64)
    valid = (total > 0) & (spread >= 1) & (spread <= n_spread) & (bucket >= 0)
    bucket = np.where(valid, bucket, -1)
    mid_ticks = (bid + ask) / (2.0 * tick)
    return np.where(valid, spread, -1), bucket, mid_ticks


def fit_microprice(
    bid: npt.NDArray[np.float64], ask: npt.NDArray[np.float64], bid_size: npt.NDArray[np.float64],
    ask_size: npt.NDArray[np.float64], tick: float, n_imbalance: int = 10, n_spread: int = 2,
    iterations: int = 6,
) -> MicropriceTable:
    """Estimate Stoikov's ``g(I, S)`` from consecutive book snapshots (Stoikov 2018, §4.2 of the doc).

    States ``x = (S, I-bucket)``. From each snapshot to the next, a transition with an unchanged
    mid counts in ``Q[x, x']``; a mid change ``K`` of +-1/2 or +-1 tick counts in ``R[x, K]`` and
    ``T[x, x']`` (larger jumps and off-grid states are dropped). The data are symmetrised (each
    transition also counted with bid and ask swapped: bucket ``b -> n-1-b``, ``K -> -K``), so that
    ``g`` is odd in the imbalance. Rows are normalised by the state's transition count, then
    ``g1 = (1 - Q)^-1 R K``, ``B = (1 - Q)^-1 T`` and ``g = sum_{i < iterations} B^i g1``.

    Parameters
    ----------
    bid, ask, bid_size, ask_size : ndarray
        Touch prices (dollars) and sizes (shares) of time-ordered snapshots, sampled on a regular
        clock or per event (the estimator needs consecutive states, not times).
    tick : float
        Dollars per tick.
    n_imbalance, n_spread : int
        Imbalance buckets, and the largest spread (ticks) kept in the table.
    iterations : int
        Terms of the series (Stoikov uses about 6).
    """
    spread, bucket, mid_ticks = microprice_states(bid, ask, bid_size, ask_size, tick, n_imbalance, n_spread)
    n = n_imbalance
    n_states = n_spread * n
    x = (spread - 1) * n + bucket
    dm = np.rint(np.diff(mid_ticks) * 2.0) / 2.0  # half-tick grid
    ok = (bucket[:-1] >= 0) & (bucket[1:] >= 0) & (np.abs(dm) <= 1.0)
    x0, x1, dm = x[:-1][ok], x[1:][ok], dm[ok]
    jumps = np.array([-1.0, -0.5, 0.5, 1.0])
    # Mirror: same spread, bucket n-1-b, opposite jump.
    def mirror(s: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return (s // n) * n + (n - 1 - s % n)

    x0 = np.concatenate([x0, mirror(x0)])
    x1 = np.concatenate([x1, mirror(x1)])
    dm = np.concatenate([dm, -dm])
    still = dm == 0.0
    q_counts = np.zeros((n_states, n_states))
    np.add.at(q_counts, (x0[still], x1[still]), 1.0)
    t_counts = np.zeros((n_states, n_states))
    np.add.at(t_counts, (x0[~still], x1[~still]), 1.0)
    r_counts = np.zeros((n_states, jumps.size))
    np.add.at(r_counts, (x0[~still], np.searchsorted(jumps, dm[~still])), 1.0)
    totals = q_counts.sum(axis=1) + r_counts.sum(axis=1)
    norm = np.where(totals > 0, totals, 1.0)[:, None]
    q_mat, t_mat, r_mat = q_counts / norm, t_counts / norm, r_counts / norm
    lhs = np.eye(n_states) - q_mat
    # A state that never saw a mid change has a singular row; least squares gives it g = 0.
    g1 = np.linalg.lstsq(lhs, r_mat @ jumps, rcond=None)[0]
    b_mat = np.linalg.lstsq(lhs, t_mat, rcond=None)[0]
    g = g1.copy()
    term = g1
    for _ in range(iterations - 1):
        term = b_mat @ term
        g += term
    g_table = tuple(tuple(float(v) for v in g[s * n:(s + 1) * n]) for s in range(n_spread))
    count_table = tuple(tuple(int(c) for c in totals[s * n:(s + 1) * n]) for s in range(n_spread))
    return MicropriceTable(g_table, tick, count_table)


class MicrostructureSignals:
    """All book and trade signals, kept current in O(1) per event.

    Parameters
    ----------
    ofi_window_ns, tfi_window_ns : int
        Rolling windows of the order-flow and trade-flow imbalances, nanoseconds.
    microprice : MicropriceTable, optional
        Stoikov's table; without it ``microprice`` is the weighted mid.

    Attributes
    ----------
    imbalance : float
        Touch imbalance ``(Qb - Qa)/(Qb + Qa)``.
    weighted_mid, microprice : float
        Dollars.
    ofi : float
        Order-flow imbalance over the window, shares.
    """

    __slots__ = ("_ofi", "_tfi", "_table", "imbalance", "weighted_mid", "microprice", "ofi")

    def __init__(self, ofi_window_ns: int, tfi_window_ns: int, microprice: MicropriceTable | None = None) -> None:
        self._ofi = OrderFlowImbalance(ofi_window_ns)
        self._tfi = TradeFlowImbalance(tfi_window_ns)
        self._table = microprice
        self.imbalance = 0.0
        self.weighted_mid = math.nan
        self.microprice = math.nan
        self.ofi = 0.0

    def on_book(self, ts_ns: int, bid: float, bid_size: float, ask: float, ask_size: float) -> None:
        """Feed the touch after a book update."""
        self.ofi = self._ofi.update(ts_ns, bid, bid_size, ask, ask_size)
        self.imbalance = book_imbalance(bid_size, ask_size)
        self.weighted_mid = weighted_mid(bid, ask, bid_size, ask_size)
        table = self._table
        self.microprice = table.price(bid, ask, bid_size, ask_size) if table is not None else self.weighted_mid

    def on_trade(self, ts_ns: int, size: float, side: int) -> None:
        """Feed a trade (``side`` +1 buyer-initiated, -1 seller-initiated, 0 unknown)."""
        self._tfi.update(ts_ns, size, side)

    def ofi_at(self, now_ns: int) -> float:
        """Order-flow imbalance at ``now_ns`` (updates older than the window expire), shares."""
        return self._ofi.value(now_ns)

    def tfi(self, now_ns: int) -> float:
        """Trade-flow imbalance at ``now_ns`` in [-1, 1]."""
        return self._tfi.value(now_ns)
