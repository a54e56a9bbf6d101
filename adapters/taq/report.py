"""What an ingest read, kept, dropped and wrote."""

from __future__ import annotations

from typing import Any

import msgspec


class Malformed(msgspec.Struct, frozen=True):
    """One malformed row."""

    path: str
    line: int | None
    field: str | None
    reason: str


class FileReport(msgspec.Struct):
    """Counts for one input file."""

    path: str
    kind: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = msgspec.field(default_factory=dict)
    malformed: int = 0
    trailer_count: int | None = None
    trailer_checked: bool = False

    def drop(self, reason: str, n: int) -> None:
        """Count ``n`` rows dropped for ``reason``."""
        if n:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(n)


class InstrumentReport(msgspec.Struct):
    """What was written for one instrument.

    ``deltas``/``quote_ticks``/``trade_ticks`` are the Nautilus objects written; ``book_events``
    the quote rows that changed the aggregated book; ``crossed_book_events``/``locked_book_events``
    the events after which that book was crossed/locked; ``crossed_nbbo`` the crossed or locked
    NBBO updates (not written as QuoteTicks); ``one_sided_nbbo`` the one-sided ones (skipped).
    """

    deltas: int = 0
    book_events: int = 0
    quote_ticks: int = 0
    trade_ticks: int = 0
    crossed_book_events: int = 0
    locked_book_events: int = 0
    crossed_nbbo: int = 0
    one_sided_nbbo: int = 0
    off_exchange_trades: int = 0
    odd_lot_trades: int = 0
    buyer_initiated: int = 0
    seller_initiated: int = 0
    unclassified: int = 0


class TaqIngestReport(msgspec.Struct):
    """The report of one ingest, also saved as the day's manifest in the catalog."""

    date: str
    catalog: str
    files: list[FileReport] = msgspec.field(default_factory=list)
    instruments: dict[str, InstrumentReport] = msgspec.field(default_factory=dict)
    malformed_count: int = 0
    malformed_examples: list[Malformed] = msgspec.field(default_factory=list)
    warnings: list[str] = msgspec.field(default_factory=list)

    def to_builtins(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return msgspec.to_builtins(self)

    def to_json(self) -> bytes:
        """The report as JSON (the manifest's content)."""
        return msgspec.json.encode(self)
