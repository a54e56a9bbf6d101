"""Microseconds to decode and to encode a FIX 4.4 ExecutionReport with adapters.fix.codec.

The message is a fill report as a venue sends it (27 fields, 293 bytes, with a Parties group).
Rows: decode (framing, every field, BodyLength and CheckSum verified), decode plus the data
dictionary validation the session runs on every inbound message, and encode (BodyLength and
CheckSum computed). Median and p99 of single calls (time.perf_counter_ns around each call, garbage
collector off; the clock read is about 0.05 µs). The issue's goal: parse an ExecutionReport in
under 10 µs. simplefix is timed in the same run when it is importable (it is not a dependency).
Last, what the session adds per sent message: FileStore.save_sent without and with fsync (in a
temporary directory; the fsync figure is the disk's).

    .venv/bin/python bench/bench_fix_codec.py [--calls 50000]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.fix.codec import decode, encode  # noqa: E402
from adapters.fix.dictionary import DataDictionary  # noqa: E402
from adapters.fix.store import FileStore  # noqa: E402
from bench.bench_quotes import timeit  # noqa: E402

EXECUTION_REPORT = [
    (35, "8"), (34, "18237"), (49, "VENUE"), (52, "20260105-14:30:00.123"), (56, "HFTMM"),
    (1, "MM-ACCT-1"), (6, "101.2500"), (11, "hftmm-0001-000042"), (14, "100"), (17, "E-20260105-000981"),
    (31, "101.25"), (32, "100"), (37, "O-77123"), (38, "300"), (39, "1"), (40, "2"), (44, "101.25"),
    (54, "1"), (55, "AAPL"), (59, "0"), (60, "20260105-14:30:00.122"), (150, "F"), (151, "200"),
    (453, "1"), (448, "VENUE"), (447, "D"), (452, "1"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50_000)
    args = parser.parse_args()
    n = args.calls
    raw = encode(EXECUTION_REPORT)
    dictionary = DataDictionary()
    assert decode(raw).fields[2:-1] == EXECUTION_REPORT

    rows: list[tuple[str, Callable[[int], object]]] = [
        ("decode (checks BodyLength, CheckSum)", lambda i: decode(raw)),
        ("decode + dictionary validation", lambda i: dictionary.validate(decode(raw))),
        ("encode (adds BodyLength, CheckSum)", lambda i: encode(EXECUTION_REPORT)),
    ]
    if importlib.util.find_spec("simplefix") is not None:
        import simplefix

        def simplefix_parse(i: int) -> object:
            parser = simplefix.FixParser()
            parser.append_buffer(raw)
            return parser.get_message()

        def simplefix_encode(i: int) -> object:
            message = simplefix.FixMessage()
            message.append_pair(8, "FIX.4.4", header=True)
            for tag, value in EXECUTION_REPORT:
                message.append_pair(tag, value, header=tag in (35, 34, 49, 52, 56))
            return message.encode()

        rows += [("simplefix parse", simplefix_parse), ("simplefix encode", simplefix_encode)]
    else:
        print("simplefix is not installed: only adapters.fix.codec is timed")

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"ExecutionReport {len(raw)} bytes, {len(EXECUTION_REPORT) + 3} fields; {n:,} calls each")
    print(f"{'operation':<40}{'median µs':>11}{'p99 µs':>9}")
    for name, fn in rows:
        fn(0)  # warm caches outside the measurement
        med, p99 = timeit(fn, n)
        print(f"{name:<40}{med:>11.2f}{p99:>9.2f}")
    with tempfile.TemporaryDirectory() as directory:
        for sync, calls in ((False, n), (True, min(n, 2_000))):
            store = FileStore(Path(directory) / str(sync), "bench", sync=sync)
            med, p99 = timeit(lambda i, s=store: s.save_sent(i + 1, raw), calls)
            store.close()
            print(f"{f'FileStore.save_sent (sync={sync})':<40}{med:>11.2f}{p99:>9.2f}")


if __name__ == "__main__":
    main()
