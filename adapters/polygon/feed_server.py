"""A local WebSocket server that speaks Polygon's stocks protocol and replays a catalog day.

It serves tests, the one-machine live demo and paper trading on recorded days. The protocol is the
real one (market-data-formats.md §2.8): a ``connected`` status on connect, ``auth`` then
``subscribe``/``unsubscribe`` actions answered by status messages, and JSON-array frames that batch
``T`` and ``Q`` events with the real short keys (``t`` in Unix ms).

The replay has one market clock for the whole server, like a live feed: it starts at the first
subscription and runs at ``speed`` times real time (``speed=0``: as fast as the clients read).
An event due while nobody is subscribed to its channel is not delivered (counted as undelivered),
as on the real feed during a disconnection, unless ``pause_when_idle`` holds the clock while no
client is subscribed (for paper trading across client restarts, and deterministic tests).

Fault injection for tests: ``drop_after`` aborts a connection's TCP stream after that many data
messages (at a frame boundary), once; a second connection with the same key gets the first one a
``max_connections`` status and closes it, as Polygon does.

A client that stops reading (a paused or hung process) must not hold up the others: a frame it
cannot take within ``slow_consumer_s`` gets it disconnected, as Polygon disconnects slow consumers,
and a status or close it cannot take in that time aborts its connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from adapters.polygon.constants import EXCHANGE_ID, TAPE_OF_LISTING

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One message of the replay: its time (UTC ns), channel key (``T.AAPL``) and encoded JSON."""

    ts: int
    channel: str
    payload: bytes


class _Action(msgspec.Struct, frozen=True):
    action: str
    params: str = ""


_ACTION = msgspec.json.Decoder(_Action)


def status_frame(status: str, message: str) -> bytes:
    """A one-message status frame."""
    return msgspec.json.encode([{"ev": "status", "status": status, "message": message}])


@dataclass
class _Connection:
    ws: ServerConnection
    number: int
    authenticated: bool = False
    key: str | None = None
    subscriptions: set[str] = field(default_factory=set)
    sent: int = 0
    dropped: bool = False

    def wants(self, channel: str) -> bool:
        subs = self.subscriptions
        return channel in subs or channel.split(".", 1)[0] + ".*" in subs


@dataclass
class FeedStats:
    """What the server did (tests compare it with what the client received)."""

    connections: int = 0
    authenticated: int = 0
    emitted: int = 0  # events the replay clock reached
    delivered: int = 0  # messages sent, summed over connections
    undelivered: int = 0  # events nobody was subscribed to when they were due
    drops: int = 0
    slow_consumers: int = 0  # connections dropped because they stopped reading
    sent_per_connection: dict[int, list[bytes]] = field(default_factory=dict)


class PolygonFeedServer:
    """Replays ``events`` over Polygon's stocks WebSocket protocol.

    Parameters
    ----------
    events : sequence of FeedEvent
        The day in time order (``events_from_catalog``).
    speed : float
        Replay speed as a multiple of real time; 0 sends as fast as possible.
    api_key : str, optional
        The key clients must send; any non-empty key is accepted when ``None``.
    max_batch : int
        Most events per frame.
    pause_when_idle : bool
        Hold the market clock while no client is subscribed to anything.
    drop_after : int, optional
        Abort the first connection that has been sent this many data messages (tests).
    record : bool
        Keep every payload sent, per connection, in ``stats.sent_per_connection`` (tests).
    auth_timeout : float
        Seconds a connection may stay unauthenticated before ``auth_timeout``.
    slow_consumer_s : float
        How long one frame may wait for a client to read before that client is disconnected.
    market_origin_ns, wall_origin : int and float, optional
        Pin the market clock to the wall clock: the market is at ``market_origin_ns`` (catalog UTC
        ns) at ``wall_origin`` (Unix seconds), i.e. ``wall = wall_origin + (t - market_origin_ns) /
        speed``, whenever the first client subscribes (events already due then go out at once).
        ``hftmm venue`` uses the same mapping (``hftmm.venue.clock``), so given the same origin the
        feed and the venue agree on the market at every instant. Without an origin the clock starts
        at the first subscription with the day's first event.
    """

    def __init__(
        self,
        events: Sequence[FeedEvent],
        *,
        speed: float = 1.0,
        api_key: str | None = None,
        max_batch: int = 1000,
        pause_when_idle: bool = False,
        drop_after: int | None = None,
        record: bool = False,
        auth_timeout: float = 10.0,
        slow_consumer_s: float = 1.0,
        market_origin_ns: int | None = None,
        wall_origin: float | None = None,
    ) -> None:
        if (market_origin_ns is None) != (wall_origin is None):
            raise ValueError("market_origin_ns and wall_origin go together")
        if market_origin_ns is not None and speed <= 0:
            raise ValueError("a pinned market clock needs speed > 0")
        if speed < 0:
            raise ValueError(f"speed must be >= 0, was {speed}")
        self.events = events
        self.speed = speed
        self.api_key = api_key
        self.max_batch = max_batch
        self.pause_when_idle = pause_when_idle
        self.drop_after = drop_after
        self.record = record
        self.auth_timeout = auth_timeout
        self.slow_consumer_s = slow_consumer_s
        self.market_origin_ns = market_origin_ns
        self.wall_origin = wall_origin
        self.stats = FeedStats()
        self.finished = asyncio.Event()
        self._connections: dict[int, _Connection] = {}
        self._subscribed = asyncio.Event()
        self._server: Server | None = None
        self._replay: asyncio.Task | None = None
        self._dropped_once = False

    @property
    def port(self) -> int:
        """The port listened on (after ``start``)."""
        assert self._server is not None, "start() first"
        return self._server.sockets[0].getsockname()[1]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host:port`` (0 picks a free port) and return the port."""
        self._server = await serve(self._handle, host, port, max_size=2**20)
        self._replay = asyncio.create_task(self._run_replay(), name="polygon-feed-replay")
        return self.port

    async def stop(self) -> None:
        """Stop the replay and close every connection."""
        if self._replay is not None:
            self._replay.cancel()
            await asyncio.gather(self._replay, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def serve_forever(self, host: str, port: int) -> None:
        """Run until cancelled (the CLI)."""
        await self.start(host, port)
        try:
            await asyncio.Future()
        finally:
            await self.stop()

    # -- protocol ------------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        self.stats.connections += 1
        conn = _Connection(ws, self.stats.connections)
        self._connections[conn.number] = conn
        timeout = asyncio.get_running_loop().call_later(self.auth_timeout, self._auth_timeout, conn)
        try:
            await ws.send(status_frame("connected", "Connected Successfully"))
            async for raw in ws:
                await self._on_action(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            timeout.cancel()
            self._connections.pop(conn.number, None)
            self._update_subscribed()

    def _auth_timeout(self, conn: _Connection) -> None:
        if not conn.authenticated and conn.number in self._connections:
            asyncio.ensure_future(self._close_with(conn, "auth_timeout", "no authentication in time"))

    async def _close_with(self, conn: _Connection, status: str, message: str) -> None:
        try:
            await asyncio.wait_for(conn.ws.send(status_frame(status, message)), self.slow_consumer_s)
            await asyncio.wait_for(conn.ws.close(), self.slow_consumer_s)
        except ConnectionClosed:
            pass
        except TimeoutError:
            conn.ws.transport.abort()  # it does not read: no handshake to wait for

    def _drop_slow(self, conn: _Connection) -> None:
        log.warning("feed: connection %d stopped reading for %.1f s: disconnected (slow consumer)",
                    conn.number, self.slow_consumer_s)
        self.stats.slow_consumers += 1
        self._abort(conn)

    def _abort(self, conn: _Connection) -> None:
        """Cut the connection's TCP stream (no close handshake) and forget it."""
        conn.ws.transport.abort()
        self._connections.pop(conn.number, None)
        self._update_subscribed()

    async def _on_action(self, conn: _Connection, raw: str | bytes) -> None:
        try:
            action = _ACTION.decode(raw)
        except msgspec.DecodeError as e:
            await conn.ws.send(status_frame("error", f"invalid message: {e}"))
            return
        if action.action == "auth":
            if not action.params or (self.api_key is not None and action.params != self.api_key):
                await self._close_with(conn, "auth_failed", "authentication failed")
                return
            # One connection per key: the newest wins, as on Polygon's clusters.
            for other in list(self._connections.values()):
                if other is not conn and other.authenticated and other.key == action.params:
                    await self._close_with(
                        other, "max_connections",
                        "Maximum number of websocket connections exceeded. You have been disconnected.",
                    )
            conn.authenticated, conn.key = True, action.params
            self.stats.authenticated += 1
            await conn.ws.send(status_frame("auth_success", "authenticated"))
        elif action.action in ("subscribe", "unsubscribe"):
            if not conn.authenticated:
                await conn.ws.send(status_frame("auth_required", "authentication required"))
                return
            replies = []
            for param in (p.strip() for p in action.params.split(",")):
                if not param:
                    continue
                prefix, _, sym = param.partition(".")
                if prefix not in ("T", "Q") or not sym:
                    replies.append({"ev": "status", "status": "error", "message": f"unknown channel: {param}"})
                    continue
                if action.action == "subscribe":
                    conn.subscriptions.add(param)
                    replies.append({"ev": "status", "status": "success", "message": f"subscribed to: {param}"})
                else:
                    conn.subscriptions.discard(param)
                    replies.append({"ev": "status", "status": "success", "message": f"unsubscribed to: {param}"})
            await conn.ws.send(msgspec.json.encode(replies))
            self._update_subscribed()
        else:
            await conn.ws.send(status_frame("error", f"unknown action: {action.action}"))

    def _update_subscribed(self) -> None:
        if any(c.subscriptions for c in self._connections.values()):
            self._subscribed.set()
        else:
            self._subscribed.clear()

    # -- replay --------------------------------------------------------------------------------

    async def _run_replay(self) -> None:
        loop = asyncio.get_running_loop()
        events = self.events
        if not events:
            self.finished.set()
            return
        await self._subscribed.wait()
        wall0, market0 = loop.time(), events[0].ts
        if self.market_origin_ns is not None and self.wall_origin is not None:
            # The loop's clock is monotonic: place the Unix-time origin on it.
            wall0, market0 = loop.time() + (self.wall_origin - time.time()), self.market_origin_ns
        i, n = 0, len(events)
        while i < n:
            if self.pause_when_idle and not self._subscribed.is_set():
                paused = loop.time()
                await self._subscribed.wait()
                wall0 += loop.time() - paused
            if self.speed > 0:
                delay = wall0 + (events[i].ts - market0) / 1e9 / self.speed - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                now = market0 + (loop.time() - wall0) * self.speed * 1e9
                j = i + 1
                while j < n and j - i < self.max_batch and events[j].ts <= now:
                    j += 1
            else:
                j = min(n, i + self.max_batch)
            await self._broadcast(events[i:j])
            if self.speed == 0:
                await asyncio.sleep(0)
            i = j
        self.finished.set()

    async def _broadcast(self, batch: Sequence[FeedEvent]) -> None:
        self.stats.emitted += len(batch)
        wanted_by_anyone = [False] * len(batch)
        for conn in list(self._connections.values()):
            if not conn.authenticated or not conn.subscriptions:
                continue
            parts = []
            for k, e in enumerate(batch):
                if conn.wants(e.channel):
                    parts.append(e.payload)
                    wanted_by_anyone[k] = True
            if not parts:
                continue
            try:
                await asyncio.wait_for(conn.ws.send(b"[" + b",".join(parts) + b"]"), self.slow_consumer_s)
            except ConnectionClosed:
                continue
            except TimeoutError:
                self._drop_slow(conn)
                continue
            conn.sent += len(parts)
            self.stats.delivered += len(parts)
            if self.record:
                self.stats.sent_per_connection.setdefault(conn.number, []).extend(parts)
            if self.drop_after is not None and not self._dropped_once and conn.sent >= self.drop_after:
                # A network failure, not a close handshake: the client sees the stream end abruptly.
                self._dropped_once = True
                self.stats.drops += 1
                conn.dropped = True
                self._abort(conn)
        self.stats.undelivered += wanted_by_anyone.count(False)


# -- catalog -> events -----------------------------------------------------------------------------


def _tape(venue: str) -> int:
    return TAPE_OF_LISTING.get(venue, 2)


def events_from_ticks(ticks: Iterable, quote_size_unit: int = 100) -> list[FeedEvent]:
    """Feed events of Nautilus QuoteTicks and TradeTicks, merged in time order.

    ``x``/``bx``/``ax`` are the Polygon id of the instrument's venue (a catalog keeps no per-event
    exchange); quote sizes are sent in units of ``quote_size_unit`` shares (round lots by default,
    rounded down, as the SIP reports them); ``t`` is Unix ms (the WebSocket has no ns field); ``q``
    counts the symbol's events.
    """
    from nautilus_trader.model.data import QuoteTick, TradeTick

    rows = []
    for tick in ticks:
        rows.append((tick.ts_event, 0 if isinstance(tick, QuoteTick) else 1, len(rows), tick))
    rows.sort(key=lambda r: r[:3])
    sequence: dict[str, int] = {}
    out = []
    encode = msgspec.json.encode
    for ts, _, _, tick in rows:
        iid = tick.instrument_id
        sym, venue = iid.symbol.value, iid.venue.value
        q = sequence[sym] = sequence.get(sym, 0) + 1
        x = EXCHANGE_ID.get(venue, 0)
        if isinstance(tick, TradeTick):
            msg = {
                "ev": "T", "sym": sym, "i": tick.trade_id.value, "x": x, "p": float(tick.price),
                "s": int(tick.size), "t": ts // 1_000_000, "q": q, "z": _tape(venue),
            }
            out.append(FeedEvent(ts, f"T.{sym}", encode(msg)))
        elif isinstance(tick, QuoteTick):
            msg = {
                "ev": "Q", "sym": sym, "bx": x, "bp": float(tick.bid_price), "bs": int(tick.bid_size) // quote_size_unit,
                "ax": x, "ap": float(tick.ask_price), "as": int(tick.ask_size) // quote_size_unit,
                "t": ts // 1_000_000, "q": q, "z": _tape(venue),
            }
            out.append(FeedEvent(ts, f"Q.{sym}", encode(msg)))
    return out


def events_from_catalog(
    catalog: Path,
    date: dt.date,
    symbols: Sequence[str] | None = None,
    quote_size_unit: int = 100,
) -> list[FeedEvent]:
    """The quotes and trades of ``date`` (the ET calendar day) in a ParquetDataCatalog, as feed events.

    Parameters
    ----------
    catalog : Path
        Catalog root (as written by ``hftmm ingest taq`` or ``hftmm ingest polygon``).
    date : date
        The trade date.
    symbols : sequence of str, optional
        Only these tickers (default: every instrument in the catalog).
    quote_size_unit : int
        Shares per unit of the sizes sent in ``Q`` messages.
    """
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from hftmm.engine.session import day_bounds_utc_ns

    cat = ParquetDataCatalog(str(catalog))
    start, end = day_bounds_utc_ns(date)
    ids = sorted({i.id.value for i in cat.instruments()})
    if symbols is not None:
        wanted = {s.upper() for s in symbols}
        ids = [i for i in ids if i.rsplit(".", 1)[0] in wanted]
    if not ids:
        return []
    ticks = [*cat.quote_ticks(instrument_ids=ids, start=start, end=end - 1)]
    ticks += cat.trade_ticks(instrument_ids=ids, start=start, end=end - 1)
    return events_from_ticks(ticks, quote_size_unit)
