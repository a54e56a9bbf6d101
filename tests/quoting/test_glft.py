"""GLFT quotes against the reference values of market-making-models.md §2.4, and their properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.quoting import avellaneda_stoikov as as_model
from strategies.quoting.glft import GlftExact, asymptotic_deltas, asymptotic_quotes, asymptotic_skew

PAPER = {"sigma": 2.0, "k": 1.5, "a": 140.0}


@pytest.mark.parametrize(("gamma", "half", "skew"), [(0.01, 0.6725, 0.0161), (0.1, 0.6712, 0.0517), (0.5, 0.6367, 0.1227), (1.0, 0.6032, 0.1848)])
def test_asymptotic_reference_values(gamma: float, half: float, skew: float) -> None:
    db, da = asymptotic_deltas(0, gamma, **PAPER)
    assert db == pytest.approx(half, abs=5e-5) and da == pytest.approx(half, abs=5e-5)
    assert asymptotic_skew(gamma, **PAPER) == pytest.approx(skew, abs=5e-5)


@pytest.mark.parametrize(("tau", "d0", "db2", "da2"), [(1.0, 0.6716, 0.7764, 0.5667), (0.01, 0.6474, 0.6554, 0.6394)])
def test_exact_reference_values(tau: float, d0: float, db2: float, da2: float) -> None:
    exact = GlftExact(0.1, q_max=20, **PAPER)
    assert exact.deltas(tau, 0) == pytest.approx((d0, d0), abs=5e-5)
    assert exact.deltas(tau, 2) == pytest.approx((db2, da2), abs=5e-5)


def test_exact_tends_to_the_asymptotic_far_from_the_horizon() -> None:
    exact = GlftExact(0.1, q_max=20, **PAPER)
    for q in (-3, 0, 3):
        assert exact.deltas(1e4, q) == pytest.approx(asymptotic_deltas(q, 0.1, **PAPER), abs=5e-3)
    # And the A-S skew near T=1 is about 8x the exact one (the Taylor expansion over-skews).
    as_skew = 0.1 * 4.0 * 1.0
    exact_skew = (exact.deltas(1.0, 1)[0] - exact.deltas(1.0, 0)[0])
    assert 6 < as_skew / exact_skew < 10


def test_inventory_bound_and_no_overflow() -> None:
    exact = GlftExact(0.1, q_max=5, **PAPER)
    assert math.isnan(exact.deltas(1.0, 5)[0]) and not math.isnan(exact.deltas(1.0, 5)[1])
    assert math.isnan(exact.deltas(1.0, -5)[1]) and not math.isnan(exact.deltas(1.0, -5)[0])
    assert all(math.isfinite(x) for x in exact.deltas(1e9, 0))
    with pytest.raises(ValueError):
        exact.deltas(1.0, 6)


@settings(max_examples=200, deadline=None)
@given(
    q=st.integers(-10, 9),
    gamma=st.floats(0.01, 2.0),
    tau=st.floats(0.001, 50.0),
)
def test_exact_monotone_and_symmetric(q: int, gamma: float, tau: float) -> None:
    exact = GlftExact(gamma, q_max=10, **PAPER)
    db_q, da_q = exact.deltas(tau, q)
    db_next, da_next = exact.deltas(tau, q + 1)
    # Longer inventory: bid further away, ask closer.
    if q + 1 < 10:
        assert db_next >= db_q - 1e-9
    if q > -10:
        assert da_next <= da_q + 1e-9
    # Symmetry: the bid at q mirrors the ask at -q.
    if q < 10:
        # (to the eigen-decomposition's rounding, about 1e-9 relative)
        assert exact.deltas(tau, -q)[1] == pytest.approx(db_q, rel=1e-7)


@settings(max_examples=200, deadline=None)
@given(q=st.floats(-20, 20), mu=st.floats(-1, 1), gamma=st.floats(0.01, 2.0))
def test_drift_is_an_inventory_offset_and_impact_widens(q: float, mu: float, gamma: float) -> None:
    offset = mu / (gamma * PAPER["sigma"] ** 2)
    with_drift = asymptotic_deltas(q, gamma, **PAPER, mu=mu)
    shifted = asymptotic_deltas(q - offset, gamma, **PAPER)
    assert with_drift == pytest.approx(shifted, abs=1e-9)
    bid, ask = asymptotic_quotes(100.0, q, gamma, **PAPER)
    wbid, wask = asymptotic_quotes(100.0, 0.0, gamma, **PAPER, xi=0.1)
    b0, a0 = asymptotic_quotes(100.0, 0.0, gamma, **PAPER)
    # Impact xi widens each side by xi/2 (at q = 0 the skew term is c/2 per side, scaled by exp(k xi / 4)).
    c = asymptotic_skew(gamma, **PAPER)
    assert wask - wbid == pytest.approx(a0 - b0 + 0.1 + c * (math.exp(0.25 * 1.5 * 0.1) - 1), abs=1e-9)
    assert ask - bid == pytest.approx(a0 - b0)  # the asymptotic spread does not depend on inventory


def test_as_closed_form_values() -> None:
    # r = s - q gamma sigma^2 (T - t); spread = gamma sigma^2 (T - t) + (2/gamma) ln(1 + gamma/k).
    assert as_model.reservation_price(100.0, 2, 0.1, 2.0, 0.5) == pytest.approx(100.0 - 2 * 0.1 * 4 * 0.5)
    assert as_model.total_spread(0.1, 2.0, 0.5, 1.5) == pytest.approx(0.2 + 20 * math.log(1 + 0.1 / 1.5))
    bid, ask = as_model.quotes(100.0, 0, 0.1, 2.0, 1.0, 1.5)
    assert (bid + ask) / 2 == pytest.approx(100.0) and ask - bid == pytest.approx(0.4 + 20 * math.log(1 + 0.1 / 1.5))


@settings(max_examples=200, deadline=None)
@given(q=st.floats(-50, 50), gamma=st.floats(0.001, 5), tau=st.floats(0, 10), s=st.floats(1, 1000))
def test_as_monotone_in_inventory_and_symmetric(q: float, gamma: float, tau: float, s: float) -> None:
    b1, a1 = as_model.quotes(s, q, gamma, 2.0, tau, 1.5)
    b2, a2 = as_model.quotes(s, q + 1, gamma, 2.0, tau, 1.5)
    assert b2 <= b1 + 1e-9 and a2 <= a1 + 1e-9
    bm, am = as_model.quotes(s, -q, gamma, 2.0, tau, 1.5)
    assert s - b1 == pytest.approx(am - s, rel=1e-9, abs=1e-9)
