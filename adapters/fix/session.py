"""The FIX session state machine, shared by initiator and acceptor.

It follows QuickFIX's ``Session`` closely (order of checks, which problem gets a Reject, which a
Logout, which a silent disconnect), because that behaviour is what FIX counterparties and the FIX
session-layer test scripts expect:

- every inbound frame is decoded (garbled / bad BodyLength / bad CheckSum: ignored, counted,
  logged; before logon: disconnect), then validated against the dictionary (Reject 35=3 with the
  SessionRejectReason), then checked by :meth:`Session._verify`: logon state, SendingTime within
  ``max_latency_s``, CompIDs, MsgSeqNum (too high: queue it and send one ResendRequest; too low
  without PossDupFlag: Logout and disconnect; too low with PossDupFlag: ignore, after checking
  OrigSendingTime);
- sent messages are stored before they are written, so a ResendRequest is answered from the store:
  application messages resent with PossDupFlag=Y and OrigSendingTime, runs of admin messages (and
  messages the application declines with ``DoNotSend``) replaced by SequenceReset-GapFill;
- a timer sends Heartbeats when we were quiet for HeartBtInt, a TestRequest when the counterparty was
  quiet for 1.2 x HeartBtInt, and disconnects after 2.4 x HeartBtInt of silence or when a Logout is
  not answered within ``logout_timeout_s``.

The transport (:mod:`adapters.fix.transport`) feeds bytes in with :meth:`Session.serve`; the session
never blocks except on the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from adapters.fix.application import Application
from adapters.fix.codec import BY_TAG, FixMessage, FrameReader, decode, encode, is_ascii_number
from adapters.fix.config import SessionConfig
from adapters.fix.dictionary import DataDictionary
from adapters.fix.errors import (
    BusinessReject,
    CompIdProblem,
    DoNotSend,
    IncorrectTagValue,
    InvalidMessage,
    RejectLogon,
    RequiredTagMissing,
    SendingTimeAccuracyProblem,
    SessionNotLoggedOn,
    SessionRejectError,
    StoreError,
    UnsupportedMessageType,
)
from adapters.fix.schedule import SessionSchedule
from adapters.fix.store import MessageStore
from adapters.fix.times import format_utc_timestamp, parse_utc_timestamp

log = logging.getLogger(__name__)

ADMIN_TYPES = frozenset({"0", "1", "2", "3", "4", "5", "A"})

_BUSINESS_REJECT_TEXT = {
    0: "Other",
    1: "Unknown ID",
    2: "Unknown Security",
    3: "Unsupported Message Type",
    4: "Application not available",
    5: "Conditionally required field missing",
}
# Header fields the session writes itself (an application may not pass them to send()).
SESSION_HEADER_TAGS = frozenset({8, 9, 10, 34, 35, 43, 49, 52, 56, 122})
# Routing header fields swapped on a Reject (ours <- theirs), as FIX 4.1+ asks.
_REVERSE_ROUTE = ((115, 128), (128, 115), (116, 129), (129, 116), (144, 145), (145, 144))


class SessionID(NamedTuple):
    """BeginString, our SenderCompID, our TargetCompID."""

    begin_string: str
    sender_comp_id: str
    target_comp_id: str

    def __str__(self) -> str:
        return f"{self.begin_string}:{self.sender_comp_id}->{self.target_comp_id}"


class _Disconnect(Exception):
    """Internal: stop processing and drop the connection (QuickFIX's logic_error inside verify)."""


class _UnsupportedVersion(Exception):
    """Internal: BeginString differs from the session's."""


def utc_now() -> datetime:
    """The wall clock, UTC."""
    return datetime.now(UTC)


class Session:
    """One FIX session (a SenderCompID/TargetCompID pair) across connections.

    Parameters
    ----------
    config : SessionConfig
    application : Application
    store : MessageStore
    dictionary : DataDictionary
    clock : callable, optional
        Returns the current UTC time (tests move it).
    """

    def __init__(self, config: SessionConfig, application: Application, store: MessageStore,
                 dictionary: DataDictionary, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.config = config
        self.application = application
        self.store = store
        self.dictionary = dictionary
        self.clock = clock
        self.session_id = SessionID(config.begin_string, config.sender_comp_id, config.target_comp_id)
        self.initiator = config.role == "initiator"
        self.schedule = SessionSchedule(config.schedule) if config.schedule is not None else None
        self.counters: Counter[str] = Counter()
        self.log = logging.getLogger(f"{__name__}.{config.sender_comp_id}.{config.target_comp_id}")
        self._write: Callable[[bytes], None] | None = None
        self._close: Callable[[], None] | None = None
        self._buffered: Callable[[], int] = lambda: 0
        self._abort: Callable[[], None] = lambda: None
        self._logged_on_event = asyncio.Event()
        self._reset_connection_state()
        application.on_create(self)

    # --- state ----------------------------------------------------------------------------

    def _reset_connection_state(self) -> None:
        self.received_logon = False
        self.sent_logon = False
        self.sent_logout = False
        self.sent_reset = False
        self.received_reset = False
        self.heartbeat_interval = self.config.heartbeat_interval
        self.test_requests = 0
        self.resend_range: tuple[int, int] | None = None
        self._queue: dict[int, FixMessage] = {}
        now = time.monotonic()
        self.last_sent = now
        self.last_received = now
        self._disconnecting = False
        self._logged_on_event.clear()

    @property
    def connected(self) -> bool:
        """Whether a transport is attached."""
        return self._write is not None

    @property
    def is_logged_on(self) -> bool:
        """Both Logons exchanged on the current connection."""
        return self.received_logon and self.sent_logon

    @property
    def next_sender_seq(self) -> int:
        """MsgSeqNum of our next message."""
        return self.store.next_sender_seq()

    @property
    def next_target_seq(self) -> int:
        """MsgSeqNum expected next from the counterparty."""
        return self.store.next_target_seq()

    async def wait_logged_on(self, timeout: float | None = None) -> None:
        """Wait until the session is logged on."""
        await asyncio.wait_for(self._logged_on_event.wait(), timeout)

    # --- connection lifecycle (called by the transport) -------------------------------------

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    frames: FrameReader | None = None, first_frame: bytes | None = None) -> None:
        """Run the session over one connection until it ends.

        Parameters
        ----------
        reader, writer : asyncio streams
        frames : FrameReader, optional
            The acceptor's reader, holding bytes already received after ``first_frame``.
        first_frame : bytes, optional
            The Logon the acceptor read to pick this session.
        """
        frames = frames or FrameReader()
        self._reset_connection_state()
        self._write = writer.write
        self._close = writer.close
        self._buffered = writer.transport.get_write_buffer_size
        self._abort = writer.transport.abort
        self.counters["connections"] += 1
        timer = asyncio.create_task(self._timer(), name=f"fix-timer-{self.session_id}")
        try:
            self._check_store_window()
            if self.initiator:
                self._generate_logon()
            if first_frame is not None:
                self.on_frame(first_frame)
            while not self._disconnecting:
                if not self._drain_frames(frames):
                    break
                if self._disconnecting:
                    break
                data = await reader.read(65536)
                if not data:
                    self.log.info("%s: connection closed by the counterparty", self.session_id)
                    break
                frames.feed(data)
        except (ConnectionError, OSError) as exc:
            self.log.info("%s: connection lost: %s", self.session_id, exc)
        except StoreError:
            self.log.exception("%s: message store failed; disconnecting", self.session_id)
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
            self._on_disconnected(writer)

    def _drain_frames(self, frames: FrameReader) -> bool:
        while not self._disconnecting:
            try:
                frame = frames.next_frame()
            except InvalidMessage as exc:
                self._count_invalid(exc)
                if not self.is_logged_on:
                    return False
                continue
            if frame is None:
                return True
            self.on_frame(frame)
        return False

    def _on_disconnected(self, writer: asyncio.StreamWriter) -> None:
        was_logged_on = self.is_logged_on
        self._write = None
        self._close = None
        if not writer.is_closing():
            writer.close()
        self._reset_connection_state()
        if self.config.reset_on_disconnect:
            self.store.reset()
        if was_logged_on:
            self.application.on_logout(self)
        self.log.info("%s: disconnected", self.session_id)

    def disconnect(self) -> None:
        """Drop the connection (after the bytes already written are flushed)."""
        if self._disconnecting:
            return
        self._disconnecting = True
        self.counters["disconnects"] += 1
        if self._close is not None:
            self._close()

    async def _timer(self) -> None:
        interval = self.config.timer_interval_s
        while True:
            await asyncio.sleep(interval)
            try:
                self.on_timer()
            except StoreError:
                self.log.exception("%s: message store failed in the timer; disconnecting", self.session_id)
                self.disconnect()

    # --- public API -------------------------------------------------------------------------

    def send(self, msg_type: str, body: Iterable[tuple[int, str]], *,
             header: Iterable[tuple[int, str]] = ()) -> int:
        """Send an application message; returns its MsgSeqNum.

        Parameters
        ----------
        msg_type : str
            MsgType (35).
        body : iterable of (int, str)
            Body fields in wire order (repeating groups in their required order).
        header : iterable of (int, str)
            Extra header fields (e.g. OnBehalfOfCompID 115, PossResend 97).

        Raises
        ------
        SessionNotLoggedOn
            Not logged on: nothing is sent or stored.
        DoNotSend
            ``Application.to_app`` vetoed the message.
        ValueError
            ``header`` holds a field the session sets itself.
        """
        if not self.is_logged_on or self._disconnecting:
            raise SessionNotLoggedOn(f"{self.session_id} is not logged on")
        header = list(header)
        for tag, _ in header:
            if tag in SESSION_HEADER_TAGS:
                raise ValueError(f"header field {tag} is set by the session")
        seq = self._send_raw(msg_type, list(body), header=header)
        if seq is None:
            raise DoNotSend(msg_type)
        return seq

    def send_test_request(self, test_req_id: str) -> None:
        """Send a TestRequest (35=1); the counterparty answers with a Heartbeat echoing the id."""
        if not self.is_logged_on:
            raise SessionNotLoggedOn(f"{self.session_id} is not logged on")
        self._generate_test_request(test_req_id)

    def logout(self, text: str = "") -> None:
        """Start a Logout; the connection closes on the answer or after ``logout_timeout_s``."""
        if self.connected and not self.sent_logout:
            self._generate_logout(text)

    # --- outbound -----------------------------------------------------------------------------

    def _now_text(self) -> str:
        return format_utc_timestamp(self.clock(), self.config.timestamp_precision)

    def _header(self, msg_type: str, seq: int, extra: Iterable[tuple[int, str]] = ()) -> list[tuple[int, str]]:
        fields = [(34, str(seq)), (49, self.config.sender_comp_id), (52, self._now_text()),
                  (56, self.config.target_comp_id), *extra]
        fields.sort(key=BY_TAG)
        return [(35, msg_type), *fields]

    def _send_raw(self, msg_type: str, body: list[tuple[int, str]], *,
                  header: Iterable[tuple[int, str]] = ()) -> int | None:
        """Build, store and write a message with the next MsgSeqNum; ``None`` if the application vetoed it."""
        seq = self.store.next_sender_seq()
        message = FixMessage(self._header(msg_type, seq, header) + body)
        if msg_type in ADMIN_TYPES:
            self.application.to_admin(message, self)
        else:
            try:
                self.application.to_app(message, self)
            except DoNotSend:
                self.counters["do_not_send"] += 1
                return None
        raw = encode(message.fields, self.config.begin_string)
        if self.config.persist_messages:
            self.store.save_sent(seq, raw)
        else:
            self.store.set_next_sender_seq(seq + 1)
        self._write_raw(raw)
        return seq

    def _write_raw(self, raw: bytes) -> None:
        if self._write is None:
            return
        self._write(raw)
        self.last_sent = time.monotonic()
        self.counters["sent"] += 1
        if self._buffered() > self.config.max_write_buffer_bytes and not self._disconnecting:
            self.counters["slow_consumer"] += 1
            self.log.error("%s: counterparty is not reading (%d bytes buffered); aborting the connection",
                           self.session_id, self._buffered())
            self.disconnect()
            self._abort()  # close() would wait for the buffer to drain
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("%s OUT %s", self.session_id, raw.replace(b"\x01", b"|"))

    def _generate_logon(self) -> None:
        """Initiator's Logon."""
        if self.config.reset_on_logon:
            self.store.reset()
        reset = (self.config.reset_on_logon or self.config.reset_on_logout or self.config.reset_on_disconnect) \
            and self.store.next_sender_seq() == 1 and self.store.next_target_seq() == 1
        body = [(98, "0"), (108, str(self.heartbeat_interval))]
        if reset:
            body.append((141, "Y"))
            self.sent_reset = True
        self.last_received = time.monotonic()
        self.test_requests = 0
        self.sent_logon = True
        self._send_raw("A", body)

    def _generate_logon_response(self, logon: FixMessage) -> None:
        body = [(98, "0"), (108, logon.get(108, str(self.heartbeat_interval)) or "0")]
        if self.received_reset:
            body.append((141, "Y"))
        self._send_raw("A", body)
        self.sent_logon = True

    def _generate_logout(self, text: str = "") -> None:
        self._send_raw("5", [(58, text)] if text else [])
        self.sent_logout = True

    def _generate_heartbeat(self, test_req_id: str | None = None) -> None:
        self._send_raw("0", [(112, test_req_id)] if test_req_id is not None else [])

    def _generate_test_request(self, test_req_id: str) -> None:
        self._send_raw("1", [(112, test_req_id)])

    def _generate_resend_request(self, received_seq: int) -> None:
        begin = self.store.next_target_seq()
        self._send_raw("2", [(7, str(begin)), (16, "0")])
        self.resend_range = (begin, received_seq - 1)
        self.counters["resend_requests_sent"] += 1
        self.log.info("%s: sent ResendRequest FROM %d TO %d", self.session_id, begin, received_seq - 1)

    def _generate_sequence_reset(self, begin: int, new_seq: int) -> None:
        now = self._now_text()
        message = FixMessage([(35, "4"), (34, str(begin)), (43, "Y"), (49, self.config.sender_comp_id),
                              (52, now), (56, self.config.target_comp_id), (122, now),
                              (36, str(new_seq)), (123, "Y")])
        self.application.to_admin(message, self)
        self._write_raw(encode(message.fields, self.config.begin_string))

    def _generate_reject(self, message: FixMessage, error: SessionRejectError) -> None:
        """Session-level Reject (35=3), QuickFIX's way: RefSeqNum, Text, RefTagID, RefMsgType, reason."""
        if not self.received_logon:
            raise _Disconnect("a message to reject arrived before the Logon")
        msg_type = message.msg_type
        seq_text = message.get(34)
        header = []
        for theirs, ours in _REVERSE_ROUTE:
            value = message.get(theirs)
            if value:
                header.append((ours, value))
        body: list[tuple[int, str]] = []
        if seq_text:
            body.append((45, seq_text))
        body.append((58, error.text))
        if error.tag is not None:
            body.append((371, str(error.tag)))
        if msg_type:
            body.append((372, msg_type))
        body.append((373, str(error.reason)))
        if msg_type not in ("A", "4") and seq_text == str(self.store.next_target_seq()):
            self._incr_target()
        self.counters["rejects_sent"] += 1
        self.log.warning("%s: rejecting message %s (%s): %s", self.session_id, seq_text, msg_type, error)
        self._send_raw("3", body, header=header)

    def _generate_business_reject(self, message: FixMessage, reason: int, text: str | None = None,
                                  tag: int | None = None) -> None:
        # FIX 4.4's BusinessMessageReject has no RefTagID (371): the tag goes into the Text, as QuickFIX does.
        text = text or _BUSINESS_REJECT_TEXT.get(reason, "Other")
        if tag is not None:
            text = f"{text} ({tag})"
        body = [(45, message.get(34, "") or ""), (58, text), (372, message.msg_type), (380, str(reason))]
        self._incr_target()
        self.counters["business_rejects_sent"] += 1
        self.log.warning("%s: business reject of message %s (%s): %s", self.session_id, message.get(34),
                         message.msg_type, body[1][1])
        self._send_raw("j", body)

    # --- inbound ------------------------------------------------------------------------------

    def _count_invalid(self, exc: InvalidMessage) -> None:
        self.counters["invalid_" + type(exc).__name__] += 1
        self.log.warning("%s: ignoring invalid message: %s", self.session_id, exc)

    def _incr_target(self) -> None:
        self.store.set_next_target_seq(self.store.next_target_seq() + 1)

    def on_frame(self, frame: bytes) -> None:
        """Process one framed inbound message."""
        self.counters["received"] += 1
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("%s IN  %s", self.session_id, frame.replace(b"\x01", b"|"))
        try:
            message = decode(frame)
        except InvalidMessage as exc:
            self._count_invalid(exc)
            if not self.is_logged_on:
                self.disconnect()
            return
        self._next(message, queued=False)

    def _next(self, message: FixMessage, *, queued: bool) -> None:
        try:
            self._process(message)
        except _Disconnect as exc:
            self.log.warning("%s: %s; disconnecting", self.session_id, exc)
            self.disconnect()
        except StoreError:
            raise
        except Exception:
            # An engine bug or an unvalidated value (validate_messages=False) must not take the process
            # down; dropping the connection is safe: the counterparty logs on again and resends.
            self.counters["processing_errors"] += 1
            self.log.exception("%s: failed to process message %s (%s); disconnecting", self.session_id,
                               message.get(34), message.msg_type)
            self.disconnect()
        if not queued and not self._disconnecting:
            self._next_queued()

    def _process(self, message: FixMessage) -> None:
        """Validate and dispatch one message; problems become Rejects, Logouts or ``_Disconnect``."""
        msg_type = message.msg_type
        try:
            if self.schedule is not None and not self.schedule.is_open(self.clock()):
                raise _Disconnect("message outside the session window")
            for tag in (49, 56):
                if message.get(tag) is None:
                    raise RequiredTagMissing(tag)
            if message.get(8) != self.config.begin_string:
                raise _UnsupportedVersion
            if self.config.validate_messages:
                self.dictionary.validate(message)
            handler = self._handlers.get(msg_type)
            if handler is not None:
                handler(self, message)
            else:
                self._next_app(message)
        except SessionRejectError as exc:
            self._generate_reject(message, exc)
            if msg_type == "A":
                raise _Disconnect("invalid Logon") from exc
        except _UnsupportedVersion:
            if msg_type == "5":
                self._next_logout(message)
            else:
                self._generate_logout("Incorrect BeginString")
                self._incr_target()
        except RejectLogon as exc:
            self._generate_logout(str(exc))
            raise _Disconnect(f"application refused the Logon: {exc}") from exc

    def _next_queued(self) -> None:
        while not self._disconnecting:
            expected = self.store.next_target_seq()
            for stale in [s for s in self._queue if s < expected]:
                del self._queue[stale]
            message = self._queue.pop(expected, None)
            if message is None:
                return
            self.log.info("%s: processing queued message %d", self.session_id, expected)
            if message.msg_type in ("A", "2"):
                self._incr_target()
            else:
                self._next(message, queued=True)

    def _valid_logon_state(self, msg_type: str) -> bool:
        if (msg_type == "A" and self.sent_reset) or self.received_reset:
            return True
        if (msg_type == "A" and not self.received_logon) or (msg_type != "A" and self.received_logon):
            return True
        if msg_type == "5" and self.sent_logon:
            return True
        if msg_type != "5" and self.sent_logout:
            return True
        return msg_type in ("4", "3")

    def _is_good_time(self, sending_time: datetime) -> bool:
        if not self.config.check_latency:
            return True
        return abs((self.clock() - sending_time).total_seconds()) <= self.config.max_latency_s

    def _verify(self, message: FixMessage, check_too_high: bool = True, check_too_low: bool = True) -> bool:
        """The checks every message goes through before it is acted on; False: it was handled."""
        msg_type = message.msg_type
        if not self._valid_logon_state(msg_type):
            raise _Disconnect(f"message type {msg_type} not valid in the logon state")
        try:
            sending_time = parse_utc_timestamp(message.get(52, "") or "")
        except ValueError as exc:
            raise _Disconnect("SendingTime missing or malformed") from exc
        if not self._is_good_time(sending_time):
            self._generate_reject(message, SendingTimeAccuracyProblem())
            self._generate_logout()
            return False
        if message.get(49) != self.config.target_comp_id or message.get(56) != self.config.sender_comp_id:
            self._generate_reject(message, CompIdProblem())
            self._generate_logout()
            return False
        seq = message.seq_num
        if (check_too_high or check_too_low) and seq is None:
            raise _Disconnect("MsgSeqNum missing")
        expected = self.store.next_target_seq()
        if check_too_high and seq is not None and seq > expected:
            self._do_target_too_high(message, seq)
            return False
        if check_too_low and seq is not None and seq < expected:
            self._do_target_too_low(message, seq, expected)
            return False
        if (check_too_high or check_too_low) and self.resend_range is not None and seq is not None \
                and seq >= self.resend_range[1]:
            self.log.info("%s: ResendRequest FROM %d TO %d satisfied", self.session_id, *self.resend_range)
            self.resend_range = None
        self.last_received = time.monotonic()
        self.test_requests = 0
        if msg_type in ADMIN_TYPES:
            self.application.from_admin(message, self)
        else:
            self.application.from_app(message, self)
        return True

    def _do_target_too_high(self, message: FixMessage, seq: int) -> None:
        self.log.info("%s: MsgSeqNum too high, expecting %d but received %d", self.session_id,
                      self.store.next_target_seq(), seq)
        self.counters["seq_too_high"] += 1
        self._queue[seq] = message
        if self.resend_range is not None and seq >= self.resend_range[0]:
            return  # a ResendRequest covering this gap is already out
        self._generate_resend_request(seq)

    def _do_target_too_low(self, message: FixMessage, seq: int, expected: int) -> None:
        if message.get(43) != "Y":
            text = f"MsgSeqNum too low, expecting {expected} but received {seq}"
            self._generate_logout(text)
            raise _Disconnect(text)
        self.counters["poss_dup_ignored"] += 1
        if message.msg_type == "4":
            return
        orig = message.get(122)
        if orig is None:
            self._generate_reject(message, RequiredTagMissing(122, "PossDupFlag=Y without OrigSendingTime"))
            return
        try:
            orig_time = parse_utc_timestamp(orig)
            sending_time = parse_utc_timestamp(message.get(52, "") or "")
        except ValueError:
            self._generate_reject(message, SendingTimeAccuracyProblem())
            return
        if orig_time > sending_time:
            self._generate_reject(message, SendingTimeAccuracyProblem())
            self._generate_logout()

    def _check_store_window(self) -> None:
        """A store created in an earlier schedule window starts the new window at sequence 1."""
        if self.schedule is None:
            return
        now = self.clock()
        if self.schedule.is_open(now) and not self.schedule.same_window(self.store.creation_time(), now):
            self.log.info("%s: new session window; resetting sequence numbers", self.session_id)
            self.store.reset()

    # --- admin message handlers -----------------------------------------------------------

    def _next_logon(self, logon: FixMessage) -> None:
        if self.schedule is not None and not self.schedule.is_open(self.clock()):
            raise _Disconnect("Logon outside the session window")
        reset_flag = logon.get(141) == "Y"
        self.received_reset = reset_flag
        if reset_flag:
            self.log.info("%s: Logon with ResetSeqNumFlag=Y; sequences restart at 1", self.session_id)
            if not self.sent_reset:
                self.store.reset()
        if self.initiator and not self.sent_logon and not reset_flag:
            raise _Disconnect("Logon response before our Logon")
        if not self.initiator and self.config.reset_on_logon:
            self.store.reset()
        if not self._verify(logon, False, True):
            return
        self.received_logon = True
        if not self.initiator or (self.received_reset and not self.sent_reset):
            heartbeat = logon.get(108, "")
            self.heartbeat_interval = int(heartbeat) if heartbeat and is_ascii_number(heartbeat) else 0
            self._generate_logon_response(logon)
        self.sent_reset = False
        self.received_reset = False
        seq = logon.seq_num or 0
        if seq > self.store.next_target_seq() and not reset_flag:
            self._do_target_too_high(logon, seq)
        else:
            self._incr_target()
            self._next_queued()
        if self.is_logged_on:
            self.log.info("%s: logged on (HeartBtInt %d)", self.session_id, self.heartbeat_interval)
            self._logged_on_event.set()
            self.application.on_logon(self)

    def _next_heartbeat(self, message: FixMessage) -> None:
        if not self._verify(message):
            return
        self._incr_target()
        self._next_queued()

    def _next_test_request(self, message: FixMessage) -> None:
        if not self._verify(message):
            return
        self._generate_heartbeat(message.get(112, ""))
        self._incr_target()
        self._next_queued()

    def _next_reject(self, message: FixMessage) -> None:
        if not self._verify(message, False, True):
            return
        self.counters["rejects_received"] += 1
        self.log.warning("%s: counterparty rejected our message %s: %s", self.session_id, message.get(45),
                         message.get(58))
        self._incr_target()
        self._next_queued()

    def _next_sequence_reset(self, message: FixMessage) -> None:
        gap_fill = message.get(123) == "Y"
        if not self._verify(message, gap_fill, gap_fill):
            return
        new_seq_text = message.get(36, "") or ""
        new_seq = int(new_seq_text) if is_ascii_number(new_seq_text) else 0
        expected = self.store.next_target_seq()
        self.log.info("%s: SequenceReset%s FROM %d TO %d", self.session_id, "-GapFill" if gap_fill else "",
                      expected, new_seq)
        if new_seq > expected:
            self.store.set_next_target_seq(new_seq)
        elif new_seq < expected:
            self._generate_reject(message, IncorrectTagValue(None, f"NewSeqNo {new_seq} below {expected}"))

    def _next_logout(self, message: FixMessage) -> None:
        if not self._verify(message, False, False):
            return
        if not self.sent_logout:
            self.log.info("%s: received Logout (%s); answering", self.session_id, message.get(58, ""))
            self._generate_logout()
        else:
            self.log.info("%s: received the Logout answer", self.session_id)
        self._incr_target()
        if self.config.reset_on_logout:
            self.store.reset()
        self.disconnect()

    def _next_resend_request(self, message: FixMessage) -> None:
        if not self._verify(message, False, False):
            return
        begin = int(message.get(7, "0") or 0)
        end = int(message.get(16, "0") or 0)
        next_sender = self.store.next_sender_seq()
        self.log.info("%s: received ResendRequest FROM %d TO %d", self.session_id, begin, end)
        self.counters["resend_requests_received"] += 1
        if end == 0 or end >= next_sender:
            end = next_sender - 1
        begin = max(begin, 1)
        if begin > end:
            self.log.warning("%s: ResendRequest FROM %d is past our last message %d; nothing to resend",
                             self.session_id, begin, next_sender - 1)
        elif not self.config.persist_messages:
            self._generate_sequence_reset(begin, min(end + 1, next_sender))
        else:
            self._resend(begin, end, next_sender)
        seq = message.seq_num
        if seq is not None and seq == self.store.next_target_seq():
            self._incr_target()

    def _resend(self, begin: int, end: int, next_sender: int) -> None:
        gap_start = 0
        current = begin
        last_seq = 0
        for seq, raw in self.store.get_sent(begin, end):
            if current != seq and not gap_start:
                gap_start = current
            try:
                stored = decode(raw, validate=False)
            except InvalidMessage:
                self.log.error("%s: stored message %d is unreadable; gap-filling it", self.session_id, seq)
                stored = FixMessage([(35, "0")])
            msg_type = stored.msg_type
            last_seq = seq
            if msg_type in ADMIN_TYPES:
                if not gap_start:
                    gap_start = seq
            else:
                resent = self._prepare_resend(stored)
                if resent is not None:
                    if gap_start:
                        self._generate_sequence_reset(gap_start, seq)
                    self._write_raw(encode(resent.fields, self.config.begin_string))
                    self.counters["resent"] += 1
                    gap_start = 0
                elif not gap_start:
                    gap_start = seq
            current = seq + 1
        if gap_start:
            self._generate_sequence_reset(gap_start, last_seq + 1)
        if end > last_seq:
            self._generate_sequence_reset(max(begin, last_seq + 1) if last_seq else begin,
                                          min(end + 1, next_sender))

    def _prepare_resend(self, stored: FixMessage) -> FixMessage | None:
        """The stored message with PossDupFlag=Y, OrigSendingTime and a new SendingTime, or
        ``None`` if the application declines to resend it."""
        header: list[tuple[int, str]] = []
        body: list[tuple[int, str]] = []
        original_time = ""
        in_header = True
        for tag, value in stored.fields[3:-1]:  # skip 8, 9, 35 and 10
            if in_header and self.dictionary.is_header_field(tag):
                if tag == 52:
                    original_time = value
                elif tag not in (43, 122):
                    header.append((tag, value))
            else:
                in_header = False
                body.append((tag, value))
        header += [(43, "Y"), (52, self._now_text()), (122, original_time)]
        header.sort(key=BY_TAG)
        message = FixMessage([(35, stored.msg_type), *header, *body])
        try:
            self.application.to_app(message, self)
        except DoNotSend:
            return None
        return message

    def _next_app(self, message: FixMessage) -> None:
        try:
            if not self._verify(message):
                return
        except UnsupportedMessageType:
            self._generate_business_reject(message, 3)
            return
        except BusinessReject as exc:
            self._generate_business_reject(message, exc.reason, exc.text, exc.tag)
            return
        except (_Disconnect, RejectLogon, SessionRejectError):
            raise
        except Exception:
            # An application bug must not kill the session nor make it re-request the message.
            self.counters["application_errors"] += 1
            self.log.exception("%s: application failed on message %s", self.session_id, message.get(34))
        self._incr_target()

    _handlers: dict[str, Callable[[Session, FixMessage], None]] = {
        "A": _next_logon,
        "0": _next_heartbeat,
        "1": _next_test_request,
        "2": _next_resend_request,
        "3": _next_reject,
        "4": _next_sequence_reset,
        "5": _next_logout,
    }

    # --- timer --------------------------------------------------------------------------------

    def on_timer(self) -> None:
        """Heartbeat, TestRequest, and timeout checks (called every ``timer_interval_s``)."""
        if not self.connected or self._disconnecting:
            return
        now = time.monotonic()
        if self.schedule is not None and not self.schedule.is_open(self.clock()):
            if self.is_logged_on and not self.sent_logout:
                self.log.info("%s: session window closed; logging out", self.session_id)
                self._generate_logout("Session window closed")
            elif not self.is_logged_on:
                self.disconnect()
                return
        if not self.received_logon:
            if now - self.last_received >= self.config.logon_timeout_s:
                self.log.warning("%s: timed out waiting for the Logon", self.session_id)
                self.disconnect()
            return
        if self.sent_logout and now - self.last_sent >= self.config.logout_timeout_s:
            self.log.warning("%s: timed out waiting for the Logout answer", self.session_id)
            self.disconnect()
            return
        interval = self.heartbeat_interval
        if interval <= 0:
            return
        since_sent = now - self.last_sent
        since_received = now - self.last_received
        if since_sent < interval and since_received < interval:
            return
        if since_received >= 2.4 * interval:
            self.log.warning("%s: no message for %.1f s; disconnecting", self.session_id, since_received)
            self.disconnect()
        elif since_received >= 1.2 * (self.test_requests + 1) * interval:
            self._generate_test_request("TEST")
            self.test_requests += 1
        elif since_sent >= interval and not self.test_requests:
            self._generate_heartbeat()
