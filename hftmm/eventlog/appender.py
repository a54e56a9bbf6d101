"""A buffered, append-only file of lines: the event log and the audit trail both write through it."""

from __future__ import annotations

import os
from pathlib import Path


class LineAppender:
    """Appends byte lines to ``path`` (created with its folders; an existing file is continued).

    Lines are buffered and written every ``flush_every`` lines or on ``flush``; ``close`` writes
    the rest and fsyncs, so a clean stop leaves everything on disk.
    """

    def __init__(self, path: Path, flush_every: int) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("ab")
        self._buffer: list[bytes] = []
        self._flush_every = flush_every
        self.closed = False

    def add(self, line: bytes) -> None:
        """Buffer one line (ending in a newline)."""
        self._buffer.append(line)
        if len(self._buffer) >= self._flush_every:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered."""
        if self._buffer:
            self._file.write(b"".join(self._buffer))
            self._buffer.clear()
            self._file.flush()

    def close(self) -> None:
        """Write the rest, fsync and close (once)."""
        if self.closed:
            return
        self.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.closed = True
