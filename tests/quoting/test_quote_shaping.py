"""Quote shaping: tick rounding, minimum spread, post-only safety, caps, size skew and levels."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from strategies.quoting.glft import asymptotic_quotes
from strategies.quoting.quote_shaping import Level, Quotes, ShapingParams, shape_quotes, to_ticks_ceil, to_ticks_floor

TICK = 0.01


def params(**kw: object) -> ShapingParams:
    base: dict[str, object] = {"tick": TICK, "base_size": 100, "max_position": 500, "lot": 100}
    base.update(kw)
    return ShapingParams(**base)  # type: ignore[arg-type]


def in_ticks(x: float) -> int:
    return round(x / TICK)


def test_tick_conversion_is_exact_on_tick_multiples() -> None:
    # 10.03 / 0.01 is 1002.9999999999999 in binary: a naive floor would step a tick away.
    assert to_ticks_floor(10.03, 0.01) == 1003 and to_ticks_ceil(10.03, 0.01) == 1003
    assert to_ticks_floor(10.035, 0.01) == 1003 and to_ticks_ceil(10.035, 0.01) == 1004
    assert ShapingParams(tick=0.0001, base_size=1, max_position=1).decimals == 4
    assert ShapingParams(tick=0.05, base_size=1, max_position=1).decimals == 2
    assert ShapingParams(tick=1.0, base_size=1, max_position=1).decimals == 0


def test_join_and_step_back_by_hand() -> None:
    # Wide market 10.00 x 10.10; model 10.023 x 10.077.
    joined = shape_quotes(10.023, 10.077, 0, 10.00, 10.10, params(mode="join"))
    assert joined == Quotes((Level(10.03, 100),), (Level(10.07, 100),))
    back = shape_quotes(10.023, 10.077, 0, 10.00, 10.10, params(mode="step_back"))
    assert back == Quotes((Level(10.02, 100),), (Level(10.08, 100),))
    # Prices are the floats nearest to the decimal tick multiples (what an exchange accepts).
    assert repr(joined.bids[0].price) == "10.03"


def test_minimum_spread_widens_about_the_centre() -> None:
    q = shape_quotes(10.049, 10.051, 0, 10.00, 10.10, params(min_spread_ticks=4))
    assert (q.bids[0].price, q.asks[0].price) == (10.03, 10.07)
    # Half-tick centre with an odd shortfall: one tick more than the minimum, still symmetric.
    q = shape_quotes(10.05, 10.06, 0, 10.00, 10.20, params(min_spread_ticks=2))
    assert (q.bids[0].price, q.asks[0].price) == (10.04, 10.07)


def test_never_touches_the_opposite_best() -> None:
    # A quote through the whole market (extreme skew) is pulled back to one tick inside it.
    q = shape_quotes(10.20, 10.30, 0, 10.00, 10.01, params())
    assert q.bids[0].price == 10.00 and q.asks[0].price == 10.30
    q = shape_quotes(9.70, 9.80, 0, 10.00, 10.01, params())
    assert q.asks[0].price == 10.01 and q.bids[0].price == 9.70


def test_caps_sizes_levels_and_skew_by_hand() -> None:
    p = params(levels=3, level_step_ticks=2, base_size=200, max_position=500)
    q = shape_quotes(10.02, 10.08, 300, 10.00, 10.10, p)
    # Long 300 of 500: the bid side may add at most 200 shares in total.
    assert q.bids == (Level(10.02, 200),)
    assert q.asks == (Level(10.08, 200), Level(10.10, 200), Level(10.12, 200))
    assert shape_quotes(10.02, 10.08, 500, 10.00, 10.10, p).bids == ()
    assert shape_quotes(10.02, 10.08, -500, 10.00, 10.10, p).asks == ()
    # eta = 1 at half the cap: 200 * exp(-0.5) = 121 -> 100 (lot 100) on the side adding inventory.
    q = shape_quotes(10.02, 10.08, -250, 10.00, 10.10, params(base_size=200, eta=1.0))
    assert q.asks == (Level(10.08, 100),) and q.bids == (Level(10.02, 200),)
    # A NaN or infinite side (e.g. exact GLFT at its bound) is not quoted.
    assert shape_quotes(math.nan, 10.08, 0, 10.00, 10.10, params()).bids == ()
    assert shape_quotes(-math.inf, 10.08, 0, 10.00, 10.10, params()).bids == ()
    # Sizes are lot multiples even when the base size is not.
    assert shape_quotes(10.02, 10.08, 0, 10.00, 10.10, params(base_size=260)).asks == (Level(10.08, 300),)


finite = st.floats(-2.0, 2.0, allow_nan=False)
shaping = st.builds(
    params,
    mode=st.sampled_from(["join", "step_back"]),
    min_spread_ticks=st.integers(1, 6),
    levels=st.integers(1, 4),
    level_step_ticks=st.integers(1, 3),
    eta=st.floats(0.0, 3.0),
    base_size=st.sampled_from([100, 150, 200, 300]),
    max_position=st.sampled_from([300, 500, 1000]),
    lot=st.sampled_from([1, 100]),
)
books = st.tuples(st.integers(4_900, 5_100), st.integers(1, 8))  # best bid (ticks), spread (ticks)


def check_invariants(q: Quotes, position: float, best_bid: float, best_ask: float, p: ShapingParams) -> None:
    for side in (q.bids, q.asks):
        for lvl in side:
            assert lvl.size > 0 and lvl.size % p.lot == 0
            assert abs(lvl.price / p.tick - round(lvl.price / p.tick)) < 1e-9
    if q.bids:
        assert q.bids[0].price < best_ask
        assert position + sum(lvl.size for lvl in q.bids) <= p.max_position
        assert all(x.price > y.price for x, y in zip(q.bids, q.bids[1:], strict=False))
    if q.asks:
        assert q.asks[0].price > best_bid
        assert position - sum(lvl.size for lvl in q.asks) >= -p.max_position
        assert all(x.price < y.price for x, y in zip(q.asks, q.asks[1:], strict=False))
    if q.bids and q.asks:
        assert in_ticks(q.asks[0].price) - in_ticks(q.bids[0].price) >= p.min_spread_ticks
    if position >= p.max_position:
        assert not q.bids
    if position <= -p.max_position:
        assert not q.asks


@settings(max_examples=300, deadline=None)
@given(p=shaping, book=books, db=finite, da=finite, position=st.integers(-1200, 1200))
def test_invariants_on_arbitrary_inputs(p: ShapingParams, book: tuple[int, int], db: float, da: float, position: int) -> None:
    best_bid, best_ask = book[0] * TICK, (book[0] + book[1]) * TICK
    mid = 0.5 * (best_bid + best_ask)
    q = shape_quotes(mid - db, mid + da, position, best_bid, best_ask, p)
    check_invariants(q, position, best_bid, best_ask, p)


@settings(max_examples=300, deadline=None)
@given(
    p=shaping, book=books, lots=st.integers(-6, 5), gamma=st.floats(0.001, 0.1), sigma=st.floats(0.001, 0.05),
    k=st.floats(20.0, 300.0), a=st.floats(0.1, 5.0), mu=st.floats(-0.001, 0.001),
)
def test_glft_pipeline_monotone_in_inventory(
    p: ShapingParams, book: tuple[int, int], lots: int, gamma: float, sigma: float, k: float, a: float, mu: float,
) -> None:
    """More long inventory never raises the bid or the ask (through rounding, spread and clamps)."""
    best_bid, best_ask = book[0] * TICK, (book[0] + book[1]) * TICK
    mid = 0.5 * (best_bid + best_ask)
    pos0, pos1 = lots * 100, (lots + 1) * 100
    b0, a0 = asymptotic_quotes(mid, lots, gamma, sigma, k, a, mu)
    b1, a1 = asymptotic_quotes(mid, lots + 1, gamma, sigma, k, a, mu)
    q0 = shape_quotes(b0, a0, pos0, best_bid, best_ask, p)
    q1 = shape_quotes(b1, a1, pos1, best_bid, best_ask, p)
    check_invariants(q1, pos1, best_bid, best_ask, p)
    if q0.bids and q1.bids:
        assert q1.bids[0].price <= q0.bids[0].price
    if q0.asks and q1.asks:
        assert q1.asks[0].price <= q0.asks[0].price
    # Long inventory never adds bid size and never removes ask size.
    assert sum(x.size for x in q1.bids) <= sum(x.size for x in q0.bids)
    assert sum(x.size for x in q1.asks) >= sum(x.size for x in q0.asks)


@settings(max_examples=300, deadline=None)
@given(p=shaping, book=books, db=finite, da=finite, position=st.integers(-1200, 1200))
def test_mirror_symmetry(p: ShapingParams, book: tuple[int, int], db: float, da: float, position: int) -> None:
    """Position -q with the model quotes mirrored about the mid gives the mirrored quotes."""
    best_bid, best_ask = book[0] * TICK, (book[0] + book[1]) * TICK
    mid = 0.5 * (best_bid + best_ask)
    # Values within float noise of a tick boundary may round differently after reflection.
    for x in (db, da):
        frac = (x / TICK) % 1.0
        assume(min(frac, 1.0 - frac) > 1e-6 and abs(frac - 0.5) > 1e-6)
    q = shape_quotes(mid - db, mid + da, position, best_bid, best_ask, p)
    m = shape_quotes(mid - da, mid + db, -position, best_bid, best_ask, p)
    two_mid = book[0] * 2 + book[1]
    assert [(two_mid - in_ticks(x.price), x.size) for x in q.bids] == [(in_ticks(x.price), x.size) for x in m.asks]
    assert [(two_mid - in_ticks(x.price), x.size) for x in q.asks] == [(in_ticks(x.price), x.size) for x in m.bids]


@settings(max_examples=200, deadline=None)
@given(p=shaping, book=books, db=finite, da=finite, shift=st.floats(0.0, 0.2), position=st.integers(-400, 400))
def test_monotone_in_model_prices(p: ShapingParams, book: tuple[int, int], db: float, da: float, shift: float, position: int) -> None:
    best_bid, best_ask = book[0] * TICK, (book[0] + book[1]) * TICK
    mid = 0.5 * (best_bid + best_ask)
    hi = shape_quotes(mid - db, mid + da, position, best_bid, best_ask, p)
    lo = shape_quotes(mid - db - shift, mid + da - shift, position, best_bid, best_ask, p)
    # Sizes do not depend on prices, so a side is quoted in both or in neither.
    assert bool(lo.bids) == bool(hi.bids) and bool(lo.asks) == bool(hi.asks)
    if lo.bids:
        assert lo.bids[0].price <= hi.bids[0].price
    if lo.asks:
        assert lo.asks[0].price <= hi.asks[0].price


def test_rejects_bad_params() -> None:
    with pytest.raises(ValueError):
        ShapingParams(tick=0.0, base_size=100, max_position=100)
    with pytest.raises(ValueError):
        ShapingParams(tick=0.01, base_size=100, max_position=100, mode="mid")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ShapingParams(tick=0.01, base_size=100, max_position=100, min_spread_ticks=0)
