"""The compliance audit trail: an append-only JSON-lines file whose records are hash-chained.

Each line is ``{"seq":N,"ts":T,"kind":K,"data":{...},"prev":H,"hash":H'}`` where
``H' = sha256(bytes of the line up to "prev":H)`` and ``prev`` is the previous line's hash (the
first line, ``kind = "open"``, chains from 64 zeros). Changing any byte of a record breaks its
hash; removing or reordering records breaks the ``seq`` sequence and the ``prev`` links; cutting
the tail loses the ``"close"`` record that states the count. ``verify_trail`` checks all of it.

Records are buffered and flushed on ``flush`` (the risk timer) and on ``close`` (with fsync; the
buffering is the event log's ``LineAppender``), so
the cost on the order path is one encode and one hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from hftmm.eventlog.appender import LineAppender

GENESIS = "0" * 64
_HASH_SUFFIX_LEN = len(',"hash":""}') + 64
_encoder = msgspec.json.Encoder()


class AuditTrail:
    """Append-only, hash-chained audit records.

    Parameters
    ----------
    path : Path
        The JSON-lines file (created; an existing file is continued from its last record).
    header : dict
        What the ``open`` record states (run id, trader, config digest).
    flush_every : int
        Records buffered before an automatic write.
    """

    def __init__(self, path: Path, header: dict[str, Any] | None = None, flush_every: int = 1000) -> None:
        self.path = Path(path)
        self._seq, self._prev = self._resume()
        self._out = LineAppender(self.path, flush_every)
        self.append("open", 0, header or {})

    def _resume(self) -> tuple[int, str]:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return 0, GENESIS
        last = self.path.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        record = msgspec.json.decode(last)
        return int(record["seq"]) + 1, str(record["hash"])

    @property
    def records(self) -> int:
        """Records appended so far (including those of an earlier session of the same file)."""
        return self._seq

    def append(self, kind: str, ts_ns: int, data: dict[str, Any]) -> str:
        """Append one record; return its hash."""
        body = b'{"seq":%d,"ts":%d,"kind":%b,"data":%b,"prev":"%b"' % (
            self._seq, ts_ns, _encoder.encode(kind), _encoder.encode(data), self._prev.encode())
        digest = hashlib.sha256(body).hexdigest()
        self._out.add(body + b',"hash":"' + digest.encode() + b'"}\n')
        self._prev = digest
        self._seq += 1
        return digest

    @property
    def closed(self) -> bool:
        """Whether ``close`` ran."""
        return self._out.closed

    def flush(self) -> None:
        """Write buffered records to the file."""
        self._out.flush()

    def close(self, ts_ns: int) -> None:
        """Append the ``close`` record (with the count), flush and fsync."""
        if self.closed:
            return
        self.append("close", ts_ns, {"records": self._seq + 1})
        self._out.close()


@dataclass
class AuditReport:
    """What ``verify_trail`` found: ``ok`` when the chain is intact and closed."""

    path: Path
    records: int = 0
    problems: list[str] = field(default_factory=list)
    closed: bool = False

    @property
    def ok(self) -> bool:
        """No problem and a closing record."""
        return not self.problems and self.closed


def verify_trail(path: Path) -> AuditReport:
    """Check every hash, the ``seq`` sequence, the ``prev`` links and the closing count.

    Each problem names the line (1-based) and what is wrong: a changed record (its hash does not
    match its bytes), a removed or reordered one (sequence or link broken), a truncated trail (no
    ``close`` record, or a count that disagrees).
    """
    report = AuditReport(Path(path))
    prev, expected_seq = GENESIS, 0
    close_count: int | None = None
    with Path(path).open("rb") as f:
        for lineno, raw in enumerate(f, start=1):
            line = raw.rstrip(b"\n")
            if not line:
                report.problems.append(f"line {lineno}: empty line")
                continue
            try:
                record = msgspec.json.decode(line)
                seq, digest, link = int(record["seq"]), str(record["hash"]), str(record["prev"])
            except (msgspec.DecodeError, KeyError, TypeError, ValueError) as e:
                report.problems.append(f"line {lineno}: not an audit record ({e})")
                continue
            report.records += 1
            body = line[:-_HASH_SUFFIX_LEN]
            if hashlib.sha256(body).hexdigest() != digest or not line.endswith(b'"hash":"' + digest.encode() + b'"}'):
                report.problems.append(f"line {lineno} (seq {seq}): record changed (hash does not match its content)")
            if seq != expected_seq:
                what = "removed" if seq > expected_seq else "reordered or duplicated"
                report.problems.append(f"line {lineno}: seq {seq} where {expected_seq} was expected (records {what})")
            elif link != prev:
                report.problems.append(f"line {lineno} (seq {seq}): prev does not link to the previous record")
            if record.get("kind") == "close":
                close_count = int(record.get("data", {}).get("records", -1))
                report.closed = True
            elif report.closed:
                report.closed = False  # records after a close: a later session reopened the trail
            prev, expected_seq = digest, seq + 1
    if not report.closed:
        report.problems.append("no closing record: the trail is truncated (or still being written)")
    elif close_count is not None and close_count != expected_seq:
        report.problems.append(f"closing record counts {close_count} records, the chain ends at {expected_seq}")
    return report
