"""A Nautilus live data engine with the Polygon data client, for tests against the local feed server.

No TradingNode: a ``LiveDataEngine`` on a ``MessageBus``, the client registered with it, and the
subscriptions sent as the real ``Subscribe*`` commands through the engine, so the client is driven
exactly as a strategy would drive it. Everything the engine publishes is recorded per topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.common.data_topics import TopicCache
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.data.messages import SubscribeOrderBook, SubscribeQuoteTicks, SubscribeTradeTicks
from nautilus_trader.live.data_engine import LiveDataEngine
from nautilus_trader.model.data import DataType, OrderBookDelta
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId, TraderId

from adapters.polygon.config import PolygonDataClientConfig
from adapters.polygon.constants import POLYGON_CLIENT_ID
from adapters.polygon.credentials import ApiKey
from adapters.polygon.data import PolygonDataClient
from adapters.polygon.providers import PolygonInstrumentProvider
from adapters.polygon.types import FeedGap

KEY = "test-key-123"


@dataclass
class Harness:
    engine: LiveDataEngine
    client: PolygonDataClient
    clock: LiveClock
    received: list = field(default_factory=list)  # quotes and trades in arrival order
    deltas: list = field(default_factory=list)
    gaps: list = field(default_factory=list)

    def subscribe(self, iid: InstrumentId, quotes: bool = True, trades: bool = True, book: bool = False) -> None:
        ts = self.clock.timestamp_ns()
        if quotes:
            self.engine.execute(SubscribeQuoteTicks(iid, POLYGON_CLIENT_ID, None, UUID4(), ts))
        if trades:
            self.engine.execute(SubscribeTradeTicks(iid, POLYGON_CLIENT_ID, None, UUID4(), ts))
        if book:
            self.engine.execute(
                SubscribeOrderBook(iid, OrderBookDelta, BookType.L2_MBP, POLYGON_CLIENT_ID, None, UUID4(), ts),
            )

    async def stop(self) -> None:
        self.engine.disconnect()
        for _ in range(200):
            if not self.client.is_connected:
                break
            await asyncio.sleep(0.01)
        self.engine.stop()
        await asyncio.sleep(0.05)


async def start_harness(port: int, catalog: Path, iid: InstrumentId, key: str = KEY, **config: object) -> Harness:
    loop = asyncio.get_running_loop()
    clock = LiveClock()
    msgbus = MessageBus(TraderId("TESTER-001"), clock)
    cache = Cache()
    engine = LiveDataEngine(loop, msgbus, cache, clock)
    provider = PolygonInstrumentProvider(catalog_path=str(catalog), config=InstrumentProviderConfig(load_all=True))
    cfg = PolygonDataClientConfig(
        ws_url=f"ws://127.0.0.1:{port}", catalog_path=str(catalog), reconnect_initial_delay=0.05,
        reconnect_max_delay=0.2, auth_timeout=5.0, **config,
    )
    client = PolygonDataClient(loop, msgbus, cache, clock, provider, ApiKey(key), cfg)
    engine.register_client(client)
    h = Harness(engine, client, clock)
    topics = TopicCache()
    msgbus.subscribe(topic=topics.get_quotes_topic(iid), handler=h.received.append)
    msgbus.subscribe(topic=topics.get_trades_topic(iid), handler=h.received.append)
    msgbus.subscribe(topic=topics.get_deltas_topic(iid), handler=h.deltas.append)
    msgbus.subscribe(topic=topics.get_custom_data_topic(DataType(FeedGap), None, False), handler=h.gaps.append)
    engine.start()
    engine.connect()
    await wait_for(lambda: client.is_connected or client.feed_metrics.fatal_status is not None, 5.0)
    return h


async def wait_for(condition: Callable[[], bool], timeout: float) -> None:
    """Poll ``condition`` until true; fail the test after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the condition")
        await asyncio.sleep(0.01)
