"""Flat files (daily trades_v1/quotes_v1 CSV): the same rows as REST give the same catalog."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from adapters.polygon.config import PolygonIngestConfig
from adapters.polygon.credentials import ApiKey
from adapters.polygon.errors import PolygonFormatError
from adapters.polygon.flatfiles import read_flat_file
from adapters.polygon.ingest import ingest_polygon
from tests.polygon.rest_server import FixtureRestServer

KEY = "flat-key-1"
TRADES_HEADER = "ticker,conditions,correction,exchange,id,participant_timestamp,price,sequence_number,sip_timestamp,size,tape,trf_id,trf_timestamp"
QUOTES_HEADER = ("ticker,ask_exchange,ask_price,ask_size,bid_exchange,bid_price,bid_size,conditions,indicators,"
                 "participant_timestamp,sequence_number,sip_timestamp,tape,trf_timestamp")
# Rows observed in published flat files (market-data-formats.md §2.9), for other tickers around AAPL.
OBSERVED_TRADES = [
    'A,"12,37",0,4,52983525159748,1779427811494482943,114.790000,3478,1779436803799308985,4.000000,1,201,1779436803799271495',
    "A,12,0,8,52983525035849,1770810300032981000,129.79,6876,1770810300033243132,100,1,0,0",
]
OBSERVED_QUOTES = ['A,8,180.0,100,11,164.28,100,"1,81",,1629716400001245000,79497,1629716400044243200,1,0']


def _csv_line(values: list[object]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(values)
    return buf.getvalue()


def _flat_trade(r: dict) -> str:
    return _csv_line(["AAPL", ",".join(map(str, r.get("conditions") or [])), r["correction"], r["exchange"], r["id"],
                      r["participant_timestamp"], f"{r['price']:.6f}", r["sequence_number"], r["sip_timestamp"],
                      f"{r['size']:.6f}", r["tape"], r.get("trf_id", 0), r.get("trf_timestamp", 0)])


def _flat_quote(r: dict) -> str:
    return _csv_line(["AAPL", r["ask_exchange"], r["ask_price"], r["ask_size"], r["bid_exchange"], r["bid_price"],
                      r["bid_size"], "", "", r["participant_timestamp"], r["sequence_number"], r["sip_timestamp"],
                      r["tape"], 0])


@pytest.fixture
def files(shared_data: Path, tmp_path: Path) -> dict[str, Path]:
    rest = shared_data / "polygon/rest"
    trades = json.loads((rest / "v3_trades_AAPL_limit2.json").read_text())["results"]
    quotes = [*json.loads((rest / "v3_quotes_AAPL_page1.json").read_text())["results"],
              *json.loads((rest / "v3_quotes_AAPL_page2_cursor.json").read_text())["results"]]
    t = tmp_path / "2022-04-28.csv.gz"
    t.write_bytes(gzip.compress("\n".join([TRADES_HEADER, *OBSERVED_TRADES, *map(_flat_trade, trades),
                                           "MSFT,,0,12,1,1,1.0,1,1,1,3,0,0"]).encode() + b"\n"))
    q = tmp_path / "2022-05-10.csv"
    q.write_text("\n".join([QUOTES_HEADER, *OBSERVED_QUOTES, *map(_flat_quote, quotes)]) + "\n")
    return {"trades": t, "quotes": q}


@pytest.fixture
def server(shared_data: Path) -> Iterator[FixtureRestServer]:
    s = FixtureRestServer(shared_data / "polygon/rest", shared_data / "polygon/reference/massive_rest_spec.json", KEY)
    s.base = s.start()  # type: ignore[attr-defined]
    yield s
    s.stop()


def test_reader_parses_the_observed_quirks(files: dict[str, Path]) -> None:
    rows = read_flat_file(files["trades"], "trades", ["A", "AAPL"])
    a = rows["A"]
    assert a[0]["conditions"] == [12, 37] and a[1]["conditions"] == [12]  # quoted list, bare int
    assert a[0]["sip_timestamp"] == 1779436803799308985  # exact int64
    assert a[0]["size"] == 4.0 and a[1]["trf_id"] == 0
    assert len(rows["AAPL"]) == 2 and "MSFT" not in rows
    q = read_flat_file(files["quotes"], "quotes", ["A"])["A"][0]
    assert q["conditions"] == [1, 81] and q["indicators"] == []


def test_flat_files_give_the_same_catalog_as_rest(server: FixtureRestServer, files: dict[str, Path], tmp_path: Path) -> None:
    cfg = PolygonIngestConfig(rest_url=server.base)  # type: ignore[attr-defined]
    for day, kind in ((dt.date(2022, 5, 10), "quotes"), (dt.date(2022, 4, 28), "trades")):
        via_rest, via_flat = tmp_path / f"rest-{kind}", tmp_path / f"flat-{kind}"
        ingest_polygon(via_rest, symbols=["AAPL"], date=day, api_key=ApiKey(KEY), config=cfg)
        before = server.count("quotes-page1") + server.count("/v3/trades/AAPL")
        report = ingest_polygon(via_flat, symbols=["AAPL"], date=day, api_key=ApiKey(KEY), config=cfg,
                                **{f"{kind}_file": files[kind]})
        assert report.flat_files == {kind: str(files[kind])}
        # Only the other kind was downloaded.
        assert server.count("quotes-page1") + server.count("/v3/trades/AAPL") == before + 1
        name = f"canonical/polygon/{kind}/date={day:%Y%m%d}/AAPL.parquet"
        assert pq.read_table(via_flat / name).equals(pq.read_table(via_rest / name))
        a, b = ParquetDataCatalog(str(via_rest)), ParquetDataCatalog(str(via_flat))
        assert a.quote_ticks() == b.quote_ticks() and a.trade_ticks() == b.trade_ticks()
        assert [d.action for d in a.order_book_deltas()] == [d.action for d in b.order_book_deltas()]


def test_a_bad_value_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "t.csv"
    bad.write_text(f"{TRADES_HEADER}\n{OBSERVED_TRADES[1]}\nA,12,0,8,1,1,12x.5,2,2,100,1,0,0\n")
    with pytest.raises(PolygonFormatError, match=r"t\.csv:3: price: not a number: '12x\.5'"):
        read_flat_file(bad, "trades", ["A"])
    with pytest.raises(PolygonFormatError, match="no column sip_timestamp"):
        (tmp_path / "q.csv").write_text("ticker,foo\nA,1\n")
        read_flat_file(tmp_path / "q.csv", "quotes", ["A"])
