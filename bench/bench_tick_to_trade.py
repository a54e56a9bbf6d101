"""Tick-to-trade on loopback: `hftmm feed` and `hftmm venue` as processes and a live node between
them (the `hftmm demo-live` set-up), trading the demo day for a while.

Tick-to-trade is measured by the FIX execution client on every NewOrderSingle: the receive time of
the market data frame behind the order (the ``md=`` tag the strategy puts on it) to the moment the
message is written to the venue's socket. Also the FIX round trip (order sent -> first
ExecutionReport back). Uses the demo catalog (``make demo``), or builds the demo day itself.

    .venv/bin/python bench/bench_tick_to_trade.py [--duration 60] [--speed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hftmm.config import parse_live_config  # noqa: E402
from hftmm.live.demo import run_demo_live  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--catalog", type=Path, default=REPO / "catalog")
    args = parser.parse_args()
    raw = json.loads(Path(os.environ.get("HFTMM_LIVE_CONFIG", REPO / "configs" / "live.json")).read_text())
    with tempfile.TemporaryDirectory(prefix="hftmm-t2t-") as tmp:
        if not any((args.catalog / "data" / "quote_tick").glob("*/*.parquet")):
            # No demo catalog (make demo builds one): build the same day here.
            from bench_backtest import build_demo_catalog

            args.catalog, _, _ = build_demo_catalog(Path(tmp))
        raw["catalog"]["path"] = str(args.catalog)
        raw["live"]["runs_dir"] = tmp
        config = parse_live_config(raw)
        outcome = asyncio.run(run_demo_live(config, catalog=args.catalog, date=dt.date(2024, 3, 11),
                                            duration_s=args.duration, speed=args.speed, start="09:30", work_dir=Path(tmp)))
        outcome.live.dispose()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"demo day from 09:30 ET at {args.speed:g}x for {args.duration:g} s; node and venue agree: "
          f"{outcome.reconciliation.matches}")
    print(f"{'client':<8}{'orders':>8}{'t2t p50 µs':>12}{'t2t p90 µs':>12}{'t2t p99 µs':>12}{'FIX rt p50 µs':>15}{'FIX rt p99 µs':>15}")
    for client, lat in sorted(outcome.summary.get("latency", {}).items()):
        t, r = lat["tick_to_trade_us"], lat["fix_round_trip_us"]
        if not t:
            continue
        print(f"{client:<8}{lat['tick_to_trade_samples']:>8}{t['p50']:>12,.0f}{t['p90']:>12,.0f}{t['p99']:>12,.0f}"
              f"{r.get('p50', float('nan')):>15,.0f}{r.get('p99', float('nan')):>15,.0f}")


if __name__ == "__main__":
    main()
