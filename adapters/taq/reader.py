"""Streaming reader of pipe-delimited TAQ files, one symbol at a time.

Files are read in blocks with pyarrow's CSV reader, every column as a string (times must keep
their 15 characters and leading zeros). Columns are found by header name with loose matching,
because spec versions add, drop and re-spell columns. TAQ files are sorted by symbol, so a symbol's
rows are complete once the next symbol appears: memory holds one symbol's rows, not the file.
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from adapters.taq.errors import TaqFormatError
from adapters.taq.report import FileReport

LINE = "_line"
FIRST_COLUMN = "_col1"  # holds END on the trailer line
TRAILER_COUNT = "_col3"  # holds the trailer's record count


def normalize(name: str) -> str:
    """Loose header key: case-insensitive, spaces and underscores equivalent."""
    return re.sub(r"[\s_]+", "_", name.strip()).lower()


def date_from_name(path: Path) -> dt.date | None:
    """The trade date in a TAQ file name (``..._YYYYMMDD`` with optional ``.gz``)."""
    m = re.search(r"(\d{8})(?:\.gz)?$", path.name)
    if m is None:
        return None
    try:
        return dt.datetime.strptime(m.group(1), "%Y%m%d").date()
    except ValueError:
        return None


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _open(path: Path) -> tuple[pa.NativeFile, pa.NativeFile]:
    """(raw file, decompressed stream); the raw file's position measures progress in file bytes."""
    raw = pa.OSFile(str(path), "rb")
    return raw, (pa.CompressedInputStream(raw, "gzip") if _is_gzip(path) else raw)


def read_header(path: Path) -> list[str]:
    """The header line's field names, as written."""
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as f:
        first = f.readline().decode("ascii", errors="replace").rstrip("\r\n")
    if not first:
        raise TaqFormatError(path, 1, None, "empty file: no header line")
    return first.split("|")


@dataclass
class TaqReader:
    """Reads one TAQ file as per-symbol Arrow tables of the requested columns.

    Parameters
    ----------
    path : Path
        Plain or gzip file.
    columns : dict[str, Sequence[str]]
        Our column name -> accepted header spellings (matched with ``normalize``). All must exist.
    optional : dict[str, Sequence[str]]
        Columns used when present.
    report : FileReport
        Updated with rows read and malformed lines.
    symbols : set of str, optional
        Keep only these symbols (TAQ spelling); reading stops after the last one.
    block_size : int
        Bytes per block.
    """

    path: Path
    columns: dict[str, Sequence[str]]
    report: FileReport
    optional: dict[str, Sequence[str]] = field(default_factory=dict)
    symbols: set[str] | None = None
    block_size: int = 16 << 20
    bad_lines: list[tuple[int | None, str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    skipped_lines: int = 0
    bytes_read: int = 0
    trailer_line: int | None = None
    _skipped_numbers: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.header = read_header(self.path)
        if len(self.header) < 3:
            raise TaqFormatError(self.path, 1, None, f"header has {len(self.header)} field(s); not a TAQ file")
        by_key = {normalize(h): h for h in self.header}
        for name, spellings in {**self.columns, **self.optional}.items():
            for spelling in (name, *spellings):
                if normalize(spelling) in by_key:
                    self.mapping[name] = by_key[normalize(spelling)]
                    break
            else:
                if name in self.columns:
                    raise TaqFormatError(
                        self.path, 1, None,
                        f"header has no column {name!r} (looked for {', '.join(repr(s) for s in (name, *spellings))})",
                    )
        dupes = {normalize(h) for h in self.header if sum(normalize(x) == normalize(h) for x in self.header) > 1}
        if dupes & {normalize(v) for v in self.mapping.values()}:
            raise TaqFormatError(self.path, 1, None, f"duplicate header column(s): {', '.join(sorted(dupes))}")

    def column_name(self, name: str) -> str:
        """The header spelling of one of our columns (for error messages)."""
        return self.mapping.get(name, name)

    def _on_invalid(self, row: pacsv.InvalidRow) -> str:
        if row.number is not None:
            self._skipped_numbers.append(row.number)
        if row.text.startswith("END|") and self.trailer_line is None:
            # A trailer not padded to the header's width: still the end of the data.
            self.trailer_line = row.number
            self._set_trailer_count(row.text.split("|")[2] if row.text.count("|") >= 2 else "", row.number)
            return "skip"
        self.skipped_lines += 1
        self.bad_lines.append((row.number, f"expected {row.expected_columns} fields, found {row.actual_columns}"))
        return "skip"

    def _blocks(self) -> Iterator[pa.RecordBatch]:
        raw, stream = _open(self.path)
        try:
            yield from self._read(raw, stream)
        finally:
            stream.close()
            raw.close()

    def _read(self, raw: pa.NativeFile, stream: pa.NativeFile) -> Iterator[pa.RecordBatch]:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=self.block_size, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter="|", quote_char=False, invalid_row_handler=self._on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in self.header},
                # The third column carries the END trailer's record count, whatever its name.
                include_columns=list(dict.fromkeys([*self.mapping.values(), self.header[0], self.header[2]])),
                strings_can_be_null=False,
            ),
        )
        for batch in reader:
            self.bytes_read = raw.tell()
            yield batch
        self.bytes_read = raw.tell()

    def groups(self) -> Iterator[tuple[str, pa.Table]]:
        """Yield ``(symbol, table)`` in file order; the table has our column names plus ``_line``.

        Lines that do not have the header's field count are recorded in ``bad_lines`` (and never
        reach a table). The ``END|`` trailer stops the read and its count is checked by the caller
        through ``report.trailer_count``.
        """
        valid_before = 0  # valid data rows seen so far, for line numbers
        pending: list[pa.Table] = []
        pending_symbol: str | None = None
        done: set[str] = set()
        last_wanted = max(self.symbols) if self.symbols else None
        symbol_col = self.mapping["symbol"]
        rename = {v: k for k, v in self.mapping.items()}
        rename.setdefault(self.header[0], FIRST_COLUMN)
        rename.setdefault(self.header[2], TRAILER_COUNT)
        first = rename[self.header[0]]
        for batch in self._blocks():
            n = batch.num_rows
            # Line numbers: row j of the valid stream sits after the skipped lines before it.
            j = np.arange(valid_before, valid_before + n, dtype=np.int64)
            skipped = np.asarray(self._skipped_numbers, dtype=np.int64)
            valid_counts = skipped - 2 - np.arange(skipped.size)
            lines = j + 2 + np.searchsorted(valid_counts, j, side="right")
            valid_before += n
            table = pa.Table.from_batches([batch]).rename_columns([rename[c] for c in batch.schema.names])
            table = table.append_column(LINE, pa.array(lines))
            is_end = pc.equal(table[first], "END")
            if pc.any(is_end).as_py():
                at = int(pc.index(is_end, True).as_py())
                self._take_trailer(table.slice(at, 1), int(lines[at]))
                table = table.slice(0, at)
                n = -1  # the trailer ends the file
            elif self.trailer_line is not None:
                # An unpadded trailer was skipped by the parser: drop whatever followed it.
                table = table.filter(pc.less(table[LINE], self.trailer_line))
                n = -1
            self.report.rows_read += table.num_rows
            # Sorted by symbol: once the block reaches past the last wanted symbol, nothing later matters.
            past_wanted = (
                last_wanted is not None and table.num_rows > 0 and table["symbol"][-1].as_py() > last_wanted
            )
            if self.symbols is not None:
                table = table.filter(pc.is_in(table["symbol"], pa.array(sorted(self.symbols))))
            if table.num_rows:
                syms = table["symbol"].to_numpy(zero_copy_only=False)
                starts = np.flatnonzero(np.r_[True, syms[1:] != syms[:-1]])
                bounds = [*starts.tolist(), len(syms)]
                for k in range(len(starts)):
                    sym = str(syms[bounds[k]])
                    part = table.slice(bounds[k], bounds[k + 1] - bounds[k])
                    if sym == pending_symbol:
                        pending.append(part)
                        continue
                    if pending_symbol is not None:
                        yield pending_symbol, pa.concat_tables(pending)
                        done.add(pending_symbol)
                    if sym in done:
                        raise TaqFormatError(
                            self.path, int(part[LINE][0].as_py()), symbol_col,
                            f"file is not sorted by symbol: {sym} appears again",
                        )
                    pending, pending_symbol = [part], sym
            if n < 0:
                break
            if past_wanted:
                break
        if pending_symbol is not None:
            yield pending_symbol, pa.concat_tables(pending)

    def _take_trailer(self, trailer: pa.Table, line: int) -> None:
        count_col = {v: k for k, v in self.mapping.items()}.get(self.header[2], TRAILER_COUNT)
        self.trailer_line = line
        self._set_trailer_count(trailer[count_col][0].as_py(), line)

    def _set_trailer_count(self, raw: str, line: int | None) -> None:
        try:
            self.report.trailer_count = int(raw)
        except (TypeError, ValueError):
            raise TaqFormatError(self.path, line, None, f"END trailer has no record count (got {raw!r})") from None
