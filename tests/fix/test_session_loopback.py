"""Initiator <-> acceptor over loopback: logon, heartbeats, test requests, resend and gap fill,
restart from the file store, duplicate connections, rejects, application callbacks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import msgspec
import pytest

from adapters.fix.application import Application
from adapters.fix.codec import FixMessage, encode
from adapters.fix.config import SessionConfig
from adapters.fix.dictionary import DataDictionary
from adapters.fix.errors import BusinessReject, DoNotSend, RejectLogon, SessionNotLoggedOn
from adapters.fix.session import Session, utc_now
from adapters.fix.store import FileStore, MemoryStore, MessageStore
from adapters.fix.transport import FixAcceptor, FixInitiator
from tests.fix.proxy import FixProxy

T = "20260105-14:30:00"


def order(cl_ord_id: str) -> list[tuple[int, str]]:
    return [(11, cl_ord_id), (21, "1"), (55, "AAPL"), (54, "1"), (60, T), (38, "100"), (40, "2"), (44, "101.25")]


def execution_report(cl_ord_id: str, exec_id: str) -> list[tuple[int, str]]:
    return [(37, "O-" + cl_ord_id), (11, cl_ord_id), (17, exec_id), (150, "0"), (39, "0"), (55, "AAPL"),
            (54, "1"), (38, "100"), (151, "100"), (14, "0"), (6, "0")]


class Recorder(Application):
    """Accepts every application message and keeps it."""

    def __init__(self) -> None:
        self.received: list[FixMessage] = []
        self.admin: list[FixMessage] = []
        self.logons = 0
        self.logouts = 0

    def on_logon(self, session: Session) -> None:
        self.logons += 1

    def on_logout(self, session: Session) -> None:
        self.logouts += 1

    def from_admin(self, message: FixMessage, session: Session) -> None:
        self.admin.append(message)

    def from_app(self, message: FixMessage, session: Session) -> None:
        self.received.append(message)


async def until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def configs(port: int, **overrides: object) -> tuple[SessionConfig, SessionConfig]:
    common = {"heartbeat_interval": 30, "timer_interval_s": 0.1, "reconnect_interval_s": 0.2} | overrides
    acceptor = SessionConfig(sender_comp_id="VENUE", target_comp_id="HFTMM", role="acceptor", **common)
    initiator = SessionConfig(sender_comp_id="HFTMM", target_comp_id="VENUE", role="initiator",
                              port=port, **common)
    return acceptor, initiator


class Pair:
    """An acceptor and an initiator session, optionally through a proxy.

    ``overrides`` go into both configs, ``acceptor_settings`` / ``initiator_settings`` into one;
    ``acceptor_clock`` replaces the venue's wall clock; ``wait_logon=False`` returns at once.
    """

    def __init__(self, dictionary: DataDictionary, *, acceptor_store: MessageStore | None = None,
                 initiator_store: MessageStore | None = None, proxy_drop: object = None,
                 acceptor_app: Application | None = None, initiator_app: Application | None = None,
                 acceptor_clock: Callable[[], datetime] | None = None, acceptor_settings: dict[str, object] | None = None,
                 initiator_settings: dict[str, object] | None = None, wait_logon: bool = True,
                 **overrides: object) -> None:
        self.dictionary = dictionary
        self.acceptor_store = acceptor_store or MemoryStore()
        self.initiator_store = initiator_store or MemoryStore()
        self.acceptor_app = acceptor_app or Recorder()
        self.initiator_app = initiator_app or Recorder()
        self.proxy_drop = proxy_drop
        self.acceptor_clock = acceptor_clock or utc_now
        self.acceptor_settings = acceptor_settings or {}
        self.initiator_settings = initiator_settings or {}
        self.wait_logon = wait_logon
        self.overrides = overrides
        self.use_proxy = proxy_drop is not None

    async def __aenter__(self) -> Pair:
        acceptor_config, _ = configs(0, **self.overrides)
        acceptor_config = msgspec.structs.replace(acceptor_config, **self.acceptor_settings)
        self.acceptor_session = Session(acceptor_config, self.acceptor_app, self.acceptor_store, self.dictionary,
                                        clock=self.acceptor_clock)
        self.acceptor = FixAcceptor([self.acceptor_session], "127.0.0.1", 0)
        await self.acceptor.start()
        port = self.acceptor.port
        self.proxy: FixProxy | None = None
        if self.use_proxy:
            self.proxy = FixProxy(port, self.proxy_drop)  # type: ignore[arg-type]
            await self.proxy.start()
            port = self.proxy.port
        _, initiator_config = configs(port, **self.overrides)
        initiator_config = msgspec.structs.replace(initiator_config, **self.initiator_settings)
        self.initiator_session = Session(initiator_config, self.initiator_app, self.initiator_store, self.dictionary)
        self.initiator = FixInitiator(self.initiator_session)
        await self.initiator.start()
        if self.wait_logon:
            await self.initiator_session.wait_logged_on(5)
            await until(lambda: self.acceptor_session.is_logged_on, what="acceptor logon")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.initiator.stop()
        await self.acceptor.stop()
        if self.proxy is not None:
            await self.proxy.stop()


def run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro(), 60))


def test_logon_order_and_execution_report(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        async with Pair(dictionary) as pair:
            a, i = pair.acceptor_session, pair.initiator_session
            seq = i.send("D", order("C1"))
            assert seq == 2
            await until(lambda: len(pair.acceptor_app.received) == 1)
            got = pair.acceptor_app.received[0]
            assert got.msg_type == "D" and got.get(11) == "C1" and got.get(44) == "101.25"
            a.send("8", execution_report("C1", "E1"))
            await until(lambda: len(pair.initiator_app.received) == 1)
            assert pair.initiator_app.received[0].get(17) == "E1"
            assert (a.next_sender_seq, a.next_target_seq) == (3, 3)
            assert (i.next_sender_seq, i.next_target_seq) == (3, 3)
            assert pair.initiator_app.logons == pair.acceptor_app.logons == 1
        assert pair.initiator_app.logouts == pair.acceptor_app.logouts == 1
        assert not i.is_logged_on and not a.is_logged_on
        # the Logout exchange consumed one number each way
        assert (i.next_sender_seq, a.next_target_seq) == (4, 4)

    run(scenario)


def test_send_refuses_session_header_fields(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        async with Pair(dictionary) as pair:
            with pytest.raises(ValueError, match="header field 34"):
                pair.initiator_session.send("D", order("C1"), header=[(34, "99")])
            seq = pair.initiator_session.send("D", order("C1"), header=[(115, "DESK1"), (97, "Y")])
            await until(lambda: len(pair.acceptor_app.received) == 1)
            got = pair.acceptor_app.received[0]
            assert (got.seq_num, got.get(115), got.get(97)) == (seq, "DESK1", "Y")
            assert [t for t, _ in got.fields[:9]] == [8, 9, 35, 34, 49, 52, 56, 97, 115]

    run(scenario)


def test_send_when_not_logged_on_is_refused(dictionary: DataDictionary) -> None:
    config, _ = configs(0)
    session = Session(config, Recorder(), MemoryStore(), dictionary)
    with pytest.raises(SessionNotLoggedOn):
        session.send("D", order("C1"))
    assert session.next_sender_seq == 1


def test_reset_on_logon_restarts_at_one(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        store_a, store_i = MemoryStore(), MemoryStore()
        for s in (store_a, store_i):
            s.set_next_sender_seq(40)
            s.set_next_target_seq(40)
        async with Pair(dictionary, acceptor_store=store_a, initiator_store=store_i, reset_on_logon=True,
                        proxy_drop=lambda d, m: False) as pair:
            logon = pair.proxy.of("out", "A")[0]  # type: ignore[union-attr]
            assert logon.get(141) == "Y" and logon.seq_num == 1
            answer = pair.proxy.of("in", "A")[0]  # type: ignore[union-attr]
            assert answer.get(141) == "Y" and answer.seq_num == 1
            assert pair.initiator_session.next_target_seq == 2

    run(scenario)


def test_idle_session_exchanges_heartbeats(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        async with Pair(dictionary, heartbeat_interval=1, proxy_drop=lambda d, m: False) as pair:
            await asyncio.sleep(2.6)
            assert len(pair.proxy.of("out", "0")) >= 2  # type: ignore[union-attr]
            assert len(pair.proxy.of("in", "0")) >= 2  # type: ignore[union-attr]
            assert pair.proxy.of("out", "1") == [] and pair.proxy.of("in", "1") == []  # type: ignore[union-attr]
            assert pair.initiator_session.is_logged_on and pair.acceptor_session.is_logged_on

    run(scenario)


def test_silent_counterparty_gets_test_request_then_disconnect(dictionary: DataDictionary) -> None:
    silent = {"on": False}

    async def scenario() -> None:
        async with Pair(dictionary, heartbeat_interval=1,
                        proxy_drop=lambda d, m: silent["on"] and d == "in") as pair:
            i = pair.initiator_session
            silent["on"] = True  # from now on the venue's messages never arrive
            await until(lambda: len(pair.proxy.of("out", "1")) >= 1, 3.0, "a TestRequest")  # type: ignore[union-attr]
            request = pair.proxy.of("out", "1")[0]  # type: ignore[union-attr]
            assert request.get(112) == "TEST"
            # the venue answered (its Heartbeat was dropped); after 2.4 x HeartBtInt we give up
            assert any(m.get(112) == "TEST" for m in pair.proxy.of("in", "0"))  # type: ignore[union-attr]
            await until(lambda: i.counters["disconnects"] >= 1, 3.0, "the disconnect")
            silent["on"] = False
            await i.wait_logged_on(5)  # the initiator reconnects by itself

    run(scenario)


def test_gap_is_resent_with_possdup_and_admin_messages_gap_filled(dictionary: DataDictionary) -> None:
    def drop(direction: str, message: FixMessage) -> bool:
        # lose the venue's messages 3 (a Heartbeat) and 4 (an ExecutionReport), first sending only
        return direction == "in" and message.seq_num in (3, 4) and message.get(43) != "Y" and message.msg_type != "4"

    async def scenario() -> None:
        async with Pair(dictionary, proxy_drop=drop) as pair:
            a, i = pair.acceptor_session, pair.initiator_session
            a.send("8", execution_report("C1", "E1"))  # 2
            await until(lambda: len(pair.initiator_app.received) == 1)
            i.send_test_request("PING")  # the venue answers with Heartbeat 3 (dropped)
            await until(lambda: a.next_sender_seq == 4)
            a.send("8", execution_report("C1", "E2"))  # 4 (dropped)
            a.send("8", execution_report("C1", "E3"))  # 5: the initiator sees the gap
            await until(lambda: len(pair.initiator_app.received) == 3, what="the resent messages")
            received = pair.initiator_app.received
            assert [m.get(17) for m in received] == ["E1", "E2", "E3"]
            assert received[1].get(43) == "Y" and received[1].get(122) is not None  # a PossDup resend
            assert received[1].get(122) <= received[1].get(52)  # type: ignore[operator]
            resend_request = pair.proxy.of("out", "2")[0]  # type: ignore[union-attr]
            assert (resend_request.get(7), resend_request.get(16)) == ("3", "0")
            gap_fill = pair.proxy.of("in", "4")[0]  # type: ignore[union-attr]
            assert (gap_fill.seq_num, gap_fill.get(36), gap_fill.get(123), gap_fill.get(43)) == (3, "4", "Y", "Y")
            await until(lambda: i.next_target_seq == 6)
            assert i.counters["resend_requests_sent"] == 1 and a.counters["resend_requests_received"] == 1
            assert i.counters["poss_dup_ignored"] >= 1  # the resent 5 duplicated the queued original

    run(scenario)


def test_restart_continues_sequences_from_file_store(dictionary: DataDictionary, tmp_path: Path) -> None:
    async def first_run() -> None:
        async with Pair(dictionary, acceptor_store=FileStore(tmp_path / "a", "venue"),
                        initiator_store=FileStore(tmp_path / "i", "client")) as pair:
            for n in range(3):
                pair.initiator_session.send("D", order(f"C{n}"))
            await until(lambda: len(pair.acceptor_app.received) == 3)
            pair.acceptor_session.send("8", execution_report("C0", "E0"))
            await until(lambda: len(pair.initiator_app.received) == 1)
        pair.acceptor_store.close()
        pair.initiator_store.close()

    async def second_run() -> None:
        store_a, store_i = FileStore(tmp_path / "a", "venue"), FileStore(tmp_path / "i", "client")
        # first run: initiator sent Logon 1, orders 2-4, Logout 5; venue sent Logon 1, report 2, Logout 3
        assert (store_i.next_sender_seq(), store_i.next_target_seq()) == (6, 4)
        assert (store_a.next_sender_seq(), store_a.next_target_seq()) == (4, 6)
        assert [s for s, _ in store_i.get_sent(1, 100)] == [1, 2, 3, 4, 5]
        async with Pair(dictionary, acceptor_store=store_a, initiator_store=store_i,
                        proxy_drop=lambda d, m: False) as pair:
            assert pair.proxy.of("out", "A")[0].seq_num == 6  # type: ignore[union-attr]
            assert pair.proxy.of("in", "A")[0].seq_num == 4  # type: ignore[union-attr]
            pair.initiator_session.send("D", order("C9"))
            await until(lambda: len(pair.acceptor_app.received) == 1)
            assert pair.acceptor_app.received[0].seq_num == 7
            assert pair.proxy.of("out", "2") == [] and pair.proxy.of("in", "2") == []  # type: ignore[union-attr]
        store_a.close()
        store_i.close()

    run(first_run)
    run(second_run)


def test_messages_missed_while_down_are_recovered_after_restart(dictionary: DataDictionary, tmp_path: Path) -> None:
    """The client crashes after the venue sent two reports it never processed (its store still
    expects them): on the next logon it asks for them and receives them as PossDup resends."""

    async def scenario() -> None:
        store_i = FileStore(tmp_path / "i", "client")
        async with Pair(dictionary, initiator_store=store_i) as pair:
            pair.acceptor_session.send("8", execution_report("C1", "E1"))
            pair.acceptor_session.send("8", execution_report("C1", "E2"))
            await until(lambda: len(pair.initiator_app.received) == 2)
            store_i.set_next_target_seq(2)  # as if the process died before recording them
            acceptor_store = pair.acceptor_store
            await pair.initiator.stop()
            store_i.set_next_target_seq(2)  # the Logout exchange moved it; restore the "crash" state
            recorder = Recorder()
            session = Session(pair.initiator_session.config, recorder, store_i, dictionary)
            initiator = FixInitiator(session)
            await initiator.start()
            await session.wait_logged_on(5)
            await until(lambda: len(recorder.received) == 2, what="the resent reports")
            assert [m.get(17) for m in recorder.received] == ["E1", "E2"]
            assert all(m.get(43) == "Y" for m in recorder.received)
            await until(lambda: session.next_target_seq == acceptor_store.next_sender_seq())
            await initiator.stop()
        store_i.close()

    run(scenario)


def test_duplicate_connection_is_refused_and_first_keeps_running(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        async with Pair(dictionary) as pair:
            reader, writer = await asyncio.open_connection("127.0.0.1", pair.acceptor.port)
            logon = encode([(35, "A"), (34, "1"), (49, "HFTMM"), (52, T), (56, "VENUE"), (98, "0"), (108, "30")])
            writer.write(logon)
            assert await asyncio.wait_for(reader.read(100), 5) == b""  # closed without an answer
            writer.close()
            assert pair.acceptor.refused == 1
            assert pair.acceptor_session.is_logged_on
            pair.initiator_session.send("D", order("C1"))
            await until(lambda: len(pair.acceptor_app.received) == 1)

    run(scenario)


class PickyVenue(Recorder):
    def from_app(self, message: FixMessage, session: Session) -> None:
        if message.get(55) == "ZZZZ":
            raise BusinessReject(2, "Unknown Security", 55)
        super().from_app(message, session)


class NoResendClient(Recorder):
    """Declines to resend order C1 (a stale order must not reach the venue late)."""

    def __init__(self) -> None:
        super().__init__()
        self.resend_attempts = 0

    def to_app(self, message: FixMessage, session: Session) -> None:
        if message.get(43) == "Y" and message.get(11) == "C1":
            self.resend_attempts += 1
            raise DoNotSend("stale order")


def test_business_reject_from_application(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        async with Pair(dictionary, acceptor_app=PickyVenue(), proxy_drop=lambda d, m: False) as pair:
            body = [(f[0], "ZZZZ" if f[0] == 55 else f[1]) for f in order("C1")]
            seq = pair.initiator_session.send("D", body)
            await until(lambda: bool(pair.proxy.of("in", "j")))  # type: ignore[union-attr]
            reject = pair.proxy.of("in", "j")[0]  # type: ignore[union-attr]
            assert (reject.get(45), reject.get(372), reject.get(380)) == (str(seq), "D", "2")
            assert reject.get(58) == "Unknown Security (55)"
            assert pair.acceptor_session.next_target_seq == seq + 1
            pair.initiator_session.send("D", order("C2"))
            await until(lambda: len(pair.acceptor_app.received) == 1)

    run(scenario)


def test_do_not_send_on_resend_becomes_gap_fill(dictionary: DataDictionary) -> None:
    lose = {"on": True}

    def drop(direction: str, message: FixMessage) -> bool:
        return lose["on"] and direction == "out" and message.msg_type == "D"

    async def scenario() -> None:
        async with Pair(dictionary, initiator_app=NoResendClient(), proxy_drop=drop) as pair:
            pair.initiator_session.send("D", order("C1"))  # 2, lost
            await asyncio.sleep(0.05)
            lose["on"] = False
            pair.initiator_session.send("D", order("C2"))  # 3: the venue asks for 2
            await until(lambda: pair.acceptor_session.next_target_seq == 4, what="gap fill")
            # C2 arrives once: the original (queued while 2 was missing), its PossDup resend ignored
            assert [m.get(11) for m in pair.acceptor_app.received] == ["C2"]
            assert pair.acceptor_session.counters["poss_dup_ignored"] == 1
            assert pair.initiator_app.resend_attempts == 1  # type: ignore[attr-defined]
            gap_fill = pair.proxy.of("out", "4")[0]  # type: ignore[union-attr]
            assert (gap_fill.seq_num, gap_fill.get(36)) == (2, "3")

    run(scenario)


def test_garbage_and_invalid_messages_are_counted_not_fatal(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        async with Pair(dictionary) as pair:
            a = pair.acceptor_session
            # bypass the initiator: write straight into the acceptor's connection
            writer = pair.initiator_session._write  # noqa: SLF001 - the test injects raw bytes
            assert writer is not None
            good = encode([(35, "0"), (34, str(pair.initiator_session.next_sender_seq)), (49, "HFTMM"),
                           (52, pair.initiator_session._now_text()), (56, "VENUE")])  # noqa: SLF001
            writer(good[:-4] + b"999\x01")  # bad checksum
            writer(b"8=FIX.4.4\x019=zz\x01garbage")  # unusable BodyLength
            await until(lambda: a.counters["invalid_BadChecksum"] == 1 and a.counters["invalid_GarbledMessage"] == 1)
            assert a.is_logged_on
            pair.initiator_session.send("D", [(11, "C1"), (40, "1"), (54, "Z"), (60, T)])  # Side Z invalid
            await until(lambda: a.counters["rejects_sent"] == 1)
            pair.initiator_session.send("D", order("C2"))
            await until(lambda: len(pair.acceptor_app.received) == 1)
            assert pair.initiator_session.counters["rejects_received"] == 1

    run(scenario)


def test_unvalidated_garbage_value_disconnects_instead_of_crashing(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        async with Pair(dictionary, validate_messages=False) as pair:
            a = pair.acceptor_session
            writer = pair.initiator_session._write  # noqa: SLF001 - the test injects raw bytes
            assert writer is not None
            seq = pair.initiator_session.next_sender_seq
            writer(encode([(35, "2"), (34, str(seq)), (49, "HFTMM"), (52, pair.initiator_session._now_text()),  # noqa: SLF001
                           (56, "VENUE"), (7, "x"), (16, "0")]))  # BeginSeqNo not a number
            await until(lambda: a.counters["processing_errors"] == 1, what="the processing error")
            await until(lambda: a.counters["disconnects"] == 1)
            await pair.initiator_session.wait_logged_on(5)  # the initiator logs on again

    run(scenario)


class CheckingVenue(Recorder):
    """Checks Password (554) on the Logon."""

    def from_admin(self, message: FixMessage, session: Session) -> None:
        if message.msg_type == "A" and message.get(554) != "s3cret":
            raise RejectLogon("bad password")
        super().from_admin(message, session)


class PasswordClient(Recorder):
    def __init__(self, password: str) -> None:
        super().__init__()
        self.password = password

    def to_admin(self, message: FixMessage, session: Session) -> None:
        if message.msg_type == "A":
            message.fields += [(553, "hftmm"), (554, self.password)]


def test_logon_credentials_added_in_to_admin_and_checked_in_from_admin(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        async with Pair(dictionary, acceptor_app=CheckingVenue(), initiator_app=PasswordClient("s3cret")) as pair:
            assert pair.acceptor_app.admin[0].get(553) == "hftmm"

        client = PasswordClient("wrong")
        async with Pair(dictionary, acceptor_app=CheckingVenue(), initiator_app=client,
                        proxy_drop=lambda d, m: False, wait_logon=False) as pair:
            await until(lambda: bool(pair.proxy.of("in", "5")), what="the Logout")  # type: ignore[union-attr]
            assert pair.proxy.of("in", "5")[0].get(58) == "bad password"  # type: ignore[union-attr]
            assert pair.proxy.of("in", "A") == []  # type: ignore[union-attr]
            assert not pair.initiator_session.is_logged_on and client.logons == 0

    run(scenario)


def test_initiator_gives_up_on_a_silent_acceptor(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        accepted: list[asyncio.StreamWriter] = []

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(writer)

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        _, config = configs(int(server.sockets[0].getsockname()[1]), logon_timeout_s=0.5,
                            reconnect_interval_s=30.0)
        session = Session(config, Recorder(), MemoryStore(), dictionary)
        initiator = FixInitiator(session)
        await initiator.start()
        await until(lambda: session.counters["disconnects"] == 1 and not session.connected, 3.0, "the logon timeout")
        assert session.sent_logon is False  # state reset after the disconnect
        await initiator.stop(timeout=0.5)
        server.close()
        for writer in accepted:
            writer.close()

    run(scenario)


def test_without_persisted_messages_a_resend_request_gets_one_gap_fill(dictionary: DataDictionary) -> None:
    def drop(direction: str, message: FixMessage) -> bool:
        return direction == "in" and message.seq_num == 2 and message.get(43) != "Y" and message.msg_type == "8"

    async def scenario() -> None:
        async with Pair(dictionary, proxy_drop=drop, acceptor_settings={"persist_messages": False}) as pair:
            a, i = pair.acceptor_session, pair.initiator_session
            a.send("8", execution_report("C1", "E1"))  # 2, lost
            a.send("8", execution_report("C1", "E2"))  # 3
            await until(lambda: i.next_target_seq == 4, what="the gap fill")
            gap_fill = pair.proxy.of("in", "4")[0]  # type: ignore[union-attr]
            assert (gap_fill.seq_num, gap_fill.get(36)) == (2, "4")
            # without a store the venue cannot resend: the gap fill covers 2 and 3, the queued 3 is dropped
            assert [m.get(17) for m in pair.initiator_app.received] == []
            assert a.store.get_sent(1, 10) == []

    run(scenario)


def test_resend_request_beyond_our_last_message_is_ignored(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        async with Pair(dictionary, proxy_drop=lambda d, m: False) as pair:
            i = pair.initiator_session
            writer = i._write  # noqa: SLF001 - the test injects a raw ResendRequest
            assert writer is not None
            writer(encode([(35, "2"), (34, str(i.next_sender_seq)), (49, "HFTMM"), (52, i._now_text()),  # noqa: SLF001
                           (56, "VENUE"), (7, "100"), (16, "0")]))
            i.store.set_next_sender_seq(i.next_sender_seq + 1)
            await until(lambda: pair.acceptor_session.counters["resend_requests_received"] == 1)
            i.send("D", order("C1"))
            await until(lambda: len(pair.acceptor_app.received) == 1)
            assert pair.proxy.of("in", "4") == [] and pair.acceptor_session.is_logged_on  # type: ignore[union-attr]

    run(scenario)


def test_slow_consumer_is_cut_off_with_memory_bounded(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        acceptor_config, _ = configs(0, max_write_buffer_bytes=1 << 20)
        venue = Session(acceptor_config, Recorder(), MemoryStore(), dictionary)
        acceptor = FixAcceptor([venue], "127.0.0.1", 0)
        await acceptor.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", acceptor.port)
        writer.write(encode([(35, "A"), (34, "1"), (49, "HFTMM"), (52, venue._now_text()),  # noqa: SLF001
                             (56, "VENUE"), (98, "0"), (108, "30")]))
        await until(lambda: venue.is_logged_on)
        text = "x" * 1000
        sent = 0
        while sent < 100_000:  # the client never reads
            try:
                venue.send("B", [(148, "news"), (33, "1"), (58, text)])
            except SessionNotLoggedOn:
                break
            sent += 1
            if sent % 500 == 0:
                await asyncio.sleep(0)
        assert venue.counters["slow_consumer"] == 1
        assert sent < 100_000
        await until(lambda: not venue.connected)
        writer.close()
        await acceptor.stop()

    run(scenario)
