"""A live node end to end: Polygon feed -> GLFT quoting (strategies/base.py) -> FIX client -> venue,
with tick-to-trade measured on every NewOrderSingle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from nautilus_trader.config import InstrumentProviderConfig

from adapters.polygon.config import PolygonDataClientConfig
from adapters.polygon.constants import POLYGON
from adapters.polygon.factories import PolygonLiveDataClientFactory
from adapters.polygon.feed_server import PolygonFeedServer, events_from_catalog
from strategies.glft import GlftConfig, GlftMarketMaker
from tests.backtest.synthetic_catalog import build_catalog
from tests.fix_exec.harness import IID, NodeHarness, run

DATE = dt.date(2024, 3, 11)
KEY = "node-key-42"


def test_quotes_from_market_data_reach_the_venue_with_tick_to_trade(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = tmp_path / "catalog"
    build_catalog(catalog, DATE, n_events=300)
    events = events_from_catalog(catalog, DATE)
    monkeypatch.setenv("MASSIVE_API_KEY", KEY)

    async def main() -> None:
        server = PolygonFeedServer(events, speed=0, api_key=KEY, pause_when_idle=True)
        port = await server.start()
        strategy = GlftMarketMaker(GlftConfig(instrument_id=IID, gamma=0.05, k=150.0, a=0.2, sigma=0.005,
                                              max_position=300, horizon="infinite"))
        h = NodeHarness(
            tmp_path, strategies=[strategy], data_factories={POLYGON: PolygonLiveDataClientFactory},
            data_clients={POLYGON: PolygonDataClientConfig(
                ws_url=f"ws://127.0.0.1:{port}", catalog_path=str(catalog),
                instrument_provider=InstrumentProviderConfig(load_all=True))})
        await h.start()
        try:
            await h.until(lambda: server.finished.is_set(), 60, "the feed to finish")
            await h.until(lambda: any(m.msg_type == "D" for m in h.venue.received), 10, "a quote at the venue")
            await h.until(lambda: h.client.tick_to_trade.count
                          == sum(m.msg_type == "D" for m in h.venue.received), 5, "every order measured")
            samples = list(h.client.tick_to_trade.samples)
            assert samples and all(0 < s < 10_000_000_000 for s in samples)
            assert h.client.tick_to_trade.percentiles()[50.0] > 0
            assert all(m[18] == "6" for m in h.venue.received if m.msg_type == "D")  # post-only quotes
        finally:
            await h.stop()
            await server.stop()

    run(main)
