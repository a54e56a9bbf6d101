"""The venue's record: an append-only JSON-lines file of every report the venue issued.

What tests (and ``hftmm demo-live`` checks) compare a node's orders and fills against. One line per
report, in the order the venue produced them, written before the report goes out on FIX::

    {"seq": 17, "participant": "HFTMM", "msg_type": "8", "exec_type": "F", "exec_id": "20240311-17",
     "order_id": "5", "cl_ord_id": "O-1", "symbol": "ACME", "ts_ns": 1710163800000000000,
     "fields": [[6, "50.01"], [11, "O-1"], ...]}

- ``seq``: line number from 1, continued across restarts;
- ``participant``: the SenderCompID the report is addressed to;
- ``msg_type``: ``8`` ExecutionReport, ``9`` OrderCancelReject, ``r`` OrderMassCancelReport;
- ``exec_type`` (150) / ``exec_id`` (17) / ``order_id`` (37) / ``cl_ord_id`` (11): copies of the
  fields for easy filtering (``""`` where the message has none);
- ``ts_ns``: the venue's catalog time of the report;
- ``epoch``: the FencingEpoch of the participant's request the report answers (None for reports
  the market caused, such as a passive fill);
- ``fields``: the message body exactly as sent (tag, value), header excluded.

Status answers (ExecutionReport 150=I to H and AF) are not events and are not recorded. A partly
written last line (the process died mid-write) is skipped with a warning when read.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import msgspec

log = logging.getLogger(__name__)


class RecordEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the record."""

    seq: int
    participant: str
    msg_type: str
    exec_type: str
    exec_id: str
    order_id: str
    cl_ord_id: str
    symbol: str
    ts_ns: int
    fields: list[tuple[int, str]]
    epoch: int | None = None

    def get(self, tag: int) -> str | None:
        """The value of ``tag`` in ``fields``, or None."""
        for t, value in self.fields:
            if t == tag:
                return value
        return None


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(RecordEntry)


def read_record(path: Path | str) -> list[RecordEntry]:
    """Every complete entry of a record file, in order (a torn last line is skipped)."""
    entries: list[RecordEntry] = []
    p = Path(path)
    if not p.exists():
        return entries
    lines = p.read_bytes().split(b"\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entries.append(_decoder.decode(line))
        except msgspec.DecodeError as exc:
            if number >= len(lines) - 1:
                log.warning("%s: line %d is incomplete (%s); skipped", p, number, exc)
                continue
            raise ValueError(f"{p}: line {number} is not a record entry: {exc}") from exc
    return entries


class VenueRecord:
    """Appends entries to ``path``, continuing the numbering of an existing file.

    Parameters
    ----------
    path : Path or str
    sync : bool
        fsync after every entry (durable against a machine crash, not only a process crash).
    """

    def __init__(self, path: Path | str, *, sync: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existing = read_record(self.path)
        self.next_seq = existing[-1].seq + 1 if existing else 1
        if existing and not self.path.read_bytes().endswith(b"\n"):
            # Drop a torn tail so that the next entry starts on its own line.
            with self.path.open("r+b") as f:
                data = f.read()
                f.truncate(data.rfind(b"\n") + 1)
        self._file = self.path.open("ab")
        self._sync = sync

    def append(self, *, participant: str, msg_type: str, ts_ns: int, fields: list[tuple[int, str]],
               epoch: int | None = None) -> RecordEntry:
        """Write one report; returns the entry."""
        values = dict(fields)
        entry = RecordEntry(
            seq=self.next_seq, participant=participant, msg_type=msg_type, exec_type=values.get(150, ""),
            exec_id=values.get(17, ""), order_id=values.get(37, ""), cl_ord_id=values.get(11, ""),
            symbol=values.get(55, ""), ts_ns=ts_ns, fields=fields, epoch=epoch,
        )
        self._file.write(_encoder.encode(entry) + b"\n")
        self._file.flush()
        if self._sync:
            os.fsync(self._file.fileno())
        self.next_seq += 1
        return entry

    def close(self) -> None:
        """Close the file."""
        self._file.close()
