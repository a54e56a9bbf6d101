"""asyncio TCP transport for FIX sessions, plain or TLS, in both roles.

- :class:`FixAcceptor` listens, reads the first frame of each connection, and hands the connection
  to the session whose CompIDs match a Logon in it. Anything else (not a Logon, unknown CompIDs or
  BeginString, a session already connected: a duplicate identity) is dropped without an answer.
- :class:`FixInitiator` connects (and reconnects after ``reconnect_interval_s``) while the session's
  schedule is open, and runs the session over each connection.

:func:`build_session` assembles a session from a :class:`SessionConfig` (dictionary and store).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from pathlib import Path

from adapters.fix.application import Application
from adapters.fix.codec import FrameReader, decode
from adapters.fix.config import SessionConfig, StoreConfig, TlsConfig
from adapters.fix.dictionary import DataDictionary
from adapters.fix.errors import InvalidMessage
from adapters.fix.session import Session, utc_now
from adapters.fix.store import FileStore, MemoryStore, MessageStore, RedisStore

log = logging.getLogger(__name__)


def server_ssl_context(tls: TlsConfig) -> ssl.SSLContext:
    """The acceptor's TLS context (needs ``cert_file``; ``ca_file`` to verify client certificates)."""
    if not tls.cert_file:
        raise ValueError("an acceptor with TLS needs tls.cert_file (and key_file unless the PEM holds the key)")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    if tls.ca_file:
        context.load_verify_locations(tls.ca_file)
        context.verify_mode = ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_OPTIONAL
    return context


def client_ssl_context(tls: TlsConfig) -> ssl.SSLContext:
    """The initiator's TLS context: verifies the venue (``ca_file`` or the system store)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=tls.ca_file)
    if tls.cert_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


def build_store(config: SessionConfig) -> MessageStore:
    """The store a config asks for."""
    store: StoreConfig = config.store
    if store.kind == "memory":
        return MemoryStore()
    if store.kind == "file":
        return FileStore(Path(store.path), config.session_name, sync=store.sync)
    import redis

    return RedisStore(redis.Redis.from_url(store.redis_url), config.session_name, prefix=store.redis_prefix)


def build_session(config: SessionConfig, application: Application, *, store: MessageStore | None = None,
                  dictionary: DataDictionary | None = None) -> Session:
    """A session with the dictionary and store its config names (either may be passed in instead)."""
    dictionary = dictionary or DataDictionary(config.dictionary_path)
    return Session(config, application, store or build_store(config), dictionary)


class FixAcceptor:
    """Listens for FIX connections and dispatches them to sessions by CompIDs.

    Parameters
    ----------
    sessions : list of Session
        Acceptor-role sessions; all are served on the same address.
    host, port : str, int
        Where to listen (port 0: any free port, see :attr:`port`).
    tls : TlsConfig, optional
    logon_timeout_s : float
        How long a new connection may take to send its first complete frame.
    """

    def __init__(self, sessions: list[Session], host: str = "127.0.0.1", port: int = 0, *,
                 tls: TlsConfig | None = None, logon_timeout_s: float = 10.0) -> None:
        self._sessions = {(s.session_id.begin_string, s.session_id.target_comp_id, s.session_id.sender_comp_id): s
                          for s in sessions}
        self.host = host
        self._port = port
        self._ssl = server_ssl_context(tls) if tls is not None else None
        self._logon_timeout = logon_timeout_s
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.refused = 0

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Start listening."""
        self._server = await asyncio.start_server(self._on_connection, self.host, self._port, ssl=self._ssl)
        log.info("FIX acceptor listening on %s:%d%s", self.host, self.port, " (TLS)" if self._ssl else "")

    async def stop(self) -> None:
        """Log out connected sessions, stop listening, and wait for the connections to end."""
        for session in self._sessions.values():
            if session.is_logged_on:
                session.logout("Acceptor shutting down")
        if self._server is not None:
            self._server.close()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=max(
                (s.config.logout_timeout_s for s in self._sessions.values()), default=2.0) + 1.0)
            for task in pending:
                task.cancel()
        if self._server is not None:
            await self._server.wait_closed()

    def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(self._handle(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        frames = FrameReader()
        try:
            first = await asyncio.wait_for(self._first_frame(reader, frames), self._logon_timeout)
        except (TimeoutError, ConnectionError, OSError, InvalidMessage) as exc:
            log.warning("FIX acceptor: no usable first message from %s (%s); closing", peer, exc)
            self.refused += 1
            writer.close()
            return
        session = self._lookup(first, peer)
        if session is None:
            self.refused += 1
            writer.close()
            return
        try:
            await session.serve(reader, writer, frames, first)
        except Exception:
            log.exception("FIX acceptor: session %s failed", session.session_id)

    async def _first_frame(self, reader: asyncio.StreamReader, frames: FrameReader) -> bytes:
        while True:
            frame = frames.next_frame()
            if frame is not None:
                return frame
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("closed before the first message")
            frames.feed(data)

    def _lookup(self, frame: bytes, peer: object) -> Session | None:
        try:
            message = decode(frame, validate=False)
        except InvalidMessage as exc:
            log.warning("FIX acceptor: garbled first message from %s: %s", peer, exc)
            return None
        if message.msg_type != "A":
            log.warning("FIX acceptor: first message from %s is not a Logon (35=%s)", peer, message.msg_type)
            return None
        key = (message.get(8), message.get(49), message.get(56))
        session = self._sessions.get(key)  # type: ignore[arg-type]
        if session is None:
            log.warning("FIX acceptor: no session for BeginString/Sender/Target %s from %s", key, peer)
            return None
        if session.connected:
            log.warning("FIX acceptor: %s is already connected; refusing a second connection from %s",
                        session.session_id, peer)
            return None
        return session


class FixInitiator:
    """Connects a session to its counterparty and keeps it connected.

    Parameters
    ----------
    session : Session
        An initiator-role session; host, port and TLS come from its config.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        config = session.config
        self._ssl = client_ssl_context(config.tls) if config.tls is not None else None
        self._server_hostname = (config.tls.server_hostname or config.host) if config.tls is not None else None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stop_event = asyncio.Event()
        self.connect_failures = 0

    async def start(self) -> None:
        """Start connecting in the background."""
        self._stopping = False
        self._stop_event.clear()
        self._task = asyncio.create_task(self._run(), name=f"fix-initiator-{self.session.session_id}")

    async def _run(self) -> None:
        config = self.session.config
        while not self._stopping:
            schedule = self.session.schedule
            if schedule is not None and not schedule.is_open(utc_now()):
                await self._pause(config.reconnect_interval_s)
                continue
            try:
                reader, writer = await asyncio.open_connection(
                    config.host, config.port, ssl=self._ssl, server_hostname=self._server_hostname)
            except (OSError, ssl.SSLError) as exc:
                self.connect_failures += 1
                log.warning("%s: cannot connect to %s:%d: %s", self.session.session_id, config.host, config.port, exc)
            else:
                try:
                    await self.session.serve(reader, writer)
                except Exception:
                    log.exception("%s: session failed; reconnecting", self.session.session_id)
            if not self._stopping:
                await self._pause(config.reconnect_interval_s)

    async def _pause(self, seconds: float) -> None:
        """Sleep between attempts, cut short by :meth:`stop`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), seconds)

    async def stop(self, timeout: float | None = None) -> None:
        """Log out (waiting for the answer up to the logout timeout) and stop reconnecting."""
        self._stopping = True
        self._stop_event.set()
        if self.session.is_logged_on:
            self.session.logout()
        if self._task is not None:
            wait = timeout if timeout is not None else self.session.config.logout_timeout_s + 1.0
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), wait)
            if not self._task.done():
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
