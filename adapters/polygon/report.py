"""What a Polygon ingest downloaded, kept, dropped and wrote."""

from __future__ import annotations

from typing import Any

import msgspec


class SymbolReport(msgspec.Struct):
    """Counts for one instrument.

    ``*_read`` are the rows downloaded, ``*_outside_day`` those stamped outside the ET day (left
    out); ``quote_size_unit`` is how the quote sizes were read (``lots`` or ``shares``);
    ``trades_dropped`` counts the trades not kept, by reason; ``trade_ticks`` are the kept lit
    trades (off-exchange prints are kept in the canonical table only).
    """

    ticker: str
    quotes_read: int = 0
    quotes_outside_day: int = 0
    trades_read: int = 0
    trades_outside_day: int = 0
    pages_fetched: int = 0
    quote_size_unit: str = ""
    quote_ticks: int = 0
    deltas: int = 0
    book_events: int = 0
    crossed_or_locked_nbbo: int = 0
    one_sided_nbbo: int = 0
    trades_kept: int = 0
    trades_dropped: dict[str, int] = msgspec.field(default_factory=dict)
    off_exchange_trades: int = 0
    trade_ticks: int = 0


class PolygonIngestReport(msgspec.Struct):
    """The report of one ingest, also saved as the day's manifest in the catalog."""

    date: str
    catalog: str
    source: str
    instruments: dict[str, SymbolReport] = msgspec.field(default_factory=dict)
    conditions: int = 0
    requests: int = 0
    retries: int = 0
    flat_files: dict[str, str] = msgspec.field(default_factory=dict)
    warnings: list[str] = msgspec.field(default_factory=list)

    def to_builtins(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return msgspec.to_builtins(self)

    def to_json(self) -> bytes:
        """The report as JSON."""
        return msgspec.json.encode(self)
