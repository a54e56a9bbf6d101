"""Positions, VaR/ES, dynamic limits, the allocator and the kill switch against direct computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hftmm.risk.allocator import allocation_weights
from hftmm.risk.dynamic_limits import limit_scale
from hftmm.risk.positions import Position
from hftmm.risk.var import historical_var, parametric_var
from tests.risk.helpers import IID, T0, chain_with

fills = st.lists(st.tuples(st.sampled_from([1, -1]), st.integers(1, 500), st.integers(4000, 6000)), min_size=1, max_size=40)


@settings(max_examples=200)
@given(fills=fills, mark=st.integers(4000, 6000))
def test_position_pnl_is_cash_plus_marked_inventory(fills: list[tuple[int, int, int]], mark: int) -> None:
    pos = Position()
    cash = 0.0
    for side, qty, cents in fills:
        price = cents / 100
        pos.fill(side, qty, price, fee=0.001 * qty)
        cash -= side * qty * price
    inventory = sum(side * qty for side, qty, _ in fills)
    assert pos.quantity == inventory
    fees = 0.001 * sum(q for _, q, _ in fills)
    assert pos.total(mark / 100) == pytest.approx(cash + inventory * mark / 100 - fees, abs=1e-6)


def test_average_price_and_realized_through_zero() -> None:
    pos = Position()
    pos.fill(1, 100, 10.0)
    pos.fill(1, 100, 11.0)
    assert pos.avg_price == pytest.approx(10.5)
    assert pos.fill(-1, 300, 12.0) == pytest.approx(300.0)  # 200 closed at +1.5
    assert pos.quantity == -100 and pos.avg_price == 12.0


def test_parametric_var_closed_form() -> None:
    # One instrument: $1M at 1% per sqrt(s) over 100 s: sd = 1M * 0.01 * 10 = $100k.
    var, es = parametric_var(np.array([1e6]), np.array([0.01]), 100.0, 0.99)
    assert var == pytest.approx(2.326348 * 1e5, rel=1e-6)
    assert es == pytest.approx(1e5 * 0.0266521 / 0.01, rel=1e-4)
    # Perfectly hedged with correlation 1: no risk; independent: sqrt(2) of one leg.
    corr = np.array([[1.0, 1.0], [1.0, 1.0]])
    assert parametric_var(np.array([1e6, -1e6]), np.array([0.01, 0.01]), 1.0, 0.95, corr)[0] == pytest.approx(0, abs=1e-6)
    one = parametric_var(np.array([1e6]), np.array([0.01]), 1.0, 0.95)[0]
    assert parametric_var(np.array([1e6, 1e6]), np.array([0.01, 0.01]), 1.0, 0.95)[0] == pytest.approx(one * math.sqrt(2))


def test_historical_var_on_a_known_sample() -> None:
    pnl = np.arange(-50, 50, dtype=float)  # 100 scenarios, -50..49
    var, es = historical_var(pnl, 0.95)
    # The 5 worst of 100 scenarios are the 5% tail: VaR is the best of them, ES their mean.
    assert var == 46.0 and es == pytest.approx(48.0)
    big = np.random.default_rng(1).normal(0, 1000, 200_000)
    assert historical_var(big, 0.99)[0] == pytest.approx(2326.3, rel=0.02)


def test_limit_scale() -> None:
    assert limit_scale(0.02, 0.01, 0, None, 0.25) == 0.5
    assert limit_scale(0.005, 0.01, 0, None, 0.25) == 1.0
    assert limit_scale(0.01, 0.01, 500, 1000, 0.25) == 0.5
    assert limit_scale(1.0, 0.01, 5000, 1000, 0.25) == 0.25


def test_allocation_weights() -> None:
    w = allocation_weights("inverse_var", np.array([0.01, 0.02]), np.zeros(2), 0.0)
    assert w == pytest.approx([2 / 3, 1 / 3])
    w = allocation_weights("risk_adjusted_pnl", np.array([0.01, 0.01]), np.array([300.0, -100.0]), 0.2)
    assert w.sum() == pytest.approx(1) and w[1] == pytest.approx(0.1 / 1.1) and w[0] > w[1]
    assert allocation_weights("equal", np.array([0.01, math.nan, 0.03]), np.zeros(3), 0.1) == pytest.approx([1 / 3] * 3)


def test_dynamic_limits_and_allocator_feed_max_position() -> None:
    chain = chain_with({"path": "MaxPosition", "max_position": 1000},
                       {"path": "DynamicLimits", "every_s": 1, "sigma_ref": {IID: 0.01}},
                       {"path": "CapitalAllocator", "budget": 40_000, "method": "equal", "every_s": 1})
    chain.state.sigma[IID] = 0.02  # twice the reference: limits halve
    chain.on_timer(T0 + 1)
    chain.state.sigma[IID] = 0.02
    chain.on_timer(T0 + 2_000_000_000)
    assert chain.state.limit_scale[IID] == 0.5
    assert chain.state.allocation[IID] == pytest.approx(40_000)
    # min(1000 x 0.5, 40,000 / 50.01) = 500 shares.
    assert chain.check(__import__("tests.risk.helpers", fromlist=["intent"]).intent(1, 500, 50.0))
    assert not chain.check(__import__("tests.risk.helpers", fromlist=["intent"]).intent(1, 1, 50.0))


def test_var_limit_moves_to_reduce_only_and_back() -> None:
    from tests.risk.helpers import intent

    chain = chain_with({"path": "VarLimit", "limit": 1000, "horizon_s": 60, "every_s": 1})
    chain.state.sigma[IID] = 0.05  # $ per sqrt(s) at $50: 0.1% per sqrt(s)
    chain.on_fill("S-1", IID, "F", 1, 1000, 50.0, 0.0, 0.0, T0)
    # 99% VaR = 2.326 x 50,010 x 0.001 x sqrt(60) = $901: under the limit.
    assert chain.on_timer(T0 + 1) == []
    assert chain.state.var["parametric_99"] == pytest.approx(2.326348 * 1000 * 50.01 * (0.05 / 50.01) * math.sqrt(60), rel=1e-6)
    chain.on_fill("S-1", IID, "G", 1, 500, 50.0, 0.0, 0.0, T0 + 2)
    [action] = chain.on_timer(T0 + 2_000_000_000)
    assert action.mode == "REDUCING" and chain.state.mode == "REDUCING"
    assert not chain.check(intent(1, 100, 49.9)) and chain.check(intent(-1, 100, 50.1))
    chain.on_fill("S-1", IID, "H", -1, 1000, 50.0, 0.0, 0.0, T0 + 3)
    [action] = chain.on_timer(T0 + 4_000_000_000)
    assert action.mode == "ACTIVE"


def test_kill_switch_halts_on_drawdown_and_stays_halted() -> None:
    from tests.risk.helpers import intent

    chain = chain_with({"path": "KillSwitch", "max_drawdown": 100})
    assert chain.on_fill("S-1", IID, "F", 1, 1000, 50.01, 0.0, 0.0, T0) == []
    chain.on_quote(IID, 49.90, 49.92, 100, 100, T0 + 1)  # mark 49.91: -$100
    [action] = chain.on_timer(T0 + 1_000_000_000)
    assert action.mode == "HALTED" and "drawdown" in action.reason
    chain.on_quote(IID, 51.0, 51.02, 100, 100, T0 + 2)
    assert chain.on_timer(T0 + 2_000_000_000) == [] and chain.state.mode == "HALTED"
    assert not chain.check(intent(-1, 100, 51.05))
    chain.resume("ops", "reviewed")
    assert chain.check(intent(-1, 100, 51.05))


def test_kill_switch_on_stale_data_and_a_lost_venue() -> None:
    from tests.risk.helpers import intent

    chain = chain_with({"path": "KillSwitch", "stale_data_s": 5, "venue_grace_s": 2})
    assert chain.check(intent(1, 100, 49.9))
    assert chain.on_timer(T0 + 4_000_000_000) == []
    [action] = chain.on_timer(T0 + 6_000_000_000)
    assert action.mode == "HALTED" and "market data for ACME.XNYS" in action.reason
    chain = chain_with({"path": "KillSwitch", "venue_grace_s": 2})
    chain.set_venue_connected("XNYS", False, T0)
    assert chain.on_timer(T0 + 1_000_000_000) == []
    [action] = chain.on_timer(T0 + 2_500_000_000)
    assert "venue XNYS disconnected" in action.reason
