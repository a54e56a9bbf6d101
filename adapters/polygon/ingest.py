"""``ingest_polygon``: one day of Polygon REST v3 trades and quotes into the ParquetDataCatalog.

Download. For each symbol and kind, ``/v3/{trades,quotes}/{ticker}?timestamp=D&order=asc&sort=timestamp``
is followed page by page through ``next_url``. Each page is saved under
``<catalog>/.polygon-download/<YYYYMMDD>/<SYMBOL>/<kind>/`` (atomic rename) before the state file
records its ``next_url``; an interrupted ingest run again resumes from the last recorded
``next_url``, and a page fetched but not recorded is fetched again into the same file name, so no
page is stored twice. The download folder is removed once the day is committed.

Flat files. A ``trades_v1``/``quotes_v1`` daily CSV can replace the download of its kind
(``adapters.polygon.flatfiles``); its rows go through the same conversion.

Conversion. Rows outside the ET calendar day are counted and left out. The rest becomes the same
catalog layout as the TAQ ingest: ``Equity`` instruments (``<TICKER>.<listing MIC>``), an L1
``OrderBookDelta`` book, NBBO ``QuoteTick``s and ``TradeTick``s, plus canonical tables under
``canonical/polygon/{trades,quotes}/date=YYYYMMDD/<SYMBOL>.parquet``, the reference responses under
``canonical/polygon/reference/`` and the report as ``canonical/polygon/manifests/<YYYYMMDD>.json``.
Everything is staged and committed with the TAQ adapter's ``commit_staging``: a failure leaves the
catalog as it was, and ingesting a day twice leaves one copy.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pyarrow.parquet as pq
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from adapters.polygon.config import PolygonIngestConfig
from adapters.polygon.credentials import ApiKey, load_api_key
from adapters.polygon.errors import PolygonFormatError
from adapters.polygon.flatfiles import read_flat_file
from adapters.polygon.loaders import build_quotes, build_trades, parse_quotes
from adapters.polygon.providers import equity_from_ticker, fetch_ticker, ticker_record
from adapters.polygon.reference import ConditionTable, ExchangeTable
from adapters.polygon.report import PolygonIngestReport, SymbolReport
from adapters.polygon.rest import PolygonRestClient
from adapters.taq.ingest import commit_staging, write_chunks
from adapters.taq.providers import day_start_ns, nautilus_symbol

Progress = Callable[[str, int, int | None], None]
DOWNLOAD_DIR = ".polygon-download"
KINDS = ("quotes", "trades")


class _State(msgspec.Struct):
    """Where a kind's download stands: pages saved, the ``next_url`` after the last one, done."""

    pages: int = 0
    next_url: str | None = None
    done: bool = False


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def download_kind(
    client: PolygonRestClient,
    folder: Path,
    kind: str,
    symbol: str,
    date: dt.date,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """Every result of one symbol-day and kind, downloading only the pages not saved yet.

    Returns the rows (page order) and the number of pages fetched by this call.
    """
    folder.mkdir(parents=True, exist_ok=True)
    state_path = folder / "state.json"
    state = msgspec.json.decode(state_path.read_bytes(), type=_State) if state_path.exists() else _State()
    fetched = 0
    if not state.done:
        path = f"/v3/{kind}/{symbol}"
        params = {"timestamp": date.isoformat(), "order": "asc", "sort": "timestamp", "limit": limit}
        if state.pages and state.next_url is None:
            raise PolygonFormatError(str(state_path), "next_url", "pages saved but no next_url: delete the folder")
        for page, following in client.pages(path, params, next_url=state.next_url if state.pages else None):
            results = page.get("results") or []
            if not isinstance(results, list):
                raise PolygonFormatError(path, "results", "not a list")
            _atomic_write(folder / f"page-{state.pages + 1:06d}.json", msgspec.json.encode(results))
            state = _State(state.pages + 1, following, following is None)
            _atomic_write(state_path, msgspec.json.encode(state))
            fetched += 1
    rows: list[dict[str, Any]] = []
    for n in range(1, state.pages + 1):
        rows.extend(msgspec.json.decode((folder / f"page-{n:06d}.json").read_bytes()))
    return rows, fetched


def _in_day(rows: list[dict[str, Any]], start: int, end: int) -> tuple[list[dict[str, Any]], int]:
    inside = [r for r in rows if isinstance(r.get("sip_timestamp"), int) and start <= r["sip_timestamp"] < end]
    # Rows without a usable sip_timestamp stay in, so that the loader names the bad field.
    inside += [r for r in rows if not isinstance(r.get("sip_timestamp"), int)]
    return inside, len(rows) - len(inside)


def ingest_polygon(
    catalog: Path,
    *,
    symbols: Sequence[str],
    date: dt.date,
    api_key: ApiKey | None = None,
    config: PolygonIngestConfig | None = None,
    progress: Progress | None = None,
    trades_file: Path | None = None,
    quotes_file: Path | None = None,
) -> PolygonIngestReport:
    """Ingest one day of Polygon trades and quotes for ``symbols`` into the catalog at ``catalog``.

    Parameters
    ----------
    catalog : Path
        Catalog root (created if missing).
    symbols : sequence of str
        Polygon tickers (``AAPL``, ``BRK.B``).
    date : date
        The trade date (ET calendar day).
    api_key : ApiKey, optional
        Default: from the environment (``load_api_key``).
    config : PolygonIngestConfig, optional
        REST URL, page size, quote-size unit, retries.
    progress : callable, optional
        ``progress(stage, done, total)`` with symbols done out of the total.
    trades_file, quotes_file : Path, optional
        Flat files (``trades_v1``/``quotes_v1`` daily CSV, gzip or plain) to read that kind from
        instead of downloading it; the reference data and instruments still come from REST.

    Returns
    -------
    PolygonIngestReport
        Also saved as ``<catalog>/canonical/polygon/manifests/<YYYYMMDD>.json``.
    """
    config = config or PolygonIngestConfig()
    say = progress or (lambda *_: None)
    if not symbols:
        raise ValueError("no symbols to ingest")
    api_key = api_key or load_api_key()
    client = PolygonRestClient(api_key, config.rest_url, max_retries=config.max_retries, backoff=config.backoff)
    catalog = Path(catalog)
    catalog.mkdir(parents=True, exist_ok=True)
    stamp = f"{date:%Y%m%d}"
    report = PolygonIngestReport(date=str(date), catalog=str(catalog), source=config.rest_url)
    day_start = day_start_ns(date)
    day_end = day_start_ns(date + dt.timedelta(days=1))

    say("reference data", 0, len(symbols))
    conditions_raw = client.all_results("/v3/reference/conditions", {"asset_class": "stocks", "limit": 1000})
    exchanges_raw = client.all_results("/v3/reference/exchanges", {"asset_class": "stocks"})
    conditions = ConditionTable(conditions_raw)
    exchanges = ExchangeTable(exchanges_raw)
    report.conditions = len(conditions)

    flat: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for kind, path in (("trades", trades_file), ("quotes", quotes_file)):
        if path is not None:
            say(f"reading {Path(path).name}", 0, len(symbols))
            flat[kind] = read_flat_file(Path(path), kind, [s.upper() for s in symbols])
            report.flat_files[kind] = str(path)
    download_root = catalog / DOWNLOAD_DIR / stamp
    staging = catalog / f".staging-{uuid.uuid4().hex}"
    try:
        staged = ParquetDataCatalog(str(staging))
        canonical = staging / "canonical" / "polygon"
        reference = canonical / "reference"
        reference.mkdir(parents=True)
        (reference / "conditions.json").write_bytes(msgspec.json.encode({"results": conditions_raw}))
        (reference / "exchanges.json").write_bytes(msgspec.json.encode({"results": exchanges_raw}))
        for done, symbol in enumerate(symbols):
            say(f"Polygon {symbol}", done, len(symbols))
            _ingest_symbol(
                client, symbol.upper(), date, stamp, (day_start, day_end), download_root, staged, canonical,
                conditions, exchanges, config, report, flat,
            )
        report.requests, report.retries = client.requests, client.retries
        manifest = canonical / "manifests" / f"{stamp}.json"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps(report.to_builtins(), indent=2))
        say("committing", len(symbols), len(symbols))
        commit_staging(staging, catalog, (day_start, day_end - 1))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(download_root, ignore_errors=True)
    return report


def _ingest_symbol(
    client: PolygonRestClient,
    symbol: str,
    date: dt.date,
    stamp: str,
    day: tuple[int, int],
    download_root: Path,
    staged: ParquetDataCatalog,
    canonical: Path,
    conditions: ConditionTable,
    exchanges: ExchangeTable,
    config: PolygonIngestConfig,
    report: PolygonIngestReport,
    flat: dict[str, dict[str, list[dict[str, Any]]]],
) -> None:
    ticker = fetch_ticker(client, symbol, date)
    record = ticker_record(ticker, f"/v3/reference/tickers/{symbol}")
    instrument = equity_from_ticker(ticker, date)
    iid = instrument.id
    staged.write_data([instrument])
    counts = report.instruments.setdefault(iid.value, SymbolReport(ticker=symbol))
    safe = nautilus_symbol(record.symbol)

    def save(kind: str, table: Any) -> None:
        path = canonical / kind / f"date={stamp}" / f"{safe}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)

    rows: dict[str, list[dict[str, Any]]] = {}
    for kind in KINDS:
        if kind in flat:
            got, fetched = flat[kind].get(symbol, []), 0
        else:
            got, fetched = download_kind(client, download_root / safe / kind, kind, symbol, date, config.page_limit)
        inside, outside = _in_day(got, *day)
        rows[kind] = inside
        setattr(counts, f"{kind}_read", len(got))
        setattr(counts, f"{kind}_outside_day", outside)
        counts.pages_fetched += fetched
        if outside:
            report.warnings.append(f"{symbol}: {outside} {kind} row(s) outside {date} (ET) left out")

    nbbo = None
    if rows["quotes"]:
        q = parse_quotes(rows["quotes"], record.round_lot, config.quote_size_unit, f"/v3/quotes/{symbol}")
        out = build_quotes(q, iid)
        counts.quote_size_unit = q.size_unit
        counts.quote_ticks = len(out.quote_ticks)
        counts.deltas = len(out.deltas)
        counts.book_events = out.book_events
        counts.crossed_or_locked_nbbo = out.crossed_or_locked
        counts.one_sided_nbbo = out.one_sided
        save("quotes", q.to_table(symbol))
        write_chunks(staged, out.deltas, config.chunk_objects)
        write_chunks(staged, out.quote_ticks, config.chunk_objects)
        nbbo = out.nbbo
    if rows["trades"]:
        t = build_trades(rows["trades"], iid, conditions, exchanges, nbbo, record.round_lot, f"/v3/trades/{symbol}")
        table = t.table
        kept = table["kept"].to_numpy()
        reasons = table["drop_reason"].to_pylist()
        for r in reasons:
            if r:
                counts.trades_dropped[r] = counts.trades_dropped.get(r, 0) + 1
        counts.trades_kept = int(kept.sum())
        counts.off_exchange_trades = int((table["off_exchange"].to_numpy() & kept).sum())
        counts.trade_ticks = len(t.ticks)
        save("trades", table)
        write_chunks(staged, t.ticks, config.chunk_objects)
