"""Codec: encode/decode round trips, BodyLength/CheckSum, corruption errors, framing."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from adapters.fix.codec import DATA_FIELDS, FixMessage, FrameReader, checksum, decode, encode
from adapters.fix.errors import BadBodyLength, BadChecksum, GarbledMessage, HeaderOrderError

EXEC_REPORT = [
    (35, "8"), (34, "12"), (49, "ISLD"), (52, "20260105-14:30:00.123"), (56, "TW44"),
    (6, "101.25"), (11, "C-1"), (14, "100"), (17, "E-9"), (31, "101.25"), (32, "100"), (37, "O-7"),
    (38, "300"), (39, "1"), (54, "1"), (55, "AAPL"), (150, "F"), (151, "200"),
]


def test_encode_adds_body_length_and_checksum() -> None:
    raw = encode([(35, "0"), (34, "2"), (49, "A"), (52, "20260105-14:30:00"), (56, "B")])
    body = b"35=0\x0134=2\x0149=A\x0152=20260105-14:30:00\x0156=B\x01"
    head = b"8=FIX.4.4\x019=%d\x01" % len(body)
    assert raw == head + body + b"10=%03d\x01" % (sum(head + body) % 256)


def test_round_trip_execution_report() -> None:
    raw = encode(EXEC_REPORT)
    message = decode(raw)
    assert message.fields[2:-1] == EXEC_REPORT
    assert message.fields[0] == (8, "FIX.4.4")
    assert message.msg_type == "8"
    assert message.seq_num == 12
    assert message.get(55) == "AAPL"
    assert message[151] == "200"
    assert message.get(9999) is None
    assert 6 in message and 7 not in message
    assert message.raw == raw


def test_get_returns_first_occurrence_and_get_all_every_one() -> None:
    message = decode(encode([(35, "D"), (453, "2"), (448, "P1"), (448, "P2")]))
    assert message.get(448) == "P1"
    assert message.get_all(448) == ["P1", "P2"]


@pytest.mark.parametrize("length", [1, 255, 256, 257, 1000, 5000])
def test_checksum_matches_plain_sum(length: int) -> None:
    data = bytes((i * 37 + 11) % 256 for i in range(length))
    assert checksum(data) == sum(data) % 256
    assert checksum(b"\xff" * length) == (255 * length) % 256


_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x01"),
                  min_size=1, max_size=30)
# any tag except the data fields, whose value length is given by the preceding length field
_tags = st.integers(min_value=11, max_value=9999).filter(lambda t: t not in DATA_FIELDS.values())


@given(st.lists(st.tuples(_tags, _values), max_size=40), st.sampled_from(["0", "8", "D", "AE"]))
@example(body=[(348, "\u00b9")], msg_type="0")  # a length field whose value is a non-ASCII "digit"
def test_round_trip_property(body: list[tuple[int, str]], msg_type: str) -> None:
    fields = [(35, msg_type), *body]
    raw = encode(fields)
    message = decode(raw)
    assert message.fields[2:-1] == fields
    assert int(message.get(10) or "-1") == checksum(raw[: raw.rindex(b"10=")])
    assert decode(encode(message.fields[2:-1])).fields == message.fields


def test_data_field_may_hold_soh_and_equals() -> None:
    payload = "a\x01b=c\x01"
    raw = encode([(35, "B"), (148, "news"), (95, str(len(payload))), (96, payload), (58, "after")])
    message = decode(raw)
    assert message.get(96) == payload
    assert message.get(58) == "after"


def test_data_field_shorter_than_declared_is_garbled() -> None:
    raw = encode([(35, "B"), (95, "50"), (96, "short")])
    with pytest.raises(GarbledMessage) as info:
        decode(raw)
    assert info.value.tag == 96


def _corrupt(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert old in raw
    return raw.replace(old, new, 1)


def test_bad_checksum_names_tag_10() -> None:
    raw = encode(EXEC_REPORT)
    bad = raw[:-4] + (b"%03d\x01" % ((int(raw[-4:-1]) + 1) % 256))
    with pytest.raises(BadChecksum) as info:
        decode(bad)
    assert info.value.tag == 10
    assert "CheckSum" in str(info.value)


def test_flipped_byte_is_caught_by_checksum() -> None:
    raw = encode(EXEC_REPORT)
    with pytest.raises(BadChecksum):
        decode(_corrupt(raw, b"AAPL", b"AAPM"))


def test_bad_body_length_names_tag_9() -> None:
    raw = encode(EXEC_REPORT)
    declared = raw.split(b"\x01")[1]
    with pytest.raises(BadBodyLength) as info:
        decode(_corrupt(raw, declared, b"9=%d" % (int(declared[2:]) + 1)))
    assert info.value.tag == 9


@pytest.mark.parametrize(("frame", "error"), [
    (b"8=FIX.4.4\x019=5\x0135=0\x0110=000", GarbledMessage),  # no trailing SOH
    (b"8=FIX.4.4\x019=12\x0135=0\x0134\x0110=000\x01", GarbledMessage),  # field without '='
    (b"8=FIX.4.4\x019=14\x0135=0\x013x4=2\x0110=000\x01", GarbledMessage),  # tag not an integer
    (b"8=FIX.4.4\x0135=0\x019=5\x0110=000\x01", HeaderOrderError),  # 35 before 9
    (b"8=FIX.4.4\x019=5\x0135=0\x0134=1\x01", GarbledMessage),  # no CheckSum at the end
])
def test_garbled_frames(frame: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode(frame)


def test_negative_and_zero_tags_decode_for_the_dictionary_to_reject() -> None:
    message = decode(encode([(35, "0"), (-1, "HI"), (0, "X")]))
    assert (-1, "HI") in message.fields and (0, "X") in message.fields


def test_frame_reader_reassembles_split_and_glued_frames() -> None:
    one, two = encode(EXEC_REPORT), encode([(35, "0"), (34, "13")])
    stream = b"garbage" + one + two
    reader = FrameReader()
    frames = []
    for i in range(0, len(stream), 7):  # in 7-byte pieces
        reader.feed(stream[i : i + 7])
        while (frame := reader.next_frame()) is not None:
            frames.append(frame)
    assert frames == [one, two]
    assert reader.discarded_bytes == len(b"garbage")
    assert len(reader) == 0


def test_frame_reader_too_long_body_length_swallows_the_next_message() -> None:
    # QuickFIX's framing: the declared end points into the next message, whose CheckSum ends the frame.
    good = encode([(35, "0"), (34, "3")])
    bad = encode([(35, "0"), (34, "2")]).replace(b"9=", b"9=1", 1)  # 9=1NN
    reader = FrameReader()
    reader.feed(bad + good * 5)
    frame = reader.next_frame()
    assert frame is not None and frame.startswith(bad[:20]) and len(frame) > len(bad)
    with pytest.raises((BadBodyLength, BadChecksum)):
        decode(frame)


def test_frame_reader_drops_a_non_numeric_body_length_and_resumes() -> None:
    good = encode([(35, "0"), (34, "3")])
    reader = FrameReader()
    reader.feed(b"8=FIX.4.4\x019=abc\x0135=0\x01" + good)
    with pytest.raises(GarbledMessage):
        reader.next_frame()
    assert reader.next_frame() == good


def test_fix_message_repr_and_equality() -> None:
    a = FixMessage([(35, "0"), (34, "1")])
    assert a == FixMessage([(35, "0"), (34, "1")])
    assert "35=0|34=1|" in repr(a)


@given(st.lists(st.lists(st.tuples(_tags, _values), max_size=8), min_size=1, max_size=6),
       st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=40))
def test_frame_reader_property_any_chunking(bodies: list[list[tuple[int, str]]], cuts: list[int]) -> None:
    frames = [encode([(35, "0"), *body]) for body in bodies]
    stream = b"".join(frames)
    reader = FrameReader()
    out: list[bytes] = []
    pos, k = 0, 0
    while pos < len(stream):
        step = cuts[k % len(cuts)]
        reader.feed(stream[pos : pos + step])
        pos, k = pos + step, k + 1
        while (frame := reader.next_frame()) is not None:
            out.append(frame)
    assert out == frames
