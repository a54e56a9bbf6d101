"""Generated TAQ files: DST, gzip, trailers, header drift, malformed rows, re-ingest, atomicity."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest
from nautilus_trader.persistence.catalog import ParquetDataCatalog

import adapters.taq.ingest as ingest_module
from adapters.taq import TaqFormatError, ingest_taq
from hftmm.sample.taq_day import MASTER_HEADER, QUOTE_HEADER, TRADE_HEADER

MASTER_ROW = "ACME|Acme|000000001|A|ACME||N|N|A|1|100||1||||||" + "|".join(["1"] * 16) + "||20100101"
MASTER_ROW_2 = MASTER_ROW.replace("ACME", "BETA").replace("000000001", "000000002")


def write(path: Path, header: str, rows: list[str], trailer: int | None = None, gz: bool = False) -> Path:
    text = "\n".join([header, *rows]) + "\n"
    if trailer is not None:
        text += f"END|{path.name[-8:]}|{trailer}" + "|" * (header.count("|") - 2) + "\n"
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def quote(t: str, x: str, bid: str, bs: str, ask: str, as_: str, sym: str = "ACME", cond: str = "R") -> str:
    return f"{t}|{x}|{sym}|{bid}|{bs}|{ask}|{as_}|{cond}|1|0||||C||||||{t}||| "


def trade(t: str, px: str, size: str = "100", cond: str = "    ", corr: str = "00", x: str = "N", sym: str = "ACME") -> str:
    return f"{t}|{x}|{sym}|{cond}|{size}|{px}|N|{corr}|1|1|C||{t}||0"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    date = "20180312"  # the Monday after the 2018 DST change: EDT
    quotes = [
        quote("093000000000000", "N", "10.00", "1", "10.02", "2"),
        quote("093000100000000", "P", "10.01", "3", "10.02", "1"),
        quote("093001000000000", "N", "10.00", "1", "10.03", "2"),
    ]
    trades = [trade("093000500000000", "10.02"), trade("093002000000000", "10.01", cond="  T ")]
    return {
        "master": write(tmp_path / f"EQY_US_ALL_REF_MASTER_{date}", MASTER_HEADER, [MASTER_ROW], trailer=1),
        "quotes": write(tmp_path / f"SPLITS_US_ALL_BBO_A_{date}", QUOTE_HEADER, quotes, trailer=3, gz=True),
        "trades": write(tmp_path / f"EQY_US_ALL_TRADE_{date}", TRADE_HEADER, trades, trailer=2),
    }


def run(files: dict[str, Path], catalog: Path, **kw) -> object:
    return ingest_taq(catalog, master=files["master"], trades=[files["trades"]], quotes=[files["quotes"]], **kw)


def test_dst_gzip_and_trailer(files: dict[str, Path], tmp_path: Path) -> None:
    report = run(files, tmp_path / "cat")
    assert all(f.trailer_checked for f in report.files if f.kind != "master")
    ticks = ParquetDataCatalog(str(tmp_path / "cat")).quote_ticks()
    # 09:30 EDT on 2018-03-12 is 13:30 UTC (it was 14:30 UTC the Friday before).
    assert pd.Timestamp(ticks[0].ts_event, unit="ns", tz="UTC") == pd.Timestamp("2018-03-12 13:30", tz="UTC")
    # The NBBO is the aggregated book's touch: sizes summed across venues at the best price.
    assert (float(ticks[1].bid_price), float(ticks[1].bid_size), float(ticks[1].ask_size)) == (10.01, 300.0, 300.0)
    assert report.instruments["ACME.XNYS"].trade_ticks == 1
    # The trade at the ask of the prevailing quote is buyer-initiated.
    assert report.instruments["ACME.XNYS"].buyer_initiated == 1


def test_wrong_trailer_count(files: dict[str, Path], tmp_path: Path) -> None:
    rows = files["trades"].read_text().splitlines()[1:-1]
    write(files["trades"], TRADE_HEADER, rows, trailer=5)
    with pytest.raises(TaqFormatError, match="END trailer says 5 records, the file has 2"):
        run(files, tmp_path / "cat", strict=True)
    report = run(files, tmp_path / "cat2")
    assert any("END trailer says 5" in w for w in report.warnings)


def test_malformed_rows_counted_or_strict(files: dict[str, Path], tmp_path: Path) -> None:
    rows = files["trades"].read_text().splitlines()[1:-1]
    rows.insert(1, trade("093001500000000", "abc"))
    rows.insert(2, "093001600000000|N|ACME|short")
    rows.insert(3, trade("99", "10.00"))
    write(files["trades"], TRADE_HEADER, rows, trailer=5)
    with pytest.raises(TaqFormatError) as info:
        run(files, tmp_path / "cat", strict=True)
    assert info.value.line is not None and info.value.path == files["trades"]
    assert not (tmp_path / "cat" / "data").exists(), "a failed ingest writes nothing"
    report = run(files, tmp_path / "cat2")
    examples = {(m.line, m.field, m.reason) for m in report.malformed_examples}
    assert (3, "Trade Price", "not a price") in examples
    assert (4, None, "expected 15 fields, found 4") in examples
    assert (5, "Time", "not a 15-digit HHMMSSnnnnnnnnn time") in examples
    assert report.malformed_count == 3
    # The good rows around the bad ones are all there.
    assert report.instruments["ACME.XNYS"].trade_ticks == 1


def test_header_drift_and_unknown_columns(files: dict[str, Path], tmp_path: Path) -> None:
    # A v2.2-style quote file (22 columns, no Security_Status_Indicator) and a newer master with
    # extra TradedOn columns: parsed by name.
    header22 = QUOTE_HEADER.rsplit("|", 1)[0]
    rows = [quote("093000000000000", "N", "10.00", "1", "10.02", "2")[:-2]]
    write(files["quotes"].with_suffix(""), header22, rows)
    files["quotes"] = files["quotes"].with_suffix("")
    write(files["master"], MASTER_HEADER + "|TradedOnLTSE|TradedOnMEMX|TradedOnMIAX", [MASTER_ROW + "|0|1|1"])
    report = run(files, tmp_path / "cat")
    assert report.instruments["ACME.XNYS"].quote_ticks == 1
    bad = files["trades"].with_name("EQY_US_ALL_TRADE_20180312")
    write(bad, TRADE_HEADER.replace("Trade Price", "Px"), [])
    with pytest.raises(TaqFormatError, match="header has no column 'trade_price'"):
        run(files, tmp_path / "cat3")


def test_reingest_replaces_the_day(files: dict[str, Path], tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    run(files, cat)
    first = {p.relative_to(cat) for p in cat.rglob("*.parquet")}
    counts = lambda c: (len(c.quote_ticks()), len(c.trade_ticks()), len(c.order_book_deltas()), len(c.instruments()))  # noqa: E731
    before = counts(ParquetDataCatalog(str(cat)))
    run(files, cat)
    assert counts(ParquetDataCatalog(str(cat))) == before
    assert {p.relative_to(cat) for p in cat.rglob("*.parquet")} == first
    assert not list(cat.glob(".staging-*"))


def test_failure_half_way_leaves_catalog_untouched(files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cat = tmp_path / "cat"
    run(files, cat)
    before = {p: p.read_bytes() for p in cat.rglob("*.parquet")}
    original = ingest_module._ingest_symbol

    def explode(symbol, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        original(symbol, *args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest_module, "_ingest_symbol", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        run(files, cat)
    assert {p: p.read_bytes() for p in cat.rglob("*.parquet")} == before
    assert not list(cat.glob(".staging-*"))


def test_symbol_filter(files: dict[str, Path], tmp_path: Path) -> None:
    rows = files["trades"].read_text().splitlines()[1:-1] + [trade("093003000000000", "20.00", sym="BETA")]
    write(files["trades"], TRADE_HEADER, rows, trailer=3)
    write(files["master"], MASTER_HEADER, [MASTER_ROW, MASTER_ROW_2], trailer=2)
    report = ingest_taq(tmp_path / "cat", master=files["master"], trades=[files["trades"]], symbols=["BETA"])
    assert set(report.instruments) == {"BETA.XNYS"}
    with pytest.raises(TaqFormatError, match="not sorted by symbol"):
        unsorted = [*rows, trade("093004000000000", "10.00")]
        write(files["trades"], TRADE_HEADER, unsorted, trailer=4)
        ingest_taq(tmp_path / "cat2", master=files["master"], trades=[files["trades"]])
