"""Incremental signals against direct computations on random sequences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.signals import (
    OrderFlowImbalance,
    TradeFlowImbalance,
    book_imbalance,
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
