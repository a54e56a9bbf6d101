"""Report analytics against hand-computed values, the PnL identity, and the HTML page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hftmm.reports import ReportError, build_report
from hftmm.reports.analytics import markouts, pnl_series

S = 1_000_000_000


def market(points: list[tuple[int, float, float]], iid: str = "X.XNYS") -> pd.DataFrame:
    return pd.DataFrame(
        {"ts_event": [p[0] for p in points], "instrument_id": iid, "bid_price": [p[1] for p in points],
         "ask_price": [p[2] for p in points], "bid_size": 100.0, "ask_size": 100.0},
    )


def fills(rows: list[tuple[int, str, float, float, float]], iid: str = "X.XNYS") -> pd.DataFrame:
    return pd.DataFrame(
        {"ts_event": [r[0] for r in rows], "instrument_id": iid, "side": [r[1] for r in rows],
         "quantity": [r[2] for r in rows], "price": [r[3] for r in rows], "commission": [r[4] for r in rows],
         "liquidity_side": "MAKER", "client_order_id": "o", "venue_order_id": "v", "trade_id": [str(i) for i in range(len(rows))]},
    )


def test_hand_computed_decomposition() -> None:
    # Buy 100 @ 10.00 with the mid at 10.01, then the mid goes to 10.05; a $0.20 rebate.
    m = market([(0, 10.00, 10.02), (10 * S, 10.04, 10.06)])
    f = fills([(1 * S, "BUY", 100, 10.00, -0.20)])
    p = pnl_series(f, m).iloc[-1]
    assert p["spread"] == pytest.approx(1.00)
    assert p["inventory"] == pytest.approx(4.00)
    assert p["fees"] == pytest.approx(-0.20)
    assert p["total"] == pytest.approx(5.20)


def test_markouts_by_hand_and_horizon_exclusion() -> None:
    m = market([(0, 10.00, 10.02), (3 * S, 10.02, 10.04), (40 * S, 9.98, 10.00)])
    f = fills([(1 * S, "SELL", 100, 10.02, 0.0)])
    mk = markouts(f, m).iloc[0]
    assert mk["realized_half_spread"] == pytest.approx(0.01)  # sold 1 c above the 10.01 mid
    assert mk["markout_1s"] == pytest.approx(0.01)  # mid unchanged at 2 s
    assert mk["markout_5s"] == pytest.approx(-0.01)  # mid 10.03 at 6 s
    assert mk["markout_30s"] == pytest.approx(-0.01)  # 31 s: still 10.03
    assert np.isnan(mk["markout_60s"])  # 61 s is past the last market update: excluded


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 99), st.sampled_from(["BUY", "SELL"]), st.integers(1, 5), st.integers(-3, 3)), min_size=1, max_size=30),
    st.lists(st.integers(-5, 5), min_size=2, max_size=40),
)
def test_total_equals_cash_plus_marked_position(trades: list, moves: list[int]) -> None:
    mids = 50 + np.cumsum(moves) * 0.01
    m = market([(i * S, mid - 0.01, mid + 0.01) for i, mid in enumerate(mids)])
    trades = sorted(trades)
    f = fills([(t * S // 3 + 1, side, q * 100.0, round(float(mids[min(t * 1 // 3, len(mids) - 1)]) + c * 0.01, 2), 0.002 * q * 100)
               for t, side, q, c in trades])
    p = pnl_series(f, m).iloc[-1]
    d = np.where(f["side"] == "BUY", 1.0, -1.0)
    cash = -(d * f["quantity"] * f["price"]).sum() - f["commission"].sum()
    position = (d * f["quantity"]).sum()
    assert p["total"] == pytest.approx(cash + position * p["mid"], abs=1e-6)


def write_run(run_dir: Path, n_fills: int = 3) -> Path:
    run_dir.mkdir()
    m = market([(i * S, 10.0, 10.02) for i in range(200)])
    f = fills([(i * 10 * S + 1, "BUY" if i % 2 else "SELL", 100, 10.0 if i % 2 else 10.02, -0.2) for i in range(n_fills)])
    orders = pd.DataFrame(
        {"client_order_id": [f"o{i}" for i in range(4)], "instrument_id": "X.XNYS", "side": ["BUY", "SELL"] * 2,
         "order_type": "LIMIT", "price": [10.0, 10.02] * 2, "quantity": 100.0, "filled_qty": [100.0, 100.0, 0.0, 0.0],
         "status": ["FILLED", "FILLED", "CANCELED", "CANCELED"], "ts_init": [0, 0, S, S], "ts_last": [S, S, 2 * S, 2 * S],
         "post_only": True, "amendments": 0},
    )
    m.to_parquet(run_dir / "market.parquet")
    f.to_parquet(run_dir / "fills.parquet")
    orders.to_parquet(run_dir / "orders.parquet")
    summary = {"run_id": "r1", "instruments": ["X.XNYS"], "trading_window": ["a", "b"], "events": 10, "orders": 4,
               "fills": n_fills, "total_pnl": 1.0, "fees": -0.6, "currency": "USD", "events_per_second": 5.0}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    return run_dir


def test_html_is_self_contained_with_every_chart(tmp_path: Path) -> None:
    page = build_report(write_run(tmp_path / "run")).read_text()
    for title in ("Intraday PnL: spread capture, inventory and fees", "Inventory", "Our quotes vs the NBBO",
                  "Fill rate", "Markouts of fills", "statistic"):
        assert title in page
    assert page.count("plotly.js v") <= 2  # the library is inlined once
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", page)


def test_zero_fills_and_missing_file(tmp_path: Path) -> None:
    page = build_report(write_run(tmp_path / "run", n_fills=0)).read_text()
    assert "Markouts of fills (no fills)" in page
    (tmp_path / "run" / "market.parquet").unlink()
    with pytest.raises(ReportError, match="market.parquet: missing"):
        build_report(tmp_path / "run")
