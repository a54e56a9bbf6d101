"""``FixLiveExecClientFactory``: builds the FIX execution client (and its session) for a ``TradingNode``."""

from __future__ import annotations

import asyncio

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.live.factories import LiveExecClientFactory
from nautilus_trader.model.identifiers import ClientId

from adapters.fix.client_config import FixExecClientConfig
from adapters.fix.dictionary import DataDictionary
from adapters.fix.execution import FixExecutionClient
from adapters.fix.profile import profile_dictionary_path
from adapters.fix.transport import build_session
from adapters.polygon.providers import PolygonInstrumentProvider


class FixLiveExecClientFactory(LiveExecClientFactory):
    """Factory of ``FixExecutionClient``: register it with
    ``node.add_exec_client_factory(<venue MIC>, FixLiveExecClientFactory)`` and put a
    ``FixExecClientConfig`` under the same key in ``TradingNodeConfig.exec_clients``."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: FixExecClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> FixExecutionClient:
        """A new client with its initiator session (store, dictionary and TLS from ``config.session``).

        Instruments come from ``config.catalog_path`` (a ParquetDataCatalog) through the same
        provider as the Polygon data client.
        """
        if config.session.role != "initiator":
            raise ValueError("FixExecClientConfig.session must be an initiator session")
        if config.catalog_path is None:
            raise ValueError("FixExecClientConfig.catalog_path is required: the instruments come from the catalog")
        provider = PolygonInstrumentProvider(catalog_path=config.catalog_path, config=config.instrument_provider)
        client = FixExecutionClient(loop=loop, client_id=ClientId(name), msgbus=msgbus, cache=cache, clock=clock,
                                    instrument_provider=provider, config=config)
        # The session speaks hftmm's profile: FencingEpoch on orders, LastLiquidityInd on AE.
        dictionary = DataDictionary(config.session.dictionary_path or profile_dictionary_path())
        client.attach(build_session(config.session, client.application(), dictionary=dictionary))
        return client
