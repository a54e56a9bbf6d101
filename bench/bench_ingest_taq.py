"""TAQ ingest throughput against pyarrow's raw CSV read of the same files.

Writes a deterministic synthetic TAQ day (a quote shard, a trade file and a master file, with the
real headers, sorted by symbol then time, gzip optional) with its own small writer, then times
(a) ``pyarrow.csv`` reading the quote and trade files with every column as a string, the floor any
parser of these files pays, and (b) the full ``ingest_taq`` (validation, time conversion, rules,
L2 book aggregation, Lee-Ready, Nautilus objects, catalog and canonical Parquet writes).
Prints rows, seconds, rows/s and the ratio; medians of ``--repeat`` runs.

    .venv/bin/python bench/bench_ingest_taq.py [--quotes 300000] [--trades 60000] [--repeat 3] [--gzip]
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.taq import ingest_taq  # noqa: E402
from adapters.taq.layouts import MASTER_HEADER, QUOTE_HEADER, TRADE_HEADER  # noqa: E402

DATE = "20180312"
EXCHANGES = np.array(list("NPTZKJYXBV"))
CONDITIONS = np.array(["    ", "    ", "    ", " F  ", "   I", " F I", "  T ", "   Q"])
OPEN_NS = (9 * 3600 + 30 * 60) * 1_000_000_000
DAY_NS = int(6.5 * 3600) * 1_000_000_000


def _times(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sorted 15-character ``HHMMSSnnnnnnnnn`` strings between 09:30 and 16:00."""
    ns = np.sort(rng.integers(OPEN_NS, OPEN_NS + DAY_NS, n))
    secs, frac = np.divmod(ns, 1_000_000_000)
    h, rem = np.divmod(secs, 3600)
    m, s = np.divmod(rem, 60)
    return np.char.add(
        np.char.add(np.char.add(np.char.zfill(h.astype(str), 2), np.char.zfill(m.astype(str), 2)),
                    np.char.zfill(s.astype(str), 2)),
        np.char.zfill(frac.astype(str), 9),
    )


def _write(path: Path, header: str, lines: list[str], gz: bool) -> Path:
    text = header + "\n" + "\n".join(lines) + f"\nEND|{DATE}|{len(lines)}" + "|" * (header.count("|") - 2) + "\n"
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(text.encode(), compresslevel=1))
    else:
        path.write_text(text)
    return path


def generate(root: Path, n_quotes: int, n_trades: int, n_symbols: int, gz: bool) -> dict[str, Path]:
    """A deterministic synthetic TAQ day: per-symbol random-walk quotes on 10 exchanges, and trades."""
    rng = np.random.default_rng(20180312)
    root.mkdir(parents=True, exist_ok=True)
    symbols = [f"S{i:03d}" for i in range(n_symbols)]
    quote_lines: list[str] = []
    trade_lines: list[str] = []
    for k, sym in enumerate(symbols):
        nq, nt = n_quotes // n_symbols, n_trades // n_symbols
        base = 2000 + 300 * k  # cents
        # A slow random walk: venues quoting around a stale mid would cross the aggregated book.
        mid = base + np.cumsum(rng.integers(-1, 2, nq) * (rng.random(nq) < 0.05))
        bid = mid - rng.integers(1, 4, nq)
        ask = mid + rng.integers(1, 4, nq)
        bsz = rng.integers(0, 10, nq)
        asz = rng.integers(0, 10, nq)
        bid = np.where(bsz == 0, 0, bid)
        ask = np.where(asz == 0, 0, ask)
        ex = EXCHANGES[rng.integers(0, EXCHANGES.size, nq)]
        for i, t in enumerate(_times(rng, nq).tolist()):
            quote_lines.append(
                f"{t}|{ex[i]}|{sym}|{bid[i] / 100:.2f}|{bsz[i]}|{ask[i] / 100:.2f}|{asz[i]}|R|{i + 1}|0||||C||||||{t}||| "
            )
        px = base + rng.integers(-20, 20, nt) + rng.integers(0, 100, nt) / 100
        size = rng.integers(1, 500, nt)
        cond = CONDITIONS[rng.integers(0, CONDITIONS.size, nt)]
        tx = np.where(rng.random(nt) < 0.3, "D", EXCHANGES[rng.integers(0, EXCHANGES.size, nt)])
        for i, t in enumerate(_times(rng, nt).tolist()):
            trade_lines.append(f"{t}|{tx[i]}|{sym}|{cond[i]}|{size[i]}|{px[i] / 100:.4f}|N|00|{i + 1}|{k}{i:09d}|C||{t}||0")
    master = [
        "|".join([s, f"{s} Inc", "000000001", "A", s, "", "N", "N", "A", "1", "100", "", "1", "", "", "", "", ""]
                 + ["1"] * 16 + ["", "20100101"])
        for s in symbols
    ]
    return {
        "quotes": _write(root / f"SPLITS_US_ALL_BBO_S_{DATE}", QUOTE_HEADER, quote_lines, gz),
        "trades": _write(root / f"EQY_US_ALL_TRADE_{DATE}", TRADE_HEADER, trade_lines, gz),
        "master": _write(root / f"EQY_US_ALL_REF_MASTER_{DATE}", MASTER_HEADER, master, gz),
    }


def raw_read(paths: list[Path]) -> int:
    """pyarrow.csv read of whole files, every column a string: the parsing floor."""
    rows = 0
    for p in paths:
        opener = gzip.open if p.suffix == ".gz" else open
        with opener(p, "rt") as f:
            header = f.readline().rstrip("\n").split("|")
        table = pacsv.read_csv(
            p,
            parse_options=pacsv.ParseOptions(delimiter="|", quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header}),
        )
        rows += table.num_rows - 1  # the END trailer
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quotes", type=int, default=300_000)
    parser.add_argument("--trades", type=int, default=60_000)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hftmm-bench-taq-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        files = generate(root / "taq", args.quotes, args.trades, args.symbols, args.gzip)
        gen_s = time.perf_counter() - t0
        raw_s, ingest_s = [], []
        rows = 0
        report = None
        for rep in range(args.repeat):
            t0 = time.perf_counter()
            rows = raw_read([files["quotes"], files["trades"]])
            raw_s.append(time.perf_counter() - t0)
            cat = root / f"cat{rep}"
            t0 = time.perf_counter()
            report = ingest_taq(cat, master=files["master"], trades=[files["trades"]], quotes=[files["quotes"]])
            ingest_s.append(time.perf_counter() - t0)
            shutil.rmtree(cat)
    assert report is not None
    written = {k: sum(getattr(i, k) for i in report.instruments.values()) for k in ("deltas", "quote_ticks", "trade_ticks")}
    raw, ing = statistics.median(raw_s), statistics.median(ingest_s)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}; "
          f"{'gzip' if args.gzip else 'plain'} files generated in {gen_s:.1f} s; {args.repeat} runs, medians")
    print(f"written: {written['deltas']:,} deltas, {written['quote_ticks']:,} quote ticks, "
          f"{written['trade_ticks']:,} trade ticks, {len(report.instruments)} instruments")
    print(f"{'step':<34}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
    print(f"{'pyarrow.csv raw read (strings)':<34}{rows:>10,}{raw:>10.3f}{rows / raw:>12,.0f}")
    print(f"{'ingest_taq (to catalog)':<34}{rows:>10,}{ing:>10.3f}{rows / ing:>12,.0f}")
    print(f"ratio ingest / raw (time): {ing / raw:.1f}x")


if __name__ == "__main__":
    main()
