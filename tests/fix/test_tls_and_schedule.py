"""TLS on both sides (trustme CA) and the session schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme

from adapters.fix.config import ScheduleConfig, SessionConfig, TlsConfig
from adapters.fix.dictionary import DataDictionary
from adapters.fix.schedule import SessionSchedule
from adapters.fix.session import Session
from adapters.fix.store import MemoryStore
from adapters.fix.transport import FixAcceptor, FixInitiator
from tests.fix.test_session_loopback import Pair, Recorder, configs, execution_report, order, run, until


@pytest.fixture
def tls_files(tmp_path: Path) -> dict[str, str]:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("hftmm-client")
    files = {"ca": tmp_path / "ca.pem", "server": tmp_path / "server.pem", "client": tmp_path / "client.pem"}
    ca.cert_pem.write_to_path(files["ca"])
    server.private_key_and_cert_chain_pem.write_to_path(files["server"])
    client.private_key_and_cert_chain_pem.write_to_path(files["client"])
    return {k: str(v) for k, v in files.items()}


def test_tls_session_with_client_certificates(dictionary: DataDictionary, tls_files: dict[str, str]) -> None:
    async def scenario() -> None:
        acceptor_config, _ = configs(0)
        acceptor_app, initiator_app = Recorder(), Recorder()
        venue = Session(acceptor_config, acceptor_app, MemoryStore(), dictionary)
        acceptor = FixAcceptor([venue], "127.0.0.1", 0, tls=TlsConfig(
            cert_file=tls_files["server"], ca_file=tls_files["ca"], require_client_cert=True))
        await acceptor.start()
        _, initiator_config = configs(acceptor.port, tls=TlsConfig(
            ca_file=tls_files["ca"], cert_file=tls_files["client"], server_hostname="localhost"))
        client = Session(initiator_config, initiator_app, MemoryStore(), dictionary)
        initiator = FixInitiator(client)
        await initiator.start()
        await client.wait_logged_on(5)
        client.send("D", order("C1"))
        await until(lambda: len(acceptor_app.received) == 1)
        venue.send("8", execution_report("C1", "E1"))
        await until(lambda: len(initiator_app.received) == 1)
        await initiator.stop()
        await acceptor.stop()

    run(scenario)


def test_tls_client_without_the_ca_cannot_connect(dictionary: DataDictionary, tls_files: dict[str, str],
                                                   tmp_path: Path) -> None:
    other_ca = trustme.CA()
    other_ca.cert_pem.write_to_path(tmp_path / "other.pem")

    async def scenario() -> None:
        acceptor_config, _ = configs(0)
        venue = Session(acceptor_config, Recorder(), MemoryStore(), dictionary)
        acceptor = FixAcceptor([venue], "127.0.0.1", 0, tls=TlsConfig(cert_file=tls_files["server"]))
        await acceptor.start()
        _, initiator_config = configs(acceptor.port, tls=TlsConfig(ca_file=str(tmp_path / "other.pem")))
        client = Session(initiator_config, Recorder(), MemoryStore(), dictionary)
        initiator = FixInitiator(client)
        await initiator.start()
        await until(lambda: initiator.connect_failures >= 1, what="a failed handshake")
        assert not client.is_logged_on and not venue.is_logged_on
        await initiator.stop()
        await acceptor.stop()

    run(scenario)


def test_tls_context_needs_a_certificate() -> None:
    from adapters.fix.transport import server_ssl_context

    with pytest.raises(ValueError, match="cert_file"):
        server_ssl_context(TlsConfig())


ET_DAY = ScheduleConfig(start_time="09:30:00", end_time="16:00:00", timezone="America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("moment", "is_open"), [
    ("2026-01-05 14:29:59", False),  # Monday 09:29:59 EST
    ("2026-01-05 14:30:00", True),
    ("2026-01-05 20:59:59", True),
    ("2026-01-05 21:00:00", False),  # 16:00 EST
    ("2026-07-06 13:30:00", True),  # 09:30 EDT
    ("2026-07-06 14:29:00", True),
    ("2026-07-06 20:00:00", False),
    ("2026-01-10 15:00:00", False),  # Saturday
])
def test_schedule_window_in_eastern_time(moment: str, is_open: bool) -> None:
    assert SessionSchedule(ET_DAY).is_open(utc(moment)) is is_open


def test_schedule_spanning_midnight() -> None:
    schedule = SessionSchedule(ScheduleConfig(start_time="18:00:00", end_time="17:00:00",
                                              timezone="America/New_York", weekdays=(6, 0, 1, 2, 3)))
    sunday_evening, monday_noon = utc("2026-01-04 23:30:00"), utc("2026-01-05 17:00:00")
    assert schedule.is_open(sunday_evening) and schedule.is_open(monday_noon)
    assert schedule.same_window(sunday_evening, monday_noon)
    assert not schedule.is_open(utc("2026-01-05 22:30:00"))  # Monday 17:30 ET: the daily break
    assert not schedule.same_window(monday_noon, utc("2026-01-05 23:30:00"))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_acceptor_refuses_logon_outside_the_window(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        clock = Clock(utc("2026-01-05 12:00:00"))  # 07:00 ET
        async with Pair(dictionary, acceptor_clock=clock, acceptor_settings={"schedule": ET_DAY},
                        check_latency=False, wait_logon=False) as pair:
            venue, client = pair.acceptor_session, pair.initiator_session
            await until(lambda: venue.counters["disconnects"] >= 1, what="the refusal")
            assert not client.is_logged_on
            assert venue.counters["sent"] == 0  # no Logon answer
            clock.now = utc("2026-01-05 15:00:00")  # 10:00 ET: the next attempt succeeds
            await client.wait_logged_on(5)

    run(scenario)


def test_new_window_starts_fresh_sequence_numbers(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        store = MemoryStore()
        store.set_next_sender_seq(50)
        store.set_next_target_seq(60)
        store._created = utc("2026-01-02 15:00:00")  # noqa: SLF001 - a store from last Friday's session
        clock = Clock(utc("2026-01-05 15:00:00"))
        async with Pair(dictionary, acceptor_store=store, acceptor_clock=clock,
                        acceptor_settings={"schedule": ET_DAY}, check_latency=False) as pair:
            assert (pair.acceptor_session.next_sender_seq, pair.acceptor_session.next_target_seq) == (2, 2)

    run(scenario)


def test_logged_on_session_logs_out_when_the_window_closes(dictionary: DataDictionary) -> None:
    async def scenario() -> None:
        clock = Clock(utc("2026-01-05 20:59:00"))
        async with Pair(dictionary, acceptor_clock=clock, acceptor_settings={"schedule": ET_DAY},
                        initiator_settings={"reconnect_interval_s": 30.0}, check_latency=False) as pair:
            venue, client = pair.acceptor_session, pair.initiator_session
            clock.now = utc("2026-01-05 21:00:01")
            await until(lambda: not client.is_logged_on and not venue.connected, what="the logout")
            assert venue.counters["disconnects"] == 1
            assert any(m.get(58) == "Session window closed" for m in pair.initiator_app.admin)

    run(scenario)
