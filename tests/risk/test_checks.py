"""Each pre-trade check vetoes what it must and passes what it must, boundaries included."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hftmm.config.errors import ConfigError
from hftmm.risk.config import build_plugins
from tests.risk.helpers import IID, T0, chain_with, intent

BUY, SELL = 1, -1


@settings(max_examples=200, deadline=None)
@given(limit=st.integers(1, 2000), position=st.integers(-2000, 2000), working=st.integers(0, 1000),
       qty=st.integers(1, 1000), side=st.sampled_from([BUY, SELL]))
def test_max_position_is_worst_case(limit: int, position: int, working: int, qty: int, side: int) -> None:
    chain = chain_with({"path": "MaxPosition", "max_position": limit})
    if position:
        chain.on_fill("S-1", IID, "F", 1 if position > 0 else -1, abs(position), 50.0, 0.0, 0.0, T0)
    if working:
        chain.state.add_working(intent(side, working, 49.0 if side == BUY else 51.0))
    allowed = chain.check(intent(side, qty, 49.5 if side == BUY else 50.5))
    worst = position + side * (working + qty)
    increases = abs(worst) > abs(position) and (worst > 0) == (side > 0)
    assert allowed == (not increases or abs(worst) <= limit)


def test_max_position_gross_and_scale() -> None:
    chain = chain_with({"path": "MaxPosition", "max_position": 500, "max_gross": 600})
    chain.on_quote("BOLT.XNAS", 20.0, 20.01, 100, 100, T0)
    chain.on_fill("S-2", "BOLT.XNAS", "F", BUY, 400, 20.0, 0.0, 0.0, T0)
    assert chain.check(intent(BUY, 200, 50.0))
    assert not chain.check(intent(BUY, 100, 50.0))  # gross 400 + 300 > 600
    assert chain.vetoes[-1]["plugin"] == "MaxPosition" and "gross" in chain.vetoes[-1]["reason"]
    chain = chain_with({"path": "MaxPosition", "max_position": 500})
    chain.state.limit_scale[IID] = 0.5
    assert chain.check(intent(BUY, 250, 50.0)) and not chain.check(intent(BUY, 1, 50.0))


def test_max_position_lets_reducing_orders_through() -> None:
    chain = chain_with({"path": "MaxPosition", "max_position": 100})
    chain.on_fill("S-1", IID, "F", BUY, 300, 50.0, 0.0, 0.0, T0)  # already beyond (e.g. limit lowered)
    assert not chain.check(intent(BUY, 1, 50.0))
    assert chain.check(intent(SELL, 300, 50.1))


@given(qty=st.floats(1, 10_000), price=st.floats(1, 1000))
def test_max_order_size_and_notional(qty: float, price: float) -> None:
    chain = chain_with({"path": "MaxOrderSize", "max_quantity": 1000, "max_notional": 100_000}, bid=price, ask=price + 0.01)
    allowed = chain.check(intent(BUY, qty, price))
    assert allowed == (qty <= 1000 + 1e-9 and qty * price <= 100_000 + 1e-9)


def test_max_order_notional_prices_a_market_order_at_the_far_touch() -> None:
    chain = chain_with({"path": "MaxOrderSize", "max_notional": 10_000}, bid=99.0, ask=101.0)
    assert not chain.check(intent(BUY, 100, math.nan))  # 100 x 101 > 10,000
    assert chain.check(intent(SELL, 100, math.nan))  # 100 x 99


@given(offset_bps=st.floats(-200, 200))
def test_price_collar(offset_bps: float) -> None:
    chain = chain_with({"path": "PriceCollar", "max_deviation_bps": 50})
    ask = 50.02
    price = ask * (1 + offset_bps * 1e-4)
    assert chain.check(intent(BUY, 100, price)) == (offset_bps <= 50 + 1e-6)
    bid = 50.00
    price = bid * (1 - offset_bps * 1e-4)
    assert chain.check(intent(SELL, 100, price)) == (offset_bps <= 50 + 1e-6)


def test_price_collar_without_or_with_a_stale_quote() -> None:
    from hftmm.risk.chain import RiskChain

    chain = RiskChain(build_plugins([{"path": "PriceCollar", "max_quote_age_s": 2}]))
    assert not chain.check(intent(BUY, 100, 50.0))
    assert "no two-sided quote" in chain.vetoes[-1]["reason"]
    chain.on_quote(IID, 50.0, 50.02, 100, 100, T0)
    assert chain.check(intent(BUY, 100, 50.0, ts=T0 + 1_000_000_000))
    assert not chain.check(intent(BUY, 100, 50.0, ts=T0 + 3_000_000_000))
    assert "old" in chain.vetoes[-1]["reason"]


def test_max_open_orders() -> None:
    chain = chain_with({"path": "MaxOpenOrders", "max_per_instrument": 2, "max_total": 3})
    assert chain.check(intent(BUY, 100, 49.9)) and chain.check(intent(BUY, 100, 49.8))
    assert not chain.check(intent(BUY, 100, 49.7))
    chain.on_quote("BOLT.XNAS", 20.0, 20.01, 100, 100, T0)
    assert chain.check(intent(BUY, 100, 19.9, iid="BOLT.XNAS"))
    assert not chain.check(intent(BUY, 100, 19.8, iid="BOLT.XNAS"))  # total 3
    coid = next(iter(chain.state.working))
    chain.on_order_event("canceled", coid, T0)
    assert chain.check(intent(BUY, 100, 49.7))


def test_rate_limit_counts_messages_and_never_refuses_a_cancel() -> None:
    chain = chain_with({"path": "RateLimit", "max_orders": 3, "max_messages": 5, "window_s": 1})
    ts = [T0 + i * 100_000_000 for i in range(10)]
    assert [chain.check(intent(BUY, 100, 49.9, ts=t)) for t in ts[:4]] == [True, True, True, False]
    coid = next(iter(chain.state.working))
    assert chain.check(intent(BUY, 100, 49.8, kind="modify", coid=coid, ts=ts[4]))
    assert chain.check(intent(BUY, 100, 49.8, kind="modify", coid=coid, ts=ts[5]))
    assert not chain.check(intent(BUY, 100, 49.7, kind="modify", coid=coid, ts=ts[6]))
    assert chain.check(intent(BUY, 100, 49.7, kind="cancel", coid=coid, ts=ts[7]))
    # A second later the window has moved on.
    assert chain.check(intent(BUY, 100, 49.9, ts=T0 + 2_000_000_000))


def test_no_self_cross() -> None:
    chain = chain_with({"path": "NoSelfCross"})
    assert chain.check(intent(SELL, 100, 50.05, coid="ASK"))
    assert chain.check(intent(BUY, 100, 50.04))
    assert not chain.check(intent(BUY, 100, 50.05))
    assert "cross our own sell ASK" in chain.vetoes[-1]["reason"]
    assert not chain.check(intent(BUY, 100, math.nan))  # a market buy would hit it too
    chain.on_order_event("canceled", "ASK", T0)
    assert chain.check(intent(BUY, 100, 50.05))


def test_short_sale_rule_201_and_locates() -> None:
    chain = chain_with({"path": "ShortSale", "require_locate": True, "locates": {"ACME": 300}})
    chain.on_fill("S-1", IID, "F", BUY, 100, 50.0, 0.0, 0.0, T0)
    assert chain.check(intent(SELL, 100, 50.0))  # selling what we hold is not a short sale
    assert chain.check(intent(SELL, 300, 50.1))  # worst position -300: located
    assert not chain.check(intent(SELL, 1, 50.1))
    assert "locate" in chain.vetoes[-1]["reason"]
    chain = chain_with({"path": "ShortSale"})
    chain.on_short_sale_restriction(IID, True, T0)
    assert not chain.check(intent(SELL, 100, 50.00))  # at the bid
    assert "Rule 201" in chain.vetoes[-1]["reason"]
    assert chain.check(intent(SELL, 100, 50.01))  # above the bid
    assert not chain.check(intent(SELL, 100, math.nan))
    chain.on_short_sale_restriction(IID, False, T0)
    assert chain.check(intent(SELL, 100, 50.00))


def test_modes_gate_every_order_but_cancels() -> None:
    chain = chain_with()
    chain.on_fill("S-1", IID, "F", BUY, 200, 50.0, 0.0, 0.0, T0)
    assert chain.halt("operator", "test") is not None
    assert not chain.check(intent(SELL, 100, 50.1)) and chain.check(intent(SELL, 100, 50.1, kind="cancel"))
    assert chain.vetoes[-1]["plugin"] == "TradingState"
    assert chain.resume("ops", "checked").mode == "ACTIVE"
    from hftmm.risk.intent import RiskAction

    chain._apply(RiskAction(mode="REDUCING", plugin="VarLimit", reason="x"))
    assert chain.check(intent(SELL, 100, 50.1)) and not chain.check(intent(BUY, 100, 49.9))


def test_plugin_config_errors_name_the_entry_and_key() -> None:
    with pytest.raises(ConfigError, match=r"risk.plugins\[0\].max_position: must be > 0, got -5"):
        build_plugins([{"path": "MaxPosition", "max_position": -5}])
    with pytest.raises(ConfigError, match=r"risk.plugins\[1\].path: cannot import module 'nowhere'"):
        build_plugins([{"path": "NoSelfCross"}, {"path": "nowhere:Check"}])
    with pytest.raises(ConfigError, match=r"risk.plugins\[0\].colar_bps: unknown key"):
        build_plugins([{"path": "PriceCollar", "colar_bps": 3}])


def test_a_kept_halt_is_taken_over_and_only_resume_lifts_it() -> None:
    chain = chain_with()
    action = chain.restore_mode("HALTED", "KillSwitch", "daily loss")
    assert action is not None and action.reason == "daily loss (restored from the previous node)"
    assert not chain.check(intent(BUY, 100, 49.9))
    # Taken over again (a second failover), the note is not repeated; ACTIVE is nothing to restore.
    again = chain_with()
    assert again.restore_mode("HALTED", action.plugin, action.reason).reason == action.reason
    assert chain_with().restore_mode("ACTIVE", "ops", "resumed") is None
    assert chain.current_action().mode == "HALTED"
    assert chain.resume("ops", "reviewed").mode == "ACTIVE" and chain.check(intent(BUY, 100, 49.9))
