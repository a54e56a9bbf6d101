"""The FIX execution client's own cost: submit_order -> bytes written, ExecutionReport bytes -> Nautilus event.

A ``FixExecutionClient`` logged on over loopback TCP to a local acceptor that swallows orders.

- ``submit_order -> NewOrderSingle written``: ``client.submit_order(SubmitOrder)`` for a limit
  order, which maps the order, builds the D body, lets the session number, store (memory store,
  or file store without fsync), encode and write it to the socket, and emits OrderSubmitted.
  This excludes Nautilus's own hop in a live node (the LiveExecutionEngine queues the command
  before the client sees it), which tick-to-trade in a node includes.
- ``ExecutionReport bytes -> OrderFilled``: ``session.on_frame(frame)`` of a fill report
  (150=F, 274 bytes) for a working order: decode, dictionary validation, the session's checks
  and sequence bump, the client's parsing and mapping, and the ``OrderFilled`` handed to the
  message bus (an endpoint that only counts: the execution engine's own work is not timed).

Median and p99 of single calls (perf_counter_ns around each call, GC off during the timing).

    .venv/bin/python bench/bench_fix_client.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nautilus_trader.cache.cache import Cache  # noqa: E402
from nautilus_trader.common.component import LiveClock, MessageBus  # noqa: E402
from nautilus_trader.common.providers import InstrumentProvider  # noqa: E402
from nautilus_trader.core.uuid import UUID4  # noqa: E402
from nautilus_trader.execution.messages import SubmitOrder  # noqa: E402
from nautilus_trader.model.enums import OrderSide, TimeInForce  # noqa: E402
from nautilus_trader.model.events import OrderAccepted, OrderSubmitted  # noqa: E402
from nautilus_trader.model.identifiers import (  # noqa: E402
    AccountId,
    ClientId,
    ClientOrderId,
    StrategyId,
    TraderId,
    VenueOrderId,
)
from nautilus_trader.model.objects import Price, Quantity  # noqa: E402
from nautilus_trader.model.orders import LimitOrder  # noqa: E402

from adapters.fix.application import Application  # noqa: E402
from adapters.fix.client_config import FixExecClientConfig  # noqa: E402
from adapters.fix.codec import FixMessage, encode  # noqa: E402
from adapters.fix.config import SessionConfig, StoreConfig  # noqa: E402
from adapters.fix.execution import FixExecutionClient  # noqa: E402
from adapters.fix.profile import profile_dictionary_path  # noqa: E402
from adapters.fix.session import Session, utc_now  # noqa: E402
from adapters.fix.times import format_utc_timestamp  # noqa: E402
from adapters.fix.transport import FixAcceptor, build_session  # noqa: E402
from tests.backtest.synthetic_catalog import make_equity  # noqa: E402

TRADER = TraderId("HFTMM-001")
STRATEGY = StrategyId("MM-001")


class Sink(Application):
    """The venue side: takes every order, answers nothing."""

    def from_app(self, message: FixMessage, session: Session) -> None:
        return None


def limit_order(i: int, instrument_id: object) -> LimitOrder:
    return LimitOrder(
        trader_id=TRADER, strategy_id=STRATEGY, instrument_id=instrument_id,  # type: ignore[arg-type]
        client_order_id=ClientOrderId(f"O-BENCH-{i}"), order_side=OrderSide.BUY, quantity=Quantity.from_int(100),
        price=Price.from_str("49.9900"), time_in_force=TimeInForce.GTC, post_only=True, init_id=UUID4(),
        ts_init=time.time_ns(), tags=[f"md={time.time_ns()}"])


async def time_calls(fn: Callable[[int], object], calls: int) -> tuple[float, float]:
    """Median and p99 µs; the loop runs every 200 calls so the socket drains."""
    samples: list[int] = []
    for start in range(0, calls, 200):
        gc.disable()
        try:
            for i in range(start, min(start + 200, calls)):
                t0 = time.perf_counter_ns()
                fn(i)
                samples.append(time.perf_counter_ns() - t0)
        finally:
            gc.enable()
        await asyncio.sleep(0)
    samples.sort()
    return statistics.median(samples) / 1e3, samples[int(0.99 * len(samples))] / 1e3


async def bench(calls: int, store: StoreConfig) -> list[tuple[str, float, float]]:
    loop = asyncio.get_running_loop()
    clock = LiveClock()
    msgbus = MessageBus(TRADER, clock)
    events: list[object] = []
    msgbus.register(endpoint="ExecEngine.process", handler=events.append)
    cache = Cache()
    equity = make_equity("ACME", "XNYS", 0)
    cache.add_instrument(equity)

    venue = build_session(SessionConfig(sender_comp_id="HFTMMVENUE", target_comp_id="HFTMM", role="acceptor",
                                        dictionary_path=str(profile_dictionary_path()),
                                        store=StoreConfig(kind="memory")), Sink())
    acceptor = FixAcceptor([venue])
    await acceptor.start()
    config = FixExecClientConfig(session=SessionConfig(sender_comp_id="HFTMM", target_comp_id="HFTMMVENUE",
                                                       port=acceptor.port, store=store))
    client = FixExecutionClient(loop, ClientId("XNYS"), msgbus, cache, clock, InstrumentProvider(), config)
    client.attach(build_session(config.session, client.application()))
    assert client._initiator is not None and client.session is not None
    await client._initiator.start()
    await client.session.wait_logged_on(5)

    commands = [SubmitOrder(trader_id=TRADER, strategy_id=STRATEGY, order=limit_order(i, equity.id),
                            command_id=UUID4(), ts_init=0) for i in range(calls)]
    submit_row = await time_calls(lambda i: client.submit_order(commands[i]), calls)
    await asyncio.sleep(0.2)

    # A working order in the cache, then fill reports for it, numbered as the session expects.
    order = limit_order(10**9, equity.id)
    account = AccountId("XNYS-001")
    order.apply(OrderSubmitted(TRADER, STRATEGY, equity.id, order.client_order_id, account, UUID4(), 0, 0))
    order.apply(OrderAccepted(TRADER, STRATEGY, equity.id, order.client_order_id, VenueOrderId("V1"), account,
                              UUID4(), 0, 0))
    cache.add_order(order, None)
    session = client.session
    now = format_utc_timestamp(utc_now(), 6)
    frames = []
    base = session.next_target_seq
    for i in range(calls):
        frames.append(encode([
            (35, "8"), (34, str(base + i)), (49, "HFTMMVENUE"), (52, now), (56, "HFTMM"),
            (6, "49.99"), (11, order.client_order_id.value), (14, "1"), (17, f"E{i}"), (31, "49.99"), (32, "1"),
            (37, "V1"), (38, "100000"), (39, "1"), (40, "2"), (44, "49.99"), (54, "1"), (55, "ACME"), (59, "1"),
            (60, now), (150, "F"), (151, "99999"), (207, "XNYS"), (851, "1")]))
    before = len(events)
    fill_row = await time_calls(lambda i: session.on_frame(frames[i]), calls)
    assert len(events) - before == calls, f"{len(events) - before} events for {calls} fill reports"

    await client._initiator.stop()
    await acceptor.stop()
    return [(f"submit_order -> NewOrderSingle written ({store.kind} store)", *submit_row),
            (f"ExecutionReport bytes -> OrderFilled ({len(frames[0])} B)", *fill_row)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    rows = asyncio.run(bench(args.calls, StoreConfig(kind="memory")))
    with tempfile.TemporaryDirectory() as tmp:
        rows += asyncio.run(bench(args.calls, StoreConfig(kind="file", path=tmp, sync=False)))[:1]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.calls:,} calls each")
    print(f"{'operation':<56}{'median µs':>11}{'p99 µs':>9}")
    for name, med, p99 in rows:
        print(f"{name:<56}{med:>11.1f}{p99:>9.1f}")


if __name__ == "__main__":
    main()
