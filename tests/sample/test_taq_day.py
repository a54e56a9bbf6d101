"""The sample TAQ day: deterministic, byte-for-byte in the real files' layout, and market-realistic.

Everything is checked from the written files alone (no import of the TAQ adapter), the NBBO by
rebuilding it independently from the participant quotes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from hftmm.sample.taq_day import NBBO_HEADER, PROFILES, SampleTaqFiles, generate_taq_day

DATE = dt.date(2024, 3, 11)
OPEN, CLOSE = "093000000000000", "160000000000000"
TIME_RE = re.compile(r"^([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9][0-9]{9}$")
PRICE_RE = re.compile(r"^(0|[1-9][0-9]*(\.[0-9]{1,4})?)$")
LISTING = {"ACME": ("N", "A"), "BOLT": ("Q", "C"), "CRUX": ("P", "B")}


def read_lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    assert raw.endswith(b"\n") and b"\r" not in raw
    return raw.decode("ascii").split("\n")[:-1]


def rows_of(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header names and data rows (trailer excluded) of a TAQ file."""
    lines = read_lines(path)
    return lines[0].split("|"), [line.split("|") for line in lines[1:-1]]


def by_name(header: list[str], rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(header, r, strict=True)) for r in rows]


def all_paths(files: SampleTaqFiles) -> list[Path]:
    return [files.trades, *files.quotes, files.nbbo, files.master]


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> SampleTaqFiles:
    return generate_taq_day(tmp_path_factory.mktemp("taq"))


@pytest.fixture(scope="module")
def trades(day: SampleTaqFiles) -> list[dict[str, str]]:
    return by_name(*rows_of(day.trades))


@pytest.fixture(scope="module")
def quotes(day: SampleTaqFiles) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for path in day.quotes:
        out.extend(by_name(*rows_of(path)))
    return out


@pytest.fixture(scope="module")
def nbbo(day: SampleTaqFiles) -> list[dict[str, str]]:
    return by_name(*rows_of(day.nbbo))


# -- determinism and files --------------------------------------------------------------------


@pytest.mark.parametrize("use_gzip", [False, True])
def test_same_seed_same_bytes(tmp_path: Path, use_gzip: bool) -> None:
    a = generate_taq_day(tmp_path / "a", scale=0.1, gzip=use_gzip)
    b = generate_taq_day(tmp_path / "b", scale=0.1, gzip=use_gzip)
    for pa_, pb in zip(all_paths(a), all_paths(b), strict=True):
        assert pa_.name == pb.name
        assert pa_.read_bytes() == pb.read_bytes()
    other = generate_taq_day(tmp_path / "c", scale=0.1, gzip=use_gzip, seed=7)
    assert other.trades.read_bytes() != a.trades.read_bytes()


def test_gzip_holds_the_same_text(tmp_path: Path) -> None:
    plain = generate_taq_day(tmp_path / "plain", scale=0.1)
    packed = generate_taq_day(tmp_path / "gz", scale=0.1, gzip=True)
    for p, g in zip(all_paths(plain), all_paths(packed), strict=True):
        assert g.name == p.name + ".gz"
        assert gzip.decompress(g.read_bytes()) == p.read_bytes()


def test_file_names_and_shards(day: SampleTaqFiles) -> None:
    assert day.date == DATE and day.symbols == ("ACME", "BOLT", "CRUX")
    assert day.trades.name == "EQY_US_ALL_TRADE_20240311"
    assert day.nbbo.name == "EQY_US_ALL_NBBO_20240311"
    assert day.master.name == "EQY_US_ALL_REF_MASTER_20240311"
    assert [p.name for p in day.quotes] == [f"SPLITS_US_ALL_BBO_{x}_20240311" for x in "ABC"]
    for path in day.quotes:
        letter = path.name.split("_")[4]
        assert {r[2][0] for r in rows_of(path)[1]} == {letter}


def test_headers_equal_the_real_files(day: SampleTaqFiles, shared_data: Path) -> None:
    real = shared_data / "taq"
    pairs = [
        (day.trades, "small_EQY_US_ALL_TRADE_20180730"),
        (day.quotes[0], "small_SPLITS_US_ALL_BBO_Z_20180730"),
        (day.master, "small_EQY_US_ALL_REF_MASTER_20180306"),
    ]
    for ours, sample in pairs:
        assert read_lines(ours)[0] == (real / sample).read_text().splitlines()[0]
    doc = (shared_data.parent / "docs" / "market-data-formats.md").read_text()
    section = doc[doc.index("### 1.5 NBBO file") : doc.index("### 1.6")]
    doc_header = next(line for line in section.splitlines() if line.startswith("Time|"))
    assert read_lines(day.nbbo)[0] == doc_header == NBBO_HEADER
    assert len(doc_header.split("|")) == 30


def test_column_counts_and_trailers(day: SampleTaqFiles) -> None:
    expected_cols = {day.trades: 15, day.nbbo: 30, day.master: 36, **{q: 23 for q in day.quotes}}
    for path in all_paths(day):
        lines = read_lines(path)
        n_cols = lines[0].count("|") + 1
        assert n_cols == expected_cols[path]
        assert all(line.count("|") + 1 == n_cols for line in lines[1:]), path.name
        assert lines[-1] == f"END|20240311|{len(lines) - 2}" + "|" * (n_cols - 3)
        assert sum(line.startswith("END|") for line in lines) == 1


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no sample profile"):
        generate_taq_day(tmp_path, symbols=("NOPE",))
    with pytest.raises(ValueError, match="scale"):
        generate_taq_day(tmp_path, scale=0)


def test_extra_profiles_and_symbol_independence(tmp_path: Path) -> None:
    dash = dataclasses.replace(PROFILES["CRUX"], symbol="DASH", cusip="23456A101", price=42.0)
    both = generate_taq_day(tmp_path / "both", symbols=("CRUX", "DASH"), profiles={"DASH": dash}, scale=0.05)
    alone = generate_taq_day(tmp_path / "alone", symbols=("CRUX",), scale=0.05)
    assert both.symbols == ("CRUX", "DASH") and [p.name[18] for p in both.quotes] == ["C", "D"]
    # Each symbol has its own random stream: CRUX's market (not the shared sequence numbers) is
    # the same with or without DASH.
    strip = lambda rows: [(r[0], r[1], r[3], r[4], r[5], r[6]) for r in rows]  # noqa: E731
    assert strip(rows_of(both.quotes[0])[1]) == strip(rows_of(alone.quotes[0])[1])


# -- times, ordering, fields ------------------------------------------------------------------


def test_times_valid_and_sorted_by_symbol_then_time(day: SampleTaqFiles) -> None:
    for path in [day.trades, *day.quotes, day.nbbo]:
        header, rows = rows_of(path)
        keys = [(r[2], r[0]) for r in rows]
        assert keys == sorted(keys), path.name
        # Trade headers spell names with spaces, quote and NBBO headers with underscores.
        col = {name.replace(" ", "_"): i for i, name in enumerate(header)}
        seq_col, part_col = col["Sequence_Number"], col["Participant_Timestamp"]
        source_col = col["Source_Of_Quote"] if "Source_Of_Quote" in col else col["Source_of_Trade"]
        for r in rows:
            assert TIME_RE.match(r[0]) and "040000000000000" <= r[0] < "200000000000000", r[0]
            assert TIME_RE.match(r[part_col]) and r[part_col] <= r[0]
        # SIP sequence numbers increase with time on each feed (CQS/CTS vs UTP).
        for source in ("C", "N"):
            feed = sorted((r[0], int(r[seq_col])) for r in rows if r[source_col] == source)
            seqs = [s for _, s in feed]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_quote_fields(quotes: list[dict[str, str]]) -> None:
    for q in quotes:
        exchange, symbol = q["Exchange"], q["Symbol"]
        listed, tape = LISTING[symbol]
        assert q["Source_Of_Quote"] == ("N" if tape == "C" else "C")
        assert exchange != ("T" if tape == "C" else "Q")  # Nasdaq is Q on tape C, T on tapes A/B
        for side in ("Bid", "Offer"):
            price, size = q[f"{side}_Price"], q[f"{side}_Size"]
            assert PRICE_RE.match(price) and re.fullmatch(r"[0-9]+", size)  # whole round lots
            assert (price == "0") == (size == "0")  # a missing side has 0 price and 0 size
            assert round(float(price) * 100, 6) == round(float(price) * 100)  # penny grid
        assert q["Security_Status_Indicator"] == " "
    conditions = Counter(q["Quote_Condition"] for q in quotes)
    assert conditions["R"] / len(quotes) > 0.99 and conditions["O"] >= 3
    assert set(conditions) <= {"R", "O", "L"}
    one_sided = sum((q["Bid_Size"] == "0") != (q["Offer_Size"] == "0") for q in quotes)
    assert 0.001 < one_sided / len(quotes) < 0.05
    assert sum(q["Quote_Cancel_Correction"] == "B" for q in quotes) >= 3


def test_per_symbol_volumes(quotes: list[dict[str, str]], trades: list[dict[str, str]]) -> None:
    q = Counter(r["Symbol"] for r in quotes)
    t = Counter(r["Symbol"] for r in trades)
    for symbol in ("ACME", "BOLT", "CRUX"):
        assert 20_000 <= q[symbol] <= 40_000
        assert 3_000 <= t[symbol] <= 6_000
        sym_quotes = [r["Time"] for r in quotes if r["Symbol"] == symbol]
        pre = sum(x < OPEN for x in sym_quotes)
        post = sum(x >= CLOSE for x in sym_quotes)
        # Sparse outside the regular session, dense inside; quoting starts right after 04:00.
        assert 0 < pre < 0.1 * len(sym_quotes) and 0 < post < 0.1 * len(sym_quotes)
        assert min(sym_quotes) < "040001000000000"


# -- NBBO -------------------------------------------------------------------------------------


def as_quote(q: dict[str, str]) -> tuple[float, int, float, int]:
    return float(q["Bid_Price"]), int(q["Bid_Size"]), float(q["Offer_Price"]), int(q["Offer_Size"])


def _touch(book: dict[str, tuple[float, int, float, int]]) -> tuple[float, int, float, int, set[str], set[str]]:
    """Best bid/offer across venues: price, the largest size there, and the venues with that size."""
    bids = [(b, bs, x) for x, (b, bs, _, _) in book.items() if bs > 0]
    asks = [(a, as_, x) for x, (_, _, a, as_) in book.items() if as_ > 0]
    bb = max((b for b, _, _ in bids), default=0.0)
    ba = min((a for a, _, _ in asks), default=0.0)
    bbs = max((s for b, s, _ in bids if b == bb), default=0)
    bas = max((s for a, s, _ in asks if a == ba), default=0)
    bid_venues = {x for b, s, x in bids if b == bb and s == bbs}
    ask_venues = {x for a, s, x in asks if a == ba and s == bas}
    return bb, bbs, ba, bas, bid_venues, ask_venues


def test_nbbo_file_equals_the_rebuilt_nbbo(quotes: list[dict[str, str]], nbbo: list[dict[str, str]]) -> None:
    appendages = {(r["Symbol"], r["Sequence_Number"]): r for r in nbbo}
    assert len(appendages) == len(nbbo)
    is_nbbo_ind = {"C": "1", "N": "4"}
    appendage_ind = {"C": {"4", "6"}, "N": {"2", "3"}}
    books: dict[str, dict[str, tuple[float, int, float, int]]] = defaultdict(dict)
    last: dict[str, tuple[float, int, float, int]] = {}
    matched = 0
    seen_ind: Counter[str] = Counter()
    for q in quotes:
        if q["Quote_Cancel_Correction"] == "B":
            continue
        symbol, source, ind = q["Symbol"], q["Source_Of_Quote"], q["National_BBO_Ind"]
        seen_ind[f"{source}{ind}"] += 1
        quote = as_quote(q)
        books[symbol][q["Exchange"]] = quote
        bb, bbs, ba, bas, bid_x, ask_x = _touch(books[symbol])
        key = (symbol, q["Sequence_Number"])
        if ind in appendage_ind[source]:
            row = appendages[key]
            assert row["Time"] == q["Time"] and row["Exchange"] == q["Exchange"]
            assert (float(row["Best_Bid_Price"]), int(row["Best_Bid_Size"])) == (bb, bbs)
            assert (float(row["Best_Offer_Price"]), int(row["Best_Offer_Size"])) == (ba, bas)
            assert row["Best_Bid_Exchange"] in (bid_x or {""}) and row["Best_Offer_Exchange"] in (ask_x or {""})
            matched += 1
        else:
            assert key not in appendages
            if ind == is_nbbo_ind[source]:
                # The quote is the whole NBBO: no appendage needed.
                assert quote == (bb, bbs, ba, bas)
            else:
                assert ind == "0"
                assert last.get(symbol) == (bb, bbs, ba, bas)  # no NBBO change
        last[symbol] = (bb, bbs, ba, bas)
    assert matched == len(nbbo)
    assert {"C0", "C1", "C6", "N0", "N3", "N4"} <= set(seen_ind)


def test_locked_or_crossed_moments_are_rare(quotes: list[dict[str, str]]) -> None:
    books: dict[str, dict[str, tuple[float, int, float, int]]] = defaultdict(dict)
    bad = total = 0
    for q in quotes:
        if q["Quote_Cancel_Correction"] == "B":
            continue
        books[q["Symbol"]][q["Exchange"]] = as_quote(q)
        bb, _, ba, _, _, _ = _touch(books[q["Symbol"]])
        total += 1
        bad += bool(bb and ba and bb >= ba)
    assert 0 < bad < 0.005 * total


# -- trades -----------------------------------------------------------------------------------


def test_sale_condition_mix(trades: list[dict[str, str]]) -> None:
    conditions = Counter(t["Sale Condition"] for t in trades)
    assert all(len(c) == 4 for c in conditions)
    assert {"    ", " F  ", "   I", " F I", "  T ", "  TI", " O  ", "   Q", " 6  ", "   M"} <= set(conditions)
    assert conditions["    "] == max(conditions.values())
    corrections = Counter(t["Trade Correction Indicator"] for t in trades)
    assert {"00", "01", "08", "12"} == set(corrections) and corrections["00"] > 0.99 * len(trades)
    for t in trades:
        c, size, session = t["Sale Condition"], int(t["Trade Volume"]), OPEN <= t["Time"] < CLOSE
        assert (c[3] == "I") == (size < 100) or c[3] in "QM"  # odd lots are flagged 'I'
        if c.strip() not in ("O", "Q", "6", "M"):  # the closing auction prints just after 16:00
            assert (c[2] == "T") == (not session)  # Form T exactly outside 09:30-16:00
        assert t["Trade Through Exempt Indicator"] == ("1" if c[1] == "F" else "0")
        assert PRICE_RE.match(t["Trade Price"]) and size > 0 and t["Trade Stop Stock Indicator"] == "N"
        assert re.fullmatch(r"[0-9]{14}", t["Trade Id"])


def test_auctions_and_official_markers(trades: list[dict[str, str]]) -> None:
    for symbol, (listed, _) in LISTING.items():
        rows = [t for t in trades if t["Symbol"] == symbol]
        for print_cond, marker, lo, hi in ((" O  ", "   Q", OPEN, "093002"), (" 6  ", "   M", CLOSE, "160002")):
            prints = [t for t in rows if t["Sale Condition"] == print_cond]
            marks = [t for t in rows if t["Sale Condition"] == marker]
            assert len(prints) == len(marks) == 1
            assert prints[0]["Exchange"] == marks[0]["Exchange"] == listed
            assert lo <= prints[0]["Time"] < hi and prints[0]["Trade Price"] == marks[0]["Trade Price"]
            assert int(prints[0]["Trade Volume"]) >= 1_000


def test_off_exchange_trades(trades: list[dict[str, str]]) -> None:
    off = [t for t in trades if t["Exchange"] == "D"]
    lit = [t for t in trades if t["Exchange"] != "D"]
    assert 0.15 < len(off) / len(trades) < 0.5
    assert all(t["Trade Reporting Facility"] in ("N", "T") for t in off)
    assert all(t["Trade Reporting Facility"] == "" and t["Trade Reporting Facility TRF Timestamp"] == "" for t in lit)
    assert {t["Trade Reporting Facility"] for t in off} == {"N", "T"}
    for t in off:
        trf_time = t["Trade Reporting Facility TRF Timestamp"]
        assert (trf_time != "") == (t["Trade Reporting Facility"] == "T")
        assert trf_time == "" or t["Participant Timestamp"] <= trf_time <= t["Time"]
        assert t["Participant Timestamp"].endswith("000000")  # broker times in milliseconds
    sub_penny = [t for t in off if len(t["Trade Price"].partition(".")[2]) > 2]
    assert len(sub_penny) > 0.2 * len(off)
    assert all(len(t["Trade Price"].partition(".")[2]) <= 2 for t in lit)


def test_order_flow_is_informed(quotes: list[dict[str, str]], trades: list[dict[str, str]]) -> None:
    """Buys at the offer precede rising mids and sells at the bid falling ones (adverse selection)."""
    markouts: list[float] = []
    for symbol in ("ACME", "BOLT", "CRUX"):
        book: dict[str, tuple[float, int, float, int]] = {}
        times, mids, bids, asks = [], [], [], []
        for q in quotes:
            if q["Symbol"] != symbol or q["Quote_Cancel_Correction"] == "B":
                continue
            book[q["Exchange"]] = as_quote(q)
            bb, _, ba, _, _, _ = _touch(book)
            times.append(q["Time"])
            bids.append(bb)
            asks.append(ba)
            mids.append((bb + ba) / 2 if bb and ba else np.nan)
        t_arr = np.array(times)
        for t in trades:
            if t["Symbol"] != symbol or t["Exchange"] == "D" or t["Sale Condition"] not in ("    ", " F  "):
                continue
            if not OPEN <= t["Time"] < "155900000000000":
                continue
            i = int(np.searchsorted(t_arr, t["Time"], side="right")) - 1
            price = float(t["Trade Price"])
            sign = 1 if price >= asks[i] else -1 if price <= bids[i] else 0
            secs = int(t["Time"][:2]) * 3600 + int(t["Time"][2:4]) * 60 + int(t["Time"][4:6]) + 60
            later = f"{secs // 3600:02d}{secs // 60 % 60:02d}{secs % 60:02d}" + t["Time"][6:]  # a minute later
            j = int(np.searchsorted(t_arr, later, side="right")) - 1
            if sign and not np.isnan(mids[i]) and not np.isnan(mids[j]):
                markouts.append(sign * (mids[j] - mids[i]) / mids[i] * 1e4)
    assert len(markouts) > 3_000
    assert np.mean(markouts) > 0.3  # bp: the passive side loses on average


# -- master -----------------------------------------------------------------------------------


def test_master_rows(day: SampleTaqFiles) -> None:
    rows = by_name(*rows_of(day.master))
    assert [r["Symbol"] for r in rows] == ["ACME", "BOLT", "CRUX", "ZVZZT"]
    for r in rows:
        assert r["Round_Lot"] == "100" and r["Tick_Pilot_Indicator"] == "" and r["SIP_Symbol"] == r["Symbol"]
        assert all(r[name] in ("0", "1") for name in r if name.startswith("TradedOn"))
        assert r["TradedOnFINRA"] == "1"
        if r["Symbol"] in LISTING:
            assert (r["Listed_Exchange"], r["Tape"]) == LISTING[r["Symbol"]]
            assert r["Test_Symbol_Flag"] == "N"
        else:
            assert r["Test_Symbol_Flag"] == "Y"
    assert rows[0]["TradedOnNYSE"] == "1" and rows[1]["TradedOnNasdaq"] == "1" and rows[2]["TradedOnArca"] == "1"
