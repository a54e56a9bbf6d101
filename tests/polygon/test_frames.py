"""WebSocket frames from the real captures: decoding, key collisions, units, conversion to Nautilus objects."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nautilus_trader.model.data import OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.enums import AggressorSide, BookAction
from nautilus_trader.model.identifiers import InstrumentId

from adapters.polygon.credentials import HIDDEN, ApiKey, load_api_key
from adapters.polygon.errors import PolygonAuthError
from adapters.polygon.messages import Quote, Status, Trade, decode_frame, ms_to_ns
from adapters.polygon.parsing import FrameParser
from adapters.polygon.reference import ConditionTable, ExchangeTable
from adapters.polygon.rest import relative_url


@pytest.fixture(scope="module")
def mock_frames(shared_data: Path) -> list[dict]:
    lines = (shared_data / "polygon/ws/client_python_mock_server_frames.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def spec_examples(shared_data: Path) -> dict:
    return json.loads((shared_data / "polygon/ws/massive_spec_examples_stocks.json").read_text())


def _parser(*symbols: str, **kw: object) -> FrameParser:
    p = FrameParser(**kw)  # type: ignore[arg-type]
    for s in symbols:
        r = p.route(s, InstrumentId.from_str(f"{s}.XNAS"))
        r.quotes = r.trades = r.book = True
    return p


def test_mock_server_frames_decode(mock_frames: list[dict]) -> None:
    server = [f["frame"] for f in mock_frames if f["direction"] == "server->client"]
    decoded = [decode_frame(json.dumps(f)) for f in server]
    assert all(not d.problems for d in decoded)
    assert [m.status for d in decoded for m in d.messages if isinstance(m, Status)] == [
        "connected", "auth_success", "success", "success",
    ]
    trades = [m for d in decoded for m in d.messages if isinstance(m, Trade)]
    assert [(t.sym, t.i, t.x, t.c) for t in trades] == [
        ("AAPL", "5096", 10, [14, 41]), ("AMZN", "72815", 12, [14, 37, 41]), ("AMZN", "799", 4, None),
    ]
    # The two-message frame is one batch.
    assert len(decoded[4].messages) == 2


def test_key_collisions_between_event_types(spec_examples: dict) -> None:
    frame = json.dumps([spec_examples["/stocks/T"], spec_examples["/stocks/Q"], spec_examples["/stocks/AM"]])
    t, q, _ = decode_frame(frame).messages
    assert isinstance(t, Trade) and t.i == "12345" and t.c == [0, 12]  # i: trade id, c: conditions
    assert isinstance(q, Quote) and q.i == [604] and q.c == 0  # i: indicators, c: one condition
    assert q.as_ == 160 and q.ax == 7


def test_timestamp_units_inferred_from_magnitude(spec_examples: dict) -> None:
    assert ms_to_ns(spec_examples["/stocks/T"]["t"]) == (1536036818784000000, "ms")
    assert ms_to_ns(spec_examples["/stocks/LULD"]["t"]) == (1601316752683746000, "us")
    assert ms_to_ns(spec_examples["/stocks/NOI"]["t"]) == (1601318039223013600, "ns")


def test_spec_examples_to_nautilus(spec_examples: dict) -> None:
    p = _parser("MSFT", quote_size_unit=1)  # the spec's Q example carries shares (100, 160)
    t = dict(spec_examples["/stocks/T"], x=10)  # lit (the example's x=4 is off-exchange)
    out = p.parse(json.dumps([spec_examples["/stocks/Q"], t, *(spec_examples[k] for k in ("/stocks/A", "/stocks/AM"))]), 7)
    quote, book, trade = out.data
    assert isinstance(quote, QuoteTick) and isinstance(book, OrderBookDeltas) and isinstance(trade, TradeTick)
    assert (str(quote.bid_price), str(quote.ask_price), int(quote.bid_size), int(quote.ask_size)) == ("114.1250", "114.1280", 100, 160)
    assert quote.ts_event == 1536036818784000000 and quote.ts_init == 7
    assert book.is_snapshot and book.deltas[0].action == BookAction.CLEAR
    assert str(trade.price) == "114.1250" and trade.trade_id.value == "10-12345"
    assert trade.aggressor_side == AggressorSide.SELLER  # below the mid of 114.125/114.128
    assert p.stats.ignored == 2 and p.stats.malformed == 0


def test_off_exchange_and_unrouted_trades_are_not_published(mock_frames: list[dict]) -> None:
    p = _parser("AMZN")
    frame = next(f["frame"] for f in mock_frames if "2 messages" in f["when"])
    out = p.parse(json.dumps(frame), 0)
    assert [t.trade_id.value for t in out.data] == ["12-72815"]  # x=4 (TRF) is off-exchange
    assert p.stats.trades_off_exchange == 1
    aapl = next(f["frame"] for f in mock_frames if "1 message" in f["when"])
    assert p.parse(json.dumps(aapl), 0).data == [] and p.stats.unrouted == 1


def test_conditions_table_filters_trades(shared_data: Path, mock_frames: list[dict]) -> None:
    records = json.loads((shared_data / "polygon/rest/v3_reference_conditions_stocks.json").read_text())["results"]
    table = ConditionTable(records)
    assert table.trade_reason([1]) == ""  # Acquisition: updates high/low
    assert table.trade_reason([2]) == "condition 2"  # Average price: does not
    assert table.trade_reason([14, 41]) == "unknown condition 14"  # not in the 10-record capture
    assert table.trade_reason(None) == ""  # no conditions: a regular sale
    p = _parser("AAPL", conditions=table)
    frame = next(f["frame"] for f in mock_frames if "1 message" in f["when"])
    assert p.parse(json.dumps(frame), 0).data == [] and p.stats.trades_filtered == 1


def test_exchanges_reference_maps_ids_to_venues(shared_data: Path) -> None:
    table = ExchangeTable(json.loads((shared_data / "polygon/rest/v3_reference_exchanges.json").read_text())["results"])
    assert table.mic(12) == "XNAS" and table.mic(10) == "XNYS" and table.mic(4) == "FINR" and table.mic(99) == "POLY99"
    assert table.letter(4) == "D" and table.id_of_mic("ARCX") == 11


def test_one_sided_and_crossed_quotes_update_the_book_but_are_not_ticks() -> None:
    p = _parser("X")
    frames = [
        [{"ev": "Q", "sym": "X", "bp": 10.0, "bs": 1, "ap": 10.02, "as": 2, "t": 1}],
        [{"ev": "Q", "sym": "X", "bp": 10.0, "bs": 1, "ap": 0, "as": 0, "t": 2}],  # ask side missing
        [{"ev": "Q", "sym": "X", "bp": 10.05, "bs": 1, "ap": 10.02, "as": 2, "t": 3}],  # crossed
    ]
    outs = [p.parse(msgspec.json.encode(f), 0).data for f in frames]
    assert [type(o).__name__ for o in outs[0]] == ["QuoteTick", "OrderBookDeltas"]
    assert [type(o).__name__ for o in outs[1]] == ["OrderBookDeltas"]
    assert [d.action for d in outs[1][0].deltas] == [BookAction.DELETE]
    assert [d.action for d in outs[2][0].deltas] == [BookAction.DELETE]  # crossed withdraws the quote
    assert p.stats.quotes_one_sided == 1 and p.stats.quotes_crossed_or_locked == 1


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_input_never_raises(frame: bytes | str) -> None:
    p = _parser("AAPL")
    out = p.parse(frame, 0)
    assert p.stats.malformed + p.stats.unknown == len(out.problems)


def test_api_key_never_prints_itself(tmp_path: Path) -> None:
    key = ApiKey("abc123")
    assert "abc123" not in repr(key) and "abc123" not in f"{key}" and key.reveal() == "abc123"
    assert key.redact("GET /x?apiKey=abc123") == f"GET /x?apiKey={HIDDEN}"
    (tmp_path / "k").write_text("fromfile\n")
    assert load_api_key({"MASSIVE_API_KEY_FILE": str(tmp_path / "k")}).reveal() == "fromfile"
    assert load_api_key({"POLYGON_API_KEY": "p", "MASSIVE_API_KEY_FILE": str(tmp_path / "k")}).reveal() == "p"
    with pytest.raises(PolygonAuthError, match="MASSIVE_API_KEY"):
        load_api_key({})
    with pytest.raises(PolygonAuthError, match="cannot be read"):
        load_api_key({"MASSIVE_API_KEY_FILE": str(tmp_path / "missing")})


def test_next_url_keeps_path_and_query_only() -> None:
    url = "https://api.massive.com/v3/quotes/AAPL?cursor=YXA9&apiKey=leaked"
    assert relative_url(url) == "/v3/quotes/AAPL?cursor=YXA9"


_side_px = st.sampled_from([0, 100_000, 100_100, 100_200, 100_300])
_touch = st.tuples(_side_px, st.integers(0, 3), _side_px, st.integers(0, 3)).map(
    lambda t: (t[0] if t[1] else 0, t[1] * 100 if t[0] else 0, t[2] if t[3] else 0, t[3] * 100 if t[2] else 0),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_touch | st.none(), max_size=40))
def test_l1_changes_equal_the_taq_aggregated_book_with_one_contributor(touches: list) -> None:
    from adapters.polygon.l1 import EMPTY, l1_changes
    from adapters.taq.book import AggregatedBook

    book, old = AggregatedBook(), EMPTY
    for t in touches:
        expected = [(d.side, d.action, d.price, d.size) for d in book.apply("NBBO", t)]
        new = t or EMPTY
        assert l1_changes(old, new) == expected
        old = new
