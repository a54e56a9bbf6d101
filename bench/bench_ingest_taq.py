"""TAQ ingest throughput against pyarrow's raw CSV read of the same files.

Generates a sample TAQ day (``--scale`` x the demo's size), then times (a) pyarrow.csv reading every
file with all columns as strings, the floor any parser of these files pays, and (b) the full
``ingest_taq`` (validation, time conversion, rules, book aggregation, Nautilus objects, catalog
write). Prints rows, seconds, rows/s and the ratio; medians of ``--repeat`` runs.

    .venv/bin/python bench/bench_ingest_taq.py [--scale 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.taq import ingest_taq  # noqa: E402
from hftmm.sample.taq_day import generate_taq_day  # noqa: E402


def raw_read(paths: list[Path]) -> int:
    rows = 0
    for p in paths:
        header = p.open().readline().rstrip("\n").split("|")
        table = pacsv.read_csv(
            p,
            parse_options=pacsv.ParseOptions(delimiter="|", quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header}),
        )
        rows += table.num_rows - 1  # the END trailer
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hftmm-bench-") as tmp:
        root = Path(tmp)
        files = generate_taq_day(root / "taq", scale=args.scale)
        paths = [files.trades, *files.quotes, files.nbbo]
        raw_s, ingest_s = [], []
        rows = 0
        for rep in range(args.repeat):
            t0 = time.perf_counter()
            rows = raw_read(paths)
            raw_s.append(time.perf_counter() - t0)
            cat = root / f"cat{rep}"
            t0 = time.perf_counter()
            ingest_taq(cat, master=files.master, trades=[files.trades], quotes=list(files.quotes), nbbo=files.nbbo)
            ingest_s.append(time.perf_counter() - t0)
            shutil.rmtree(cat)
    raw, ing = statistics.median(raw_s), statistics.median(ingest_s)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"scale {args.scale}, {args.repeat} runs, medians")
    print(f"{'step':<34}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
    print(f"{'pyarrow.csv raw read (strings)':<34}{rows:>10,}{raw:>10.3f}{rows / raw:>12,.0f}")
    print(f"{'ingest_taq (to catalog)':<34}{rows:>10,}{ing:>10.3f}{rows / ing:>12,.0f}")
    print(f"ratio ingest / raw read rows per second: {raw / ing:.4f} (raw is {ing / raw:.0f}x faster)")


if __name__ == "__main__":
    main()
