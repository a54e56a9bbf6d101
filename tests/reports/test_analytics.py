"""Report analytics against hand-computed values, and the PnL identity on random data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hftmm.reports import ReportError, RunTables, compute_run_analytics
from hftmm.reports.analytics import (
    combine_pnl,
    fill_rates,
    inventory_path,
    inventory_stats,
    join_prevailing_quote,
    markout_summary,
    markouts,
    max_drawdown,
    mid_asof,
    mid_series,
    minute_pnl_changes,
    minute_sharpe,
    normalise_tables,
    pnl_decomposition,
    quote_placement,
    quote_placement_summary,
    quote_presence,
    union_length,
)
from tests.reports.synthetic import CONFIG, S, fills_frame, market_frame, orders_frame, random_run, summary_for

# -- mids and the as-of join -------------------------------------------------------------------------


def test_mid_series_drops_one_sided_quotes() -> None:
    m = market_frame([(0, 0.0, 10.02), (1, 10.00, 10.02), (2, 10.01, float("nan")), (3, 10.02, 10.04)])
    mids = mid_series(m)
    assert mids["ts_event"].tolist() == [1, 3]
    assert mids["mid"].tolist() == pytest.approx([10.01, 10.03])


def test_asof_join_takes_the_last_quote_at_or_before_the_fill() -> None:
    m = pd.concat([
        market_frame([(10, 10.00, 10.02), (20, 10.02, 10.04)], "A"),
        market_frame([(15, 50.00, 50.10)], "B"),
    ])
    mids = mid_series(m)
    # Out of time order on purpose: the join must return rows in the caller's order.
    left = pd.DataFrame({"ts_event": [20, 5, 19, 16, 14], "instrument_id": ["A", "A", "A", "B", "B"]})
    j = join_prevailing_quote(left, mids)
    assert j["ts_event"].tolist() == [20, 5, 19, 16, 14]
    np.testing.assert_allclose(j["mid"], [10.03, np.nan, 10.01, 50.05, np.nan])  # 20: same-ns update counts
    assert j["quote_ts"].tolist()[0] == 20 and j["quote_ts"].tolist()[2] == 10
    back = join_prevailing_quote(left, mids, backfill=True)
    np.testing.assert_allclose(back["mid"], [10.03, 10.01, 10.01, 50.05, 50.05])
    assert back["quote_after"].tolist() == [False, True, False, False, True]
    a = mids[mids["instrument_id"] == "A"]
    np.testing.assert_allclose(mid_asof(a, np.array([5, 10, 19, 20, 99])), [np.nan, 10.01, 10.01, 10.03, 10.03])


# -- PnL decomposition ---------------------------------------------------------------------------------


def test_pnl_decomposition_by_hand() -> None:
    # Buy 100 @ 10.00 with the mid at 10.01, then the mid goes to 10.05; a $0.20 rebate.
    mids = mid_series(market_frame([(0, 10.00, 10.02), (10 * S, 10.04, 10.06)]))
    p = pnl_decomposition(fills_frame([(1 * S, "BUY", 100, 10.00, -0.20)]), mids)
    assert p["ts"].tolist() == [0, 1 * S, 10 * S]
    end = p.iloc[-1]
    assert end["spread"] == pytest.approx(1.00)
    assert end["inventory"] == pytest.approx(4.00)
    assert end["fees"] == pytest.approx(-0.20)
    assert end["total"] == pytest.approx(5.20)
    assert end["position"] == 100
    at_fill = p.iloc[1]
    assert (at_fill["spread"], at_fill["inventory"], at_fill["total"]) == pytest.approx((1.00, 0.0, 1.20))


def test_pnl_round_trip_and_a_fill_before_the_first_quote() -> None:
    mids = mid_series(market_frame([(2 * S, 10.00, 10.02), (5 * S, 9.98, 10.00)]))
    f = fills_frame([
        (1 * S, "SELL", 100, 10.02, 0.30),  # before any quote: referenced to the first mid, 10.01
        (6 * S, "BUY", 100, 9.98, 0.30),  # mid 9.99
    ])
    end = pnl_decomposition(f, mids).iloc[-1]
    # spread: -100 (10.01 - 10.02) + 100 (9.99 - 9.98) = 1 + 1; inventory: -100 (9.99 - 10.01) + 0 = 2.
    assert (end["spread"], end["inventory"], end["fees"], end["total"]) == pytest.approx((2.0, 2.0, 0.6, 3.4))
    assert end["total"] == pytest.approx(100 * (10.02 - 9.98) - 0.6)  # flat: total is the cash
    assert end["position"] == 0


@st.composite
def fills_and_mids(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_mid = draw(st.integers(1, 30))
    mid_times = sorted(draw(st.lists(st.integers(0, 100), min_size=n_mid, max_size=n_mid)))
    mids = 20 + np.cumsum(draw(st.lists(st.integers(-4, 4), min_size=n_mid, max_size=n_mid))) * 0.005
    halves = draw(st.lists(st.sampled_from([0.005, 0.01, 0.02]), min_size=n_mid, max_size=n_mid))
    market = market_frame([(t * S, m - h, m + h) for t, m, h in zip(mid_times, mids, halves, strict=True)])
    rows = draw(st.lists(
        st.tuples(st.integers(0, 110), st.sampled_from(["BUY", "SELL"]), st.integers(1, 500),
                  st.integers(1_900, 2_100), st.integers(-300, 300)),
        max_size=25,
    ))
    fills = fills_frame([(t * S, side, q, px / 100, c / 100) for t, side, q, px, c in sorted(rows)])
    return fills, market


@settings(max_examples=150, deadline=None)
@given(fills_and_mids())
def test_total_equals_cash_plus_position_marked_to_mid(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    fills, market = data
    mids = mid_series(market)
    p = pnl_decomposition(fills, mids)
    assert p["mid"].notna().all()
    # Independent of the implementation's prefix sums: cash and position from the fills directly.
    t = fills["ts_event"].to_numpy()
    d = np.where(fills["side"] == "BUY", 1.0, -1.0)
    q, px, c = fills["quantity"].to_numpy(), fills["price"].to_numpy(), fills["commission"].to_numpy()
    for row in p.itertuples():
        done = t <= row.ts
        cash = -(d * q * px)[done].sum() - c[done].sum()
        position = (d * q)[done].sum()
        assert row.total == pytest.approx(cash + position * row.mid, abs=1e-6)
        assert row.spread + row.inventory - row.fees == pytest.approx(row.total, abs=1e-9)
        assert row.fees == pytest.approx(c[done].sum(), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(fills_and_mids(), fills_and_mids())
def test_combined_pnl_is_the_sum_of_instruments(a: tuple, b: tuple) -> None:
    fa, ma = a
    fb, mb = (df.assign(instrument_id="B") for df in b)
    pa, pb = pnl_decomposition(fa, mid_series(ma)), pnl_decomposition(fb, mid_series(mb))
    total = combine_pnl({"A": pa, "B": pb})
    for ts in total["ts"]:
        expected = sum(float(p.loc[p["ts"] <= ts, "total"].iloc[-1]) if (p["ts"] <= ts).any() else 0.0 for p in (pa, pb))
        assert float(total.loc[total["ts"] == ts, "total"].iloc[0]) == pytest.approx(expected, abs=1e-9)


def test_drawdown_and_minute_sharpe_by_hand() -> None:
    assert max_drawdown(np.array([0.0, 3.0, 1.0, 4.0, -2.0, 5.0])) == pytest.approx(6.0)
    assert max_drawdown(np.array([1.0, 2.0, 3.0])) == 0.0
    assert max_drawdown(np.array([])) == 0.0
    m = 60 * S
    pnl = pd.DataFrame({"ts": [0, m // 2, m, 2 * m, 3 * m], "total": [0.0, 5.0, 1.0, 4.0, 4.0]})
    # Sampled at 0, 1 min, 2 min and the last point (3 min): 0, 1, 4, 4 -> changes 1, 3, 0.
    np.testing.assert_allclose(minute_pnl_changes(pnl), [1.0, 3.0, 0.0])
    x = np.array([1.0, 3.0, 0.0])
    assert minute_sharpe(pnl) == pytest.approx(x.mean() / x.std(ddof=1))
    assert math.isnan(minute_sharpe(pnl.iloc[:2]))


# -- inventory -----------------------------------------------------------------------------------------


def test_inventory_path_and_time_weighted_average() -> None:
    f = fills_frame([(2 * S, "BUY", 100, 10, 0), (2 * S, "BUY", 100, 10, 0), (6 * S, "SELL", 300, 10, 0)])
    path = inventory_path(f, 0, 10 * S)
    assert path["ts"].tolist() == [0, 2 * S, 6 * S, 10 * S]
    assert path["position"].tolist() == [0, 200, -100, -100]
    stats = inventory_stats(path, limit=200)
    # |pos|: 0 for 2 s, 200 for 4 s, 100 for 4 s over 10 s -> (800 + 400) / 10.
    assert stats["twa_abs"] == pytest.approx(120.0)
    assert stats["max_abs"] == 200 and stats["final"] == -100
    assert stats["time_at_limit"] == pytest.approx(0.4)


# -- markouts ------------------------------------------------------------------------------------------


def test_markouts_by_hand_with_horizon_exclusion() -> None:
    mids = mid_series(market_frame([(0, 10.00, 10.02), (3 * S, 10.02, 10.04), (40 * S, 9.98, 10.00)]))
    f = fills_frame([(1 * S, "SELL", 100, 10.02, 0.0), (2 * S, "BUY", 100, 10.00, 0.0)])
    mk = markouts(f, mids, market_end_ns=40 * S)
    sell, buy = mk.iloc[0], mk.iloc[1]
    assert sell["half_spread"] == pytest.approx(0.01)  # sold 1 c above the 10.01 mid
    assert sell["half_spread_bps"] == pytest.approx(1e4 * 0.01 / 10.02)
    assert sell["markout_1s"] == pytest.approx(0.01)  # 2 s: mid still 10.01
    assert sell["markout_5s"] == pytest.approx(-0.01)  # 6 s: mid 10.03
    assert sell["adverse_5s"] == pytest.approx(-0.02)
    assert sell["markout_30s"] == pytest.approx(-0.01)  # 31 s: mid 10.03
    assert np.isnan(sell["markout_60s"])  # 61 s is past the last market row: excluded
    assert buy["half_spread"] == pytest.approx(0.01)
    assert buy["markout_1s"] == pytest.approx(0.03)  # 3 s: mid 10.03 - 10.00
    assert buy["adverse_1s"] == pytest.approx(0.02)
    assert np.isnan(buy["markout_60s"])
    summary = markout_summary(mk).set_index(["side", "horizon_s"])
    assert summary.loc[("ALL", 5), "mean"] == pytest.approx((-0.01 + 0.03) / 2)
    assert summary.loc[("ALL", 5), "n"] == 2
    assert summary.loc[("ALL", 60), "n"] == 0 and summary.loc[("ALL", 60), "n_excluded"] == 2
    assert np.isnan(summary.loc[("ALL", 60), "mean"])
    assert summary.loc[("BUY", 5), "mean"] == pytest.approx(0.03)
    assert summary.loc[("SELL", 5), "adverse"] == pytest.approx(-0.02)
    assert np.isnan(summary.loc[("SELL", 5), "ci95"])  # one fill: no spread estimate
    ci = summary.loc[("ALL", 5), "ci95"]
    assert ci == pytest.approx(1.96 * np.std([-0.01, 0.03], ddof=1) / math.sqrt(2))


def test_markout_exactly_at_the_end_of_data_is_kept() -> None:
    mids = mid_series(market_frame([(0, 10.00, 10.02), (5 * S, 10.02, 10.04)]))
    mk = markouts(fills_frame([(0, "BUY", 100, 10.00, 0.0)]), mids, market_end_ns=5 * S)
    assert mk.loc[0, "markout_5s"] == pytest.approx(0.03)
    assert np.isnan(mk.loc[0, "markout_30s"])


# -- orders --------------------------------------------------------------------------------------------


def _orders() -> pd.DataFrame:
    return orders_frame([
        ("a", "BUY", 10.00, 100, 100, "FILLED", 0, 4 * S),  # at the bid
        ("b", "BUY", 9.99, 100, 0, "CANCELED", 1 * S, 3 * S),  # one tick behind
        ("c", "SELL", 10.02, 200, 50, "CANCELED", 2 * S, 5 * S),  # at the ask
        ("d", "SELL", 10.01, 100, 0, "REJECTED", 2 * S, 2 * S),  # improves by a tick
        ("e", "BUY", 10.03, 100, 0, "ACCEPTED", 6 * S, 6 * S),  # crosses (at the ask); still working at the end
    ])


def test_fill_rates_by_hand() -> None:
    f = fills_frame([(3 * S, "BUY", 60, 10.00, 0), (4 * S, "BUY", 40, 10.00, 0), (4 * S, "SELL", 50, 10.02, 0)])
    fr = fill_rates(_orders(), f)
    assert fr.loc["ALL", "orders"] == 5 and fr.loc["ALL", "fills"] == 3
    assert fr.loc["ALL", "fills_per_order"] == pytest.approx(3 / 5)
    assert fr.loc["ALL", "order_to_trade"] == pytest.approx(5 / 3)
    assert fr.loc["ALL", "qty_fill_ratio"] == pytest.approx(150 / 600)
    assert fr.loc["ALL", "cancel_ratio"] == pytest.approx(2 / 5)
    assert fr.loc["BUY", "orders_filled_ratio"] == pytest.approx(1 / 3)
    assert fr.loc["BUY", "qty_fill_ratio"] == pytest.approx(100 / 300)
    assert fr.loc["SELL", "rejected"] == 1
    assert fr.loc["SELL", "order_to_trade"] == pytest.approx(2.0)
    empty = fill_rates(_orders().iloc[:0], f.iloc[:0])
    assert empty.loc["ALL", "orders"] == 0 and np.isnan(empty.loc["ALL", "cancel_ratio"])


def test_quote_placement_in_ticks() -> None:
    mids = mid_series(market_frame([(0, 10.00, 10.02), (5 * S, 10.01, 10.03)]))
    pl = quote_placement(_orders(), mids).set_index("client_order_id")
    assert pl["ticks_ahead"].to_dict() == {"a": 0.0, "b": -1.0, "c": 0.0, "d": 1.0, "e": 2.0}
    assert pl["crosses"].to_dict() == {"a": False, "b": False, "c": False, "d": False, "e": True}
    summary = quote_placement_summary(pl.reset_index())
    assert summary.loc["BUY", "share_behind"] == pytest.approx(1 / 3)
    assert summary.loc["ALL", "share_at_touch"] == pytest.approx(2 / 5)
    assert summary.loc["SELL", "mean_ticks_ahead"] == pytest.approx(0.5)


def test_time_at_touch_and_uptime_by_hand() -> None:
    # bid 10.00 until 5 s, then 10.01; ask 10.02 then 10.03.
    mids = mid_series(market_frame([(0, 10.00, 10.02), (5 * S, 10.01, 10.03)]))
    pres = quote_presence(_orders(), mids, 0, 10 * S)
    # BUY a: [0, 4) at 10.00 = bid, at touch 4 s; b: [1, 3) at 9.99, behind; e: [6, 10) at 10.03 > bid 10.01.
    assert pres.loc["BUY", "resting_s"] == pytest.approx(10.0)
    assert pres.loc["BUY", "at_touch_s"] == pytest.approx(8.0)
    assert pres.loc["BUY", "uptime"] == pytest.approx(8 / 10)  # union [0, 4) and [6, 10)
    # SELL c: [2, 5) at the ask 10.02, [5, 5) nothing after; d rejected never rests.
    assert pres.loc["SELL", "resting_s"] == pytest.approx(3.0)
    assert pres.loc["SELL", "time_at_touch"] == pytest.approx(1.0)
    assert pres.loc["SELL", "uptime"] == pytest.approx(0.3)
    # Both sides at once: buys cover [0, 4) and [6, 10), sells [2, 5) -> [2, 4) = 2 s.
    assert pres.loc["BOTH", "uptime"] == pytest.approx(0.2)
    assert pres.loc["BOTH", "time_at_touch"] == pytest.approx(11 / 13)


def test_amended_orders_are_left_out_of_placement_and_touch_time() -> None:
    mids = mid_series(market_frame([(0, 10.00, 10.02), (5 * S, 10.01, 10.03)]))
    orders = _orders()
    orders.loc[orders["client_order_id"] == "b", "amendments"] = 3  # its earlier prices are unknown
    pl = quote_placement(orders, mids)
    summary = quote_placement_summary(pl)
    assert summary.loc["BUY", "orders"] == 2 and summary.loc["BUY", "amended_excluded"] == 1
    assert summary.loc["BUY", "share_behind"] == 0.0
    pres = quote_presence(orders, mids, 0, 10 * S)
    assert pres.loc["BUY", "resting_s"] == pytest.approx(10.0)  # still resting, so still quoted
    assert pres.loc["BUY", "measured_s"] == pytest.approx(8.0)
    assert pres.loc["BUY", "time_at_touch"] == pytest.approx(1.0)
    assert pres.loc["BUY", "uptime"] == pytest.approx(0.8)


def test_quote_versions_measure_amended_orders_at_each_price() -> None:
    # One buy order: 10.00 (at the bid) for [0, 4 s), amended to 9.99 (behind) for [4 s, 10 s).
    market = market_frame([(0, 10.00, 10.02), (20 * S, 10.00, 10.02)])
    orders = orders_frame([("a", "BUY", 9.99, 100, 0, "CANCELED", 0, 10 * S)]).assign(amendments=1)
    versions = pd.concat(
        [orders.assign(price=10.00, status="AMENDED", ts_init=0, ts_last=4 * S, amendments=0),
         orders.assign(ts_init=4 * S, amendments=0)],
        ignore_index=True,
    )
    fills = fills_frame([])
    summary = summary_for("v", ["X.XNYS"], fills, orders, market)
    without = compute_run_analytics(RunTables(summary, CONFIG, fills, orders, market))
    with_versions = compute_run_analytics(RunTables(summary, CONFIG, fills, orders, market, None, versions))
    assert without.instruments["X.XNYS"].placement_summary.loc["BUY", "amended_excluded"] == 1
    placement = with_versions.instruments["X.XNYS"].placement_summary
    assert placement.loc["BUY", "orders"] == 2 and placement.loc["BUY", "amended_excluded"] == 0
    presence = with_versions.instruments["X.XNYS"].presence
    assert presence.loc["BUY", "resting_s"] == pytest.approx(10.0)
    assert presence.loc["BUY", "time_at_touch"] == pytest.approx(0.4)  # at the bid for 4 of 10 s
    # Fill rates still count the one order, not its versions.
    assert with_versions.instruments["X.XNYS"].fill_rates.loc["BUY", "orders"] == 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 20)), max_size=15))
def test_union_length_matches_a_brute_force_count(intervals: list[tuple[int, int]]) -> None:
    start = np.array([s for s, _ in intervals], dtype="int64")
    end = np.array([s + w for s, w in intervals], dtype="int64")
    covered = set()
    for s, e in zip(start, end, strict=True):
        covered |= set(range(s, e))
    assert union_length(start, end) == len(covered)


# -- run-level analytics ---------------------------------------------------------------------------------


def _tiny_tables(with_fills: bool = True) -> RunTables:
    market = market_frame([(0, 10.00, 10.02), (10 * S, 10.04, 10.06), (100 * S, 10.04, 10.06)])
    fills = fills_frame([(1 * S, "BUY", 100, 10.00, -0.20)] if with_fills else [])
    orders = orders_frame([("a", "BUY", 10.00, 100, 100 if with_fills else 0, "FILLED" if with_fills else "CANCELED", 0, S)])
    return RunTables(summary_for("tiny", ["X.XNYS"], fills, orders, market), CONFIG, fills, orders, market)


def test_run_statistics_by_hand() -> None:
    run = compute_run_analytics(_tiny_tables())
    stats = run.instruments["X.XNYS"].stats
    assert stats["total PnL (mark-to-mid)"].value == pytest.approx(5.20)
    assert stats["spread capture"].value == pytest.approx(1.00)
    assert stats["inventory PnL"].value == pytest.approx(4.00)
    assert stats["fees"].value == pytest.approx(-0.20)
    assert stats["PnL per share"].value == pytest.approx(5.20 / 100)
    assert stats["PnL per notional"].value == pytest.approx(1e4 * 5.20 / 1000)
    assert stats["mean markout 1s"].value == pytest.approx(1e4 * 0.01 / 10.00)  # mid 10.01 at 2 s
    assert stats["mean markout 60s"].value == pytest.approx(1e4 * 0.05 / 10.00)
    assert stats["max |inventory|"].value == 100
    assert stats["mean markout 60s"].unit == "bps"
    assert run.total.stats["total PnL (mark-to-mid)"].value == pytest.approx(5.20)
    assert run.total.stats["events"].value == run.summary["events"]
    table = run.stats_table()
    assert list(table.columns) == ["unit", "X.XNYS", "TOTAL"]
    assert table.loc["spread capture", "TOTAL"] == pytest.approx(1.00)


def test_zero_fill_run_has_empty_but_defined_analytics() -> None:
    run = compute_run_analytics(_tiny_tables(with_fills=False))
    sec = run.instruments["X.XNYS"]
    assert sec.stats["fills"].value == 0
    assert sec.stats["total PnL (mark-to-mid)"].value == 0
    assert math.isnan(sec.stats["PnL per share"].value)
    assert sec.markouts.empty
    assert (sec.markout_summary["n"] == 0).all()
    assert sec.fill_rates.loc["ALL", "orders"] == 1 and sec.fill_rates.loc["ALL", "cancel_ratio"] == 1.0


def test_many_instruments_total_matches_the_sum() -> None:
    run = compute_run_analytics(random_run(n_quotes=2_000, n_fills=40, instruments=("A.X", "B.Y"), seed=3))
    parts = sum(s.stats["total PnL (mark-to-mid)"].value for s in run.instruments.values())
    assert run.total.stats["total PnL (mark-to-mid)"].value == pytest.approx(parts)
    assert run.total.stats["fills"].value == 80
    assert run.total.markout_summary.set_index(["side", "horizon_s"]).loc[("ALL", 1), "n"] <= 80


def test_normalise_rejects_bad_sides_and_float_times() -> None:
    t = _tiny_tables()
    with pytest.raises(ReportError, match="fills.parquet column side"):
        normalise_tables(t.fills.assign(side="LONG"), t.orders, t.market)
    with pytest.raises(ReportError, match="market.parquet column ts_event"):
        normalise_tables(t.fills, t.orders, t.market.assign(ts_event=t.market["ts_event"] / 1.0))
    with pytest.raises(ReportError, match="orders.parquet: missing column.*ts_last"):
        normalise_tables(t.fills, t.orders.drop(columns="ts_last"), t.market)
    # Timestamp-typed time columns are accepted as UTC nanoseconds.
    f, _, _, _ = normalise_tables(t.fills.assign(ts_event=pd.to_datetime(t.fills["ts_event"], utc=True)), t.orders, t.market)
    assert f["ts_event"].tolist() == t.fills["ts_event"].tolist()
