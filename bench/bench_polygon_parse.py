"""Messages per second the Polygon live client parses and publishes, against msgspec's raw decode.

Frames are built from the official stocks examples (``shared/data/polygon/ws``): ``Q`` and ``T``
messages with all their fields, prices walking around the example's, 20 tickers, batched 1, 10,
100 and 1,000 per frame as Polygon batches them. For each batch size the table gives messages
per second of:

- ``raw decode``: ``msgspec.json.decode(frame)`` into dicts (the reference the ratio is taken to);
- ``typed decode``: ``decode_frame`` into the tagged message structs;
- ``parse -> ticks``: ``FrameParser.parse`` into QuoteTicks and TradeTicks;
- ``parse -> ticks+L1``: the same plus the L1 book's OrderBookDeltas for every quote;
- ``client publish``: ``PolygonDataClient`` handling the frame as it does off the socket
  (parse, then every object through the MessageBus into a DataEngine that publishes it to a
  subscriber), ticks and the L1 book.

The issue's goal: at least 1M messages/s parsing into Nautilus objects in batch.

    .venv/bin/python bench/bench_polygon_parse.py [--messages 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nautilus_trader.cache.cache import Cache  # noqa: E402
from nautilus_trader.common.component import LiveClock, MessageBus  # noqa: E402
from nautilus_trader.config import InstrumentProviderConfig  # noqa: E402
from nautilus_trader.data.engine import DataEngine  # noqa: E402
from nautilus_trader.model.identifiers import InstrumentId, TraderId  # noqa: E402

from adapters.polygon.config import PolygonDataClientConfig  # noqa: E402
from adapters.polygon.credentials import ApiKey  # noqa: E402
from adapters.polygon.data import PolygonDataClient  # noqa: E402
from adapters.polygon.messages import decode_frame  # noqa: E402
from adapters.polygon.parsing import FrameParser  # noqa: E402
from adapters.polygon.providers import PolygonInstrumentProvider  # noqa: E402
from adapters.taq.providers import MasterRecord, make_equity  # noqa: E402

SHARED = Path(os.environ.get("HFTMM_SHARED_DIR", ROOT.parent / "shared"))
TICKERS = [f"S{i:02d}" for i in range(20)]


def build_frames(n_messages: int, batch: int) -> list[bytes]:
    """Frames of ``batch`` messages, 80 % quotes and 20 % trades, from the spec's example objects."""
    examples = json.loads((SHARED / "data/polygon/ws/massive_spec_examples_stocks.json").read_text())
    q0, t0 = examples["/stocks/Q"], dict(examples["/stocks/T"], x=10)
    rng = random.Random(7)
    mids = {s: 100.0 + 10 * i for i, s in enumerate(TICKERS)}
    msgs = []
    t = q0["t"]
    for k in range(n_messages):
        sym = rng.choice(TICKERS)
        mids[sym] = round(mids[sym] + rng.choice((-0.01, 0.0, 0.0, 0.01)), 2)
        t += rng.randint(0, 2)
        if rng.random() < 0.8:
            msgs.append(dict(q0, sym=sym, bp=round(mids[sym] - 0.01, 2), ap=round(mids[sym] + 0.01, 2),
                             bs=rng.randint(1, 9), **{"as": rng.randint(1, 9)}, t=t, q=k))
        else:
            msgs.append(dict(t0, sym=sym, p=round(mids[sym] + rng.choice((-0.01, 0.01)), 2), s=rng.randint(1, 5) * 100,
                             i=str(k), t=t, q=k))
    return [msgspec.json.encode(msgs[i:i + batch]) for i in range(0, len(msgs), batch)]


def rate(fn: Callable[[bytes], object], frames: list[bytes], messages: int, repeat: int = 3) -> float:
    """Best messages per second over ``repeat`` passes (gc off while timing)."""
    best = 0.0
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            for f in frames:
                fn(f)
            best = max(best, messages / (time.perf_counter() - t0))
        finally:
            gc.enable()
    return best


def parser(book: bool) -> FrameParser:
    p = FrameParser(quote_size_unit=100)
    for s in TICKERS:
        r = p.route(s, InstrumentId.from_str(f"{s}.XNAS"))
        r.quotes = r.trades = True
        r.book = book
    return p


def client() -> tuple[PolygonDataClient, list[int]]:
    """A data client wired to a real DataEngine and MessageBus, one subscriber counting objects."""
    loop = asyncio.new_event_loop()
    clock = LiveClock()
    msgbus = MessageBus(TraderId("BENCH-001"), clock)
    cache = Cache()
    engine = DataEngine(msgbus, cache, clock)
    for s in TICKERS:
        cache.add_instrument(make_equity(MasterRecord(s, "Q", "C", 100, "0.01", "", ""), 0))
    provider = PolygonInstrumentProvider(catalog_path=".", config=InstrumentProviderConfig())
    c = PolygonDataClient(loop, msgbus, cache, clock, provider, ApiKey("bench"), PolygonDataClientConfig())
    engine.register_client(c)
    engine.start()
    count = [0]

    def seen(_: object) -> None:
        count[0] += 1

    for topic in ("data.quotes.*", "data.trades.*", "data.book.deltas.*"):
        msgbus.subscribe(topic=topic, handler=seen)
    for s in TICKERS:
        r = c._parser.route(s, InstrumentId.from_str(f"{s}.XNAS"))
        r.quotes = r.trades = r.book = True
    return c, count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=200_000)
    args = ap.parse_args()
    n = args.messages
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{n:,} messages (80 % Q, 20 % T, 20 tickers), best of 3 passes")
    print(f"{'batch':>6}{'raw decode':>13}{'typed decode':>14}{'parse->ticks':>14}{'ratio':>7}"
          f"{'ticks+L1':>11}{'client publish':>16}{'ratio':>7}   (messages/s)")
    for batch in (1, 10, 100, 1000):
        frames = build_frames(n, batch)
        raw = rate(msgspec.json.decode, frames, n)
        typed = rate(decode_frame, frames, n)
        p = parser(book=False)
        ticks = rate(lambda f: p.parse(f, 0), frames, n)
        pb = parser(book=True)
        with_book = rate(lambda f: pb.parse(f, 0), frames, n)
        c, count = client()
        published = rate(c._on_frame, frames, n)
        assert count[0] > n, "the subscriber saw nothing: the client did not publish"
        print(f"{batch:>6}{raw:>13,.0f}{typed:>14,.0f}{ticks:>14,.0f}{ticks / raw:>7.2f}"
              f"{with_book:>11,.0f}{published:>16,.0f}{published / raw:>7.2f}")


if __name__ == "__main__":
    main()
