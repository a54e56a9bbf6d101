"""Ingest NYSE's real TAQ excerpts and compare with what the test derives from the raw lines itself.

The expectations are computed here with plain string operations and the documented rules
(market-data-formats.md §1.8), independently of the adapter's code.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.enums import BookAction, BookType, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from adapters.taq import TaqIngestReport, ingest_taq

TRADE_NAME = "small_EQY_US_ALL_TRADE_20180730"
QUOTE_NAME = "small_SPLITS_US_ALL_BBO_Z_20180730"
MASTER_NAME = "small_EQY_US_ALL_REF_MASTER_20180306"
EXCLUDE = set("BCGHMNPQRTUVWZ4789L")
DAY = dt.date(2018, 7, 30)
ET = ZoneInfo("America/New_York")


def raw_rows(path: Path) -> list[list[str]]:
    lines = path.read_text().splitlines()
    return [line.split("|") for line in lines[1:]]


def utc_ns(date: dt.date, hhmmss_ns: str) -> int:
    """Independent conversion: datetime for the whole seconds, the 9 ns digits added as an int."""
    t = dt.datetime.strptime(hhmmss_ns[:6], "%H%M%S").time()
    return int(dt.datetime.combine(date, t, tzinfo=ET).timestamp()) * 1_000_000_000 + int(hhmmss_ns[6:])


def regular(r: list[str]) -> bool:
    return r[7] == "00" and not (set(r[3]) & EXCLUDE) and float(r[5]) > 0 and int(r[4]) > 0


@pytest.fixture(scope="module")
def taq(shared_data: Path) -> dict[str, Path]:
    base = shared_data / "taq"
    return {"trades": base / TRADE_NAME, "quotes": base / QUOTE_NAME, "master": base / MASTER_NAME}


@pytest.fixture(scope="module")
def ingested(taq: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TaqIngestReport]:
    root = tmp_path_factory.mktemp("cat")
    report = ingest_taq(root, master=taq["master"], trades=[taq["trades"]], quotes=[taq["quotes"]])
    return root, report


def test_trade_counts_kept_and_dropped(ingested: tuple[Path, TaqIngestReport], taq: dict[str, Path]) -> None:
    root, report = ingested
    rows = raw_rows(taq["trades"])
    kept = [r for r in rows if regular(r)]
    lit = [r for r in kept if r[1] != "D"]
    [trade_file] = [f for f in report.files if f.kind == "trade"]
    assert trade_file.rows_read == len(rows) == 100
    assert trade_file.rows_kept == len(kept)
    assert sum(trade_file.dropped.values()) == len(rows) - len(kept)
    assert trade_file.malformed == 0
    assert report.instruments["A.XNYS"].trade_ticks == len(lit)
    ticks = ParquetDataCatalog(str(root)).trade_ticks()
    lit_sorted = sorted(lit, key=lambda r: (r[0], int(r[8])))
    assert [t.ts_event for t in ticks] == [utc_ns(DAY, r[0]) for r in lit_sorted]
    assert [str(t.price) for t in ticks] == [f"{float(r[5]):.4f}" for r in lit_sorted]
    assert [int(t.size) for t in ticks] == [int(r[4]) for r in lit_sorted]
    assert [t.trade_id.value for t in ticks] == [r[9] for r in lit_sorted]


def test_extended_hours_prints_are_dropped(ingested: tuple[Path, TaqIngestReport], taq: dict[str, Path]) -> None:
    root, _ = ingested
    rows = raw_rows(taq["trades"])
    form_t = [r for r in rows if "T" in r[3]]
    pre_open = [r for r in form_t if r[0] < "093000000000000"]
    assert len(pre_open) == 4
    [at_open] = [r for r in form_t if r[0] >= "093000000000000"]
    assert (at_open[0], at_open[3]) == ("093000002867000", "  T ")
    canonical = pd.read_parquet(root / "canonical/taq/trades/date=20180730/A.parquet").set_index("line")
    for r in [*pre_open, at_open]:
        row = canonical.loc[rows.index(r) + 2]  # line 1 is the header
        assert not row["kept"] and "T" in row["drop_reason"]
        assert row["ts_event"] == utc_ns(DAY, r[0])
    ticks = {(t.ts_event, t.trade_id.value) for t in ParquetDataCatalog(str(root)).trade_ticks()}
    assert not ticks & {(utc_ns(DAY, r[0]), r[9]) for r in form_t}


def test_off_exchange_trades_kept_but_not_ticks(ingested: tuple[Path, TaqIngestReport], taq: dict[str, Path]) -> None:
    root, report = ingested
    rows = raw_rows(taq["trades"])
    d_rows = [r for r in rows if r[1] == "D"]
    assert len(d_rows) == 18
    canonical = pd.read_parquet(root / "canonical/taq/trades/date=20180730/A.parquet")
    assert int(canonical["off_exchange"].sum()) == 18
    kept_d = [r for r in d_rows if regular(r)]
    assert report.instruments["A.XNYS"].off_exchange_trades == len(kept_d) > 0
    ticks = {(t.ts_event, t.trade_id.value) for t in ParquetDataCatalog(str(root)).trade_ticks()}
    assert not ticks & {(utc_ns(DAY, r[0]), r[9]) for r in d_rows}
    # Flags of every row: odd lots (I or below the round lot), auction prints (O/5/6), ISO (F).
    by_line = canonical.set_index("line")
    for line, r in enumerate(rows, start=2):
        row = by_line.loc[line]
        assert row["exchange"] == r[1] and row["ts_event"] == utc_ns(DAY, r[0])
        assert row["kept"] == regular(r)
        assert row["odd_lot"] == ("I" in r[3] or int(r[4]) < 100)
        assert row["auction"] == bool(set(r[3]) & set("O56"))
        assert row["iso"] == ("F" in r[3])
        assert bool(row["drop_reason"]) != regular(r), "every dropped row has a reason"


def test_times_are_edt_wall_clock(ingested: tuple[Path, TaqIngestReport], taq: dict[str, Path]) -> None:
    root, _ = ingested
    rows = raw_rows(taq["trades"])
    first_lit = sorted(r[0] for r in rows if regular(r) and r[1] != "D")[0]
    tick = ParquetDataCatalog(str(root)).trade_ticks()[0]
    # 2018-07-30 is EDT: UTC = ET wall clock + 4 h, to the nanosecond.
    local = pd.Timestamp(f"2018-07-30 {first_lit[:2]}:{first_lit[2:4]}:{first_lit[4:6]}") + pd.Timedelta(
        int(first_lit[6:]), "ns",
    )
    assert tick.ts_event == (local + pd.Timedelta(hours=4)).value
    quotes = pd.read_parquet(root / "canonical/taq/quotes/date=20180730/Z.parquet")
    # The first quote, 04:00:00.048494774 ET with its leading zero, is 08:00:00.048494774 UTC.
    assert quotes["ts_event"].iloc[0] == pd.Timestamp("2018-07-30 08:00:00.048494774", tz="UTC").value


def expected_book_after_each_row(rows: list[list[str]]) -> list[tuple[dict[int, int], dict[int, int]]]:
    """Aggregated book (price in 1e-4 $ -> shares) after each quote row, from the documented rules."""
    latest: dict[str, tuple[int, int, int, int]] = {}
    out = []
    for r in rows:
        bid, bsz = round(float(r[3]) * 10_000), int(r[4]) * 100
        ask, asz = round(float(r[5]) * 10_000), int(r[6]) * 100
        two_sided = bid > 0 and bsz > 0 and ask > 0 and asz > 0
        if r[7] in "ABHORW" and r[12] != "B" and not (two_sided and bid >= ask):
            latest[r[1]] = (bid, bsz, ask, asz)
        else:
            latest.pop(r[1], None)
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        for b, bs, a, az in latest.values():
            if b > 0 and bs > 0:
                bids[b] = bids.get(b, 0) + bs
            if a > 0 and az > 0:
                asks[a] = asks.get(a, 0) + az
        out.append((bids, asks))
    return out


def test_quotes_book_and_quote_ticks(ingested: tuple[Path, TaqIngestReport], taq: dict[str, Path]) -> None:
    root, report = ingested
    rows = raw_rows(taq["quotes"])
    q = pd.read_parquet(root / "canonical/taq/quotes/date=20180730/Z.parquet")
    assert len(q) == len(rows) == 100
    one_sided = [r for r in rows if float(r[3]) == 0 or float(r[5]) == 0]
    assert len(one_sided) == 13
    assert int(((q["bid_price"] == 0) | (q["ask_price"] == 0)).sum()) == 13
    assert q["bid_size"].iloc[0] == int(rows[0][4]) * 100
    assert [int(t) for t in q["ts_event"]] == [utc_ns(DAY, r[0]) for r in rows]
    assert int((q["condition"] == "L").sum()) == 1 and not q.loc[q["condition"] == "L", "usable"].any()
    # Z is not in the (March, A..ADNT) master file: a default Nasdaq instrument and a warning.
    assert any(w.startswith("Z: not in the master file") for w in report.warnings)
    catalog = ParquetDataCatalog(str(root))
    [z] = [i for i in catalog.instruments() if i.id.symbol.value == "Z"]
    assert str(z.id) == "Z.XNAS" and z.lot_size == 100 and str(z.price_increment) == "0.0100"

    # Replay the catalog's deltas, event by event, into a real L2 book and compare with the book
    # built here from the raw rows.
    deltas = catalog.order_book_deltas()
    assert deltas[0].action == BookAction.CLEAR and sum(d.action == BookAction.CLEAR for d in deltas) == 1
    expected = expected_book_after_each_row(rows)
    book = OrderBook(InstrumentId.from_str("Z.XNAS"), BookType.L2_MBP)
    event_rows = q.index[q["book_sequence"] >= 0].tolist()
    events: dict[int, list] = {}
    for d in deltas:
        events.setdefault(d.sequence, []).append(d)
    assert sorted(events) == list(range(len(event_rows)))
    for seq, batch in events.items():
        assert all(d.ts_event == batch[0].ts_event for d in batch)
        assert [bool(d.flags & RecordFlag.F_LAST) for d in batch] == [False] * (len(batch) - 1) + [True]
        for d in batch:
            book.apply_delta(d)
        row = event_rows[seq]
        assert batch[0].ts_event == utc_ns(DAY, rows[row][0])
        bids = {round(float(lv.price) * 10_000): round(lv.size()) for lv in book.bids()}
        asks = {round(float(lv.price) * 10_000): round(lv.size()) for lv in book.asks()}
        assert (bids, asks) == expected[row]
    # Rows that made no event did not change the expected book.
    for i in range(1, len(rows)):
        if i not in set(event_rows):
            assert expected[i] == expected[i - 1]

    # Without an NBBO file the QuoteTicks are the book's touch, two-sided and uncrossed only.
    touches = []
    for i in event_rows:
        bids, asks = expected[i]
        if bids and asks and max(bids) < min(asks):
            t = (utc_ns(DAY, rows[i][0]), max(bids), bids[max(bids)], min(asks), asks[min(asks)])
            if not touches or touches[-1][1:] != t[1:]:
                touches.append(t)
    ticks = catalog.quote_ticks()
    got = [(t.ts_event, round(float(t.bid_price) * 10_000), int(t.bid_size), round(float(t.ask_price) * 10_000),
            int(t.ask_size)) for t in ticks]
    assert got == touches
    crossed = [i for i in event_rows if expected[i][0] and expected[i][1] and max(expected[i][0]) > min(expected[i][1])]
    assert report.instruments["Z.XNAS"].crossed_book_events == len(crossed) == int(q["book_crossed"].sum())


def test_instrument_from_master(ingested: tuple[Path, TaqIngestReport], taq: dict[str, Path]) -> None:
    root, _ = ingested
    instruments = {str(i.id): i for i in ParquetDataCatalog(str(root)).instruments()}
    a = instruments["A.XNYS"]
    assert a.lot_size == 100 and a.price_precision == 4 and str(a.price_increment) == "0.0100"
    assert a.size_precision == 0 and a.quote_currency.code == "USD"
    assert a.info["listed_exchange"] == "N" and a.info["tape"] == "A" and a.info["round_lot"] == 100
    table = pd.read_parquet(root / "canonical/taq/instruments/date=20180730/instruments.parquet")
    master_rows = raw_rows(taq["master"])
    # Every master row (none is a test symbol here) plus the default for Z.
    assert len(table) == len(master_rows) + 1
    assert set(table.loc[table["in_catalog"], "instrument_id"]) == {"A.XNYS", "Z.XNAS"}
    assert not table.set_index("taq_symbol").loc["Z", "in_master"]


def test_manifest_is_the_report(ingested: tuple[Path, TaqIngestReport]) -> None:
    root, report = ingested
    manifest = json.loads((root / "canonical/taq/manifests/20180730.json").read_text())
    assert manifest == report.to_builtins() == json.loads(report.to_json())
    assert {f["kind"] for f in manifest["files"]} == {"master", "trade", "quote"}
    # The samples have no END trailer: accepted, with a warning per file.
    assert sum("no END trailer" in w for w in report.warnings) == 2
