"""Microseconds per quote decision of the NautilusTrader strategy plugins (bench_quotes.py times the
pure layer): ``on_market_state`` (volatility update) and ``get_quotes``, with the signal updates.

Each figure is measured over many calls with time.perf_counter_ns around every call, reporting
the median and p99 (the p99 includes the clock read, about 0.05 µs). The issue's goal: a full
quote computation including signals under 50 µs at p99.

    .venv/bin/python bench/bench_strategy_quotes.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nautilus_trader.model.identifiers import InstrumentId  # noqa: E402

from strategies.avellaneda_stoikov import AvellanedaStoikovConfig, AvellanedaStoikovMarketMaker  # noqa: E402
from strategies.base import MarketState  # noqa: E402
from strategies.glft import GlftConfig, GlftMarketMaker  # noqa: E402
from strategies.signals import OrderFlowImbalance, TradeFlowImbalance, weighted_mid  # noqa: E402


def timeit(fn: Callable[[int], object], calls: int) -> tuple[float, float]:
    samples = []
    for i in range(calls):
        t0 = time.perf_counter_ns()
        fn(i)
        samples.append(time.perf_counter_ns() - t0)
    samples.sort()
    return statistics.median(samples) / 1e3, samples[int(0.99 * len(samples))] / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(1)
    mids = [50 + rng.gauss(0, 0.05) for _ in range(args.calls)]
    qs = [rng.randint(-5, 5) for _ in range(args.calls)]
    ofi = OrderFlowImbalance(5_000_000_000)
    tfi = TradeFlowImbalance(30_000_000_000)
    iid = InstrumentId.from_str("ACME.XNYS")
    close = 23_400 * 10**9
    as_strategy = AvellanedaStoikovMarketMaker(AvellanedaStoikovConfig(instrument_id=iid, session_close_ns=close))
    glft_strategy = GlftMarketMaker(GlftConfig(instrument_id=iid, session_close_ns=close))

    def state(i: int) -> MarketState:
        m = round(mids[i], 2)
        return MarketState(i * 10**6, m - 0.01, m + 0.01, 300.0, 200.0, m, 0.01, qs[i] * 100.0, (close - i * 10**6) / 1e9, None)

    states = [state(i) for i in range(args.calls)]

    def signals(i: int) -> None:
        s = states[i]
        ofi.update(s.ts_ns, s.best_bid, s.best_bid_size, s.best_ask, s.best_ask_size)
        tfi.update(s.ts_ns, 100.0, 1 if i % 2 else -1)
        weighted_mid(s.best_bid, s.best_ask, s.best_bid_size, s.best_ask_size)

    def full(strategy: object) -> Callable[[int], object]:
        def run(i: int) -> object:
            signals(i)
            strategy.on_market_state(states[i])
            return strategy.get_quotes(states[i])
        return run

    rows = [
        ("A-S get_quotes + signals + sigma", full(as_strategy)),
        ("GLFT get_quotes + signals + sigma", full(glft_strategy)),
    ]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.calls:,} calls each")
    print(f"{'computation':<38}{'median µs':>11}{'p99 µs':>9}")
    for name, fn in rows:
        med, p99 = timeit(fn, args.calls)
        print(f"{name:<38}{med:>11.2f}{p99:>9.2f}")


if __name__ == "__main__":
    main()
