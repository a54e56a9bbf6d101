"""Message stores: file store persistence and crash recovery, Redis store on a real redis-server,
and a session that fails over to a second process through Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.fix.codec import encode
from adapters.fix.dictionary import DataDictionary
from adapters.fix.errors import StoreError
from adapters.fix.session import Session
from adapters.fix.store import FileStore, MemoryStore, MessageStore, RedisStore
from adapters.fix.transport import FixInitiator
from tests.fix.test_session_loopback import Pair, Recorder, execution_report, order, run, until


def frame(seq: int, text: str = "x") -> bytes:
    return encode([(35, "D"), (34, str(seq)), (58, text)])


@pytest.fixture
def redis_client(redis_server: tuple[str, int]) -> Iterator[object]:
    import redis

    client = redis.Redis(host=redis_server[0], port=redis_server[1])
    yield client
    client.close()


StoreFactory = Callable[[], MessageStore]


@pytest.fixture(params=["memory", "file", pytest.param("redis", marks=pytest.mark.redis)])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A factory returning the same persistent store each call (memory: the same object)."""
    if request.param == "memory":
        store = MemoryStore()
        return lambda: store
    if request.param == "file":
        return lambda: FileStore(tmp_path, "FIX.4.4-A-B", sync=True)
    client = request.getfixturevalue("redis_client")
    name = f"test-{uuid.uuid4().hex}"
    return lambda: RedisStore(client, name)


def test_store_contract(store_factory: StoreFactory) -> None:
    store = store_factory()
    assert (store.next_sender_seq(), store.next_target_seq()) == (1, 1)
    for seq in (1, 2, 3, 5):
        store.save_sent(seq, frame(seq))
    store.set_next_target_seq(9)
    assert store.next_sender_seq() == 6
    assert store.get_sent(2, 5) == [(2, frame(2)), (3, frame(3)), (5, frame(5))]
    assert store.get_sent(6, 10) == []
    created = store.creation_time()
    store.close()

    again = store_factory()  # a restart reads it all back
    assert (again.next_sender_seq(), again.next_target_seq()) == (6, 9)
    assert again.get_sent(1, 100) == [(1, frame(1)), (2, frame(2)), (3, frame(3)), (5, frame(5))]
    assert again.creation_time() == created
    again.reset()
    assert (again.next_sender_seq(), again.next_target_seq()) == (1, 1)
    assert again.get_sent(1, 100) == []
    assert again.creation_time() >= created
    again.close()


def test_file_store_drops_a_record_cut_short_by_a_crash(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = FileStore(tmp_path, "s")
    store.save_sent(1, frame(1))
    store.save_sent(2, frame(2))
    store.close()
    body = tmp_path / "s.body"
    body.write_bytes(body.read_bytes() + b"3:40\n8=FIX.4.4\x019=")  # the write of message 3 was cut
    again = FileStore(tmp_path, "s")
    assert again.get_sent(1, 10) == [(1, frame(1)), (2, frame(2))]
    assert "incomplete record" in caplog.text
    again.save_sent(3, frame(3, "retry"))
    assert again.get_sent(3, 3) == [(3, frame(3, "retry"))]
    again.close()
    assert FileStore(tmp_path, "s").get_sent(1, 10)[-1] == (3, frame(3, "retry"))


def test_file_store_sender_number_follows_the_stored_messages(tmp_path: Path) -> None:
    store = FileStore(tmp_path, "s")
    store.save_sent(1, frame(1))
    store.save_sent(2, frame(2))
    store.close()
    # power loss after the synced message write, before the sequence file reached the disk
    (tmp_path / "s.seqnums").write_bytes(b"%020d:%020d\n" % (2, 1))
    assert FileStore(tmp_path, "s").next_sender_seq() == 3


def test_file_store_rejects_corrupt_sequence_file(tmp_path: Path) -> None:
    (tmp_path / "s.seqnums").write_bytes(b"not numbers at all\n")
    with pytest.raises(StoreError, match="corrupt sequence numbers"):
        FileStore(tmp_path, "s")


def test_redis_store_unreachable_is_a_store_error() -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    with pytest.raises(StoreError, match="redis"):
        RedisStore(client, "nowhere")


@pytest.mark.redis
def test_session_fails_over_through_redis(dictionary: DataDictionary, redis_client: object) -> None:
    """The client process dies; a second process on another host (here: another RedisStore object and
    connection) takes the session over with the same sequence numbers and no resend."""
    import redis

    name = f"failover-{uuid.uuid4().hex}"

    async def scenario() -> None:
        primary_store = RedisStore(redis_client, name)
        async with Pair(dictionary, initiator_store=primary_store) as pair:
            for n in range(3):
                pair.initiator_session.send("D", order(f"C{n}"))
            pair.acceptor_session.send("8", execution_report("C0", "E0"))
            await until(lambda: len(pair.acceptor_app.received) == 3 and len(pair.initiator_app.received) == 1)
            await pair.initiator.stop()  # the primary goes away (Logout)
            sent_before = pair.acceptor_session.counters["sent"]

            standby_client = redis.Redis(connection_pool=redis.ConnectionPool.from_url(
                f"redis://{redis_client.connection_pool.connection_kwargs['host']}:"  # type: ignore[attr-defined]
                f"{redis_client.connection_pool.connection_kwargs['port']}/0"))  # type: ignore[attr-defined]
            standby_store = RedisStore(standby_client, name)
            assert standby_store.next_sender_seq() == 6  # Logon, three orders, Logout
            recorder = Recorder()
            standby = Session(pair.initiator_session.config, recorder, standby_store, dictionary)
            initiator = FixInitiator(standby)
            await initiator.start()
            await standby.wait_logged_on(5)
            standby.send("D", order("C9"))
            await until(lambda: len(pair.acceptor_app.received) == 4)
            assert pair.acceptor_app.received[-1].seq_num == 7
            assert pair.acceptor_session.counters["resend_requests_received"] == 0
            assert standby.counters["resend_requests_sent"] == 0
            assert pair.acceptor_session.counters["sent"] == sent_before + 1  # just the Logon answer
            await initiator.stop()
            standby_client.close()

    run(scenario)


def test_file_store_fsync_is_optional(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    import adapters.fix.store as store_module

    monkeypatch.setattr(store_module.os, "fsync", lambda fd: calls.append(fd))
    synced = FileStore(tmp_path / "a", "s", sync=True)
    calls.clear()
    synced.save_sent(1, frame(1))
    assert calls == [synced._body.fileno()]  # noqa: SLF001 - the message, before save_sent returns
    calls.clear()
    unsynced = FileStore(tmp_path / "b", "s", sync=False)
    unsynced.save_sent(1, frame(1))
    assert calls == []
    synced.close()
    unsynced.close()


def test_store_write_failure_disconnects_instead_of_sending_unrecorded(dictionary: DataDictionary) -> None:
    class BrokenStore(MemoryStore):
        broken = False

        def save_sent(self, seq: int, raw: bytes) -> None:
            if self.broken:
                raise StoreError("disk full")
            super().save_sent(seq, raw)

    async def scenario() -> None:
        store = BrokenStore()
        async with Pair(dictionary, initiator_store=store) as pair:
            store.broken = True
            with pytest.raises(StoreError):
                pair.initiator_session.send("D", order("C1"))
            await asyncio.sleep(0.1)
            assert pair.acceptor_app.received == []  # nothing went out unrecorded
            store.broken = False

    run(scenario)
