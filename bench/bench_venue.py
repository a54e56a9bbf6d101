"""Orders per second through ``hftmm venue`` over loopback FIX, and µs per order inside the gateway.

A ``VenueServer`` (one symbol, no replayed market: the figures are the order path's) and a
``FixInitiator`` in one process and one event loop, talking FIX 4.4 over 127.0.0.1 with the profile's
NewOrderSingle: post-only limit orders at distinct prices (each gets one ExecutionReport 150=0), and
IOC orders with nothing to take (each gets two: 150=0, then 150=4 for the unfilled rest).

Rows:

- pipelined: the client sends every order, then waits for the last report: orders/s end to end
  (encode, venue decode + dictionary validation + gateway + engine + record + ER encode + store,
  client decode + validation);
- round trip: one order at a time, wait for its ack: median / p99 µs per order;
- inside the gateway: ``VenueGateway.from_app`` per NewOrderSingle (request mapping, engine, reports
  to FIX bodies, record append, ``Session.send`` of the reports): median / p99 µs.

Both processes share a core here, so the end-to-end figures are a lower bound. FIX stores write
without fsync (``store_sync`` off; with it, each report costs the disk's fsync, see bench_fix_codec).

    .venv/bin/python bench/bench_venue.py [--orders 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.fix.codec import FixMessage  # noqa: E402
from adapters.fix.session import Session  # noqa: E402
from adapters.fix.transport import FixInitiator  # noqa: E402
from hftmm.venue.config import VenueConfig  # noqa: E402
from hftmm.venue.matching_engine import SymbolSpec  # noqa: E402
from hftmm.venue.server import VenueServer  # noqa: E402
from tests.venue_app.harness import client_session, new_order  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench(orders: int, state_dir: Path) -> list[tuple[str, str, str]]:
    config = VenueConfig(catalog="-", date=dt.date(2024, 3, 11), instruments=["ACME.XNYS"], port=0,
                         participants=["HFTMM"], drop_copy_comp_id=None, state_dir=str(state_dir), store_sync=False,
                         snapshot_interval_s=3600)
    server = VenueServer(config, events=[], specs=[SymbolSpec(symbol="ACME")])
    await server.start()
    gateway_us: list[float] = []
    inner = server.gateway.from_app

    def timed(message: FixMessage, session: Session) -> None:
        t0 = time.perf_counter_ns()
        inner(message, session)
        if message.msg_type == "D":
            gateway_us.append((time.perf_counter_ns() - t0) / 1000)

    server.gateway.from_app = timed  # type: ignore[method-assign]
    session, app = client_session(server.port, store_dir=state_dir / "client")
    initiator = FixInitiator(session)
    await initiator.start()
    await session.wait_logged_on(10)
    gc.disable()
    rows: list[tuple[str, str, str]] = []

    async def wait_reports(n: int) -> None:
        while len(app.received) < n:
            await asyncio.sleep(0)

    # pipelined resting orders: one ack each
    t0 = time.perf_counter()
    for i in range(orders):
        session.send("D", new_order(f"P{i}", "1", 100, f"{10 + i * 0.01:.2f}", post_only=True))
        if i % 256 == 255:
            await asyncio.sleep(0)  # let the venue read while we write, as a real client would
    await wait_reports(orders)
    elapsed = time.perf_counter() - t0
    rows.append(("pipelined NOS -> ack (resting)", f"{orders / elapsed:,.0f} orders/s", f"{elapsed * 1e6 / orders:.1f} µs/order"))
    # pipelined IOC orders that find nothing to take: two reports each (ack, then cancel of the rest)
    base = len(app.received)
    t0 = time.perf_counter()
    for i in range(orders):
        session.send("D", new_order(f"I{i}", "2", 100, "300.00", tif="3"))
        if i % 256 == 255:
            await asyncio.sleep(0)
    await wait_reports(base + 2 * orders)
    elapsed = time.perf_counter() - t0
    rows.append(("pipelined NOS IOC -> ack + cancel", f"{orders / elapsed:,.0f} orders/s", f"{elapsed * 1e6 / orders:.1f} µs/order"))
    # round trip
    rtt: list[float] = []
    for i in range(min(orders, 2000)):
        n = len(app.received)
        t0 = time.perf_counter_ns()
        session.send("D", new_order(f"R{i}", "2", 100, f"{500 + i * 0.01:.2f}", post_only=True))
        await wait_reports(n + 1)
        rtt.append((time.perf_counter_ns() - t0) / 1000)
    rows.append(("round trip NOS -> ack", f"median {statistics.median(rtt):.0f} µs", f"p99 {_pct(rtt, 0.99):.0f} µs"))
    rows.append(("inside the gateway (from_app, D)", f"median {statistics.median(gateway_us):.1f} µs",
                 f"p99 {_pct(gateway_us, 0.99):.1f} µs"))
    gc.enable()
    await initiator.stop()
    await server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        rows = asyncio.run(bench(args.orders, Path(directory)))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or 'cpu n/a'}, "
          f"Python {platform.python_version()}; {args.orders:,} orders, client and venue in one event loop")
    print(f"{'path':<42}{'throughput / median':>24}{'per order / p99':>20}")
    for name, a, b in rows:
        print(f"{name:<42}{a:>24}{b:>20}")


if __name__ == "__main__":
    main()
