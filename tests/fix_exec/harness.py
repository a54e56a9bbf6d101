"""A real TradingNode with the FIX execution client, against a local acceptor running ScriptedVenue.

``NodeHarness`` starts the acceptor (optionally behind a ``FixProxy`` that can cut the
connection), builds the node with ``FixLiveExecClientFactory`` and a ``Driver`` strategy the test
uses to send orders, runs it on the test's event loop, and tears everything down.
"""

from __future__ import annotations

import asyncio
import os
import datetime as dt
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from nautilus_trader.config import InstrumentProviderConfig, LiveExecEngineConfig, LoggingConfig, StrategyConfig, TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import OrderSide, TimeInForce
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.trading.strategy import Strategy

from adapters.fix.client_config import FixExecClientConfig
from adapters.fix.config import SessionConfig, StoreConfig, TlsConfig
from adapters.fix.execution import FixExecutionClient
from adapters.fix.factories import FixLiveExecClientFactory
from adapters.fix.profile import profile_dictionary_path
from adapters.fix.session import Session
from adapters.fix.transport import FixAcceptor, build_session
from hftmm.engine.session import et_to_utc_ns
from tests.backtest.synthetic_catalog import make_equity
from tests.fix.proxy import FixProxy
from tests.fix_exec.venue import ScriptedVenue

IID = InstrumentId.from_str("ACME.XNYS")
VENUE_ID = "HFTMMVENUE"
NODE_ID = "HFTMM"


_STOPPED: list[TradingNode] = []


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """``asyncio.run(main())``, then dispose the nodes it stopped (disposing stops the loop)."""
    try:
        asyncio.run(main())
    finally:
        while _STOPPED:
            _STOPPED.pop().dispose()


def write_catalog(path: Path) -> None:
    """A catalog holding only the ACME.XNYS equity."""
    ParquetDataCatalog(str(path)).write_data([make_equity("ACME", "XNYS", et_to_utc_ns(dt.date(2024, 3, 11), "04:00"))])


class DriverConfig(StrategyConfig, frozen=True, kw_only=True):
    instrument_id: InstrumentId


class Driver(Strategy):
    """A strategy the test drives by hand; records its order events."""

    def __init__(self, config: DriverConfig) -> None:
        super().__init__(config)
        self.events: list[OrderEvent] = []

    def on_order_event(self, event: OrderEvent) -> None:
        self.events.append(event)

    def limit(self, side: OrderSide, qty: int, price: str, post_only: bool = True, tags: list[str] | None = None) -> LimitOrder:
        order = self.order_factory.limit(instrument_id=self.config.instrument_id, order_side=side,
                                         quantity=Quantity.from_int(qty), price=Price.from_str(price),
                                         time_in_force=TimeInForce.GTC, post_only=post_only, tags=tags)
        self.submit_order(order)
        return order

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def venue_session(store: StoreConfig, venue: ScriptedVenue, heartbeat: int = 5) -> Session:
    return build_session(
        SessionConfig(sender_comp_id=VENUE_ID, target_comp_id=NODE_ID, role="acceptor", heartbeat_interval=heartbeat,
                      dictionary_path=str(profile_dictionary_path()), store=store),
        venue)


class NodeHarness:
    """The venue (acceptor + ScriptedVenue) and a TradingNode with the FIX client.

    Parameters
    ----------
    tmp : Path
        Catalog and stores go here.
    venue : ScriptedVenue, optional
        Reuse a venue (its orders) across harnesses.
    proxy : bool
        Route the client through a FixProxy (``drop`` rule, ``cut()``).
    client_store : StoreConfig, optional
        The client's store (default: a file store under ``tmp``).
    tls : tuple of (TlsConfig, TlsConfig), optional
        Acceptor and initiator TLS.
    """

    def __init__(self, tmp: Path, venue: ScriptedVenue | None = None, *, proxy: bool = False,
                 client_store: StoreConfig | None = None, venue_store: StoreConfig | None = None,
                 tls: tuple[TlsConfig, TlsConfig] | None = None,
                 drop: Callable[[str, Any], bool] | None = None, claim: bool = False,
                 data_clients: dict[str, Any] | None = None, data_factories: dict[str, Any] | None = None,
                 strategies: list[Strategy] | None = None) -> None:
        self.tmp = tmp
        self.catalog = tmp / "catalog"
        if not self.catalog.exists():
            write_catalog(self.catalog)
        self.venue = venue or ScriptedVenue({"ACME"})
        self.venue_store = venue_store or StoreConfig(kind="file", path=str(tmp / "venue-store"), sync=False)
        self.client_store = client_store or StoreConfig(kind="file", path=str(tmp / "client-store"), sync=False)
        self.use_proxy = proxy
        self.tls = tls
        self.drop = drop
        self.claim = claim
        self.data_clients = data_clients or {}
        self.data_factories = data_factories or {}
        self.strategies = strategies or []
        self.acceptor: FixAcceptor | None = None
        self.proxy: FixProxy | None = None
        self.node: TradingNode | None = None
        self.driver: Driver | None = None
        self._task: asyncio.Task[None] | None = None
        self.venue_session: Session | None = None

    @property
    def client(self) -> FixExecutionClient:
        assert self.node is not None
        client = self.node.kernel.exec_engine._clients[next(iter(self.node.kernel.exec_engine._clients))]
        assert isinstance(client, FixExecutionClient)
        return client

    async def start_venue(self) -> None:
        self.venue_session = venue_session(self.venue_store, self.venue)
        self.acceptor = FixAcceptor([self.venue_session], "127.0.0.1", 0, tls=self.tls[0] if self.tls else None)
        await self.acceptor.start()

    async def start(self) -> None:
        if self.acceptor is None:
            await self.start_venue()
        assert self.acceptor is not None
        port = self.acceptor.port
        if self.use_proxy:
            self.proxy = FixProxy(port, self.drop)
            await self.proxy.start()
            port = self.proxy.port
        session = SessionConfig(sender_comp_id=NODE_ID, target_comp_id=VENUE_ID, port=port, heartbeat_interval=5,
                                reconnect_interval_s=0.1, store=self.client_store,
                                tls=self.tls[1] if self.tls else None)
        config = TradingNodeConfig(
            trader_id="HFTMM-001",
            logging=LoggingConfig(log_level=os.environ.get("HFTMM_TEST_LOG", "ERROR")),
            exec_engine=LiveExecEngineConfig(reconciliation=True, reconciliation_lookback_mins=1440,  # as a live node
                                             inflight_check_interval_ms=0),
            data_clients=self.data_clients,
            exec_clients={"XNYS": FixExecClientConfig(
                session=session, catalog_path=str(self.catalog), request_timeout_s=5.0, logon_timeout_s=10.0,
                instrument_provider=InstrumentProviderConfig(load_all=True))},
            timeout_connection=15.0,
            timeout_reconciliation=10.0,
            timeout_post_stop=0.1,
        )
        self.node = TradingNode(config=config, loop=asyncio.get_running_loop())
        self.node.add_exec_client_factory("XNYS", FixLiveExecClientFactory)
        self.driver = Driver(DriverConfig(instrument_id=IID, external_order_claims=[IID] if self.claim else None))
        self.node.trader.add_strategy(self.driver)
        for name, factory in self.data_factories.items():
            self.node.add_data_client_factory(name, factory)
        for strategy in self.strategies:
            self.node.trader.add_strategy(strategy)
        self.node.build()
        self._task = asyncio.create_task(self.node.run_async())
        await self.until(lambda: self.driver is not None and self.driver.is_running, 20, "the node did not start")

    async def until(self, condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.01)

    async def stop_node(self) -> None:
        if self.node is not None:
            await self.node.stop_async()
            await asyncio.sleep(0.05)
            if self._task is not None:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
            _STOPPED.append(self.node)  # dispose() stops the loop: done by run() after it
            self.node = None

    async def stop(self) -> None:
        await self.stop_node()
        if self.proxy is not None:
            await self.proxy.stop()
        if self.acceptor is not None:
            await self.acceptor.stop()
