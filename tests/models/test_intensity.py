"""Fill-intensity calibration on synthetic Poisson arrivals with exponential depths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hftmm.models.intensity import NS, fit_intensity, fit_side, poisson_rates, reach_rates, trade_depths


def synthetic(a: float, k: float, seconds: float, window_ns: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows in which depth d (ticks) is reached at rate a exp(-k d): the deepest print per window
    is exceeded with probability 1 - exp(-a exp(-k d) w)."""
    rng = np.random.default_rng(seed)
    w = window_ns / NS
    n = int(seconds / w)
    u = rng.random(n)
    # Invert P(deepest >= d) = 1 - exp(-a w exp(-k d)).
    with np.errstate(divide="ignore"):
        depth = np.log(a * w / -np.log1p(-u)) / k
    ts = (np.arange(n) * window_ns + window_ns // 2).astype(np.int64)
    return ts, depth


def test_recovers_a_and_k() -> None:
    ts, depth = synthetic(a=2.0, k=0.4, seconds=40_000, window_ns=100_000_000, seed=3)
    fit = fit_side(ts, depth, 0, int(40_000 * NS))
    assert fit.method == "ols" and fit.r2 > 0.95
    assert fit.k == pytest.approx(0.4, rel=0.05)
    # The Poisson correction removes the windowing bias (a w = 0.2 would undercount A by 10%).
    assert fit.a == pytest.approx(2.0, rel=0.05)
    assert fit.k_per_dollar(0.01) == pytest.approx(fit.k * 100)


def test_rates_by_hand() -> None:
    deepest = np.array([-np.inf, 0.5, 2.5, 1.5])  # four 1-s windows
    assert reach_rates(deepest, NS, np.array([0.5, 1.5, 2.5, 3.5])).tolist() == [0.75, 0.5, 0.25, 0.0]


def test_poisson_correction_by_hand() -> None:
    deepest = np.array([-np.inf, 0.5, 2.5, 1.5])  # four 1-s windows
    # p = 3/4 at 0.5 ticks: lambda = -ln(1/4) = ln 4 per second; p = 0 gives 0.
    got = poisson_rates(deepest, NS, np.array([0.5, 1.5, 3.5]))
    assert got == pytest.approx([math.log(4.0), math.log(2.0), 0.0])


def test_fallback_when_only_the_touch_trades() -> None:
    ts = (np.arange(100) * NS).astype(np.int64)
    fit = fit_side(ts, np.full(100, 0.5), 0, 200 * NS, window_ns=NS)
    assert fit.method == "nonparametric" and "depth(s) reached" in fit.reason
    assert fit.a > 0 and fit.k == pytest.approx(math.log(10.0))


def test_no_trades_gives_zero_intensity() -> None:
    fit = fit_side(np.zeros(0, np.int64), np.zeros(0), 0, 100 * NS)
    assert fit.a == 0.0 and fit.method == "nonparametric"


def test_trade_depth_units() -> None:
    ask_side, bid_side = trade_depths(np.array([10.02, 9.99]), np.array([10.005, 10.005]), 0.01)
    assert ask_side == pytest.approx([1.5, -1.5]) and bid_side == pytest.approx([-1.5, 1.5])


def synthetic_trades(a_bid: float, k_bid: float, a_ask: float, k_ask: float, tick: float, seconds: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson prints on each side with exponential depths (ticks) beyond the mid: overall rate
    ``a`` per second, depth ~ Exp(k), so prints reaching depth d arrive at ``a exp(-k d)``."""
    rng = np.random.default_rng(seed)
    out = []
    for a, k, sign in ((a_bid, k_bid, -1.0), (a_ask, k_ask, 1.0)):
        n = rng.poisson(a * seconds)
        ts = np.sort(rng.integers(0, int(seconds * NS), n))
        mid = 20.0 + rng.integers(0, 50, n) * tick / 2  # a wandering mid on the half-tick grid
        out.append((ts, mid + sign * rng.exponential(1.0 / k, n) * tick, mid))
    order = np.argsort(np.concatenate([o[0] for o in out]), kind="stable")
    ts, price, mid = (np.concatenate([o[i] for o in out])[order] for i in range(3))
    return ts.astype(np.int64), price, mid


def test_per_side_fit_from_raw_trades() -> None:
    ts, price, mid = synthetic_trades(1.5, 0.5, 3.0, 0.8, 0.01, 20_000, seed=2)
    fit = fit_intensity(ts, price, mid, 0.01, 0, 20_000 * NS)
    assert fit.bid.method == "ols" and fit.ask.method == "ols"
    assert (fit.bid.a, fit.bid.k) == pytest.approx((1.5, 0.5), rel=0.08)
    assert (fit.ask.a, fit.ask.k) == pytest.approx((3.0, 0.8), rel=0.08)


def test_units_ticks_and_seconds() -> None:
    ts, price, mid = synthetic_trades(2.0, 0.5, 2.0, 0.5, 0.01, 20_000, seed=4)
    base = fit_intensity(ts, price, mid, 0.01, 0, 20_000 * NS)
    # Half the tick: depths double in ticks, so k per tick halves and k per dollar is unchanged.
    fine = fit_intensity(ts, price, mid, 0.005, 0, 20_000 * NS, max_ticks=40)
    assert fine.ask.k == pytest.approx(base.ask.k / 2, rel=0.05)
    assert fine.ask.k_per_dollar(0.005) == pytest.approx(base.ask.k_per_dollar(0.01), rel=0.05)
    # The same trades over a period twice as long: A per second halves.
    longer = fit_intensity(ts, price, mid, 0.01, 0, 40_000 * NS)
    assert longer.ask.a == pytest.approx(base.ask.a / 2, rel=0.05)


def test_fallback_on_too_few_trades_and_on_a_bad_shape() -> None:
    ts, price, mid = synthetic_trades(0.001, 0.5, 0.001, 0.5, 0.01, 5_000, seed=1)
    few = fit_intensity(ts, price, mid, 0.01, 0, 5_000 * NS)
    assert few.ask.method == "nonparametric" and "too few trades" in few.ask.reason
    # Depths that are not exponential (half near the touch, half in a clump 8-12 ticks out, as
    # when sweeps print deep): a fast decay, a plateau, a cliff; R^2 is poor.
    rng = np.random.default_rng(3)
    n = 40_000
    t = np.sort(rng.integers(0, 4_000 * NS, n)).astype(np.int64)
    depth = np.where(rng.random(n) < 0.5, rng.exponential(0.5, n), rng.uniform(8, 12, n))
    flat = fit_side(t, depth, 0, 4_000 * NS, max_ticks=20)
    assert flat.method == "nonparametric" and "poor fit" in flat.reason and flat.r2 < 0.8
    assert flat.a > 0 and 0 < flat.k < math.inf


def test_aggressor_flags_override_the_side_of_the_mid() -> None:
    ts = np.arange(200, dtype=np.int64) * NS
    price = np.full(200, 10.02)
    mid = np.full(200, 10.005)  # every print 1.5 ticks above the mid
    seller = fit_intensity(ts, price, mid, 0.01, 0, 200 * NS, aggressor=np.full(200, -1), min_reached=1)
    # Sells printing above the mid never reach the bid (negative depth), so that side is empty.
    assert seller.bid.a == 0.0 and seller.ask.windows == seller.bid.windows
    buyer = fit_intensity(ts, price, mid, 0.01, 0, 200 * NS, min_reached=1)
    assert buyer.ask.rates[0] > 0 and buyer.bid.a == 0.0
