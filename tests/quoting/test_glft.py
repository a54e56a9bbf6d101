"""GLFT quotes against the reference values of market-making-models.md §2.4, and their properties."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.quoting import avellaneda_stoikov as as_model
from strategies.quoting.glft import (
    GlftExact,
    GlftSided,
    asymptotic_deltas,
    asymptotic_half_spread,
    asymptotic_quotes,
    asymptotic_skew,
    exact_solution,
    glft_deltas,
    sized_half_spread_and_skew,
)

PAPER = {"sigma": 2.0, "k": 1.5, "a": 140.0}


@pytest.mark.parametrize(("gamma", "half", "skew"), [(0.01, 0.6725, 0.0161), (0.1, 0.6712, 0.0517), (0.5, 0.6367, 0.1227), (1.0, 0.6032, 0.1848)])
def test_asymptotic_reference_values(gamma: float, half: float, skew: float) -> None:
    db, da = asymptotic_deltas(0, gamma, **PAPER)
    assert asymptotic_half_spread(gamma, **PAPER) == pytest.approx(half, abs=5e-5)
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


@pytest.mark.parametrize("gamma", [0.01, 0.1, 0.5, 1.0])
def test_sized_version_reduces_to_the_unit_closed_form(gamma: float) -> None:
    # Delta = 1 and xi = gamma: Gueant (2017) eqs. 4.6-4.7 are the GLFT closed form.
    half, skew = sized_half_spread_and_skew(gamma, **PAPER, size=1.0)
    assert half == pytest.approx(asymptotic_half_spread(gamma, **PAPER), rel=1e-12)
    assert skew == pytest.approx(asymptotic_skew(gamma, **PAPER), rel=1e-12)


def test_sized_version_by_hand() -> None:
    gamma, sigma, k, a, size = 0.05, 3.0, 0.8, 2.5, 4.0
    c1 = math.log(1 + gamma * size / k) / (gamma * size)
    c2 = math.sqrt(gamma / (2 * a * size * k) * (1 + gamma * size / k) ** (k / (gamma * size) + 1))
    assert sized_half_spread_and_skew(gamma, sigma, k, a, size) == pytest.approx((c1 + size / 2 * sigma * c2, sigma * c2))
    # A separate xi enters c1 and the power, not the gamma / (2 A size k) factor.
    half, skew = sized_half_spread_and_skew(gamma, sigma, k, a, size, xi=0.2)
    assert half == pytest.approx(math.log(1 + 0.8 / k) / 0.8 + size / 2 * skew)
    assert skew == pytest.approx(sigma * math.sqrt(gamma / (2 * a * size * k) * (1 + 0.8 / k) ** (k / 0.8 + 1)))


@pytest.mark.parametrize("gamma", [0.01, 0.1, 1.0, 3.0])
@pytest.mark.parametrize("tau", [0.001, 0.05, 1.0, 30.0])
def test_exact_matches_the_matrix_exponential(gamma: float, tau: float) -> None:
    """Every inventory, including the extremes where v spans 1e-25..1 (the eigenvector route alone
    loses precision there), against scipy's expm computed directly from the definition."""
    import numpy as np
    import scipy.linalg

    q_max, sigma, k, a = 20, PAPER["sigma"], PAPER["k"], PAPER["a"]
    exact = GlftExact(gamma, q_max=q_max, **PAPER)
    alpha = 0.5 * k * gamma * sigma**2
    eta = a * (1 + gamma / k) ** (-(1 + k / gamma))
    q = np.arange(-q_max, q_max + 1, dtype=float)
    m = np.diag(alpha * q * q) - eta * (np.eye(q.size, k=1) + np.eye(q.size, k=-1))
    # Shifted by the smallest eigenvalue against overflow; the scale of v cancels in the ratios.
    v = scipy.linalg.expm(-(m - np.linalg.eigvalsh(m)[0] * np.eye(q.size)) * tau) @ np.ones(q.size)
    base = math.log1p(gamma / k) / gamma
    for qi in range(-q_max, q_max + 1):
        i = qi + q_max
        db, da = exact.deltas(tau, qi)
        if qi < q_max:
            assert db == pytest.approx(math.log(v[i] / v[i + 1]) / k + base, abs=1e-7)
        if qi > -q_max:
            assert da == pytest.approx(math.log(v[i] / v[i - 1]) / k + base, abs=1e-7)


def test_exact_drift_tends_to_the_asymptotic_drift_term() -> None:
    mu = 0.3
    exact = GlftExact(0.1, q_max=20, **PAPER, mu=mu)
    for q in (-2, 0, 2):
        assert exact.stationary_deltas(q) == pytest.approx(asymptotic_deltas(q, 0.1, **PAPER, mu=mu), abs=3e-3)
    # Positive drift: buy closer, sell further than without it.
    still = GlftExact(0.1, q_max=20, **PAPER)
    assert exact.deltas(1.0, 0)[0] < still.deltas(1.0, 0)[0] and exact.deltas(1.0, 0)[1] > still.deltas(1.0, 0)[1]


def test_horizon_dispatch_and_cache() -> None:
    assert exact_solution(0.1, 2.0, 1.5, 140.0, 20) is exact_solution(0.1, 2.0, 1.5, 140.0, 20)
    assert glft_deltas(2, 0.1, 2.0, 1.5, 140.0, 1.0, 20) == pytest.approx((0.7764, 0.5667), abs=5e-5)
    assert glft_deltas(2, 0.1, 2.0, 1.5, 140.0, None, 20) == asymptotic_deltas(2, 0.1, **PAPER)
    assert glft_deltas(2, 0.1, 2.0, 1.5, 140.0, math.inf, 20) == asymptotic_deltas(2, 0.1, **PAPER)
    # At the bound the side that would cross it is NaN in both forms.
    assert math.isnan(glft_deltas(20, 0.1, 2.0, 1.5, 140.0, None, 20)[0])
    assert math.isnan(glft_deltas(-20, 0.1, 2.0, 1.5, 140.0, 1.0, 20)[1])
    # Impact widens each side by xi / 2 in the finite-horizon form.
    db, da = glft_deltas(0, 0.1, 2.0, 1.5, 140.0, 1.0, 20, xi=0.2)
    assert (db, da) == pytest.approx((0.6716 + 0.1, 0.6716 + 0.1), abs=5e-5)


def test_as_infinite_horizon_by_hand_and_properties() -> None:
    gamma, sigma, k, q_max = 0.1, 2.0, 1.5, 10
    g2s2 = (gamma * sigma) ** 2
    omega = 0.5 * g2s2 * 11**2
    r_a, r_b = as_model.infinite_horizon_reservation_prices(100.0, 2, gamma, sigma, q_max)
    assert r_a == pytest.approx(100.0 + math.log(1 + (1 - 4) * g2s2 / (2 * omega - g2s2 * 4)) / gamma)
    assert r_b == pytest.approx(100.0 + math.log(1 + (-1 - 4) * g2s2 / (2 * omega - g2s2 * 4)) / gamma)
    bid, ask = as_model.infinite_horizon_quotes(100.0, 0, gamma, sigma, k, q_max)
    # Only nearly symmetric at q = 0: ln(1 + x) and -ln(1 - x) differ at second order in
    # x = g^2 s^2 / (2 omega) = 1 / (q_max + 1)^2.
    x = 1 / 11**2
    assert (100.0 - bid) - (ask - 100.0) == pytest.approx((-math.log(1 - x) - math.log(1 + x)) / gamma)
    liquidity = math.log1p(gamma / k) / gamma
    previous = as_model.infinite_horizon_quotes(100.0, -q_max, gamma, sigma, k, q_max)
    assert math.isnan(previous[1]) and math.isfinite(previous[0])  # no ask at -q_max
    previous = (previous[0], math.inf)
    for q in range(-q_max + 1, q_max):
        b, a = as_model.infinite_horizon_quotes(100.0, q, gamma, sigma, k, q_max)
        assert b < previous[0] and a < previous[1]  # longer: both quotes lower
        assert a - b > 2 * liquidity
        previous = (b, a)
    b, a = as_model.infinite_horizon_quotes(100.0, q_max, gamma, sigma, k, q_max)
    assert math.isnan(b) and a < previous[1]  # no bid at q_max


# -- per-side intensities: the numerical solution of the nonlinear system ----------------------

@settings(max_examples=6, deadline=None)
@given(
    gamma=st.floats(0.01, 0.2), sigma=st.floats(0.005, 0.05), k=st.floats(30.0, 200.0),
    a=st.floats(0.1, 2.0), q_max=st.integers(1, 6),
)
def test_sided_solution_with_equal_sides_is_the_exact_solution(gamma: float, sigma: float, k: float, a: float, q_max: int) -> None:
    sided = GlftSided(gamma, sigma, k, a, k, a, q_max, tau_max=3600.0)
    exact = GlftExact(gamma, sigma, k, a, q_max)
    for tau in (0.0, 0.5, 30.0, 600.0, 3600.0):
        for q in range(-q_max, q_max + 1):
            got, want = sided.deltas(tau, q), exact.deltas(tau, q)
            for g, w in zip(got, want, strict=True):
                if math.isnan(w):
                    assert math.isnan(g)
                else:
                    # Linear interpolation between horizon grid points: well under a thousandth of a cent.
                    assert g == pytest.approx(w, abs=1e-5), (tau, q)


def test_sided_solution_mirrors_when_the_sides_swap() -> None:
    bid, ask = (80.0, 0.4), (140.0, 1.2)  # (k per dollar, A per second)
    one = GlftSided(0.05, 0.02, bid[0], bid[1], ask[0], ask[1], 4, tau_max=3600.0)
    other = GlftSided(0.05, 0.02, ask[0], ask[1], bid[0], bid[1], 4, tau_max=3600.0)
    for tau in (1.0, 100.0, 3600.0):
        for q in range(-4, 5):
            db, da = one.deltas(tau, q)
            db2, da2 = other.deltas(tau, -q)
            assert (math.isnan(db) and math.isnan(da2)) or db == pytest.approx(da2, rel=1e-9)
            assert (math.isnan(da) and math.isnan(db2)) or da == pytest.approx(db2, rel=1e-9)


def test_sided_solution_quotes_a_steeper_side_closer_at_zero_inventory() -> None:
    # A larger k (fills die off faster with distance) makes the myopic distance 1/gamma ln(1+gamma/k)
    # smaller: the side with the steeper intensity is quoted tighter.
    sided = GlftSided(0.05, 0.02, 200.0, 0.5, 50.0, 0.5, 4, tau_max=3600.0)
    db, da = sided.deltas(3600.0, 0)
    assert db < da
    assert sided.relaxed()


@given(st.lists(st.tuples(st.integers(1, 5_000_000_000), st.floats(-0.05, 0.05)), min_size=1, max_size=40),
       st.integers(0, 40))
def test_ewma_volatility_snapshot_continues_exactly(steps: list[tuple[int, float]], cut: int) -> None:
    """A restored estimator gives the same estimates as one that never stopped."""
    from strategies.quoting.ewma_volatility import EwmaVolatility

    whole, first = EwmaVolatility(0.01, 60.0, 1.0), EwmaVolatility(0.01, 60.0, 1.0)
    ts, mid = 0, 50.0
    feed = []
    for dt_ns, move in steps:
        ts, mid = ts + dt_ns, mid + move
        feed.append((ts, mid))
    for ts, mid in feed[:cut]:
        whole.update(ts, mid)
        first.update(ts, mid)
    second = EwmaVolatility(0.02, 60.0, 1.0)
    second.restore(json.loads(json.dumps(first.snapshot())))
    for ts, mid in feed[cut:]:
        whole.update(ts, mid)
        second.update(ts, mid)
    assert second.sigma == whole.sigma


def test_ewma_volatility_refuses_a_bad_snapshot() -> None:
    from strategies.quoting.ewma_volatility import EwmaVolatility

    with pytest.raises(ValueError, match="not a positive number"):
        EwmaVolatility(0.01, 60.0, 1.0).restore({"var": -1.0, "last_ns": 0, "last_mid": None})
