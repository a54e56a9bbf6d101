"""Incremental signals against direct computations on random sequences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpy as np

from strategies.signals import (
    MicrostructureSignals,
    MultiLevelImbalance,
    OrderFlowImbalance,
    TradeFlowImbalance,
    book_imbalance,
    fit_microprice,
    ofi_event,
    weighted_imbalance,
    weighted_mid,
)

touch = st.tuples(st.integers(95, 105), st.integers(1, 20), st.integers(1, 5), st.integers(1, 20))


def test_closed_forms() -> None:
    assert book_imbalance(300, 100) == pytest.approx(0.5)
    assert book_imbalance(0, 0) == 0.0
    # Thin ask: the weighted mid leans toward the ask.
    assert weighted_mid(10.00, 10.02, 300, 100) == pytest.approx(0.75 * 10.02 + 0.25 * 10.00)
    assert weighted_imbalance([3, 1], [1, 1], [1.0, 0.5]) == pytest.approx((2 + 0) / (4 + 1))
    # CKS e_n: bid up (new size counts), ask unchanged with more size (adds negative flow).
    assert ofi_event(10.01, 200, 10.02, 300, 10.00, 100, 10.02, 100) == pytest.approx(200 - 300 + 100)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3_000_000_000), touch), min_size=1, max_size=60),
    st.integers(1, 2_000_000_000),
)
def test_ofi_rolling_matches_direct_sum(updates: list, window: int) -> None:
    updates.sort(key=lambda u: u[0])
    ofi = OrderFlowImbalance(window)
    rows = []
    for ts, (bid, bsz, spread, asz) in updates:
        ask = bid + spread
        got = ofi.update(ts, bid, bsz, ask, asz)
        rows.append((ts, bid, bsz, ask, asz))
        direct = sum(
            ofi_event(*rows[n][1:], *rows[n - 1][1:]) for n in range(1, len(rows)) if rows[n][0] > ts - window
        )
        assert got == pytest.approx(direct, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3_000_000_000), st.integers(1, 500), st.sampled_from([-1, 0, 1])), min_size=1, max_size=60),
    st.integers(1, 2_000_000_000),
)
def test_tfi_rolling_matches_direct(trades: list, window: int) -> None:
    trades.sort(key=lambda t: t[0])
    tfi = TradeFlowImbalance(window)
    for i, (ts, size, side) in enumerate(trades):
        got = tfi.update(ts, size, side)
        live = [t for t in trades[: i + 1] if t[0] > ts - window]
        vol = sum(t[1] for t in live)
        direct = sum(t[1] * t[2] for t in live) / vol if vol else 0.0
        assert got == pytest.approx(direct, abs=1e-9)
        assert -1.0 <= got <= 1.0


def cks_case_form(bid: float, bsz: float, ask: float, asz: float, pb: float, pbs: float, pa: float, pas: float) -> float:
    """e_n written as the paper's cases (bid up / same / down; ask down / same / up)."""
    if bid > pb:
        eb = bsz
    elif bid == pb:
        eb = bsz - pbs
    else:
        eb = -pbs
    if ask < pa:
        ea = asz
    elif ask == pa:
        ea = asz - pas
    else:
        ea = -pas
    return eb - ea


@settings(max_examples=300, deadline=None)
@given(touch, touch)
def test_ofi_event_matches_the_case_form(now: tuple, prev: tuple) -> None:
    bid, bsz, spread, asz = now
    pb, pbs, pspread, pas = prev
    assert ofi_event(bid, bsz, bid + spread, asz, pb, pbs, pb + pspread, pas) == cks_case_form(
        bid, bsz, bid + spread, asz, pb, pbs, pb + pspread, pas)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([1, -1]), st.integers(0, 5), st.integers(0, 1000)), min_size=1, max_size=80),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5),
)
def test_multilevel_imbalance_incremental_matches_direct(changes: list, weights: list) -> None:
    inc = MultiLevelImbalance(weights)
    bids, asks = [0.0] * 6, [0.0] * 6
    for side, level, size in changes:
        (bids if side > 0 else asks)[level] = size
        got = inc.set_level(side, level, size)
        assert got == pytest.approx(weighted_imbalance(bids, asks, weights), abs=1e-9)


def test_microprice_recovers_a_known_first_jump_expectation() -> None:
    """Spread fixed at one tick; each step the mid jumps +-1 tick with probability 1/2, up with
    probability I (the bucket centre), and the imbalance is redrawn uniformly. Then
    g1(I) = 1/2 (2I - 1), the mean of g1 over the uniform next state is 0, so g = I - 1/2 ticks."""
    rng = np.random.default_rng(11)
    n_steps, n = 100_000, 5
    centres = (np.arange(n) + 0.5) / n
    b = rng.integers(0, n, n_steps)
    jump = rng.random(n_steps) < 0.5
    up = rng.random(n_steps) < centres[b]
    moves = np.where(jump, np.where(up, 1, -1), 0)
    # The move out of snapshot i is decided by snapshot i's state.
    bid_ticks = 1000 + np.concatenate([[0], np.cumsum(moves[:-1])])
    bid_size = np.rint(centres[b] * 1000.0)
    table = fit_microprice(bid_ticks * 0.01, (bid_ticks + 1) * 0.01, bid_size, 1000.0 - bid_size, 0.01,
                           n_imbalance=n, n_spread=1)
    assert table.g_ticks[0] == pytest.approx(centres - 0.5, abs=0.02)
    # Odd in the imbalance by construction (symmetrised data).
    assert table.g_ticks[0] == pytest.approx([-x for x in reversed(table.g_ticks[0])], abs=1e-9)
    # Lookup: a heavy bid (I = 0.9) pushes the micro-price up by about 0.4 ticks.
    assert table.price(10.00, 10.01, 900, 100) == pytest.approx(10.005 + 0.004, abs=0.0003)
    assert table.price(10.00, 10.03, 900, 100) == pytest.approx(10.015)  # spread off the grid: the mid


def test_microprice_matches_the_series_on_the_true_chain() -> None:
    """A chain with persistence (after an up-jump the book tends to be bid-heavy): the fitted table
    against g = sum_i B^i (1 - Q)^-1 R K computed directly from the chain's true matrices."""
    rng = np.random.default_rng(5)
    n = 4
    centres = (np.arange(n) + 0.5) / n
    p_jump = 0.2 + 0.4 * np.abs(centres - 0.5)
    pi_up = np.arange(1, n + 1) / np.arange(1, n + 1).sum()
    pi_down = pi_up[::-1]
    stay = 0.6
    q_true = (1 - p_jump)[:, None] * (stay * np.eye(n) + (1 - stay) / n)
    r_true = np.stack([p_jump * (1 - centres), p_jump * centres], axis=1)  # jumps -1, +1
    t_true = p_jump[:, None] * (centres[:, None] * pi_up + (1 - centres)[:, None] * pi_down)
    inv = np.linalg.inv(np.eye(n) - q_true)
    g1 = inv @ r_true @ np.array([-1.0, 1.0])
    b_true = inv @ t_true
    g_true = sum(np.linalg.matrix_power(b_true, i) @ g1 for i in range(6))

    steps = 120_000
    state = np.empty(steps, dtype=np.int64)
    moves = np.zeros(steps, dtype=np.int64)
    x = 0
    u = rng.random((steps, 3))
    for i in range(steps):
        state[i] = x
        if u[i, 0] < p_jump[x]:
            moves[i] = 1 if u[i, 1] < centres[x] else -1
            dist = pi_up if moves[i] > 0 else pi_down
            x = int(np.searchsorted(np.cumsum(dist), u[i, 2]))
        else:
            x = x if u[i, 1] < stay else int(u[i, 2] * n)
        x = min(x, n - 1)
    bid_ticks = 500 + np.concatenate([[0], np.cumsum(moves[:-1])])
    bid_size = np.rint(centres[state] * 1000.0)
    table = fit_microprice(bid_ticks * 0.01, (bid_ticks + 1) * 0.01, bid_size, 1000.0 - bid_size, 0.01,
                           n_imbalance=n, n_spread=1)
    assert table.g_ticks[0] == pytest.approx(g_true, abs=0.03)
    assert abs(g_true[-1]) > 0.3  # persistence makes the series matter beyond g1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2_000_000_000), touch, st.integers(1, 300), st.sampled_from([-1, 1])),
                min_size=1, max_size=40))
def test_aggregate_signals_match_the_parts(events: list) -> None:
    events.sort(key=lambda e: e[0])
    sig = MicrostructureSignals(500_000_000, 1_000_000_000)
    ofi, tfi = OrderFlowImbalance(500_000_000), TradeFlowImbalance(1_000_000_000)
    for ts, (bid, bsz, spread, asz), size, side in events:
        sig.on_book(ts, bid, bsz, bid + spread, asz)
        sig.on_trade(ts, size, side)
        assert sig.ofi == ofi.update(ts, bid, bsz, bid + spread, asz)
        assert sig.tfi(ts) == tfi.update(ts, size, side)
        assert sig.imbalance == book_imbalance(bsz, asz)
        assert sig.microprice == sig.weighted_mid == weighted_mid(bid, bid + spread, bsz, asz)
    assert sig.ofi_at(ts + 10**10) == 0.0
