"""Generated TAQ files: DST, gzip, trailers, header drift, malformed rows, NBBO, re-ingest, atomicity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from nautilus_trader.model.enums import AggressorSide, BookAction
from nautilus_trader.persistence.catalog import ParquetDataCatalog

import adapters.taq.ingest as ingest_module
from adapters.taq import TaqFormatError, TaqIngestConfig, TaqIngestReport, ingest_taq, load_instruments
from tests.taq.taqfiles import (
    MASTER_HEADER,
    NBBO_HEADER,
    QUOTE_HEADER,
    TRADE_HEADER,
    master_row,
    nbbo_row,
    quote_row,
    trade_row,
    write,
)

DATE = "20180312"  # the Monday after the 2018 spring DST change: EDT


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    quotes = [
        quote_row("093000000000000", "N", "10.00", "1", "10.02", "2", seq=1),
        quote_row("093000100000000", "P", "10.01", "3", "10.02", "1", seq=2),
        quote_row("093001000000000", "N", "10.00", "1", "10.03", "2", seq=3),
    ]
    trades = [trade_row("093000500000000", "10.02", seq=1), trade_row("093002000000000", "10.01", cond="  T ", seq=2)]
    return {
        "master": write(tmp_path / f"EQY_US_ALL_REF_MASTER_{DATE}", MASTER_HEADER, [master_row("ACME")], trailer=1),
        "quotes": write(tmp_path / f"SPLITS_US_ALL_BBO_A_{DATE}", QUOTE_HEADER, quotes, trailer=3, gz=True),
        "trades": write(tmp_path / f"EQY_US_ALL_TRADE_{DATE}", TRADE_HEADER, trades, trailer=2),
    }


def run(files: dict[str, Path], catalog: Path, **kw: object) -> TaqIngestReport:
    return ingest_taq(catalog, master=files["master"], trades=[files["trades"]], quotes=[files["quotes"]], **kw)


def counts(root: Path) -> tuple[int, int, int, int]:
    c = ParquetDataCatalog(str(root))
    return len(c.quote_ticks()), len(c.trade_ticks()), len(c.order_book_deltas()), len(c.instruments())


def test_dst_gzip_trailer_and_aggregated_nbbo(files: dict[str, Path], tmp_path: Path) -> None:
    report = run(files, tmp_path / "cat")
    assert all(f.trailer_checked for f in report.files if f.kind != "master")
    assert not report.warnings
    catalog = ParquetDataCatalog(str(tmp_path / "cat"))
    ticks = catalog.quote_ticks()
    # 09:30 EDT on 2018-03-12 is 13:30 UTC.
    assert pd.Timestamp(ticks[0].ts_event, unit="ns", tz="UTC") == pd.Timestamp("2018-03-12 13:30", tz="UTC")
    # The NBBO is the aggregated book's touch: sizes summed across venues at the best price.
    assert [(float(t.bid_price), int(t.bid_size), float(t.ask_price), int(t.ask_size)) for t in ticks] == [
        (10.00, 100, 10.02, 200), (10.01, 300, 10.02, 300), (10.01, 300, 10.02, 100),
    ]
    [trade] = catalog.trade_ticks()
    # At the ask of the prevailing quote (10.01/10.02 at 09:30:00.1): buyer-initiated.
    assert trade.aggressor_side == AggressorSide.BUYER
    assert report.instruments["ACME.XNYS"].trade_ticks == 1
    deltas = catalog.order_book_deltas()
    assert [d.action for d in deltas[:3]] == [BookAction.CLEAR, BookAction.ADD, BookAction.ADD]


def test_est_day_before_the_change(files: dict[str, Path], tmp_path: Path) -> None:
    moved = {k: p.rename(p.with_name(p.name.replace(DATE, "20180309"))) for k, p in files.items()}
    run(moved, tmp_path / "cat")
    ticks = ParquetDataCatalog(str(tmp_path / "cat")).quote_ticks()
    assert pd.Timestamp(ticks[0].ts_event, unit="ns", tz="UTC") == pd.Timestamp("2018-03-09 14:30", tz="UTC")
    # An explicit date wins over the file names.
    report = run(moved, tmp_path / "cat2", date=dt.date(2018, 3, 12))
    assert report.date == "2018-03-12"


def test_wrong_trailer_count(files: dict[str, Path], tmp_path: Path) -> None:
    rows = files["trades"].read_text().splitlines()[1:-1]
    write(files["trades"], TRADE_HEADER, rows, trailer=5)
    with pytest.raises(TaqFormatError, match="END trailer says 5 records, the file has 2"):
        run(files, tmp_path / "cat", strict=True)
    report = run(files, tmp_path / "cat2")
    assert any("END trailer says 5" in w for w in report.warnings)


def test_unpadded_trailer_and_gzip_trades(files: dict[str, Path], tmp_path: Path) -> None:
    rows = files["trades"].read_text().splitlines()[1:-1]
    files["trades"].unlink()
    files["trades"] = write(files["trades"], TRADE_HEADER, rows, trailer=2, gz=True, pad_trailer=False)
    report = run(files, tmp_path / "cat", strict=True)
    [trade_file] = [f for f in report.files if f.kind == "trade"]
    assert (trade_file.trailer_checked, trade_file.trailer_count, trade_file.rows_read) == (True, 2, 2)
    assert report.malformed_count == 0


def test_malformed_rows_counted_or_strict(files: dict[str, Path], tmp_path: Path) -> None:
    rows = files["trades"].read_text().splitlines()[1:-1]
    rows.insert(1, trade_row("093001500000000", "abc"))
    rows.insert(2, "093001600000000|N|ACME|short")
    rows.insert(3, trade_row("99", "10.00"))
    rows.insert(4, trade_row("093001700000000", "10.02", size="1e2"))
    rows.insert(5, trade_row("093001800000000", "10.02", seq=3))
    write(files["trades"], TRADE_HEADER, rows, trailer=7)
    with pytest.raises(TaqFormatError) as info:
        run(files, tmp_path / "cat", strict=True)
    err = info.value
    assert (err.path, err.line, err.field, err.reason) == (files["trades"], 4, None, "expected 15 fields, found 4")
    assert str(files["trades"]) in str(err) and ":4:" in str(err)
    assert not (tmp_path / "cat" / "data").exists(), "a failed ingest writes nothing"
    report = run(files, tmp_path / "cat2")
    examples = {(m.line, m.field, m.reason) for m in report.malformed_examples}
    assert examples == {
        (3, "Trade Price", "not a price"),
        (4, None, "expected 15 fields, found 4"),
        (5, "Time", "not a 15-digit HHMMSSnnnnnnnnn time"),
        (6, "Trade Volume", "not a whole number of shares"),
    }
    assert report.malformed_count == 4
    # The good rows around the bad ones are all there (the T print is dropped by rule).
    assert report.instruments["ACME.XNYS"].trade_ticks == 2
    assert not any("END trailer" in w for w in report.warnings), "7 records = 3 good + 4 malformed"
    # Only the first max_examples are kept, all are counted.
    report = run(files, tmp_path / "cat3", config=TaqIngestConfig(max_examples=1))
    assert (report.malformed_count, len(report.malformed_examples)) == (4, 1)


def test_header_drift(files: dict[str, Path], tmp_path: Path) -> None:
    # A v2.2 quote file (22 columns, no Security_Status_Indicator), upper-cased names with spaces,
    # and a newer master with TradedOnLTSE/MEMX/MIAX appended: all parsed by name.
    header22 = QUOTE_HEADER.rsplit("|", 1)[0].upper().replace("_", " ")
    rows = [quote_row("093000000000000", "N", "10.00", "1", "10.02", "2").rsplit("|", 1)[0]]
    files["quotes"] = write(tmp_path / f"EQY_US_ALL_BBO_{DATE}", header22, rows)
    write(files["master"], MASTER_HEADER + "|TradedOnLTSE|TradedOnMEMX|TradedOnMIAX", [master_row("ACME") + "|0|1|1"])
    report = run(files, tmp_path / "cat")
    assert report.instruments["ACME.XNYS"].quote_ticks == 1
    bad = write(tmp_path / f"EQY_US_ALL_TRADE_{DATE}", TRADE_HEADER.replace("Trade Price", "Px"), [])
    with pytest.raises(TaqFormatError, match="header has no column 'trade_price'"):
        ingest_taq(tmp_path / "cat3", master=files["master"], trades=[bad])


def test_nbbo_file_completed_by_quote_rows(files: dict[str, Path], tmp_path: Path) -> None:
    quotes = [
        # UTP quote that is itself the new NBBO (source N, indicator 4): completes the NBBO file.
        quote_row("093000000000000", "Q", "10.00", "2", "10.05", "1", source="N", ind="4", seq=1),
        # Appendage rows in the NBBO file carry these; ind 2 = short-form appendage, not NBBO itself.
        quote_row("093000100000000", "P", "10.01", "1", "10.05", "1", source="N", ind="2", seq=2),
        quote_row("093000200000000", "K", "10.06", "1", "10.07", "1", source="N", ind="2", seq=3),
        quote_row("093000300000000", "K", "0", "0", "10.07", "1", source="N", ind="2", seq=4),
    ]
    write(files["quotes"].with_suffix(""), QUOTE_HEADER, quotes)
    files["quotes"] = files["quotes"].with_suffix("")
    nbbo_rows = [
        nbbo_row("093000100000000", "ACME", "10.01", "1", "10.05", "1", seq=2),
        nbbo_row("093000200000000", "ACME", "10.06", "1", "10.05", "1", seq=3),  # crossed
        nbbo_row("093000300000000", "ACME", "0", "0", "10.05", "1", seq=4),  # one-sided
    ]
    files["nbbo"] = write(tmp_path / f"EQY_US_ALL_NBBO_{DATE}", NBBO_HEADER, nbbo_rows, trailer=3)
    report = run(files, tmp_path / "cat", nbbo=files["nbbo"])
    ticks = ParquetDataCatalog(str(tmp_path / "cat")).quote_ticks()
    assert [(float(t.bid_price), int(t.bid_size), float(t.ask_price)) for t in ticks] == [
        (10.00, 200, 10.05), (10.01, 100, 10.05),
    ]
    counts_ = report.instruments["ACME.XNYS"]
    assert (counts_.quote_ticks, counts_.crossed_nbbo, counts_.one_sided_nbbo) == (2, 1, 1)
    nbbo = pd.read_parquet(tmp_path / f"cat/canonical/taq/nbbo/date={DATE}/ACME.parquet")
    assert nbbo["origin"].tolist() == ["quote-file", "nbbo-file", "nbbo-file", "nbbo-file"]
    assert nbbo["crossed_or_locked"].tolist() == [False, False, True, False]
    # The per-exchange crossed quote is kept, flagged, and stays out of the book: the aggregated
    # book after it is crossed (K 10.06 bid vs Q/P 10.05 ask), which is counted and flagged.
    q = pd.read_parquet(tmp_path / f"cat/canonical/taq/quotes/date={DATE}/ACME.parquet")
    assert q["book_crossed"].tolist() == [False, False, True, False]
    assert counts_.crossed_book_events == 1


def test_crossed_participant_quote_is_flagged_not_booked(files: dict[str, Path], tmp_path: Path) -> None:
    quotes = [
        quote_row("093000000000000", "N", "10.00", "1", "10.02", "1", seq=1),
        quote_row("093000100000000", "N", "10.03", "1", "10.02", "1", seq=2),  # crossed: withdraws N
        quote_row("093000200000000", "P", "10.01", "1", "10.01", "1", seq=3),  # locked: not booked
        quote_row("093000300000000", "P", "10.01", "1", "10.04", "1", seq=4, cancel="B"),  # cancelled
    ]
    write(files["quotes"].with_suffix(""), QUOTE_HEADER, quotes)
    files["quotes"] = files["quotes"].with_suffix("")
    report = run(files, tmp_path / "cat")
    q = pd.read_parquet(tmp_path / f"cat/canonical/taq/quotes/date={DATE}/ACME.parquet")
    assert q["reason"].tolist() == ["", "crossed quote", "locked quote", "cancelled"]
    assert q["book_sequence"].tolist() == [0, 1, -1, -1]
    deltas = ParquetDataCatalog(str(tmp_path / "cat")).order_book_deltas()
    assert [d.action for d in deltas] == [BookAction.CLEAR, BookAction.ADD, BookAction.ADD,
                                          BookAction.DELETE, BookAction.DELETE]
    [quote_file] = [f for f in report.files if f.kind == "quote"]
    assert quote_file.dropped == {"crossed quote": 1, "locked quote": 1, "cancelled": 1}


def test_reingest_replaces_the_day(files: dict[str, Path], tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    # Chunks of 2 objects: several catalog files per type and instrument, split at timestamps.
    config = TaqIngestConfig(chunk_objects=2)
    run(files, cat, config=config)
    first = sorted(p.relative_to(cat) for p in cat.rglob("*.parquet"))
    assert len(list((cat / "data/order_book_deltas/ACME.XNYS").glob("*.parquet"))) > 1
    before = counts(cat)
    assert before == (3, 1, 7, 1)
    run(files, cat, config=config)
    assert counts(cat) == before
    assert sorted(p.relative_to(cat) for p in cat.rglob("*.parquet")) == first
    assert not list(cat.glob(".staging-*"))
    # Another day next to it is kept when this day is re-ingested.
    other = {k: p.rename(p.with_name(p.name.replace(DATE, "20180313"))) for k, p in files.items()}
    run(other, cat)
    run(other, cat)
    assert counts(cat) == (6, 2, 14, 2)


def test_failure_half_way_leaves_catalog_untouched(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cat = tmp_path / "cat"
    run(files, cat)
    before = {p: p.read_bytes() for p in cat.rglob("*") if p.is_file()}
    original = ingest_module._ingest_symbol

    def explode(*args: object, **kwargs: object) -> object:
        original(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest_module, "_ingest_symbol", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        run(files, cat)
    assert {p: p.read_bytes() for p in cat.rglob("*") if p.is_file()} == before
    assert not list(cat.glob(".staging-*"))


def test_failure_during_commit_rolls_back(files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cat = tmp_path / "cat"
    run(files, cat)
    before = {p: p.read_bytes() for p in cat.rglob("*") if p.is_file()}
    original = ingest_module._move
    calls = {"n": 0}

    def flaky(src: Path, dest: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 7:  # after some old files were set aside and some new ones placed
            raise OSError("device lost")
        original(src, dest)

    monkeypatch.setattr(ingest_module, "_move", flaky)
    with pytest.raises(OSError, match="device lost"):
        run(files, cat)
    assert calls["n"] == 7
    assert {p: p.read_bytes() for p in cat.rglob("*") if p.is_file()} == before
    assert counts(cat) == (3, 1, 7, 1)


def test_symbol_filter_master_rules_and_blocks(files: dict[str, Path], tmp_path: Path) -> None:
    master = [
        master_row("ACME"),
        master_row("BRK B", listed="N", tape="A"),
        master_row("NDAQ", listed="Q", tape="C", round_lot=10, pilot="G2"),
        master_row("ZVZZT", listed="Q", tape="C", test="Y"),
    ]
    write(files["master"], MASTER_HEADER, master, trailer=4)
    trades = [
        trade_row(f"0930{i:02d}000000000", f"{10 + i / 100:.2f}", sym=sym, seq=i)
        for sym in ("ACME", "BRK B", "NDAQ", "ZVZZT") for i in range(40)
    ]
    write(files["trades"], TRADE_HEADER, trades, trailer=len(trades))
    report = ingest_taq(tmp_path / "cat", master=files["master"], trades=[files["trades"]], symbols=["BRK.B", "ndaq"],
                        config=TaqIngestConfig(block_size=1024))
    assert set(report.instruments) == {"BRK.B.XNYS", "NDAQ.XNAS"}
    instruments = {str(i.id): i for i in ParquetDataCatalog(str(tmp_path / "cat")).instruments()}
    assert str(instruments["NDAQ.XNAS"].price_increment) == "0.0500" and instruments["NDAQ.XNAS"].lot_size == 10
    assert instruments["BRK.B.XNYS"].info["taq_symbol"] == "BRK B"
    # Reading stopped after the last wanted symbol: the trailer was not reached (no warning for it).
    [trade_file] = [f for f in report.files if f.kind == "trade"]
    assert trade_file.rows_read < len(trades) and not trade_file.trailer_checked
    # Tiny blocks: symbols span blocks, results identical to one block; test symbols are dropped.
    small = ingest_taq(tmp_path / "cat2", master=files["master"], trades=[files["trades"]],
                       config=TaqIngestConfig(block_size=1024))
    big = ingest_taq(tmp_path / "cat3", master=files["master"], trades=[files["trades"]])
    assert small.instruments == big.instruments
    assert set(big.instruments) == {"ACME.XNYS", "BRK.B.XNYS", "NDAQ.XNAS"}, "test symbol ZVZZT dropped"
    [trade_file] = [f for f in big.files if f.kind == "trade"]
    assert trade_file.dropped == {"test symbol": 40}
    # A symbol absent from the master file gets a default instrument and a warning.
    write(files["master"], MASTER_HEADER, master[1:], trailer=3)
    report = ingest_taq(tmp_path / "cat5", master=files["master"], trades=[files["trades"]], symbols=["ACME"])
    assert set(report.instruments) == {"ACME.XNYS"}, "CTA source of trade -> NYSE-listed guess"
    assert report.warnings[0].startswith("ACME: not in the master file; assumed round lot 100, tick 0.01")
    write(files["master"], MASTER_HEADER, master, trailer=4)
    assert [str(i.id) for i in load_instruments(files["master"], dt.date(2018, 3, 12), ["BRK.B"])] == ["BRK.B.XNYS"]
    assert len(load_instruments(files["master"], dt.date(2018, 3, 12))) == 3
    with pytest.raises(TaqFormatError, match="not sorted by symbol"):
        write(files["trades"], TRADE_HEADER, [*trades, trade_row("093100000000000", "10.00")], trailer=len(trades) + 1)
        ingest_taq(tmp_path / "cat4", master=files["master"], trades=[files["trades"]])


def test_progress_reports_bytes(files: dict[str, Path], tmp_path: Path) -> None:
    calls: list[tuple[str, int, int | None]] = []
    run(files, tmp_path / "cat", progress=lambda stage, done, total: calls.append((stage, done, total)))
    total = sum(p.stat().st_size for p in files.values())
    assert all(t == total for _, _, t in calls)
    assert [d for _, d, _ in calls] == sorted(d for _, d, _ in calls)
    assert calls[-1] == ("committing to the catalog", total, total)
    assert any(stage == "TAQ ACME" for stage, _, _ in calls)


def test_same_symbol_in_two_quote_files_is_an_error(files: dict[str, Path], tmp_path: Path) -> None:
    # Read in name order: the unsplit file (ACME, ZETA), then the A shard (ACME again).
    unsplit = write(tmp_path / f"EQY_US_ALL_BBO_{DATE}", QUOTE_HEADER,
                    [quote_row("093000000000000", "N", "10.00", "1", "10.02", "2"),
                     quote_row("093000000000000", "N", "10.00", "1", "10.02", "2", sym="ZETA")])
    with pytest.raises(TaqFormatError, match="symbol ACME appears in more than one file"):
        ingest_taq(tmp_path / "cat", master=files["master"], quotes=[files["quotes"], unsplit])
    assert not (tmp_path / "cat" / "data").exists()
