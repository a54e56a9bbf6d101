"""Fill-intensity calibration on synthetic Poisson arrivals with exponential depths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hftmm.models.intensity import NS, fit_side, reach_rates, trade_depths


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
    assert fit.k == pytest.approx(0.4, rel=0.1)
    assert fit.a == pytest.approx(2.0, rel=0.25)
    assert fit.k_per_dollar(0.01) == pytest.approx(fit.k * 100)


def test_rates_by_hand() -> None:
    deepest = np.array([-np.inf, 0.5, 2.5, 1.5])  # four 1-s windows
    assert reach_rates(deepest, NS, np.array([0.5, 1.5, 2.5, 3.5])).tolist() == [0.75, 0.5, 0.25, 0.0]


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
