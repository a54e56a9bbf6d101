"""``PolygonDataClient``: Polygon's stocks WebSocket as a NautilusTrader live market-data client.

One connection carries every subscription (Polygon allows one per key and cluster). Subscribing
to quote ticks or order-book deltas of ``AAPL.XNAS`` subscribes the wire channel ``Q.AAPL``; trade
ticks subscribe ``T.AAPL``. Frames are parsed in batch by ``FrameParser`` and every object is
handed to the DataEngine in frame order.

When the connection drops (network failure, a ``slow_consumer``/``force_disconnect`` status, the
server closing), the client reconnects with exponential backoff, authenticates, resubscribes every
channel, restarts the L1 books with a snapshot and publishes a ``FeedGap`` before any data of the
new session, so the strategy knows that events may be missing; ``metrics()`` counts it too.
``auth_failed`` and ``max_connections`` end the session for good (a retry would be refused, or
would kick the session that replaced us) with an error in the log.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.data.messages import (
    SubscribeData,
    SubscribeInstrument,
    SubscribeInstruments,
    SubscribeInstrumentStatus,
    SubscribeOrderBook,
    SubscribeQuoteTicks,
    SubscribeTradeTicks,
    UnsubscribeData,
    UnsubscribeInstrument,
    UnsubscribeInstruments,
    UnsubscribeInstrumentStatus,
    UnsubscribeOrderBook,
    UnsubscribeQuoteTicks,
    UnsubscribeTradeTicks,
)
from nautilus_trader.live.data_client import LiveMarketDataClient
from nautilus_trader.model.data import CustomData, DataType
from nautilus_trader.model.identifiers import ClientId, InstrumentId
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from adapters.polygon.config import PolygonDataClientConfig
from adapters.polygon.constants import DISCONNECT_STATUSES, FATAL_STATUSES, POLYGON, QUOTES_CHANNEL, TRADES_CHANNEL
from adapters.polygon.credentials import ApiKey
from adapters.polygon.errors import PolygonAuthError, PolygonStatusError
from adapters.polygon.messages import Problem, Status
from adapters.polygon.parsing import FrameParser, SymbolRoute
from adapters.polygon.providers import PolygonInstrumentProvider
from adapters.polygon.reference import ConditionTable
from adapters.polygon.types import FeedGap
from adapters.taq.providers import PRICE_PRECISION
from hftmm.metrics.registry import NodeMetrics

# The ``source`` label of this client's reconnect and gap series in the node's metrics.
METRICS_SOURCE = "polygon"
_PROBLEMS_LOGGED = 100  # then one in 1,000: a broken feed must not flood the log


@dataclass
class FeedMetrics:
    """Connection counters of the data client (``metrics()`` adds the parser's)."""

    connects: int = 0
    reconnects: int = 0
    failed_attempts: int = 0
    gaps: int = 0
    gap_ns_total: int = 0
    last_gap: dict[str, Any] | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    fatal_status: str | None = None


class PolygonDataClient(LiveMarketDataClient):
    """Live quotes, trades and the L1 book from Polygon's (or the local feed server's) stocks WebSocket.

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The event loop.
    msgbus : MessageBus
        The message bus.
    cache : Cache
        The cache (instruments must be in it before subscribing; the provider puts them there).
    clock : LiveClock
        The clock (``ts_init`` of every object is the frame's receive time).
    instrument_provider : PolygonInstrumentProvider
        Instruments from a catalog or the ticker reference.
    api_key : ApiKey
        The key sent in the ``auth`` action (never logged).
    config : PolygonDataClientConfig
        The configuration.
    name : str, optional
        The client id (default ``POLYGON``).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: PolygonInstrumentProvider,
        api_key: ApiKey,
        config: PolygonDataClientConfig,
        name: str | None = None,
    ) -> None:
        super().__init__(
            loop=loop,
            client_id=ClientId(name or POLYGON),
            venue=None,  # every US equity venue: the SIP feed is consolidated
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=instrument_provider,
            config=config,
        )
        self._config = config
        self._api_key = api_key
        conditions = None
        if config.conditions_file:
            records = msgspec.json.decode(Path(config.conditions_file).read_bytes())
            conditions = ConditionTable(records.get("results", records) if isinstance(records, dict) else records)
        self._parser = FrameParser(config.quote_size_unit, conditions, on_problem=self._on_problem)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._stopping = False
        self._channels: set[str] = set()
        self._last_event_ns = 0
        self._disconnect_reason = ""
        self.feed_metrics = FeedMetrics()

    # -- metrics -------------------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        """Connection and parsing counters (reconnects and gaps included)."""
        return {**asdict(self.feed_metrics), "parser": asdict(self._parser.stats), "channels": sorted(self._channels)}

    # -- connection ----------------------------------------------------------------------------

    async def _connect(self) -> None:
        self._stopping = False
        await self._instrument_provider.initialize()
        for instrument in self._instrument_provider.list_all():
            self._handle_data(instrument)
        self._ws = await self._open_session()
        self.feed_metrics.connects += 1
        metrics = NodeMetrics.current()
        if metrics is not None:
            # Series at zero from the start: an alert on increase() must see the first gap.
            for counter in (metrics.reconnects, metrics.feed_gaps, metrics.feed_gap_seconds):
                counter.labels(METRICS_SOURCE)
        if self._channels:
            await self._send("subscribe", sorted(self._channels))
        self._reader = self.create_task(self._read_forever(), log_msg="polygon-ws-reader")
        self._log.info(f"Connected to {self._config.ws_url}")

    async def _disconnect(self) -> None:
        self._stopping = True
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        self._log.info(f"Disconnected; {msgspec.json.encode(self.metrics()).decode()}")

    async def _open_session(self) -> ClientConnection:
        """Connect and authenticate.

        Raises ``PolygonAuthError`` (``auth_failed``/``auth_timeout`` answered) or ``PolygonStatusError``
        (``max_connections``) on a refusal, ``TimeoutError`` when no answer comes in ``auth_timeout``.
        """
        ws = await connect(self._config.ws_url, max_size=None, open_timeout=self._config.auth_timeout)
        try:
            await ws.send(msgspec.json.encode({"action": "auth", "params": self._api_key.reveal()}))
            async with asyncio.timeout(self._config.auth_timeout):
                while True:
                    parsed = self._parser.parse(await ws.recv(), self._clock.timestamp_ns())
                    for status in parsed.statuses:
                        self._count_status(status)
                        if status.status == "auth_success":
                            return ws
                        if status.status in ("auth_failed", "auth_timeout"):
                            self.feed_metrics.fatal_status = status.status
                            raise PolygonAuthError(f"Polygon refused the API key: {status.status}: {status.message}")
                        if status.status in FATAL_STATUSES:
                            self.feed_metrics.fatal_status = status.status
                            raise PolygonStatusError(status.status, status.message)
        except TimeoutError:
            await ws.close()
            # Silence is not a refusal: a reconnection retries it (only an explicit answer is final).
            raise TimeoutError(f"no auth answer from {self._config.ws_url} in {self._config.auth_timeout} s") from None
        except BaseException:
            await ws.close()
            raise

    async def _send(self, action: str, channels: list[str]) -> None:
        if self._ws is None or not channels:
            return  # not connected: the (re)connection subscribes every channel
        try:
            await self._ws.send(msgspec.json.encode({"action": action, "params": ",".join(channels)}))
        except ConnectionClosed:
            pass  # the reader sees the drop and resubscribes after reconnecting

    async def _read_forever(self) -> None:
        while not self._stopping:
            ws = self._ws
            assert ws is not None
            self._disconnect_reason = ""
            try:
                async for frame in ws:
                    self._on_frame(frame)
                reason = f"closed by the server (code {ws.close_code}{' ' + ws.close_reason if ws.close_reason else ''})"
            except ConnectionClosed as e:
                reason = f"connection lost ({e})"
            except PolygonStatusError as e:
                self.feed_metrics.fatal_status = e.status
                self._log.error(f"{e}; not reconnecting (another session may be using this key)")
                await ws.close()
                self._ws = None
                self._set_connected(False)
                return
            if self._stopping:
                return
            if self._disconnect_reason:
                reason = f"{self._disconnect_reason}; {reason}"
            disconnected = self._clock.timestamp_ns()
            self._ws = None
            self._log.warning(f"Polygon WebSocket {reason}: reconnecting")
            if not await self._reconnect(disconnected, reason):
                self._set_connected(False)  # the feed is gone for good: say so to the engine
                return

    async def _reconnect(self, disconnected: int, reason: str) -> bool:
        delay = self._config.reconnect_initial_delay
        attempts = 0
        while not self._stopping:
            attempts += 1
            try:
                ws = await self._open_session()
            except (PolygonAuthError, PolygonStatusError) as e:
                self._log.error(f"Reconnection refused: {e}; giving up")
                return False
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidURI, TimeoutError) as e:
                self.feed_metrics.failed_attempts += 1
                limit = self._config.max_reconnect_attempts
                if limit is not None and attempts >= limit:
                    self._log.error(f"Reconnection failed {attempts} times ({e}); giving up")
                    return False
                self._log.warning(f"Reconnection attempt {attempts} failed ({type(e).__name__}: {e}); retry in {delay:.2f} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._config.reconnect_max_delay)
                continue
            self._ws = ws
            channels = sorted(self._channels)
            await self._send("subscribe", channels)
            # Before any data of the new session: books restart from a snapshot, the gap is published.
            self._parser.reset_books()
            now = self._clock.timestamp_ns()
            gap = FeedGap(disconnected, self._last_event_ns, reason, attempts, tuple(channels), now, now)
            m = self.feed_metrics
            m.reconnects += 1
            m.gaps += 1
            m.gap_ns_total += gap.duration_ns
            metrics = NodeMetrics.current()
            if metrics is not None:
                metrics.reconnects.labels(METRICS_SOURCE).inc()
                metrics.feed_gaps.labels(METRICS_SOURCE).inc()
                metrics.feed_gap_seconds.labels(METRICS_SOURCE).inc(gap.duration_ns / 1e9)
            m.last_gap = {"disconnected_ns": disconnected, "reconnected_ns": now, "last_event_ns": self._last_event_ns,
                          "attempts": attempts, "reason": reason}
            self._handle_data(CustomData(DataType(FeedGap), gap))
            self._log.warning(f"Reconnected after {gap.duration_ns / 1e9:.3f} s and {attempts} attempt(s); "
                              f"resubscribed {len(channels)} channel(s); events may be missing: {gap!r}")
            return True
        return False

    # -- frames --------------------------------------------------------------------------------

    def _on_frame(self, frame: str | bytes) -> None:
        parsed = self._parser.parse(frame, self._clock.timestamp_ns())
        handle = self._handle_data
        for obj in parsed.data:
            handle(obj)
        if parsed.data:
            self._last_event_ns = parsed.data[-1].ts_event
        for status in parsed.statuses:
            self._on_status(status)

    def _count_status(self, status: Status) -> None:
        counts = self.feed_metrics.statuses
        counts[status.status] = counts.get(status.status, 0) + 1

    def _on_status(self, status: Status) -> None:
        self._count_status(status)
        if status.status == "success":
            self._log.info(f"Polygon: {status.message}")
        elif status.status in FATAL_STATUSES:
            raise PolygonStatusError(status.status, status.message)
        elif status.status in DISCONNECT_STATUSES:
            # The server closes the connection next; the reader reconnects and reports the gap.
            self._disconnect_reason = f"status {status.status}: {status.message}"
            self._log.error(f"Polygon status {status.status}: {status.message}")
        elif status.status in ("error", "auth_required"):
            self._log.error(f"Polygon status {status.status}: {status.message}")
        else:
            self._log.info(f"Polygon status {status.status}: {status.message}")

    def _on_problem(self, problem: Problem) -> None:
        stats = self._parser.stats
        n = stats.malformed + stats.unknown
        if n <= _PROBLEMS_LOGGED or n % 1000 == 0:
            where = "frame" if problem.index is None else f"message {problem.index}"
            self._log.warning(f"Polygon {problem.kind} {where} (ev={problem.event}): {problem.reason} [{n} so far]")

    # -- subscriptions ---------------------------------------------------------------------------

    def _route(self, instrument_id: InstrumentId, book: bool = False) -> SymbolRoute | None:
        instrument = self._cache.instrument(instrument_id)
        if instrument is None:
            self._log.error(f"Cannot subscribe to {instrument_id}: instrument not in the cache (load it through the provider)")
            return None
        if book and instrument.price_precision != PRICE_PRECISION:
            self._log.error(f"Cannot build a book for {instrument_id}: price precision {instrument.price_precision}, need {PRICE_PRECISION}")
            return None
        return self._parser.route(instrument_id.symbol.value, instrument_id, instrument.price_precision)

    def _needed(self, route: SymbolRoute, ticker: str) -> set[str]:
        out = set()
        if route.quotes or route.book:
            out.add(f"{QUOTES_CHANNEL}.{ticker}")
        if route.trades:
            out.add(f"{TRADES_CHANNEL}.{ticker}")
        return out

    async def _update(self, instrument_id: InstrumentId, what: str, on: bool) -> None:
        ticker = instrument_id.symbol.value
        route = self._route(instrument_id, book=(what == "book" and on)) if on else self._parser.routes.get(ticker)
        if route is None:
            return
        before = self._needed(route, ticker)
        setattr(route, what, on)
        after = self._needed(route, ticker)
        added, removed = sorted(after - before), sorted(before - after)
        self._channels |= set(added)
        self._channels -= set(removed)
        await self._send("subscribe", added)
        await self._send("unsubscribe", removed)

    async def _subscribe_quote_ticks(self, command: SubscribeQuoteTicks) -> None:
        await self._update(command.instrument_id, "quotes", True)

    async def _subscribe_trade_ticks(self, command: SubscribeTradeTicks) -> None:
        await self._update(command.instrument_id, "trades", True)

    async def _subscribe_order_book_deltas(self, command: SubscribeOrderBook) -> None:
        # Polygon's stocks feed is the NBBO: the book is L1 whatever depth was asked for.
        await self._update(command.instrument_id, "book", True)

    async def _unsubscribe_quote_ticks(self, command: UnsubscribeQuoteTicks) -> None:
        await self._update(command.instrument_id, "quotes", False)

    async def _unsubscribe_trade_ticks(self, command: UnsubscribeTradeTicks) -> None:
        await self._update(command.instrument_id, "trades", False)

    async def _unsubscribe_order_book_deltas(self, command: UnsubscribeOrderBook) -> None:
        await self._update(command.instrument_id, "book", False)

    async def _subscribe_instrument_status(self, command: SubscribeInstrumentStatus) -> None:
        # The stocks T/Q channels carry no trading status; nothing is published for it.
        self._log.info(f"Instrument status is not on Polygon's T/Q channels: none will come for {command.instrument_id}")

    async def _unsubscribe_instrument_status(self, command: UnsubscribeInstrumentStatus) -> None:
        pass

    async def _subscribe_instrument(self, command: SubscribeInstrument) -> None:
        instrument = self._cache.instrument(command.instrument_id) or self._instrument_provider.find(command.instrument_id)
        if instrument is not None:
            self._handle_data(instrument)

    async def _subscribe_instruments(self, command: SubscribeInstruments) -> None:
        for instrument in self._instrument_provider.list_all():
            self._handle_data(instrument)

    async def _unsubscribe_instrument(self, command: UnsubscribeInstrument) -> None:
        pass

    async def _unsubscribe_instruments(self, command: UnsubscribeInstruments) -> None:
        pass

    async def _subscribe(self, command: SubscribeData) -> None:
        # FeedGap is always published; other custom data types do not exist on this feed.
        if command.data_type.type is not FeedGap:
            self._log.error(f"Cannot subscribe to {command.data_type}: not on Polygon's stocks feed")

    async def _unsubscribe(self, command: UnsubscribeData) -> None:
        pass

