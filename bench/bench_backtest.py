"""Backtest throughput: events per second of the market makers vs a strategy that never trades.

Strategies: the first A-S quoter; the full GLFT of configs/glft.json (calibrated sigma/A/k from
``hftmm calibrate``, weighted-mid fair value, the toxicity model trained on the A-S run's fills);
the A-S quoter behind the demo's whole risk chain (``configs/backtest.json`` ``risk``: the chain's
cost per event); and a do-nothing book watcher. Every run has hftmm's risk actor (no plugins unless
stated); the event stream, event log and audit trail are off.

Both run the same catalog day on the same engine settings, each run in a fresh process (Nautilus
keeps global state per process), alternating A/B so machine drift hits both. The ratio is the
figure to compare across machines; absolute rates depend on the host.

    .venv/bin/python bench/bench_backtest.py [--catalog DIR --date YYYY-MM-DD --instruments A.X,B.Y] [--repeat 3]

Without --catalog it builds the demo day (hftmm.sample) into a temporary catalog first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STRATEGIES = {
    "avellaneda_stoikov": {
        "path": "strategies.avellaneda_stoikov:AvellanedaStoikovMarketMaker",
        "config_path": "strategies.avellaneda_stoikov:AvellanedaStoikovConfig",
    },
    "glft_full": {
        "path": "strategies.glft:GlftMarketMaker",
        "config_path": "strategies.glft:GlftConfig",
    },
    # The A-S quoter behind the demo's full risk chain (configs/backtest.json "risk"): the chain's cost.
    "as_risk_chain": {
        "path": "strategies.avellaneda_stoikov:AvellanedaStoikovMarketMaker",
        "config_path": "strategies.avellaneda_stoikov:AvellanedaStoikovConfig",
    },
    "do_nothing": {
        "path": "strategies.baseline:BookWatcher",
        "config_path": "strategies.baseline:BookWatcherConfig",
    },
}


def run_one(config_json: str, catalog: str, runs: str) -> None:
    """Child process: run one backtest and print its summary as JSON."""
    from hftmm.config import parse_config
    from hftmm.engine.backtest import run_backtest

    outcome = run_backtest(parse_config(json.loads(config_json)), catalog_path=Path(catalog), runs_dir=Path(runs))
    print(json.dumps(outcome.summary))


def prepare_full_glft(catalog: Path, date: str, instruments: list[str], as_run: Path) -> dict:
    """Calibrate each instrument and train the toxicity model on an A-S run; return the GLFT strategy config."""
    import datetime as dt

    from hftmm.engine.calibration import calibrate, calibration_path, save_calibration
    from hftmm.models.toxicity import train_from_run

    day = dt.date.fromisoformat(date)
    for iid in instruments:
        save_calibration(calibrate(catalog, iid, day), calibration_path(catalog, iid, day))
    model = train_from_run(as_run, 5.0).save(catalog / "models" / "toxicity.pkl")
    strategy = json.loads((REPO / "configs" / "glft.json").read_text())["strategy"]
    return {**strategy, "calibration_dir": str(catalog / "calibration"), "toxicity_model": str(model)}


def build_demo_catalog(root: Path) -> tuple[Path, str, list[str]]:
    from adapters.taq import ingest_taq
    from hftmm.sample.taq_day import generate_taq_day

    files = generate_taq_day(root / "taq")
    ingest_taq(
        root / "catalog", master=files.master, trades=[files.trades], quotes=list(files.quotes), nbbo=files.nbbo,
    )
    base = json.loads((REPO / "configs" / "backtest.json").read_text())
    return root / "catalog", base["backtest"]["date"], base["backtest"]["instruments"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", type=Path)
    parser.add_argument("--date")
    parser.add_argument("--instruments")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", nargs=3, metavar=("CONFIG_JSON", "CATALOG", "RUNS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return

    with tempfile.TemporaryDirectory(prefix="hftmm-bench-") as tmp:
        tmp_path = Path(tmp)
        if args.catalog:
            catalog, date, instruments = args.catalog, args.date, args.instruments.split(",")
        else:
            catalog, date, instruments = build_demo_catalog(tmp_path)
        base = json.loads((REPO / "configs" / "backtest.json").read_text())
        results: dict[str, list[dict]] = {name: [] for name in STRATEGIES}
        glft_strategy: dict | None = None
        for rep in range(args.repeat):
            for name, paths in STRATEGIES.items():
                if name == "glft_full" and glft_strategy is None:
                    [as_run] = (tmp_path / f"runs-avellaneda_stoikov-{rep}").iterdir()
                    glft_strategy = prepare_full_glft(Path(catalog), date, instruments, as_run)
                strategy = {
                    "avellaneda_stoikov": {**base["strategy"], **paths},
                    "as_risk_chain": {**base["strategy"], **paths},
                    "glft_full": glft_strategy,
                    "do_nothing": paths,
                }[name]
                config = {
                    # Recording off; every run has the risk actor (with no plugins unless stated).
                    "backtest": {**base["backtest"], "date": date, "instruments": instruments, "event_stream": "off",
                                 "event_log": False},
                    "venue": base["venue"],
                    "strategy": strategy,
                    "risk": {**base["risk"], "audit": False} if name == "as_risk_chain" else {"audit": False},
                }
                proc = subprocess.run(
                    [sys.executable, __file__, "--one", json.dumps(config), str(catalog), str(tmp_path / f"runs-{name}-{rep}")],
                    capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)},
                )
                results[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.repeat} runs each, medians")
    header = f"{'strategy':<20}{'events':>10}{'orders':>9}{'amends':>9}{'fills':>8}{'wall s':>9}{'events/s':>11}"
    print(header)
    print("-" * len(header))
    rate = {}
    for name, runs in results.items():
        rate[name] = statistics.median(r["events_per_second"] for r in runs)
        r0 = runs[0]
        print(f"{name:<20}{r0['events']:>10,}{r0['orders']:>9,}{r0['amendments']:>9,}{r0['fills']:>8,}"
              f"{statistics.median(r['wall_seconds'] for r in runs):>9.2f}{rate[name]:>11,.0f}")
    for name in ("avellaneda_stoikov", "as_risk_chain", "glft_full"):
        ratios = [a["events_per_second"] / b["events_per_second"] for a, b in zip(results[name], results["do_nothing"], strict=True)]
        print(f"ratio {name} / do-nothing events/s: median {statistics.median(ratios):.3f} "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    main()
