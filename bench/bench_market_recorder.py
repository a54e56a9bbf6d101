"""Cost of recording a live node's market data on its event loop.

Compares hftmm's recorder (``hftmm/eventlog/market_data.py``: append each object to a list, then
serialize one batch per type and instrument once a second) with Nautilus's own stream writer
(``StreamingConfig`` include_types: serialize and write each object as it is published), on
QuoteTicks, TradeTicks and L1 OrderBookDeltas like the Polygon client's.

    .venv/bin/python bench/bench_market_recorder.py [--n 20000] [--repeat 3]

Prints microseconds per object: on the event loop per object (the handler), the batched flush
amortised per object, and Nautilus's per-object write.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _objects(n: int) -> tuple[list, list, list, object]:
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.data import BookOrder, OrderBookDelta, OrderBookDeltas, QuoteTick, TradeTick
    from nautilus_trader.model.enums import AggressorSide, BookAction, OrderSide, RecordFlag
    from nautilus_trader.model.identifiers import InstrumentId, Symbol, TradeId, Venue
    from nautilus_trader.model.instruments import Equity
    from nautilus_trader.model.objects import Price, Quantity

    iid = InstrumentId(Symbol("ACME"), Venue("XNYS"))
    inst = Equity(instrument_id=iid, raw_symbol=Symbol("ACME"), currency=USD, price_precision=4,
                  price_increment=Price.from_str("0.0001"), lot_size=Quantity.from_int(100), ts_event=0, ts_init=0)
    quotes, trades, deltas = [], [], []
    for k in range(n):
        bid = Price(50 + (k % 7) * 0.01, 4)
        ask = Price(50.02 + (k % 7) * 0.01, 4)
        quotes.append(QuoteTick(iid, bid, ask, Quantity.from_int(300), Quantity.from_int(400), k, k))
        trades.append(TradeTick(iid, bid, Quantity.from_int(100), AggressorSide.SELLER, TradeId(str(k)), k, k))
        d = [OrderBookDelta(iid, BookAction.UPDATE, BookOrder(OrderSide.BUY, bid, Quantity.from_int(300), 0), 0, k, k, k),
             OrderBookDelta(iid, BookAction.UPDATE, BookOrder(OrderSide.SELL, ask, Quantity.from_int(400), 0),
                            RecordFlag.F_LAST, k, k, k)]
        deltas.append(OrderBookDeltas(iid, d))
    return quotes, trades, deltas, inst


def bench_recorder(objs: tuple[list, list, list, object], out: Path) -> tuple[float, float]:
    from hftmm.eventlog.market_data import MarketDataRecorder, MarketDataRecorderConfig

    quotes, trades, deltas, _ = objs
    rec = MarketDataRecorder(MarketDataRecorderConfig(path=str(out), instruments=["ACME.XNYS"]))
    n = len(quotes) * 3
    t0 = time.perf_counter()
    for q, t, d in zip(quotes, trades, deltas, strict=True):
        rec._on_quote(q)
        rec._on_trade(t)
        rec._on_deltas(d)
    handler = time.perf_counter() - t0
    t0 = time.perf_counter()
    rec.flush()
    flush = time.perf_counter() - t0
    for stream in rec._streams.values():
        stream.close()
    return handler / n * 1e6, flush / n * 1e6


def bench_nautilus(objs: tuple[list, list, list, object], out: Path) -> float:
    from nautilus_trader.cache.cache import Cache
    from nautilus_trader.common.component import LiveClock
    from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas, QuoteTick, TradeTick
    from nautilus_trader.persistence.writer import StreamingFeatherWriter

    quotes, trades, deltas, inst = objs
    cache = Cache()
    cache.add_instrument(inst)
    writer = StreamingFeatherWriter(path=str(out), cache=cache, clock=LiveClock(), fs_protocol="file",
                                    include_types=[QuoteTick, TradeTick, OrderBookDelta, OrderBookDeltas])
    n = len(quotes) * 3
    t0 = time.perf_counter()
    for q, t, d in zip(quotes, trades, deltas, strict=True):
        writer.write(q)
        writer.write(t)
        writer.write(d)
    elapsed = time.perf_counter() - t0
    writer.close()
    return elapsed / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="objects of each type")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    objs = _objects(args.n)
    handler, flush, nautilus = [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            h, f = bench_recorder(objs, Path(tmp) / "rec")
            handler.append(h)
            flush.append(f)
            nautilus.append(bench_nautilus(objs, Path(tmp) / "nautilus"))
    print(json.dumps({
        "objects": args.n * 3,
        "recorder_handler_us_per_object": round(statistics.median(handler), 3),
        "recorder_flush_us_per_object": round(statistics.median(flush), 3),
        "nautilus_stream_writer_us_per_object": round(statistics.median(nautilus), 2),
    }, indent=2))


if __name__ == "__main__":
    main()
