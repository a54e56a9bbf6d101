"""``PolygonLiveDataClientFactory``: builds the data client for a ``TradingNode``."""

from __future__ import annotations

import asyncio

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.live.factories import LiveDataClientFactory

from adapters.polygon.config import PolygonDataClientConfig
from adapters.polygon.credentials import load_api_key
from adapters.polygon.data import PolygonDataClient
from adapters.polygon.providers import PolygonInstrumentProvider
from adapters.polygon.rest import PolygonRestClient


class PolygonLiveDataClientFactory(LiveDataClientFactory):
    """Factory of ``PolygonDataClient`` (register it as ``node.add_data_client_factory("POLYGON", ...)``)."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: PolygonDataClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> PolygonDataClient:
        """A new data client; the API key is read from the environment here, never from the config.

        Raises
        ------
        PolygonAuthError
            No key in the environment.
        """
        api_key = load_api_key()
        provider = PolygonInstrumentProvider(
            client=None if config.catalog_path else PolygonRestClient(api_key, config.rest_url),
            catalog_path=config.catalog_path,
            config=config.instrument_provider,
        )
        return PolygonDataClient(
            loop=loop,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=provider,
            api_key=api_key,
            config=config,
            name=name,
        )
