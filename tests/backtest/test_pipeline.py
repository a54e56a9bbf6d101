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


def test_full_strategy_loop_on_a_generated_day(tmp_path: Path) -> None:
    """Backtest A-S, calibrate every symbol, train the toxicity model on the A-S fills, then run
    the full GLFT (calibrated sigma/A/k, weighted-mid fair value, toxicity) from configs/glft.json."""
    import datetime as dt

    from hftmm.config import parse_config
    from hftmm.engine.calibration import calibrate, calibration_path, save_calibration
    from hftmm.models.toxicity import train_from_run

    files = generate_taq_day(tmp_path / "taq", scale=0.2)
    catalog = tmp_path / "catalog"
    ingest_taq(catalog, master=files.master, trades=[files.trades], quotes=list(files.quotes), nbbo=files.nbbo)
    first = run_backtest(load_config(REPO / "configs" / "backtest.json"), catalog_path=catalog, runs_dir=tmp_path / "runs")
    for iid in ("ACME.XNYS", "BOLT.XNAS", "CRUX.ARCX"):
        save_calibration(calibrate(catalog, iid, dt.date(2024, 3, 11)), calibration_path(catalog, iid, dt.date(2024, 3, 11)))
    train_from_run(first.run_dir, 5.0).save(catalog / "models" / "toxicity.pkl")
    raw = json.loads((REPO / "configs" / "glft.json").read_text())
    raw["strategy"]["calibration_dir"] = str(catalog / "calibration")
    raw["strategy"]["toxicity_model"] = str(catalog / "models" / "toxicity.pkl")
    full = run_backtest(parse_config(raw), catalog_path=catalog, runs_dir=tmp_path / "runs")
    summary = json.loads((full.run_dir / "summary.json").read_text())
    assert summary["fills"] > 0
    page = build_report(full.run_dir).read_text()
    assert "Intraday PnL decomposition" in page and "Markouts" in page
