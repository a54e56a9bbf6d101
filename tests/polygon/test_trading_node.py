"""The factory and client inside a real TradingNode: an actor subscribes like a strategy and records what it gets."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorConfig
from nautilus_trader.config import InstrumentProviderConfig, LoggingConfig, TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.data import DataType, OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId

from adapters.polygon.config import PolygonDataClientConfig
from adapters.polygon.constants import POLYGON, POLYGON_CLIENT_ID
from adapters.polygon.factories import PolygonLiveDataClientFactory
from adapters.polygon.feed_server import PolygonFeedServer, events_from_catalog
from adapters.polygon.types import FeedGap
from tests.backtest.synthetic_catalog import build_catalog

DATE = dt.date(2024, 3, 11)
IID = InstrumentId.from_str("ACME.XNYS")
KEY = "node-key-42"


class RecorderConfig(ActorConfig, frozen=True):
    instrument_id: InstrumentId


class Recorder(Actor):
    """Subscribes as the market-making strategies do (L2 book deltas, quotes, trades) plus gaps."""

    def __init__(self, config: RecorderConfig) -> None:
        super().__init__(config)
        self.iid = config.instrument_id
        self.events: list = []
        self.gaps: list[FeedGap] = []

    def on_start(self) -> None:
        self.subscribe_order_book_deltas(self.iid, book_type=BookType.L2_MBP, managed=True)
        self.subscribe_quote_ticks(self.iid)
        self.subscribe_trade_ticks(self.iid)
        self.subscribe_data(DataType(FeedGap), client_id=POLYGON_CLIENT_ID)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.events.append(tick)

    def on_trade_tick(self, tick: TradeTick) -> None:
        self.events.append(tick)

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        self.events.append(deltas)

    def on_data(self, data: object) -> None:
        if isinstance(data, FeedGap):
            self.gaps.append(data)


def test_trading_node_with_the_polygon_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = tmp_path / "catalog"
    build_catalog(catalog, DATE, n_events=400)
    events = events_from_catalog(catalog, DATE)
    monkeypatch.setenv("MASSIVE_API_KEY", KEY)

    async def run() -> tuple[Recorder, PolygonFeedServer, TradingNode]:
        server = PolygonFeedServer(events, speed=0, api_key=KEY, pause_when_idle=True, drop_after=200, max_batch=50)
        port = await server.start()
        config = TradingNodeConfig(
            logging=LoggingConfig(log_level="ERROR"),
            data_clients={
                POLYGON: PolygonDataClientConfig(
                    ws_url=f"ws://127.0.0.1:{port}", catalog_path=str(catalog), reconnect_initial_delay=0.05,
                    instrument_provider=InstrumentProviderConfig(load_all=True),
                ),
            },
            timeout_connection=10.0,
            timeout_post_stop=0.1,  # a fixed sleep in the kernel, for late fills: none here
        )
        node = TradingNode(config=config, loop=asyncio.get_running_loop())
        node.add_data_client_factory(POLYGON, PolygonLiveDataClientFactory)
        recorder = Recorder(RecorderConfig(instrument_id=IID))
        node.trader.add_actor(recorder)
        node.build()
        task = asyncio.create_task(node.run_async())
        try:
            await asyncio.wait_for(server.finished.wait(), 60)
            deadline = asyncio.get_running_loop().time() + 10
            while sum(isinstance(e, QuoteTick | TradeTick) for e in recorder.events) < len(events):
                assert asyncio.get_running_loop().time() < deadline, "not every event reached the actor"
                await asyncio.sleep(0.02)
        finally:
            await node.stop_async()
            await asyncio.sleep(0.1)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await server.stop()
        return recorder, server, node

    recorder, server, node = asyncio.run(run())
    ticks = [e for e in recorder.events if isinstance(e, QuoteTick | TradeTick)]
    assert len(ticks) == len(events) and server.stats.drops == 1
    assert [t.ts_event for t in ticks] == sorted(t.ts_event for t in ticks)
    assert len(recorder.gaps) == 1 and recorder.gaps[0].attempts >= 1
    books = [e for e in recorder.events if isinstance(e, OrderBookDeltas)]
    assert books and books[0].is_snapshot
    node.dispose()
