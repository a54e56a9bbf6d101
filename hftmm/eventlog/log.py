"""Append-only JSON-lines event log: the writer (buffered, flushed on demand and on close with
fsync) and the reader (each line decoded into its typed record, with the line number in errors).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import msgspec

from hftmm.eventlog.appender import LineAppender
from hftmm.eventlog.schema import Command, QuoteIntent, Record, RunEnded, RunStarted

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Record)


class EventLogError(ValueError):
    """An event log that cannot be read: names the file and line."""


class EventLogWriter:
    """Appends records to ``path`` (created with its folders; an existing log is appended to).

    Parameters
    ----------
    path : Path
        The ``eventlog.jsonl`` file.
    flush_every : int
        Records buffered before a write.
    """

    def __init__(self, path: Path, flush_every: int = 2000) -> None:
        self.path = Path(path)
        self._out = LineAppender(self.path, flush_every)
        self.counts: Counter[str] = Counter()

    @property
    def closed(self) -> bool:
        """Whether ``close`` ran."""
        return self._out.closed

    def append(self, record: Record) -> None:
        """Buffer one record."""
        self._out.add(_encoder.encode(record) + b"\n")
        self.counts[type(record).__name__] += 1

    def flush(self) -> None:
        """Write what is buffered."""
        self._out.flush()

    def close(self, ts: int) -> None:
        """Append ``run_ended``, flush and fsync."""
        if self.closed:
            return
        records = sum(self.counts.values())
        self.append(RunEnded(ts=ts, records=records, counts=dict(self.counts)))
        self._out.close()


def read_log(path: Path) -> Iterator[Record]:
    """Yield the records of an event log in order.

    Raises
    ------
    EventLogError
        On a line that is not a record (with the file and line number).
    """
    with Path(path).open("rb") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield _decoder.decode(line)
            except msgspec.DecodeError as e:
                raise EventLogError(f"{path}:{lineno}: not an event-log record: {e}") from e


def read_run_started(path: Path) -> RunStarted:
    """The log's opening ``run_started`` record, without reading the rest.

    Raises
    ------
    EventLogError
        When the first record is not ``run_started`` (or the file is empty).
    """
    for record in read_log(path):
        if isinstance(record, RunStarted):
            return record
        break
    raise EventLogError(f"{path}: does not start with a run_started record")


def load_log(path: Path) -> tuple[RunStarted, list[QuoteIntent], list[Command], RunEnded | None]:
    """The whole log, split by record type; ``RunEnded`` is None for a truncated log."""
    started: RunStarted | None = None
    quotes: list[QuoteIntent] = []
    commands: list[Command] = []
    ended: RunEnded | None = None
    for record in read_log(path):
        if isinstance(record, RunStarted):
            started = record if started is None else started
        elif isinstance(record, QuoteIntent):
            quotes.append(record)
        elif isinstance(record, Command):
            commands.append(record)
        elif isinstance(record, RunEnded):
            ended = record
    if started is None:
        raise EventLogError(f"{path}: no run_started record")
    return started, quotes, commands, ended
