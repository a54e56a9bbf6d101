"""``ingest_taq``: NYSE Daily TAQ files into a NautilusTrader ParquetDataCatalog.

Symbols are processed one at a time in file order (every TAQ file is sorted by symbol), reading
the quote shards, the NBBO file and the trade file in lockstep, so memory holds one symbol-day.
Everything is first written to a staging directory inside the catalog root; only when the whole
ingest has succeeded are the day's old files replaced by the new ones, so a failure half-way leaves
the catalog as it was, and ingesting a day twice leaves one copy.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from adapters.taq.config import TaqIngestConfig
from adapters.taq.errors import TaqFormatError
from adapters.taq.loaders import (
    Nbbo,
    QuoteRows,
    book_deltas,
    clean_quotes,
    clean_trades,
    nbbo_from_book,
    nbbo_from_files,
    quote_ticks,
)
from adapters.taq.providers import (
    MasterRecord,
    day_start_ns,
    instruments_table,
    make_equity,
    nautilus_symbol,
    read_master,
    taq_symbol,
)
from adapters.taq.reader import LINE, TaqReader, date_from_name
from adapters.taq.report import FileReport, InstrumentReport, Malformed, TaqIngestReport

Progress = Callable[[str, int, int | None], None]

TRADE_COLUMNS = {
    "time": (),
    "exchange": (),
    "symbol": (),
    "sale_condition": (),
    "trade_volume": (),
    "trade_price": (),
    "correction": ("trade_correction_indicator",),
}
TRADE_OPTIONAL = {
    "sequence": ("sequence_number",),
    "trade_id": (),
    "trf": ("trade_reporting_facility",),
    "source_of_trade": (),
}
QUOTE_COLUMNS = {
    "time": (),
    "exchange": (),
    "symbol": (),
    "bid_price": (),
    "bid_size": (),
    "ask_price": ("offer_price",),
    "ask_size": ("offer_size",),
    "quote_condition": (),
}
QUOTE_OPTIONAL = {
    "sequence": ("sequence_number",),
    "national_bbo_ind": (),
    "quote_cancel_correction": (),
    "source_of_quote": (),
}
NBBO_COLUMNS = {
    "time": (),
    "symbol": (),
    "best_bid_price": (),
    "best_bid_size": (),
    "best_offer_price": ("best_ask_price",),
    "best_offer_size": ("best_ask_size",),
}
NBBO_OPTIONAL = {"sequence": ("sequence_number",)}


class _Context:
    """Counts, malformed-row bookkeeping and strict mode for one ingest."""

    def __init__(self, report: TaqIngestReport, strict: bool, max_examples: int) -> None:
        self.report = report
        self.strict = strict
        self.max_examples = max_examples

    def malformed(self, file: FileReport, line: int | None, field: str | None, reason: str) -> None:
        if self.strict:
            raise TaqFormatError(file.path, line, field, reason)
        file.malformed += 1
        self.report.malformed_count += 1
        if len(self.report.malformed_examples) < self.max_examples:
            self.report.malformed_examples.append(Malformed(file.path, line, field, reason))

    def bad_rows(self, file: FileReport, reader: TaqReader, table: pa.Table) -> Callable[[np.ndarray, str, str], None]:
        """A callback for ``loaders.validate`` that reports rows of ``table`` by line number."""
        lines = table[LINE].to_numpy()

        def bad(positions: np.ndarray, column: str, reason: str) -> None:
            for p in positions.tolist():
                self.malformed(file, int(lines[p]), reader.column_name(column), reason)

        return bad

    def drain_bad_lines(self, file: FileReport, reader: TaqReader) -> None:
        """Report lines pyarrow skipped for a wrong field count."""
        while reader.bad_lines:
            line, reason = reader.bad_lines.pop(0)
            self.malformed(file, line, None, reason)


class _Stream:
    """Per-symbol groups of one or more files of the same kind, read one after the other."""

    def __init__(self, readers: list[tuple[TaqReader, FileReport]], ctx: _Context) -> None:
        self.readers = readers
        self.ctx = ctx
        self._iter = self._groups()
        self.head: tuple[str, pa.Table, TaqReader, FileReport] | None = next(self._iter, None)

    def _groups(self) -> Iterator[tuple[str, pa.Table, TaqReader, FileReport]]:
        for reader, file in self.readers:
            for symbol, table in reader.groups():
                self.ctx.drain_bad_lines(file, reader)
                yield symbol, table, reader, file
            self.ctx.drain_bad_lines(file, reader)
            _check_trailer(reader, file, self.ctx)

    def take(self, symbol: str) -> list[tuple[pa.Table, TaqReader, FileReport]]:
        """All groups of ``symbol`` at the head of the stream (a symbol can span shard files)."""
        out = []
        while self.head is not None and self.head[0] == symbol:
            out.append(self.head[1:])
            self.head = next(self._iter, None)
        return out


def _check_trailer(reader: TaqReader, file: FileReport, ctx: _Context) -> None:
    stopped_early = reader.symbols is not None and file.trailer_count is None
    if file.trailer_count is None:
        if not stopped_early:
            ctx.report.warnings.append(f"{file.path}: no END trailer; the row count could not be checked")
        return
    file.trailer_checked = True
    counted = file.rows_read + reader.skipped_lines
    if counted != file.trailer_count:
        reason = f"END trailer says {file.trailer_count} records, the file has {counted}"
        if ctx.strict:
            raise TaqFormatError(file.path, None, None, reason)
        ctx.report.warnings.append(f"{file.path}: {reason}")


def _resolve_date(date: dt.date | None, paths: Sequence[Path]) -> dt.date:
    if date is not None:
        return date
    found = {d for d in (date_from_name(p) for p in paths) if d is not None}
    if len(found) == 1:
        return found.pop()
    if not found:
        raise TaqFormatError(paths[0], None, None, "no YYYYMMDD date in the file names: give the date explicitly")
    raise TaqFormatError(paths[0], None, None, f"files are from different dates ({', '.join(sorted(map(str, found)))}); give the date")


def _default_record(symbol: str, source: str, config: TaqIngestConfig) -> MasterRecord:
    # UTP quotes (source N) are Nasdaq-listed; CQS (C) mostly NYSE-listed: the best available guess.
    return MasterRecord(symbol, "Q" if source == "N" else "N", "C" if source == "N" else "A",
                        config.default_round_lot, config.default_tick, "", "", in_master=False)


def write_chunks(catalog: ParquetDataCatalog, objects: list, chunk: int) -> None:
    """Write in chunks that split only where the timestamp changes (catalog intervals must be disjoint)."""
    start = 0
    while start < len(objects):
        end = min(start + chunk, len(objects))
        while end < len(objects) and objects[end].ts_init == objects[end - 1].ts_init:
            end += 1
        catalog.write_data(objects[start:end])
        start = end


def _interval(path: Path) -> tuple[int, int] | None:
    try:
        a, b = path.stem.split("_")[:2]
        return int(a), int(b)
    except ValueError:
        return None


_BACKUP = ".replaced"


def _move(src: Path, dest: Path) -> None:
    """Rename within the catalog's file system (atomic per file); one seam for failure tests."""
    src.replace(dest)


def commit_staging(staging: Path, catalog: Path, day: tuple[int, int]) -> None:
    """Move staged files into the catalog, replacing the day's previous files of the same kind.

    For each ``data/<type>/<instrument>/`` folder that receives new files, the old files whose
    interval overlaps the day are set aside first, then the new files are moved in. Canonical files
    and the manifest replace the file of the same name. If anything fails, the files moved in are
    removed and the set-aside ones are put back, so the catalog is as it was.
    """
    backup = staging / _BACKUP
    new = sorted(p for p in staging.rglob("*") if p.is_file() and p.relative_to(staging).parts[0] != _BACKUP)
    rel = [p.relative_to(staging) for p in new]
    displaced: list[tuple[Path, Path]] = []
    placed: list[Path] = []

    def set_aside(old: Path) -> None:
        kept = backup / old.relative_to(catalog)
        kept.parent.mkdir(parents=True, exist_ok=True)
        _move(old, kept)
        displaced.append((old, kept))

    try:
        for folder in sorted({catalog / r.parent for r in rel if r.parts[0] == "data"}):
            for old in sorted(folder.glob("*.parquet")):
                span = _interval(old)
                if span is not None and span[0] <= day[1] and span[1] >= day[0]:
                    set_aside(old)
        for src, r in zip(new, rel, strict=True):
            dest = catalog / r
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.exists():
                set_aside(dest)
            _move(src, dest)
            placed.append(dest)
    except BaseException:
        for dest in reversed(placed):
            dest.unlink(missing_ok=True)
        for old, kept in reversed(displaced):
            kept.replace(old)
        raise


def ingest_taq(
    catalog: Path,
    *,
    master: Path,
    trades: Sequence[Path] = (),
    quotes: Sequence[Path] = (),
    nbbo: Path | None = None,
    symbols: Sequence[str] | None = None,
    date: dt.date | None = None,
    strict: bool = False,
    config: TaqIngestConfig | None = None,
    progress: Progress | None = None,
) -> TaqIngestReport:
    """Ingest one day of TAQ files into the catalog at ``catalog``.

    Parameters
    ----------
    catalog : Path
        Catalog root (created if missing).
    master : Path
        ``EQY_US_ALL_REF_MASTER_*``: instruments, round lots, listing exchanges.
    trades : sequence of Path
        ``EQY_US_ALL_TRADE_*`` file(s).
    quotes : sequence of Path
        ``SPLITS_US_ALL_BBO_*`` shards and/or the unsplit ``EQY_US_ALL_BBO_*`` file.
    nbbo : Path, optional
        ``EQY_US_ALL_NBBO_*``; without it the NBBO is the aggregated book's touch.
    symbols : sequence of str, optional
        Only these symbols (``BRK.B`` or ``BRK B``).
    date : date, optional
        Trade date; by default read from the file names.
    strict : bool
        Raise ``TaqFormatError`` at the first malformed row instead of counting it.
    config : TaqIngestConfig, optional
        Condition sets, defaults for symbols missing from the master file, block sizes.
    progress : callable, optional
        Called as ``progress(stage, bytes_done, bytes_total)``: bytes of the input files as stored
        (compressed for gzip), master included, at each symbol and before the commit.

    Returns
    -------
    TaqIngestReport
        Also saved as ``<catalog>/canonical/taq/manifests/<YYYYMMDD>.json``.
    """
    config = config or TaqIngestConfig()
    say = progress or (lambda *_: None)
    inputs = [*trades, *quotes, *([nbbo] if nbbo else [])]
    if not inputs:
        raise ValueError("nothing to ingest: give trade and/or quote files")
    date = _resolve_date(date, inputs)
    stamp = f"{date:%Y%m%d}"
    wanted = {taq_symbol(s) for s in symbols} if symbols else None
    report = TaqIngestReport(date=str(date), catalog=str(catalog))
    ctx = _Context(report, strict, config.max_examples)
    bytes_total = sum(Path(p).stat().st_size for p in [master, *inputs])

    say("reading master file", 0, bytes_total)
    master_file = FileReport(str(master), "master")
    report.files.append(master_file)
    test_symbols: set[str] = set()
    records = read_master(
        master, wanted, master_file, bad=lambda line, field, reason: ctx.malformed(master_file, line, field, reason),
        test_symbols=test_symbols,
    )
    master_bytes = Path(master).stat().st_size

    all_readers: list[TaqReader] = []

    def open_stream(paths: Sequence[Path], kind: str, cols: dict, opt: dict) -> _Stream:
        readers = []
        for p in sorted(paths, key=lambda p: p.name):
            file = FileReport(str(p), kind)
            report.files.append(file)
            reader = TaqReader(Path(p), cols, file, opt, wanted, config.block_size)
            all_readers.append(reader)
            readers.append((reader, file))
        return _Stream(readers, ctx)

    quote_stream = open_stream(quotes, "quote", QUOTE_COLUMNS, QUOTE_OPTIONAL)
    nbbo_stream = open_stream([nbbo] if nbbo else [], "nbbo", NBBO_COLUMNS, NBBO_OPTIONAL)
    trade_stream = open_stream(trades, "trade", TRADE_COLUMNS, TRADE_OPTIONAL)
    streams = (quote_stream, nbbo_stream, trade_stream)

    catalog = Path(catalog)
    catalog.mkdir(parents=True, exist_ok=True)
    staging = catalog / f".staging-{uuid.uuid4().hex}"
    day_start = day_start_ns(date)
    day_end = day_start_ns(date + dt.timedelta(days=1)) - 1
    used: dict[str, MasterRecord] = {}
    done: set[str] = set()
    try:
        staged = ParquetDataCatalog(str(staging))
        canonical = staging / "canonical" / "taq"
        while True:
            heads = [s.head[0] for s in streams if s.head is not None]
            if not heads:
                break
            symbol = min(heads)
            if symbol in done:
                # Two files of one kind with the same symbol (e.g. a shard and the unsplit quote file):
                # the streams are merged in name order, so the day would be ingested twice.
                raise TaqFormatError(
                    Path(next(s.head[3].path for s in streams if s.head is not None and s.head[0] == symbol)),
                    None, "Symbol", f"symbol {symbol} appears in more than one file of the same kind",
                )
            done.add(symbol)
            say(f"TAQ {symbol}", master_bytes + sum(r.bytes_read for r in all_readers), bytes_total)
            if symbol in test_symbols:
                # An exchange test symbol (ZVZZT, NTEST, ...): none of its rows is market data.
                for stream in streams:
                    for table, _, file in stream.take(symbol):
                        file.drop("test symbol", table.num_rows)
                continue
            record = _ingest_symbol(symbol, streams, records, date, stamp, staged, canonical, config, ctx)
            used[symbol] = record
        # Every master instrument read (after the symbol filter), plus the defaults made for
        # symbols missing from the master file; in_catalog says which have data this day.
        everything = {**records, **used}
        table = instruments_table([everything[k] for k in sorted(everything)], date)
        table = table.append_column("in_catalog", pa.array([k in used for k in sorted(everything)], pa.bool_()))
        path = canonical / "instruments" / f"date={stamp}" / "instruments.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        report_json = json.dumps(report.to_builtins(), indent=2)
        manifest = canonical / "manifests" / f"{stamp}.json"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(report_json + "\n")
        say("committing to the catalog", bytes_total, bytes_total)
        commit_staging(staging, catalog, (day_start, day_end))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def _source(groups: list[tuple[pa.Table, TaqReader, FileReport]], column: str) -> str:
    """The first row's tape source letter (C = CTA, N = UTP), or "" when the file has none."""
    for table, _, _ in groups:
        if column in table.column_names and table.num_rows:
            return str(table[column][0].as_py()).strip()
    return ""


def _ingest_symbol(
    symbol: str,
    streams: tuple[_Stream, _Stream, _Stream],
    records: dict[str, MasterRecord],
    date: dt.date,
    stamp: str,
    staged: ParquetDataCatalog,
    canonical: Path,
    config: TaqIngestConfig,
    ctx: _Context,
) -> MasterRecord:
    """Process one symbol's rows from every stream into the staging catalog; returns its record."""
    quote_stream, nbbo_stream, trade_stream = streams
    quote_groups = quote_stream.take(symbol)
    nbbo_groups = nbbo_stream.take(symbol)
    trade_groups = trade_stream.take(symbol)
    record = records.get(symbol)
    if record is None:
        source = _source(quote_groups, "source_of_quote") or _source(trade_groups, "source_of_trade")
        record = _default_record(symbol, source, config)
        ctx.report.warnings.append(
            f"{symbol}: not in the master file; assumed round lot {record.round_lot}, tick {record.tick}, "
            f"listing {record.listed_exchange} (from source of quote/trade {source or 'unknown'})",
        )
    instrument = make_equity(record, day_start_ns(date))
    iid = instrument.id
    counts = ctx.report.instruments.setdefault(iid.value, InstrumentReport())
    staged.write_data([instrument])
    safe = nautilus_symbol(symbol)

    def save(kind: str, table: pa.Table) -> None:
        path = canonical / kind / f"date={stamp}" / f"{safe}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)

    # Quotes -> aggregated L2 book -> deltas.
    q_tables = []
    for table, reader, file in quote_groups:
        q = clean_quotes(table, date, record.round_lot, config, ctx.bad_rows(file, reader, table))
        file.rows_kept += int(q.usable.sum())
        for reason in np.unique(q.reason[~q.usable]).tolist():
            file.drop(reason, int((q.reason == reason).sum()))
        q_tables.append(q)
    quotes = _concat_quotes(q_tables)
    nbbo = None
    if quotes is not None:
        book = book_deltas(quotes, iid)
        table = quotes.to_table(symbol)
        for name, column in book.row_flags(table.num_rows).items():
            table = table.append_column(name, pa.array(column))
        save("quotes", table)
        counts.deltas = len(book.deltas)
        counts.book_events = book.events
        counts.crossed_book_events = int(book.crossed.sum())
        counts.locked_book_events = int(book.locked.sum())
        write_chunks(staged, book.deltas, config.chunk_objects)
        nbbo = nbbo_from_book(book)
    if nbbo_groups or (quotes is not None and nbbo_stream.readers):
        nbbo_table = pa.concat_tables([t for t, _, _ in nbbo_groups]) if nbbo_groups else None
        if nbbo_groups:
            _, reader, file = nbbo_groups[0]
            bad = ctx.bad_rows(file, reader, nbbo_table)
        else:
            bad = lambda *_: None  # noqa: E731
        nbbo = nbbo_from_files(nbbo_table, quotes or QuoteRows.empty(), date, record.round_lot, bad)
        if nbbo_groups:
            file.rows_kept += int((nbbo.origin == "nbbo-file").sum())
    if nbbo is not None:
        save("nbbo", nbbo.to_table(symbol))
        ticks, crossed = quote_ticks(nbbo, iid)
        counts.quote_ticks = len(ticks)
        counts.crossed_nbbo = crossed
        counts.one_sided_nbbo = int((~nbbo.two_sided).sum())
        write_chunks(staged, ticks, config.chunk_objects)

    if trade_groups:
        table = pa.concat_tables([t for t, _, _ in trade_groups])
        _, reader, file = trade_groups[0]
        reference = nbbo or Nbbo(*(np.zeros(0, np.int64) for _ in range(5)), np.zeros(0, dtype=object))
        rows = clean_trades(table, date, record.round_lot, reference, iid, config, ctx.bad_rows(file, reader, table))
        t = rows.table
        kept = t["kept"].to_numpy()
        file.rows_kept += int(kept.sum())
        reasons = t["drop_reason"].to_numpy(zero_copy_only=False)
        for reason in np.unique(reasons[~kept]).tolist():
            file.drop(reason, int((reasons == reason).sum()))
        off = t["off_exchange"].to_numpy() & kept
        counts.off_exchange_trades = int(off.sum())
        counts.odd_lot_trades = int((t["odd_lot"].to_numpy() & kept).sum())
        aggressor = t["aggressor"].to_numpy()[kept & ~off]
        counts.buyer_initiated = int((aggressor == 1).sum())
        counts.seller_initiated = int((aggressor == -1).sum())
        counts.unclassified = int((aggressor == 0).sum())
        counts.trade_ticks = len(rows.ticks)
        save("trades", t)
        write_chunks(staged, rows.ticks, config.chunk_objects)
    return record


def _concat_quotes(parts: list[QuoteRows]) -> QuoteRows | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    merged = QuoteRows(*(np.concatenate([getattr(p, f) for p in parts]) for f in QuoteRows.__dataclass_fields__))
    order = np.lexsort((merged.sequence, merged.ts))
    return QuoteRows(*(getattr(merged, f)[order] for f in QuoteRows.__dataclass_fields__))
