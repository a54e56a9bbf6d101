"""Message stores: the session's sequence numbers and the messages it sent, kept across restarts.

The session writes to the store *before* the bytes go to the socket (a message the counterparty may
ask to be resent is always on record), and bumps the inbound number *after* a message is processed
(a crash in between makes the session ask for that message again rather than lose it).

- :class:`MemoryStore`: for tests and throw-away sessions.
- :class:`FileStore`: three files per session in a directory; with ``sync=True`` (default) a sent
  message is fsynced before ``save_sent`` returns, so an OS crash or power loss cannot lose a message
  that went out (the next sender number is recovered from the messages themselves). The inbound
  number is written but not fsynced: after a power loss it may lag, and the session then asks for
  messages it already processed, which arrive flagged PossDupFlag=Y (one fsync per inbound message
  would cost a disk flush each). Without ``sync``, a process crash still loses nothing (the page
  cache survives).
- :class:`RedisStore`: the same state in Redis (redis-py), so a standby process on another host can
  take the session over; one round trip per sent message (a MULTI/EXEC transaction).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from adapters.fix.errors import StoreError

log = logging.getLogger(__name__)


@runtime_checkable
class MessageStore(Protocol):
    """What the session needs from a store."""

    def next_sender_seq(self) -> int:
        """MsgSeqNum of the next message we send."""
        ...

    def next_target_seq(self) -> int:
        """MsgSeqNum we expect next from the counterparty."""
        ...

    def set_next_sender_seq(self, seq: int) -> None:
        """Overwrite the next outbound MsgSeqNum (SequenceReset)."""
        ...

    def set_next_target_seq(self, seq: int) -> None:
        """Overwrite the next expected inbound MsgSeqNum."""
        ...

    def save_sent(self, seq: int, raw: bytes) -> None:
        """Record a message about to be sent and make ``seq + 1`` the next outbound number."""
        ...

    def get_sent(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        """Messages sent with ``begin <= MsgSeqNum <= end``, in order (gaps are simply absent)."""
        ...

    def creation_time(self) -> datetime:
        """When the current sequence (since the last reset) began."""
        ...

    def reset(self) -> None:
        """Forget the messages and restart both sequences at 1."""
        ...

    def close(self) -> None:
        """Release files or connections."""
        ...


class _CachedNumbers:
    """The in-memory copy of a store's numbers that every store keeps (reads never touch I/O)."""

    _sender: int
    _target: int
    _created: datetime

    def next_sender_seq(self) -> int:
        return self._sender

    def next_target_seq(self) -> int:
        return self._target

    def creation_time(self) -> datetime:
        return self._created


class MemoryStore(_CachedNumbers):
    """A store that lives as long as the process."""

    def __init__(self) -> None:
        self._sender = 1
        self._target = 1
        self._messages: dict[int, bytes] = {}
        self._created = datetime.now(UTC)

    def set_next_sender_seq(self, seq: int) -> None:
        self._sender = seq

    def set_next_target_seq(self, seq: int) -> None:
        self._target = seq

    def save_sent(self, seq: int, raw: bytes) -> None:
        self._messages[seq] = raw
        self._sender = seq + 1

    def get_sent(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        return [(s, self._messages[s]) for s in sorted(self._messages) if begin <= s <= end]

    def reset(self) -> None:
        self._sender = self._target = 1
        self._messages.clear()
        self._created = datetime.now(UTC)

    def close(self) -> None:
        pass


_SEQ_FORMAT = b"%020d:%020d\n"
_SEQ_LEN = len(_SEQ_FORMAT % (0, 0))


class FileStore(_CachedNumbers):
    """Sequence numbers and sent messages in files under ``directory``.

    Files, named after the session (``FIX.4.4-ISLD-TW44``):

    - ``.seqnums``: ``next sender : next target``, fixed width, overwritten in place (one short
      ``pwrite`` at offset 0, so it is never half old, half new); on open the sender number is at
      least one past the last stored message, so this file needs no fsync when a message is sent;
    - ``.body``: every sent message appended as ``seq:length\\n<frame>\\n``; the index is rebuilt
      on open, and a record cut short by a crash (never sent: the store is written first) is
      truncated away with a warning;
    - ``.session``: the creation time of the current sequence.

    Parameters
    ----------
    directory : Path or str
        Created if missing.
    session_name : str
        File name prefix, unique per session.
    sync : bool, default True
        ``os.fsync`` a sent message (and resets, and explicit sender-number changes) before returning.
    """

    def __init__(self, directory: Path | str, session_name: str, *, sync: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.sync = sync
        base = self.directory / session_name
        self._seq_path = base.with_name(base.name + ".seqnums")
        self._body_path = base.with_name(base.name + ".body")
        self._session_path = base.with_name(base.name + ".session")
        self._index: dict[int, tuple[int, int]] = {}
        self._sender = 1
        self._target = 1
        self._seq_fd = os.open(self._seq_path, os.O_RDWR | os.O_CREAT, 0o644)
        self._body = open(self._body_path, "a+b")  # noqa: SIM115 - kept open for the store's life
        self._load()

    def _load(self) -> None:
        data = os.pread(self._seq_fd, _SEQ_LEN, 0)
        if data:
            try:
                sender, target = data.strip().split(b":")
                self._sender, self._target = int(sender), int(target)
            except ValueError as exc:
                raise StoreError(f"{self._seq_path}: corrupt sequence numbers {data!r}") from exc
        else:
            self._write_seqnums()
        if self._session_path.exists():
            self._created = datetime.fromisoformat(self._session_path.read_text().strip())
        else:
            self._write_creation_time()
        self._body.seek(0)
        content = self._body.read()
        pos, good_end = 0, 0
        while pos < len(content):
            newline = content.find(b"\n", pos)
            try:
                seq_text, length_text = content[pos:newline].split(b":")
                seq, length = int(seq_text), int(length_text)
            except ValueError:
                break
            start = newline + 1
            if newline < 0 or start + length + 1 > len(content) or content[start + length : start + length + 1] != b"\n":
                break
            self._index[seq] = (start, length)
            pos = good_end = start + length + 1
        if self._index:
            self._sender = max(self._sender, max(self._index) + 1)
        if good_end < len(content):
            log.warning("%s: dropping %d bytes of an incomplete record at offset %d",
                        self._body_path, len(content) - good_end, good_end)
            self._body.truncate(good_end)
            self._fsync(self._body.fileno())

    def _fsync(self, fd: int) -> None:
        if self.sync:
            os.fsync(fd)

    def _write_seqnums(self, *, sync: bool = True) -> None:
        os.pwrite(self._seq_fd, _SEQ_FORMAT % (self._sender, self._target), 0)
        if sync:
            self._fsync(self._seq_fd)

    def _write_creation_time(self) -> None:
        self._created = datetime.now(UTC)
        tmp = self._session_path.with_suffix(".tmp")
        tmp.write_text(self._created.isoformat())
        os.replace(tmp, self._session_path)

    def set_next_sender_seq(self, seq: int) -> None:
        self._sender = seq
        self._write_seqnums()

    def set_next_target_seq(self, seq: int) -> None:
        self._target = seq
        self._write_seqnums(sync=False)

    def save_sent(self, seq: int, raw: bytes) -> None:
        body = self._body
        body.seek(0, os.SEEK_END)
        header = b"%d:%d\n" % (seq, len(raw))
        start = body.tell() + len(header)
        body.write(header + raw + b"\n")
        body.flush()
        self._fsync(body.fileno())
        self._index[seq] = (start, len(raw))
        self._sender = seq + 1
        self._write_seqnums(sync=False)  # recoverable from the body, which is synced

    def get_sent(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        out = []
        for seq in sorted(s for s in self._index if begin <= s <= end):
            start, length = self._index[seq]
            out.append((seq, os.pread(self._body.fileno(), length, start)))
        return out

    def reset(self) -> None:
        self._body.truncate(0)
        self._body.flush()
        self._fsync(self._body.fileno())
        self._index.clear()
        self._sender = self._target = 1
        self._write_seqnums()
        self._write_creation_time()

    def close(self) -> None:
        self._body.close()
        os.close(self._seq_fd)


class RedisStore(_CachedNumbers):
    """Sequence numbers and sent messages in Redis, for failover between hosts.

    Keys, under ``{prefix}:{session_name}``: ``:seq`` (hash ``sender``/``target``), ``:msgs``
    (hash MsgSeqNum -> frame), ``:created`` (ISO time). Durability is the Redis server's
    (``appendonly yes`` with ``appendfsync always`` for the same guarantee as ``FileStore(sync=True)``).

    Parameters
    ----------
    client : redis.Redis
        A connected redis-py client (``decode_responses=False``).
    session_name : str
        Unique per session.
    prefix : str, default "hftmm:fix"
    """

    def __init__(self, client: object, session_name: str, *, prefix: str = "hftmm:fix") -> None:
        import redis

        if not isinstance(client, redis.Redis):
            raise TypeError("RedisStore needs a redis.Redis client")
        self._redis = client
        self._errors = (redis.RedisError,)
        base = f"{prefix}:{session_name}"
        self._seq_key, self._msgs_key, self._created_key = f"{base}:seq", f"{base}:msgs", f"{base}:created"
        try:
            values = client.hmget(self._seq_key, "sender", "target")
            created = client.get(self._created_key)
        except redis.RedisError as exc:
            raise StoreError(f"redis: cannot load session {session_name}: {exc}") from exc
        self._sender = int(values[0]) if values[0] is not None else 1
        self._target = int(values[1]) if values[1] is not None else 1
        if created is None:
            self._created = datetime.now(UTC)
            self._call(lambda p: p.set(self._created_key, self._created.isoformat()).hset(
                self._seq_key, mapping={"sender": self._sender, "target": self._target}))
        else:
            self._created = datetime.fromisoformat(created.decode())

    def _call(self, build: object) -> None:
        try:
            pipe = self._redis.pipeline(transaction=True)
            build(pipe)  # type: ignore[operator]
            pipe.execute()
        except self._errors as exc:
            raise StoreError(f"redis write failed: {exc}") from exc

    def set_next_sender_seq(self, seq: int) -> None:
        self._call(lambda p: p.hset(self._seq_key, "sender", seq))
        self._sender = seq

    def set_next_target_seq(self, seq: int) -> None:
        self._call(lambda p: p.hset(self._seq_key, "target", seq))
        self._target = seq

    def save_sent(self, seq: int, raw: bytes) -> None:
        self._call(lambda p: p.hset(self._msgs_key, str(seq), raw).hset(self._seq_key, "sender", seq + 1))
        self._sender = seq + 1

    def get_sent(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        try:
            keys = [int(k) for k in self._redis.hkeys(self._msgs_key)]
            wanted = sorted(k for k in keys if begin <= k <= end)
            values = self._redis.hmget(self._msgs_key, [str(k) for k in wanted]) if wanted else []
        except self._errors as exc:
            raise StoreError(f"redis read failed: {exc}") from exc
        return [(k, v) for k, v in zip(wanted, values, strict=True) if v is not None]

    def reset(self) -> None:
        created = datetime.now(UTC)
        self._call(lambda p: p.delete(self._msgs_key).hset(self._seq_key, mapping={"sender": 1, "target": 1})
                   .set(self._created_key, created.isoformat()))
        self._sender = self._target = 1
        self._created = created

    def close(self) -> None:
        pass
