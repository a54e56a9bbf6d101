"""The results table and the comparison report, from rows made here (no backtests)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

from hftmm.sweep.plan import RunSpec
from hftmm.sweep.report import build_sweep_report
from hftmm.sweep.results import ResultsWriter, read_results


def spec(index: int, gamma: float, qty: int, symbol: str) -> RunSpec:
    return RunSpec(index=index, run_id=f"run-{index:04d}", params={"gamma": gamma, "order_qty": qty}, symbol=symbol,
                   date="2024-03-11", config={}, runs_dir="/tmp/runs")


def ok_row(s: RunSpec, pnl: float, fills: int) -> dict:
    return {"index": s.index, "run_id": s.run_id, "status": "ok", "symbol": s.symbol, "date": s.date,
            "param.gamma": s.params["gamma"], "param.order_qty": s.params["order_qty"], "total_pnl": pnl, "fills": fills,
            "sharpe_1min": pnl / 100, "max_drawdown": 1.0, "run_dir": f"/tmp/runs/{s.run_id}", "pid": 1000 + s.index}


def test_writer_keeps_every_planned_run_and_marks_the_missing_cancelled(tmp_path: Path) -> None:
    specs = [spec(0, 0.1, 100, "ACME.XNYS"), spec(1, 0.1, 200, "ACME.XNYS"), spec(2, 0.2, 100, "ACME.XNYS")]
    writer = ResultsWriter(tmp_path, specs, ["gamma", "order_qty"])
    writer.add(ok_row(specs[2], 5.0, 3))
    writer.add({"index": 0, "run_id": "run-0000", "status": "failed", "symbol": "ACME.XNYS", "date": "2024-03-11",
                "param.gamma": 0.1, "param.order_qty": 100, "error": "BacktestError: boom", "traceback": "Traceback ..."})
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 2
    df = writer.finish()
    assert list(df["status"]) == ["failed", "cancelled", "ok"]
    assert df.loc[1, "error"] == "the sweep stopped before this run finished"
    assert list(df.columns[:7]) == ["index", "run_id", "status", "symbol", "date", "param.gamma", "param.order_qty"]
    back = read_results(tmp_path)
    assert list(back["status"]) == ["failed", "cancelled", "ok"] and back.loc[2, "total_pnl"] == 5.0
    assert math.isnan(back.loc[0, "total_pnl"]) and back.loc[0, "traceback"] == "Traceback ..."
    assert len(pd.read_csv(tmp_path / "results.csv")) == 3


def test_mixed_parameter_types_are_kept_as_text(tmp_path: Path) -> None:
    specs = [RunSpec(i, f"run-{i:04d}", {"horizon": h}, "ACME.XNYS", "2024-03-11", {}, "/tmp") for i, h in
             enumerate(["close", 3600])]
    writer = ResultsWriter(tmp_path, specs, ["horizon"])
    for s in specs:
        writer.add({"index": s.index, "run_id": s.run_id, "status": "ok", "symbol": s.symbol, "date": s.date,
                    "param.horizon": s.params["horizon"], "total_pnl": 1.0})
    assert list(writer.finish()["param.horizon"]) == ["close", "3600"]


def test_report_has_sortable_runs_table_charts_and_heatmap(tmp_path: Path) -> None:
    specs = [spec(i, g, q, sym) for i, (g, q, sym) in enumerate(
        (g, q, sym) for g in (0.01, 0.1) for q in (100, 200) for sym in ("ACME.XNYS", "BOLT.XNAS"))]
    writer = ResultsWriter(tmp_path, specs, ["gamma", "order_qty"])
    for s in specs[:-1]:
        writer.add(ok_row(s, pnl=1000 * s.params["gamma"] - s.params["order_qty"] / 10 + s.index % 2, fills=10 + s.index))
    writer.add({"index": 7, "run_id": "run-0007", "status": "failed", "symbol": "BOLT.XNAS", "date": "2024-03-11",
                "param.gamma": 0.1, "param.order_qty": 200, "error": "BacktestError: no order book deltas <here>",
                "traceback": "Traceback (most recent call last): ..."})
    writer.finish()
    (tmp_path / "sweep.json").write_text(json.dumps({"sweep_id": "sweep-test", "backend": "pool", "workers": 2,
                                                     "wall_seconds": 12.5, "source": "configs/sweep.json"}))
    page = build_sweep_report(tmp_path).read_text()
    # plotly.js inlined once: the page opens offline.
    assert page.count("<script type='text/javascript'>") == 1 and "<script src=" not in page
    assert "hftmm sweep sweep-test" in page and "pool, 2 worker(s), 12.5 s wall" in page
    assert "8: 7 ok, 1 failed" in page
    # The runs table: one body row per run, sortable, the error escaped, its traceback folded.
    body = page.split("<table class='runs'>", 1)[1].split("</table>", 1)[0]
    assert body.count("<tr class=") == 8 and "<tr class='failed'>" in body
    assert "no order book deltas &lt;here&gt;" in body and "<summary>traceback</summary>" in body
    assert "table.runs" in page and "addEventListener('click'" in page
    assert "<a href='runs/run-0000/'>run-0000</a>" in page
    # Charts: by parameter, the gamma x order_qty heatmap, by symbol, Sharpe vs PnL.
    for title in ("by parameter (7 ok runs)", "Mean total PnL (Nautilus, USD): gamma x order_qty", "by symbol",
                  "Sharpe vs PnL"):
        assert title in page, title
    # Best points table: gamma 0.1 / order_qty 100 has the highest mean PnL.
    best = page.split("Best parameter points", 1)[1].split("</table>", 1)[0]
    first = re.findall(r"<td[^>]*>([^<]*)</td>", best.split("</tr>", 2)[1])
    assert first[:2] == ["0.1", "100"]


def test_report_of_a_sweep_where_every_run_failed(tmp_path: Path) -> None:
    specs = [spec(0, 0.1, 100, "ACME.XNYS")]
    writer = ResultsWriter(tmp_path, specs, ["gamma", "order_qty"])
    writer.add({"index": 0, "run_id": "run-0000", "status": "failed", "symbol": "ACME.XNYS", "date": "2024-03-11",
                "param.gamma": 0.1, "param.order_qty": 100, "error": "BacktestError: x", "traceback": ""})
    writer.finish()
    page = build_sweep_report(tmp_path).read_text()
    assert "No run succeeded: nothing to chart." in page and "BacktestError: x" in page
