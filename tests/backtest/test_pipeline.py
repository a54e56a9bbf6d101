"""The main job on a small generated day: TAQ files -> catalog -> backtest -> report."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.taq import ingest_taq
from hftmm.config import load_config
from hftmm.engine.backtest import run_backtest
from hftmm.reports import build_report
from hftmm.sample.taq_day import generate_taq_day

REPO = Path(__file__).resolve().parents[2]


def test_generated_day_end_to_end(tmp_path: Path) -> None:
    files = generate_taq_day(tmp_path / "taq", scale=0.15)
    report = ingest_taq(
        tmp_path / "catalog", master=files.master, trades=[files.trades], quotes=list(files.quotes), nbbo=files.nbbo,
        strict=True,
    )
    assert report.malformed_count == 0
    assert set(report.instruments) == {"ACME.XNYS", "BOLT.XNAS", "CRUX.ARCX"}
    config = load_config(REPO / "configs" / "backtest.json")
    outcome = run_backtest(config, catalog_path=tmp_path / "catalog", runs_dir=tmp_path / "runs")
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert summary["fills"] > 0 and summary["orders"] > 0
    assert set(summary["per_instrument"]) == {"ACME.XNYS", "BOLT.XNAS", "CRUX.ARCX"}
    page = build_report(outcome.run_dir)
    assert page.stat().st_size > 100_000
