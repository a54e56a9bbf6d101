"""The HTML report: self-contained, every chart present, clear errors on incomplete run folders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from hftmm.reports import ReportError, RunTables, build_report
from hftmm.reports.html import CHART_TITLES, eastern_ms, envelope_indices
from tests.reports.synthetic import (
    CONFIG,
    SESSION_START,
    S,
    fills_frame,
    market_frame,
    orders_frame,
    random_run,
    summary_for,
    write_run,
)

PLOTLY_BANNER = get_plotlyjs()[:120]


def small_run(run_dir: Path, *, n_fills: int = 3, vetoes: bool = False) -> Path:
    t0 = SESSION_START
    market = market_frame([(t0 + i * S, 10.00, 10.02) for i in range(200)], "ACME.XNYS")
    fills = fills_frame(
        [(t0 + i * 10 * S + 1, "BUY" if i % 2 else "SELL", 100, 10.00 if i % 2 else 10.02, -0.20) for i in range(n_fills)],
        "ACME.XNYS",
    )
    orders = orders_frame(
        [("o0", "BUY", 10.00, 100, 100 if n_fills else 0, "FILLED", t0, t0 + S),
         ("o1", "SELL", 10.02, 100, 100 if n_fills else 0, "FILLED", t0, t0 + S),
         ("o2", "BUY", 9.99, 100, 0, "CANCELED", t0 + S, t0 + 2 * S)],
        "ACME.XNYS",
    )
    v = pd.DataFrame({"ts_event": np.array([t0, t0 + S, t0 + 2 * S], dtype="int64"), "plugin": ["risk", "risk", "halt"],
                      "reason": ["max_position", "max_position", "luld"]}) if vetoes else None
    tables = RunTables(summary_for("run-1", ["ACME.XNYS"], fills, orders, market), CONFIG, fills, orders, market, v)
    return write_run(run_dir, tables)


def assert_self_contained(page: str) -> None:
    assert page.count(PLOTLY_BANNER) == 1  # plotly.js inlined exactly once
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*['\"]?(https?:)?//", page, re.I)
    # plotly.js itself names a CDN as the default of an option (topojsonURL) only geo charts use.
    rest = page.replace(get_plotlyjs(), "")
    assert "cdn.plot.ly" not in rest and "mathjax" not in rest.lower()


def test_report_has_every_chart_and_is_self_contained(tmp_path: Path) -> None:
    path = build_report(small_run(tmp_path / "run", vetoes=True))
    assert path == tmp_path / "run" / "report.html"
    page = path.read_text()
    assert_self_contained(page)
    for title in CHART_TITLES:
        assert f"{title}: ACME.XNYS" in page
    for title in (t for t in CHART_TITLES if t != "Our quotes vs NBBO"):
        assert f"{title}: all instruments" in page
    # Five charts for the instrument, four for the total (no quotes chart there).
    assert page.replace(get_plotlyjs(), "").count("Plotly.newPlot(") == 9
    assert "Statistics" in page and "spread capture" in page and "Sharpe of 1-min PnL changes" in page
    assert "NOT annualised" in page
    assert "Vetoes by plugin and reason" in page and "max_position" in page
    assert "run-1" in page and "strategy.gamma" in page
    assert "2024-03-11 09:30:00 EDT" in page  # header times in US/Eastern (DST began on 10 March 2024)
    assert "no fills" not in page


def test_report_out_path_and_without_vetoes(tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "r.html"
    assert build_report(small_run(tmp_path / "run"), out) == out
    page = out.read_text()
    assert_self_contained(page)
    assert "Vetoes" not in page
    assert not (tmp_path / "run" / "report.html").exists()


def test_zero_fill_run_says_no_fills(tmp_path: Path) -> None:
    page = build_report(small_run(tmp_path / "run", n_fills=0)).read_text()
    for title in CHART_TITLES:
        assert f"{title}: ACME.XNYS (no fills)" in page
    assert_self_contained(page)


@pytest.mark.parametrize("name", ["summary.json", "fills.parquet", "orders.parquet", "market.parquet"])
def test_missing_file_is_named(tmp_path: Path, name: str) -> None:
    run = small_run(tmp_path / "run")
    (run / name).unlink()
    with pytest.raises(ReportError, match=re.escape(f"{name}: missing")):
        build_report(run)
    assert not (run / "report.html").exists()


def test_missing_column_and_bad_summary_are_named(tmp_path: Path) -> None:
    run = small_run(tmp_path / "run")
    pd.read_parquet(run / "market.parquet").drop(columns="ask_price").to_parquet(run / "market.parquet")
    with pytest.raises(ReportError, match=r"market.parquet: missing column\(s\) ask_price"):
        build_report(run)
    run2 = small_run(tmp_path / "run2")
    (run2 / "summary.json").write_text(json.dumps({"instruments": []}))
    with pytest.raises(ReportError, match="summary.json: missing key.*run_id"):
        build_report(run2)
    (run2 / "summary.json").write_text("{not json")
    with pytest.raises(ReportError, match="summary.json: not valid JSON"):
        build_report(run2)


def test_text_from_the_run_folder_is_escaped(tmp_path: Path) -> None:
    run = small_run(tmp_path / "run")
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "run_id": "<img src=x onerror=alert(1)>"}))
    page = build_report(run).read_text()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_config_json_is_optional(tmp_path: Path) -> None:
    run = small_run(tmp_path / "run")
    (run / "config.json").unlink()
    page = build_report(run).read_text()
    assert "config.json: not found" in page


def test_eastern_time_axis() -> None:
    utc = int(pd.Timestamp("2024-03-11 13:30:00.000250", tz="UTC").value)  # 09:30 EDT
    winter = int(pd.Timestamp("2024-01-11 14:30", tz="UTC").value)  # 09:30 EST
    got = eastern_ms(np.array([utc, winter]))
    assert got[0] == pytest.approx(pd.Timestamp("2024-03-11 09:30:00.000250").value / 1e6)
    assert got[1] == pytest.approx(pd.Timestamp("2024-01-11 09:30").value / 1e6)


def test_envelope_keeps_extremes_and_ends() -> None:
    rng = np.random.default_rng(1)
    ts = np.arange(100_000, dtype="int64") * 1_000
    y = np.cumsum(rng.normal(size=ts.size))
    y[54_321] = 1e6  # a one-row spike must survive
    idx = envelope_indices(ts, [y], buckets=500)
    assert len(idx) <= 4 * 500
    assert {0, ts.size - 1, 54_321, int(np.argmin(y))} <= set(idx.tolist())
    assert np.all(np.diff(idx) > 0)
    assert envelope_indices(ts[:100], [y[:100]], buckets=500).tolist() == list(range(100))


def test_large_run_stays_small(tmp_path: Path) -> None:
    tables = random_run(n_quotes=150_000, n_fills=2_500, seed=7)
    page = build_report(write_run(tmp_path / "run", tables))
    size = page.stat().st_size
    assert size < 15_000_000
    # The NBBO is downsampled: far fewer points than rows made it into the page.
    assert "downsampled: NBBO" in page.read_text()
