"""The ``hftmm venue`` process: FIX acceptor, matching engine, replayed market, persistence.

:class:`VenueServer` wires the pieces of ``hftmm.venue``:

- the catalog day of the configured instruments (``catalog_feed``) becomes one time-ordered list of
  market events; an asyncio task applies each one to the engine when the replay clock
  (:mod:`hftmm.venue.clock`) reaches its time and hands the resulting fills to the gateway;
- a :class:`adapters.fix.transport.FixAcceptor` serves one session per participant SenderCompID and
  the drop-copy session, all with :class:`hftmm.venue.fix_gateway.VenueGateway` as application;
- ``state_dir`` holds everything a restarted venue continues from::

      state_dir/fix/                FIX file stores (sequence numbers and sent messages, per session)
      state_dir/venue-state.msgpack engine snapshot + gateway state + replay position + clock origin
      state_dir/record.jsonl        the venue's record (hftmm.venue.record)

  The state file is written atomically every ``snapshot_interval_s`` and at shutdown. After a
  crash (no shutdown snapshot) the engine continues from the last snapshot: reports issued after it
  are still in the record and the FIX stores, but the orders they describe are not in the engine.
  Such an unclean restart is detected (the record is ahead of the snapshot), logged, and OrderIDs /
  ExecIDs from then on carry a generation prefix (``2.17``) so none repeats an id already sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

import msgspec

from adapters.fix.config import SessionConfig, StoreConfig
from adapters.fix.dictionary import DataDictionary
from adapters.fix.profile import profile_dictionary_path
from adapters.fix.session import Session
from adapters.fix.transport import FixAcceptor, build_session
from hftmm.engine.session import et_to_utc_ns
from hftmm.venue.clock import ReplayClock, origin_catalog_ns
from hftmm.venue.config import VenueConfig
from hftmm.venue.fix_gateway import GatewayState, VenueGateway
from hftmm.venue.market_replay import MarketEvent
from hftmm.venue.matching_engine import MatchingEngine, SymbolSpec
from hftmm.venue.record import VenueRecord, read_record

log = logging.getLogger(__name__)

STATE_FILE = "venue-state.msgpack"
RECORD_FILE = "record.jsonl"
MARKET_CLOSE = "16:00"
_MAX_BATCH = 5000  # market events applied between two yields to the event loop
_GENERATION = re.compile(r"-[A-Z]*(\d+)\.\d+$")  # an ExecID of a later id generation: DAY-G.N or DAY-SG.N


class VenueStateError(ValueError):
    """The state directory holds a state file that is not this venue's (another day or instruments)."""


class VenueState(msgspec.Struct, kw_only=True):
    """What ``venue-state.msgpack`` holds."""

    version: int
    date: str
    instruments: list[str]
    engine: bytes
    gateway: GatewayState
    events_applied: int
    day_expired: bool
    origin_catalog_ns: int
    origin_wall: float
    record_seq: int = 0


def _generations_in(record_path: Path) -> int:
    """The highest id generation in a record's ExecIDs (``DAY-N`` is 0, ``DAY-G.N`` and ``DAY-SG.N`` are G)."""
    highest = 0
    for entry in read_record(record_path):
        found = _GENERATION.search(entry.exec_id)
        if found:
            highest = max(highest, int(found.group(1)))
    return highest


class VenueServer:
    """The venue simulator.

    Parameters
    ----------
    config : VenueConfig
    events : sequence of (symbol, MarketEvent), optional
        The day's market events in time order; read from the catalog when omitted.
    specs : list of SymbolSpec, optional
        Symbols and ticks; read from the catalog when omitted.
    """

    def __init__(self, config: VenueConfig, events: Sequence[tuple[str, MarketEvent]] | None = None,
                 specs: list[SymbolSpec] | None = None) -> None:
        self.config = config
        self.state_dir = Path(config.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if events is None or specs is None:
            from hftmm.venue.catalog_feed import catalog_day_events, symbol_specs

            specs = symbol_specs(config.catalog, config.instruments)
            events = list(catalog_day_events(config.catalog, config.instruments, config.date))
        self.events = events
        saved = self._load_state()
        if saved is not None:
            self.engine = MatchingEngine.restore(saved.engine)
            self.events_applied = saved.events_applied
            self.day_expired = saved.day_expired
        else:
            self.engine = MatchingEngine(specs)
            self.events_applied = 0
            self.day_expired = False
        first = events[0][1][0] if events else None
        start = origin_catalog_ns(config.date, config.start, first)
        if config.clock_origin is not None:
            wall0 = config.clock_origin
        elif saved is not None and saved.origin_catalog_ns == start:
            wall0 = saved.origin_wall  # the market kept moving while the venue was down
        else:
            wall0 = time.time()
        self.clock = ReplayClock(start, wall0, config.speed)
        self.close_ns = et_to_utc_ns(config.date, MARKET_CLOSE)
        self.record = VenueRecord(self.state_dir / RECORD_FILE)
        self.gateway = VenueGateway(self.engine, config.symbols, self.record, self.clock.now_ns, config.date,
                                    config.drop_copy_comp_id)
        if saved is not None:
            self.gateway.restore(saved.gateway)
        recorded = self.record.next_seq - 1
        self.unclean_restart = recorded > (saved.record_seq if saved is not None else 0)
        if self.unclean_restart:
            # The venue died after its last snapshot: the engine's counters are behind ids already sent.
            self.gateway.generation = max(self.gateway.generation, _generations_in(self.state_dir / RECORD_FILE)) + 1
            log.warning("venue did not stop cleanly: %d report(s) in the record are after the last snapshot and "
                        "their orders are not in the engine; ids continue as generation %d",
                        recorded - (saved.record_seq if saved is not None else 0), self.gateway.generation)
        self.dictionary: DataDictionary = DataDictionary(profile_dictionary_path())
        self.sessions: list[Session] = [self._session(name) for name in self._counterparties()]
        self.acceptor = FixAcceptor(self.sessions, config.host, config.port)
        self._tasks: list[asyncio.Task[None]] = []
        self.replay_done = asyncio.Event()
        self._stopped = False

    # -- assembly --------------------------------------------------------------------------------

    def _counterparties(self) -> list[str]:
        names = list(self.config.participants)
        if self.config.drop_copy_comp_id is not None:
            names.append(self.config.drop_copy_comp_id)
        return names

    def _session(self, counterparty: str) -> Session:
        c = self.config
        session_config = SessionConfig(
            sender_comp_id=c.venue_comp_id, target_comp_id=counterparty, role="acceptor", host=c.host, port=c.port,
            heartbeat_interval=c.heartbeat_interval, check_latency=c.check_latency, max_latency_s=c.max_latency_s,
            store=StoreConfig(kind="file", path=str(self.state_dir / "fix"), sync=c.store_sync),
        )
        return build_session(session_config, self.gateway, dictionary=self.dictionary)

    def _load_state(self) -> VenueState | None:
        path = self.state_dir / STATE_FILE
        if not path.exists():
            return None
        try:
            state = msgspec.msgpack.decode(path.read_bytes(), type=VenueState)
        except msgspec.DecodeError as exc:
            raise VenueStateError(f"{path}: not a venue state file: {exc}") from exc
        if state.date != self.config.date.isoformat() or state.instruments != list(self.config.instruments):
            raise VenueStateError(f"{path} holds {state.date} {state.instruments}, not {self.config.date} "
                             f"{list(self.config.instruments)}: use another --state-dir")
        log.info("continuing from %s: %d market events applied", path, state.events_applied)
        return state

    def save_state(self) -> None:
        """Write the engine snapshot, gateway state and replay position (atomically)."""
        state = VenueState(
            version=1, date=self.config.date.isoformat(), instruments=list(self.config.instruments),
            engine=self.engine.snapshot(), gateway=self.gateway.state(), events_applied=self.events_applied,
            day_expired=self.day_expired, origin_catalog_ns=self.clock.origin_catalog_ns,
            origin_wall=self.clock.origin_wall, record_seq=self.record.next_seq - 1,
        )
        path = self.state_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            f.write(msgspec.msgpack.encode(state))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the acceptor listens on (after :meth:`start`)."""
        return self.acceptor.port

    def session(self, counterparty: str) -> Session:
        """The venue's session with ``counterparty``."""
        return self.gateway.sessions[counterparty]

    async def start(self) -> None:
        """Apply the market up to now, start listening and the replay and snapshot tasks."""
        self.apply_due_events()
        await self.acceptor.start()
        self._tasks = [asyncio.create_task(self._replay(), name="venue-replay"),
                       asyncio.create_task(self._snapshots(), name="venue-snapshots")]
        log.info("venue listening on %s:%d, %d market events (%d applied), catalog time %d",
                 self.config.host, self.port, len(self.events), self.events_applied, self.clock.now_ns())

    async def stop(self) -> None:
        """Log the sessions out, stop the tasks, save the state."""
        if self._stopped:
            return
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.acceptor.stop()
        self.save_state()
        for session in self.sessions:
            session.store.close()
        self.record.close()

    async def serve_forever(self) -> None:
        """:meth:`start`, then run until cancelled (Ctrl-C), then :meth:`stop`."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # -- market replay ------------------------------------------------------------------------------

    def apply_due_events(self, limit: int | None = None) -> int:
        """Apply every market event the clock has reached (at most ``limit``); returns how many."""
        now = self.clock.now_ns()
        events, i, n = self.events, self.events_applied, len(self.events)
        stop = n if limit is None else min(n, i + limit)
        start = i
        while i < stop and events[i][1][0] <= now:
            symbol, event = events[i]
            i += 1
            self.events_applied = i
            reports = self.engine.on_market_event(symbol, event)
            if reports:
                self.gateway.publish(reports)
        if not self.day_expired and now >= self.close_ns and self.events_applied >= n:
            self.day_expired = True
            self.gateway.publish(self.engine.expire_day_orders(self.close_ns))
        return i - start

    async def _replay(self) -> None:
        n = len(self.events)
        while self.events_applied < n or not self.day_expired:
            self.apply_due_events(_MAX_BATCH)
            if self.events_applied < n:
                wait = self.clock.seconds_until(self.events[self.events_applied][1][0])
            else:
                wait = self.clock.seconds_until(self.close_ns)
                self.replay_done.set()
            await asyncio.sleep(min(max(wait, 0.0), 1.0))
        self.replay_done.set()

    async def _snapshots(self) -> None:
        while True:
            await asyncio.sleep(self.config.snapshot_interval_s)
            try:
                self.save_state()
            except OSError:
                log.exception("venue: cannot write the state file")
