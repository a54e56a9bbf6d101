"""Sweep wall time with 1 and 2 workers, and the same sweep on a local Ray cluster.

Runs ``configs/sweep.json`` (12 single-symbol runs of the demo day) three times through
``hftmm.sweep``: process pool with 1 worker, process pool with 2 workers, local Ray cluster with 2
workers (cluster start-up included in its wall time). Every run is a fresh process in all three. It
prints the wall times, the speed-up of 2 workers over 1, and checks that the per-run results (every
column of the results table except time, process and folder) are identical across the three.

    .venv/bin/python bench/bench_sweep.py [--config configs/sweep.json] [--catalog DIR] [--no-ray]

Without --catalog it uses ./catalog when the demo day is there (``make demo``), else builds the demo
day into a temporary catalog first.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hftmm.sweep import prepare_sweep, run_sweep  # noqa: E402
from hftmm.sweep.results import NONDETERMINISTIC_COLUMNS  # noqa: E402


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def demo_catalog(tmp: Path) -> Path:
    local = REPO / "catalog"
    if (local / "data").is_dir():
        return local
    from adapters.taq import ingest_taq
    from hftmm.sample.taq_day import generate_taq_day

    print("building the demo day into a temporary catalog ...", flush=True)
    files = generate_taq_day(tmp / "taq")
    ingest_taq(tmp / "catalog", master=files.master, trades=[files.trades], quotes=list(files.quotes), nbbo=files.nbbo)
    return tmp / "catalog"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "sweep.json")
    parser.add_argument("--catalog", type=Path, default=None)
    parser.add_argument("--no-ray", action="store_true", help="Skip the Ray run.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp_name:
        tmp = Path(tmp_name)
        catalog = args.catalog or demo_catalog(tmp)
        cases = [("pool", 1), ("pool", 2)] + ([] if args.no_ray else [("ray", 2)])
        results: list[tuple[str, int, float, pd.DataFrame]] = []
        for backend, workers in cases:
            prepared = prepare_sweep(args.config, catalog=catalog, runs_dir=tmp / f"{backend}-{workers}")
            outcome = run_sweep(prepared, backend=backend, workers=workers, ray_address="local" if backend == "ray" else None,
                                report=False)
            results.append((backend, workers, outcome.info.wall_seconds, outcome.results))
            print(f"  {backend} x{workers}: {outcome.info.wall_seconds:.1f} s, {outcome.counts}", flush=True)

    runs = len(results[0][3])
    engine = results[0][3]["engine_seconds"].sum()
    print(f"\nmachine: {platform.machine()}, {cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(f"sweep: {args.config.name}, {runs} runs, catalog {catalog}; engine time of the runs "
          f"(1 worker, summed): {engine:.1f} s\n")
    header = f"{'backend':<10}{'workers':>8}{'runs':>6}{'ok':>5}{'wall s':>9}{'s/run':>8}{'speed-up':>10}"
    print(header)
    print("-" * len(header))
    base_wall = results[0][2]
    for backend, workers, wall, df in results:
        ok = int((df["status"] == "ok").sum())
        print(f"{backend:<10}{workers:>8}{len(df):>6}{ok:>5}{wall:>9.1f}{wall / len(df):>8.2f}{base_wall / wall:>10.2f}")

    def deterministic(df: pd.DataFrame) -> pd.DataFrame:
        return df.drop(columns=list(NONDETERMINISTIC_COLUMNS)).reset_index(drop=True)

    reference = deterministic(results[0][3])
    same = True
    for backend, workers, _, df in results[1:]:
        try:
            pd.testing.assert_frame_equal(deterministic(df), reference, check_exact=True)
        except AssertionError as e:
            same = False
            print(f"\nper-run results of {backend} x{workers} differ from pool x1:\n{e}")
    print(f"\nper-run results identical across {', '.join(f'{b} x{w}' for b, w, _, _ in results)}: {'yes' if same else 'NO'}")
    pnl = reference.set_index("run_id")["total_pnl"]
    print(f"total PnL per run (USD): {', '.join(f'{k} {v:,.2f}' for k, v in pnl.items())}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
