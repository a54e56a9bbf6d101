"""Sweep wall time with 1 and 2 workers, and the same sweep on a local Ray cluster.

Runs ``configs/sweep.json`` (12 single-symbol runs of the demo day) three times through
``hftmm.sweep``: process pool with 1 worker, process pool with 2 workers, local Ray cluster with 2
workers (cluster start-up included in its wall time). Every run is a fresh process in all three. It
prints the wall times (best and median of ``--repeat`` rounds, the cases alternating order), the
speed-up of 2 workers over 1, the machine and its load average, and checks that the per-run results
(every column of the results table except time, process and folder) are identical across the cases.

    .venv/bin/python bench/bench_sweep.py [--config configs/sweep.json] [--catalog DIR] [--no-ray] [--repeat N]

Without --catalog it uses ./catalog when the demo day is there (``make demo``), else builds the demo
day into a temporary catalog first.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
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
    parser.add_argument("--repeat", type=int, default=1, help="Rounds of all cases, alternating their order.")
    args = parser.parse_args()

    load_before = os.getloadavg()
    walls: dict[tuple[str, int], list[float]] = {}
    tables: dict[tuple[str, int], pd.DataFrame] = {}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp_name:
        tmp = Path(tmp_name)
        catalog = args.catalog or demo_catalog(tmp)
        cases = [("pool", 1), ("pool", 2)] + ([] if args.no_ray else [("ray", 2)])
        for round_ in range(args.repeat):
            # Alternate the order so that drift of a shared machine's load hits every case.
            for backend, workers in (cases if round_ % 2 == 0 else cases[::-1]):
                prepared = prepare_sweep(args.config, catalog=catalog, runs_dir=tmp / f"{backend}-{workers}-{round_}")
                outcome = run_sweep(prepared, backend=backend, workers=workers,
                                    ray_address="local" if backend == "ray" else None, report=False)
                walls.setdefault((backend, workers), []).append(outcome.info.wall_seconds)
                tables.setdefault((backend, workers), outcome.results)
                print(f"  round {round_ + 1}: {backend} x{workers}: {outcome.info.wall_seconds:.1f} s, {outcome.counts}",
                      flush=True)
    load_after = os.getloadavg()

    reference_table = tables[cases[0]]
    runs = len(reference_table)
    engine = reference_table["engine_seconds"].sum()
    print(f"\nmachine: {platform.machine()}, {cpu_model()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; 1-min load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after (anything above 0 is other work sharing the CPUs)")
    print(f"sweep: {args.config.name}, {runs} runs, catalog {catalog}; engine time of the runs "
          f"(pool x1, summed): {engine:.1f} s; {args.repeat} round(s)\n")
    header = f"{'backend':<10}{'workers':>8}{'runs':>6}{'ok':>5}{'best s':>9}{'median s':>10}{'s/run':>8}{'speed-up':>10}"
    print(header)
    print("-" * len(header))
    base_wall = min(walls[cases[0]])
    for case in cases:
        backend, workers = case
        ok = int((tables[case]["status"] == "ok").sum())
        best = min(walls[case])
        print(f"{backend:<10}{workers:>8}{runs:>6}{ok:>5}{best:>9.1f}{statistics.median(walls[case]):>10.1f}"
              f"{best / runs:>8.2f}{base_wall / best:>10.2f}")
    print("speed-up: best wall time of pool x1 / best wall time of the case")

    def deterministic(df: pd.DataFrame) -> pd.DataFrame:
        return df.drop(columns=list(NONDETERMINISTIC_COLUMNS)).reset_index(drop=True)

    reference = deterministic(reference_table)
    same = True
    for case in cases[1:]:
        try:
            pd.testing.assert_frame_equal(deterministic(tables[case]), reference, check_exact=True)
        except AssertionError as e:
            same = False
            print(f"\nper-run results of {case[0]} x{case[1]} differ from pool x1:\n{e}")
    print(f"\nper-run results identical across {', '.join(f'{b} x{w}' for b, w in cases)}: {'yes' if same else 'NO'}")
    pnl = reference.set_index("run_id")["total_pnl"]
    print(f"total PnL per run (USD): {', '.join(f'{k} {v:,.2f}' for k, v in pnl.items())}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
