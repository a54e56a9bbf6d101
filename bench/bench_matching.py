"""Venue matching engine throughput: participant requests and replayed market events per second.

Every figure is measured with time.perf_counter_ns around each call (median and p99 in µs, the
p99 including the clock read, about 0.05 µs) and as a rate over the whole stream (calls divided by
the summed call times). Streams are deterministic (seeded) and built before timing:

- "requests, participant book": limit orders around a drifting mid (70%), cancels (15%),
  size-down replaces (7%), marketable IOCs (8%) from five participants, no replayed data;
- "requests, among replayed L2": the same flow with a replayed 5-level book on both sides;
- "market events, L2 + resting orders": LEVEL updates and trades (1 in 10) of a random-walk
  5-level book while 20 participant orders rest at and near the touch (and refill when filled);
- "catalog feed read": ``catalog_day_events`` over the synthetic test catalog (NautilusTrader
  reads and decoding, events per second only);
- "demo day replay": the ``make demo`` TAQ day (three symbols, generated and ingested into a
  temporary catalog first, untimed) fed through the engine while a participant tops up, every
  50th event, to five orders per side resting at the replayed touch (the orders are timed too).

NautilusTrader-free except the last two rows (reading the catalog).

    .venv/bin/python bench/bench_matching.py [--requests 50000] [--events 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hftmm.venue.market_replay import LEVEL, TRADE, MarketEvent  # noqa: E402
from hftmm.venue.matching_engine import MatchingEngine, SymbolSpec  # noqa: E402
from hftmm.venue.orders import (  # noqa: E402
    CancelOrder,
    NewOrder,
    ReplaceOrder,
    Request,
    Side,
    TimeInForce,
)

SYM = "ACME"
TICK = 10_000_000
MID = 5000 * TICK
PARTICIPANTS = ("mm1", "mm2", "mm3", "mm4", "mm5")


def timed(fn: Callable[[object], object], items: Sequence[object]) -> tuple[float, float, float]:
    """(calls per second, median µs, p99 µs) of ``fn`` over ``items``."""
    samples = []
    clock = time.perf_counter_ns
    gc.disable()  # a collection inside one sample would measure the collector, not the engine
    try:
        for item in items:
            t0 = clock()
            fn(item)
            samples.append(clock() - t0)
    finally:
        gc.enable()
    total = sum(samples)
    samples.sort()
    return len(samples) / (total / 1e9), statistics.median(samples) / 1e3, samples[int(0.99 * len(samples))] / 1e3


def kind_of(request: Request) -> str:
    """A row label for the per-kind breakdown."""
    if isinstance(request, NewOrder):
        return "  new IOC (marketable)" if request.tif == TimeInForce.IOC else "  new GTC limit"
    return "  cancel" if isinstance(request, CancelOrder) else "  replace (size down)"


def by_kind(stream: list[Request]) -> list[tuple[str, int, float, float, float]]:
    """Per request kind on a fresh engine: (label, calls, median µs, p99 µs, reports per call)."""
    engine = seeded_engine(with_book=False)
    samples: dict[str, list[int]] = {}
    reports: dict[str, int] = {}
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for request in stream:
            t0 = clock()
            out = engine.submit(request)
            elapsed = clock() - t0
            kind = kind_of(request)
            samples.setdefault(kind, []).append(elapsed)
            reports[kind] = reports.get(kind, 0) + len(out)
    finally:
        gc.enable()
    rows = []
    for kind, values in sorted(samples.items()):
        values.sort()
        rows.append((kind, len(values), statistics.median(values) / 1e3, values[int(0.99 * len(values))] / 1e3,
                     reports[kind] / len(values)))
    return rows


def request_stream(n: int, seed: int) -> list[Request]:
    """A market maker's request mix; cancels and replaces name orders the stream placed earlier."""
    rng = random.Random(seed)
    mid = MID
    live: list[tuple[str, str, int, int]] = []  # participant, cid, price, qty
    out: list[Request] = []
    for i in range(n):
        mid += rng.choice((-TICK, 0, 0, 0, TICK))
        roll = rng.random()
        who = rng.choice(PARTICIPANTS)
        if roll < 0.15 and live:
            p, cid, _, _ = live.pop(rng.randrange(len(live)))
            out.append(CancelOrder(participant=p, client_order_id=f"c{i}", orig_client_order_id=cid, symbol=SYM))
        elif roll < 0.22 and live:
            k = rng.randrange(len(live))
            p, cid, price, qty = live[k]
            live[k] = (p, f"r{i}", price, max(qty - 100, 100))
            out.append(ReplaceOrder(participant=p, client_order_id=f"r{i}", orig_client_order_id=cid, symbol=SYM,
                                    qty=max(qty - 100, 100), price=price))
        elif roll < 0.30:
            side = rng.choice((Side.BUY, Side.SELL))
            price = mid + (3 * TICK if side == Side.BUY else -3 * TICK)
            out.append(NewOrder(participant=who, client_order_id=f"i{i}", symbol=SYM, side=side,
                                qty=100 * rng.randint(1, 5), price=price, tif=TimeInForce.IOC))
        else:
            side = rng.choice((Side.BUY, Side.SELL))
            offset = rng.randint(1, 5) * TICK
            price = mid - offset if side == Side.BUY else mid + offset
            qty = 100 * rng.randint(1, 5)
            out.append(NewOrder(participant=who, client_order_id=f"o{i}", symbol=SYM, side=side, qty=qty,
                                price=price, tif=TimeInForce.GTC))
            live.append((who, f"o{i}", price, qty))
    return out


def l2_stream(n: int, seed: int) -> list[MarketEvent]:
    """A random-walk 5-level book as LEVEL updates, with trades at the touch one event in ten."""
    rng = random.Random(seed)
    mid = MID
    events: list[MarketEvent] = []
    for i in range(n):
        ts = 1_000_000 * i
        if rng.random() < 0.1:
            buy = rng.random() < 0.5
            events.append((ts, TRADE, Side.BUY if buy else Side.SELL, mid + (TICK if buy else -TICK), 100 * rng.randint(1, 4)))
            if rng.random() < 0.3:
                mid += TICK if buy else -TICK
            continue
        side = rng.choice((Side.BUY, Side.SELL))
        depth = rng.randint(1, 5)
        price = mid - depth * TICK if side == Side.BUY else mid + depth * TICK
        events.append((ts, LEVEL, side, price, 100 * rng.randint(0, 9)))
    return events


def seeded_engine(with_book: bool) -> MatchingEngine:
    engine = MatchingEngine([SymbolSpec(symbol=SYM, tick=TICK)])
    if with_book:
        for d in range(1, 6):
            engine.on_market_event(SYM, (0, LEVEL, Side.BUY, MID - d * TICK, 500))
            engine.on_market_event(SYM, (0, LEVEL, Side.SELL, MID + d * TICK, 500))
    return engine


def market_events_row(n: int) -> tuple[float, float, float, int]:
    engine = seeded_engine(with_book=True)
    events = l2_stream(n, seed=2)
    counter = [0]

    def refill(ts: int) -> None:
        # Keep about 20 participant orders resting near the touch, so fills keep happening.
        for side in (Side.BUY, Side.SELL):
            while len(engine.resting_orders(SYM, side)) < 10:
                counter[0] += 1
                best = engine.replayed_best(SYM, side)
                price = best[0] if best else MID
                engine.submit(NewOrder(participant="mm1", client_order_id=f"q{counter[0]}", symbol=SYM, side=side,
                                       qty=200, price=price, tif=TimeInForce.GTC, ts_ns=ts))

    fills = 0

    def on_event(event: object) -> None:
        nonlocal fills
        out = engine.on_market_event(SYM, event)  # type: ignore[arg-type]
        fills += len(out)

    rates = []
    samples_all: list[tuple[float, float, float]] = []
    chunk = 1000
    for start in range(0, n, chunk):  # refills happen between chunks, outside the timing
        refill(events[start][0])
        samples_all.append(timed(on_event, events[start:start + chunk]))
        rates.append(samples_all[-1][0])
    # Combine chunks: harmonic mean of rates over equal chunks; medians and p99 of the chunk figures.
    rate = len(rates) / sum(1 / r for r in rates)
    med = statistics.median(s[1] for s in samples_all)
    p99 = statistics.median(s[2] for s in samples_all)
    return rate, med, p99, fills


def catalog_feed_row() -> tuple[float, int]:
    from hftmm.venue.catalog_feed import catalog_day_events
    from tests.backtest.synthetic_catalog import build_catalog

    with tempfile.TemporaryDirectory() as tmp:
        build_catalog(Path(tmp), n_events=20_000, seed=1)
        t0 = time.perf_counter()
        count = sum(1 for _ in catalog_day_events(tmp, ["ACME.XNYS"], dt.date(2024, 3, 11)))
        return count / (time.perf_counter() - t0), count


def demo_day_row() -> tuple[float, float, float, int, int]:
    """(events per second, median µs, p99 µs, events, fill reports) over the demo TAQ day."""
    from adapters.taq import ingest_taq
    from hftmm.sample.taq_day import generate_taq_day
    from hftmm.venue.catalog_feed import catalog_day_events, symbol_specs

    ids = ["ACME.XNYS", "BOLT.XNAS", "CRUX.ARCX"]
    with tempfile.TemporaryDirectory() as tmp:
        files = generate_taq_day(Path(tmp) / "taq")
        catalog = Path(tmp) / "catalog"
        ingest_taq(catalog, master=files.master, trades=[files.trades], quotes=list(files.quotes), nbbo=files.nbbo,
                   date=files.date)
        events = list(catalog_day_events(catalog, ids, files.date))
        engine = MatchingEngine(symbol_specs(catalog, ids))
    fills = 0
    placed = 0

    def step(item: object) -> None:
        nonlocal fills, placed
        i, (symbol, event) = item  # type: ignore[misc]
        fills += len(engine.on_market_event(symbol, event))
        if i % 50 == 0:
            for side in (Side.BUY, Side.SELL):
                best = engine.replayed_best(symbol, side)
                if best and len(engine.resting_orders(symbol, side)) < 5:
                    placed += 1
                    engine.submit(NewOrder(participant="mm", client_order_id=str(placed), symbol=symbol, side=side,
                                           qty=100, price=best[0], tif=TimeInForce.GTC, ts_ns=event[0]))

    rate, med, p99 = timed(step, list(enumerate(events)))
    return rate, med, p99, len(events), fills


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'stream':<38}{'calls':>9}{'per s':>11}{'median µs':>11}{'p99 µs':>9}")
    for name, with_book in (("requests, participant book", False), ("requests, among replayed L2", True)):
        engine = seeded_engine(with_book)
        stream = request_stream(args.requests, seed=1)
        rate, med, p99 = timed(engine.submit, stream)  # type: ignore[arg-type]
        print(f"{name:<38}{len(stream):>9,}{rate:>11,.0f}{med:>11.2f}{p99:>9.2f}")
        if not with_book:
            for kind, calls, kmed, kp99, per_call in by_kind(stream):
                print(f"{kind + f' ({per_call:.1f} reports)':<38}{calls:>9,}{'':>11}{kmed:>11.2f}{kp99:>9.2f}")
    rate, med, p99, fills = market_events_row(args.events)
    print(f"{'market events, L2 + resting orders':<38}{args.events:>9,}{rate:>11,.0f}{med:>11.2f}{p99:>9.2f}")
    feed_rate, count = catalog_feed_row()
    print(f"{'catalog feed read (synthetic day)':<38}{count:>9,}{feed_rate:>11,.0f}{'':>11}{'':>9}")
    day_rate, day_med, day_p99, day_events, day_fills = demo_day_row()
    print(f"{'demo day replay (3 symbols)':<38}{day_events:>9,}{day_rate:>11,.0f}{day_med:>11.2f}{day_p99:>9.2f}")
    print(f"({fills:,} fill reports during the market-event stream, {day_fills:,} during the demo day)")


if __name__ == "__main__":
    main()
