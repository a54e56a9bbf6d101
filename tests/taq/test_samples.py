"""Ingest NYSE's real TAQ excerpts and compare with what the test derives from the raw lines itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from nautilus_trader.model.enums import AggressorSide, BookAction
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from adapters.taq import ingest_taq

TRADE_NAME = "small_EQY_US_ALL_TRADE_20180730"
QUOTE_NAME = "small_SPLITS_US_ALL_BBO_Z_20180730"
MASTER_NAME = "small_EQY_US_ALL_REF_MASTER_20180306"
EXCLUDE = set("BCGHMNPQRTUVWZ4789L")
ET = ZoneInfo("America/New_York")


def raw_rows(path: Path) -> list[list[str]]:
    lines = path.read_text().splitlines()
    return [line.split("|") for line in lines[1:]]


def utc_ns(date: dt.date, hhmmss_ns: str) -> int:
    """Independent conversion through datetime (seconds) plus the nanosecond digits."""
    t = dt.datetime.strptime(hhmmss_ns[:6], "%H%M%S").time()
    local = dt.datetime.combine(date, t, tzinfo=ET)
    return int(local.timestamp()) * 1_000_000_000 + int(hhmmss_ns[6:])


@pytest.fixture(scope="module")
def taq(shared_data: Path) -> dict[str, Path]:
    base = shared_data / "taq"
    return {"trades": base / TRADE_NAME, "quotes": base / QUOTE_NAME, "master": base / MASTER_NAME}


@pytest.fixture(scope="module")
def ingested(taq: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("cat")
    report = ingest_taq(root, master=taq["master"], trades=[taq["trades"]], quotes=[taq["quotes"]])
    return root, report


def test_trade_counts_kept_and_dropped(ingested: tuple[Path, object], taq: dict[str, Path]) -> None:
    root, report = ingested
    rows = raw_rows(taq["trades"])
    kept = [r for r in rows if r[7] == "00" and not (set(r[3]) & EXCLUDE) and float(r[5]) > 0 and int(r[4]) > 0]
    dropped = len(rows) - len(kept)
    lit = [r for r in kept if r[1] != "D"]
    [trade_file] = [f for f in report.files if f.kind == "trade"]
    assert trade_file.rows_read == len(rows) == 100
    assert trade_file.rows_kept == len(kept)
    assert sum(trade_file.dropped.values()) == dropped
    # The extended-hours prints (4 before the open, one at 09:30:00.0029) and official-open markers go.
    assert trade_file.dropped["condition T"] == sum("T" in r[3] for r in rows)
    assert trade_file.dropped["condition Q"] == sum(r[3].strip() == "Q" for r in rows)
    ticks = ParquetDataCatalog(str(root)).trade_ticks()
    assert len(ticks) == len(lit)
    assert [t.ts_event for t in ticks] == sorted(utc_ns(dt.date(2018, 7, 30), r[0]) for r in lit)
    assert [float(t.price) for t in ticks] == [float(r[5]) for r in sorted(lit, key=lambda r: (r[0], int(r[8])))]
    assert all(t.aggressor_side in (AggressorSide.BUYER, AggressorSide.SELLER, AggressorSide.NO_AGGRESSOR) for t in ticks)
    canonical = pd.read_parquet(root / "canonical/taq/trades/date=20180730/A.parquet")
    assert len(canonical) == 100
    assert int(canonical["off_exchange"].sum()) == sum(r[1] == "D" for r in rows) == 18
    assert int(canonical["odd_lot"].sum()) == sum("I" in r[3] or int(r[4]) < 100 for r in rows)


def test_times_are_edt_wall_clock(ingested: tuple[Path, object], taq: dict[str, Path]) -> None:
    root, _ = ingested
    rows = raw_rows(taq["trades"])
    lit = sorted(r[0] for r in rows if r[7] == "00" and not (set(r[3]) & EXCLUDE) and r[1] != "D")
    first = ParquetDataCatalog(str(root)).trade_ticks()[0]
    # 2018-07-30 is EDT: UTC = ET wall clock + 4 h, to the nanosecond.
    local = pd.Timestamp(f"2018-07-30 {lit[0][:2]}:{lit[0][2:4]}:{lit[0][4:6]}") + pd.Timedelta(int(lit[0][6:]), "ns")
    assert first.ts_event == (local + pd.Timedelta(hours=4)).value


def test_quotes_one_sided_and_round_lots(ingested: tuple[Path, object], taq: dict[str, Path]) -> None:
    root, report = ingested
    rows = raw_rows(taq["quotes"])
    q = pd.read_parquet(root / "canonical/taq/quotes/date=20180730/Z.parquet")
    assert len(q) == len(rows) == 100
    # A zero price or size is a missing side, not a $0 level; sizes are round lots x 100.
    one_sided = sum(1 for r in rows if float(r[3]) == 0 or float(r[5]) == 0)
    assert one_sided == 13
    assert int(((q["bid_price"] == 0) | (q["ask_price"] == 0)).sum()) == one_sided
    first = rows[0]
    assert q.iloc[0]["bid_size"] == int(first[4]) * 100
    assert q.iloc[0]["ts_event"] == utc_ns(dt.date(2018, 7, 30), first[0])
    assert int((~q["usable"]).sum()) == sum(r[7] not in "ABHORW" for r in rows) + sum(
        1 for r in rows if r[7] in "ABHORW" and float(r[3]) > 0 and float(r[5]) > 0 and float(r[3]) >= float(r[5])
    )
    # Z is not in the (March) master file: a default instrument with a warning.
    assert any(w.startswith("Z: not in the master file") for w in report.warnings)
    deltas = ParquetDataCatalog(str(root)).order_book_deltas()
    assert deltas[0].action == BookAction.CLEAR
    assert sum(d.action == BookAction.CLEAR for d in deltas) == 1
    for i, d in enumerate(deltas):
        # No level at a $0 price ever enters the book.
        assert d.action == BookAction.CLEAR or float(d.order.price) > 0
        if i + 1 < len(deltas) and deltas[i + 1].sequence != d.sequence:
            assert d.flags & 128, "the last delta of each event carries F_LAST"


def test_instrument_from_master(ingested: tuple[Path, object]) -> None:
    root, _ = ingested
    instruments = {str(i.id): i for i in ParquetDataCatalog(str(root)).instruments()}
    a = instruments["A.XNYS"]
    assert a.lot_size == 100 and a.price_precision == 4 and str(a.price_increment) == "0.0100"
    assert a.info["listed_exchange"] == "N"
