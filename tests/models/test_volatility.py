"""Volatility calibration: GARCH recovery, EWMA closed form, fallbacks, units, seasonality."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hftmm.models.volatility import (
    NS,
    ScheduledVolatility,
    dollars_per_sqrt_second,
    ewma_volatility,
    fit_volatility,
    garch_rejection,
    per_sqrt_second_from_session,
    per_sqrt_session,
    return_vol_per_interval,
    sample_mids,
    seasonality_curve,
)
from strategies.quoting import avellaneda_stoikov as as_model


def garch_path(n: int, omega: float, alpha: float, beta: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    var = omega / (1 - alpha - beta)
    r = np.empty(n)
    for i in range(n):
        r[i] = math.sqrt(var) * rng.standard_normal()
        var = omega + alpha * r[i] ** 2 + beta * var
    return r


def mids_from_returns(bps: np.ndarray, price: float = 50.0, interval_s: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    mid = price * np.exp(np.cumsum(np.r_[0.0, bps * 1e-4]))
    ts = (np.arange(mid.size) * interval_s * NS).astype(np.int64)
    return ts, mid


def test_garch_recovers_parameters_and_converts_units() -> None:
    ts, mid = mids_from_returns(garch_path(6000, omega=0.5, alpha=0.08, beta=0.9))
    fit = fit_volatility(ts, mid, interval_s=10.0)
    assert fit.method == "garch", fit.reason
    assert fit.params["alpha"] == pytest.approx(0.08, abs=0.04)
    assert fit.params["beta"] == pytest.approx(0.9, abs=0.06)
    # sigma in $/sqrt(s) is the per-interval return vol x price / sqrt(interval): same order as
    # the unconditional vol sqrt(0.5 / 0.02) = 5 bps per 10 s.
    unconditional = 5e-4 * fit.price / math.sqrt(10.0)
    assert 0.3 * unconditional < fit.sigma < 3 * unconditional


def test_ewma_closed_form() -> None:
    r = np.array([0.01, -0.02, 0.0])
    var = 0.01**2
    var = 0.94 * var + 0.06 * 0.02**2
    var = 0.94 * var
    assert ewma_volatility(r) == pytest.approx(math.sqrt(var))


def test_fallbacks() -> None:
    ts = (np.arange(500) * 10 * NS).astype(np.int64)
    flat = fit_volatility(ts, np.full(500, 20.0))
    assert flat.method == "ewma" and flat.reason == "constant price" and flat.sigma == 0.0
    short = fit_volatility(ts[:20], np.linspace(20, 21, 20))
    assert short.method == "ewma" and "returns <" in short.reason and short.sigma > 0


def test_sampling_is_previous_tick() -> None:
    ts = np.array([0, 3, 12, 25], dtype=np.int64) * NS
    mid = np.array([1.0, 2.0, 3.0, 4.0])
    # Buckets end at 10 s and 20 s: the prevailing mids are 2 and 3.
    assert sample_mids(ts, mid, 10.0).tolist() == [2.0, 3.0]


def test_seasonality_recovers_a_u_shape() -> None:
    rng = np.random.default_rng(1)
    n = 2340  # 6.5 h of 10 s
    u = np.linspace(0, 1, n)
    scale = 1 + 3 * (2 * u - 1) ** 2
    bps = rng.standard_normal(n) * np.sqrt(scale)
    ts, mid = mids_from_returns(bps)
    curve = seasonality_curve(ts, mid, 0, int(6.5 * 3600 * NS))
    assert curve.size == 78 and curve.mean() == pytest.approx(1.0)
    assert curve[:6].mean() > 1.5 * curve[36:42].mean() and curve[-6:].mean() > 1.5 * curve[36:42].mean()


def test_garch_rejection_rules() -> None:
    assert garch_rejection(0, 0.05, 0.9) == ""
    assert "did not converge" in garch_rejection(1, 0.05, 0.9)
    assert "non-stationary" in garch_rejection(0, 0.1, 0.9)


def test_unit_conversions_round_trip_and_keep_sigma2_tau() -> None:
    # 5 bps per 10 s at $50: 0.025 dollars per sqrt(10 s) = 0.025 / sqrt(10) per sqrt(s).
    sigma_s = dollars_per_sqrt_second(5e-4, 50.0, 10.0)
    assert sigma_s == pytest.approx(0.025 / math.sqrt(10.0))
    assert return_vol_per_interval(sigma_s, 50.0, 10.0) == pytest.approx(5e-4)
    session_s = 6.5 * 3600
    sigma_session = per_sqrt_session(sigma_s, session_s)
    assert per_sqrt_second_from_session(sigma_session, session_s) == pytest.approx(sigma_s)
    # The A-S quotes are the same with tau in seconds and sigma per sqrt(s), or tau as a session
    # fraction and sigma per sqrt(session): only sigma^2 tau enters.
    tau_s = 1800.0
    in_seconds = as_model.quotes(50.0, 3, 0.5, sigma_s, tau_s, 100.0)
    in_sessions = as_model.quotes(50.0, 3, 0.5, sigma_session, tau_s / session_s, 100.0)
    assert in_seconds == pytest.approx(in_sessions, rel=1e-12)


def test_deseasonalised_fit_and_scheduled_lookup() -> None:
    rng = np.random.default_rng(2)
    n = 2340  # one 6.5 h session of 10 s returns
    u = np.linspace(0, 1, n)
    scale = 1 + 3 * (2 * u - 1) ** 2  # variance factor: 4 at the ends, 1 at midday
    ts, mid = mids_from_returns(rng.standard_normal(n) * np.sqrt(scale) * 2.0)
    close = int(6.5 * 3600 * NS)
    curve = seasonality_curve(ts, mid, 0, close)
    sched = ScheduledVolatility(refit_every_s=600, seasonality=curve, session_start_ns=0, sigma0=0.01)
    assert sched.due(0) and sched.sigma_at(0) == pytest.approx(0.01 * math.sqrt(curve[0]))
    fit = sched.refit(ts, mid, now_ns=0)
    assert fit.deseasonalised and not sched.due(599 * NS) and sched.due(600 * NS)
    # Opening and midday sigma differ by about sqrt(4 / 1) = 2 (up to the curve's noise).
    ratio = sched.sigma_at(60 * NS) / sched.sigma_at(close // 2)
    assert 1.5 < ratio < 2.6
    # The base level averages the session: its square times the mean factor (1) is the mean variance.
    plain = fit_volatility(ts, mid)
    assert fit.sigma == pytest.approx(plain.sigma, rel=0.5)
    assert fit.sigma != plain.sigma
