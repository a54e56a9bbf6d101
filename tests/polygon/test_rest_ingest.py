"""REST ingest against a local server serving the real Polygon responses (pagination, retry, resume, key hygiene)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from nautilus_trader.model.enums import BookAction
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from adapters.polygon.config import PolygonIngestConfig
from adapters.polygon.credentials import ApiKey
from adapters.polygon.errors import PolygonAuthError, PolygonHttpError
from adapters.polygon.ingest import DOWNLOAD_DIR, ingest_polygon
from tests.polygon.rest_server import FixtureRestServer

KEY = "sekret-key-9f8e7d"
QUOTE_DAY = dt.date(2022, 5, 10)  # the two real quote pages
TRADE_DAY = dt.date(2022, 4, 28)  # the real trade response


@pytest.fixture
def server(shared_data: Path) -> Iterator[FixtureRestServer]:
    s = FixtureRestServer(shared_data / "polygon/rest", shared_data / "polygon/reference/massive_rest_spec.json", KEY)
    s.base = s.start()  # type: ignore[attr-defined]
    yield s
    s.stop()


def _config(server: FixtureRestServer, **kw: object) -> PolygonIngestConfig:
    return PolygonIngestConfig(rest_url=server.base, backoff=0.001, **kw)  # type: ignore[attr-defined]


def _fixture_rows(shared_data: Path, *names: str) -> list[dict]:
    rows = []
    for n in names:
        rows += json.loads((shared_data / "polygon/rest" / n).read_text())["results"]
    return rows


def _all_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_quotes_day_exact_ascending_and_paginated(server: FixtureRestServer, shared_data: Path, tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    report = ingest_polygon(cat, symbols=["AAPL"], date=QUOTE_DAY, api_key=ApiKey(KEY), config=_config(server))
    # Pagination: page 2 was asked for with the real next_url's cursor, on our host, once.
    assert server.count("quotes-page1") == 1 and server.count("quotes-page2") == 1
    rows = _fixture_rows(shared_data, "v3_quotes_AAPL_page1.json", "v3_quotes_AAPL_page2_cursor.json")
    rows.sort(key=lambda r: (r["sip_timestamp"], r["sequence_number"]))
    table = pq.read_table(cat / "canonical/polygon/quotes/date=20220510/AAPL.parquet").to_pydict()
    assert table["ts_event"] == [r["sip_timestamp"] for r in rows]  # exact ns, ascending
    assert table["sequence"] == [r["sequence_number"] for r in rows]
    assert table["bid_price"] == [r["bid_price"] for r in rows]
    assert table["ask_exchange"] == [r["ask_exchange"] for r in rows]
    assert table["bid_size"] == [r["bid_size"] * 100 for r in rows]  # sizes 1-5: round lots
    counts = report.instruments["AAPL.XNAS"]
    assert counts.quote_size_unit == "lots" and counts.quotes_read == 20 and counts.trades_outside_day == 2

    catalog = ParquetDataCatalog(str(cat))
    [inst] = catalog.instruments()
    assert inst.id.value == "AAPL.XNAS" and inst.price_precision == 4 and inst.info["source"] == "polygon-reference"
    ticks = catalog.quote_ticks()
    usable = [r for r in rows if 0 < r["bid_price"] < r["ask_price"]]
    assert [t.ts_event for t in ticks] == [r["sip_timestamp"] for r in usable]
    assert [(t.bid_price.as_double(), t.ask_price.as_double(), int(t.bid_size), int(t.ask_size)) for t in ticks] == [
        (r["bid_price"], r["ask_price"], r["bid_size"] * 100, r["ask_size"] * 100) for r in usable
    ]
    deltas = catalog.order_book_deltas()
    assert deltas[0].action == BookAction.CLEAR
    assert [d.ts_event for d in deltas] == sorted(d.ts_event for d in deltas)
    # The L1 book after the last event is the last NBBO.
    book: dict = {}
    for d in deltas:
        if d.action == BookAction.CLEAR:
            book.clear()
        elif d.action == BookAction.DELETE:
            book.pop((d.order.side, d.order.price.as_double()), None)
        else:
            book[(d.order.side, d.order.price.as_double())] = int(d.order.size)
    last = rows[-1]
    assert sorted(book.values()) == sorted([last["bid_size"] * 100, last["ask_size"] * 100])
    assert not (cat / DOWNLOAD_DIR / "20220510").exists()  # download folder removed after commit
    assert (cat / "canonical/polygon/reference/conditions.json").exists()
    manifest = json.loads((cat / "canonical/polygon/manifests/20220510.json").read_text())
    assert manifest["instruments"]["AAPL.XNAS"]["quote_ticks"] == len(usable)


def test_trades_day_keeps_conditions_and_drops_corrections(server: FixtureRestServer, shared_data: Path, tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    report = ingest_polygon(cat, symbols=["AAPL"], date=TRADE_DAY, api_key=ApiKey(KEY), config=_config(server))
    rows = _fixture_rows(shared_data, "v3_trades_AAPL_limit2.json")
    table = pq.read_table(cat / "canonical/polygon/trades/date=20220428/AAPL.parquet").to_pydict()
    assert table["ts_event"] == [r["sip_timestamp"] for r in rows]
    assert table["price"] == [r["price"] for r in rows]
    assert table["conditions"] == [[12, 37], [12, 37]]
    assert table["exchange"] == [11, 12] and table["venue"] == ["ARCX", "XNAS"]
    assert table["trf_timestamp"] == [r["trf_timestamp"] for r in rows]
    # Both rows carry correction 1: kept in the canonical table, never a TradeTick.
    assert table["kept"] == [False, False] and table["drop_reason"] == ["correction 1", "correction 1"]
    assert report.instruments["AAPL.XNAS"].trades_dropped == {"correction 1": 2}
    assert ParquetDataCatalog(str(cat)).trade_ticks() == []


def test_429_and_5xx_are_retried(server: FixtureRestServer, tmp_path: Path) -> None:
    server.faults["quotes-page2"] = [429, 503, 502]
    report = ingest_polygon(tmp_path / "cat", symbols=["AAPL"], date=QUOTE_DAY, api_key=ApiKey(KEY), config=_config(server))
    assert report.retries == 3 and server.count("quotes-page2") == 1
    assert report.instruments["AAPL.XNAS"].quotes_read == 20


def test_interrupted_download_resumes_without_duplicates(server: FixtureRestServer, tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    server.faults["quotes-page2"] = [500, 500, 500]
    with pytest.raises(PolygonHttpError) as err:
        ingest_polygon(cat, symbols=["AAPL"], date=QUOTE_DAY, api_key=ApiKey(KEY), config=_config(server, max_retries=1))
    assert err.value.status == 500 and KEY not in str(err.value)
    # Nothing reached the catalog, page 1 is saved with the next_url to resume from.
    assert not (cat / "data").exists()
    saved = cat / DOWNLOAD_DIR / "20220510/AAPL/quotes"
    assert sorted(p.name for p in saved.iterdir()) == ["page-000001.json", "state.json"]
    report = ingest_polygon(cat, symbols=["AAPL"], date=QUOTE_DAY, api_key=ApiKey(KEY), config=_config(server))
    assert server.count("quotes-page1") == 1  # not downloaded again
    assert server.count("quotes-page2") == 1
    assert report.instruments["AAPL.XNAS"].quotes_read == 20
    ts = pq.read_table(cat / "canonical/polygon/quotes/date=20220510/AAPL.parquet")["ts_event"].to_pylist()
    assert len(ts) == len(set(ts)) == 20
    # Ingesting the day again replaces it: one copy.
    ingest_polygon(cat, symbols=["AAPL"], date=QUOTE_DAY, api_key=ApiKey(KEY), config=_config(server))
    assert len(ParquetDataCatalog(str(cat)).quote_ticks()) == report.instruments["AAPL.XNAS"].quote_ticks


def test_key_is_sent_as_header_only_and_never_stored(server: FixtureRestServer, tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    ingest_polygon(cat, symbols=["AAPL"], date=QUOTE_DAY, api_key=ApiKey(KEY), config=_config(server))
    assert all(h.authorization == f"Bearer {KEY}" for h in server.hits)
    assert all(KEY not in json.dumps(h.query) for h in server.hits)
    assert KEY.encode() not in _all_bytes(cat)


def test_wrong_key_is_a_clear_error_without_the_key(server: FixtureRestServer, tmp_path: Path) -> None:
    with pytest.raises(PolygonAuthError) as err:
        ingest_polygon(tmp_path / "cat", symbols=["AAPL"], date=QUOTE_DAY, api_key=ApiKey("other-key"), config=_config(server))
    assert "401" in str(err.value) and "other-key" not in str(err.value)
