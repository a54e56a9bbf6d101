"""Data dictionary: loading FIX44.xml, validating the messages the engine uses, each reject reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.fix.codec import decode, encode
from adapters.fix.dictionary import DataDictionary, fix44_spec_path, value_has_format
from adapters.fix.errors import (
    GroupCountMismatch,
    IncorrectDataFormat,
    IncorrectTagValue,
    InvalidMsgType,
    InvalidTagNumber,
    RepeatedTag,
    RequiredTagMissing,
    SessionRejectError,
    TagNotDefinedForMessage,
    TagOutOfOrder,
    TagWithoutValue,
)

HEADER = [(34, "2"), (49, "TW44"), (52, "20260105-14:30:00.000"), (56, "ISLD")]
T = "20260105-14:30:00"

# One valid example of every message type the engine and its users send or receive.
MESSAGES: dict[str, list[tuple[int, str]]] = {
    "A": [(98, "0"), (108, "30"), (141, "Y")],
    "0": [(112, "X")],
    "1": [(112, "X")],
    "2": [(7, "1"), (16, "0")],
    "3": [(45, "2"), (58, "Invalid tag number"), (371, "999"), (372, "0"), (373, "0")],
    "4": [(36, "5"), (123, "Y")],
    "5": [(58, "bye")],
    "D": [(11, "C1"), (1, "ACC"), (21, "1"), (55, "AAPL"), (54, "1"), (60, T), (38, "100"), (40, "2"),
          (44, "101.25"), (59, "0")],
    "F": [(41, "C1"), (37, "O1"), (11, "C2"), (55, "AAPL"), (54, "1"), (60, T), (38, "100")],
    "G": [(37, "O1"), (41, "C1"), (11, "C3"), (55, "AAPL"), (54, "1"), (60, T), (38, "200"), (40, "2"),
          (44, "101.30")],
    "q": [(11, "M1"), (530, "7"), (60, T)],
    "r": [(11, "M1"), (37, "X"), (530, "7"), (531, "7"), (533, "2")],
    "H": [(37, "O1"), (11, "C1"), (55, "AAPL"), (54, "1")],
    "AF": [(584, "S1"), (585, "7")],
    "8": [(37, "O1"), (11, "C1"), (17, "E1"), (150, "F"), (39, "1"), (55, "AAPL"), (54, "1"), (38, "300"),
          (32, "100"), (31, "101.25"), (151, "200"), (14, "100"), (6, "101.25"), (60, T),
          (453, "2"), (448, "ISLD"), (447, "D"), (452, "1"), (448, "MM1"), (447, "D"), (452, "3")],
    "9": [(37, "O1"), (11, "C2"), (41, "C1"), (39, "0"), (434, "1"), (102, "0")],
    "j": [(45, "3"), (372, "8"), (380, "3"), (58, "Unsupported Message Type")],
}


def _message(msg_type: str, body: list[tuple[int, str]], header: list[tuple[int, str]] = HEADER) -> object:
    return decode(encode([(35, msg_type), *header, *body]))


def test_packaged_spec_equals_the_shared_one(fix_shared: Path) -> None:
    assert fix44_spec_path().read_bytes() == fix44_spec_path(fix_shared.parent).read_bytes()


def test_loads_fix44(dictionary: DataDictionary) -> None:
    assert dictionary.begin_string == "FIX.4.4"
    assert set(MESSAGES) <= set(dictionary.messages)
    assert dictionary.header.required == (8, 9, 34, 35, 49, 52, 56)
    assert dictionary.messages["D"].required == (11, 40, 54, 60)
    assert dictionary.is_header_field(115) and dictionary.is_trailer_field(10)
    assert dictionary.is_admin("A") and not dictionary.is_admin("D")


@pytest.mark.parametrize("msg_type", sorted(MESSAGES))
def test_every_used_message_type_validates(dictionary: DataDictionary, msg_type: str) -> None:
    sections = dictionary.validate(_message(msg_type, MESSAGES[msg_type]))
    assert [t for t, _ in sections.header][:3] == [8, 9, 35]
    assert sections.trailer[-1][0] == 10


def test_execution_report_groups_are_parsed(dictionary: DataDictionary) -> None:
    sections = dictionary.validate(_message("8", MESSAGES["8"]))
    ((count_tag, count, entries),) = sections.groups
    assert (count_tag, count) == (453, "2")
    assert [e.fields for e in entries] == [[(448, "ISLD"), (447, "D"), (452, "1")],
                                           [(448, "MM1"), (447, "D"), (452, "3")]]


@pytest.mark.parametrize(("msg_type", "body", "header", "error", "tag"), [
    ("0", [(999, "HI")], HEADER, InvalidTagNumber, 999),
    ("0", [(-1, "HI")], HEADER, InvalidTagNumber, -1),
    ("0", [(5000, "HI")], HEADER, InvalidTagNumber, 5000),
    ("0", [], HEADER[:3], RequiredTagMissing, 56),
    ("D", [(40, "1"), (54, "1"), (60, T)], HEADER, RequiredTagMissing, 11),
    ("0", [(55, "MSFT")], HEADER, TagNotDefinedForMessage, 55),
    ("0", [], [*HEADER[:3], (56, "")], TagWithoutValue, 56),
    ("D", [(11, "C"), (21, "4"), (40, "1"), (54, "1"), (60, T)], HEADER, IncorrectTagValue, 21),
    ("D", [(11, "C"), (18, "G T"), (40, "1"), (54, "1"), (60, T)], HEADER, IncorrectTagValue, 18),
    ("D", [(11, "C"), (38, "+200.00"), (40, "1"), (54, "1"), (60, T)], HEADER, IncorrectDataFormat, 38),
    ("D", [(11, "C"), (126, "20040415"), (40, "1"), (54, "1"), (60, T)], HEADER, IncorrectDataFormat, 126),
    ("D", [(11, "C"), (40, "1"), (40, "2"), (54, "1"), (60, T)], HEADER, RepeatedTag, 40),
    ("D", [(11, "C"), (40, "1"), (54, "1"), (60, T), (386, "3"), (336, "A"), (336, "B")], HEADER,
     GroupCountMismatch, 386),
    ("*", [], HEADER, InvalidMsgType, None),
])
def test_reject_reasons(dictionary: DataDictionary, msg_type: str, body: list[tuple[int, str]],
                        header: list[tuple[int, str]], error: type[SessionRejectError], tag: int | None) -> None:
    with pytest.raises(error) as info:
        dictionary.validate(_message(msg_type, body, header))
    assert info.value.tag == tag
    assert info.value.reason == error.reason


def test_header_field_after_body_is_out_of_order(dictionary: DataDictionary) -> None:
    message = decode(encode([(35, "D"), (11, "C"), (34, "2"), (49, "TW44"), (52, T), (56, "ISLD"),
                             (40, "1"), (54, "1"), (60, T)]))
    with pytest.raises(TagOutOfOrder) as info:
        dictionary.validate(message)
    assert info.value.tag == 34 and info.value.reason == 14


def test_zero_count_group_is_valid(dictionary: DataDictionary) -> None:
    dictionary.validate(_message("d", [(320, "R1"), (322, "1"), (323, "6"), (55, "TBS"), (454, "0")]))


def test_multiple_value_string_enumeration(dictionary: DataDictionary) -> None:
    dictionary.validate(_message("D", [(11, "C"), (18, "G 6"), (40, "1"), (54, "1"), (60, T)]))


@pytest.mark.parametrize(("type_name", "value", "ok"), [
    ("INT", "-12", True), ("INT", "1.0", False), ("QTY", "002000.00", True), ("QTY", "+1", False),
    ("PRICE", ".5", True), ("PRICE", "1e3", False), ("CHAR", "AB", False), ("BOOLEAN", "Y", True),
    ("BOOLEAN", "y", False), ("UTCTIMESTAMP", "20260105-14:30:00.123456", True),
    ("UTCTIMESTAMP", "20261305-14:30:00", False), ("UTCTIMEONLY", "14:30:61", False),
    ("UTCDATEONLY", "20260105", True), ("STRING", "anything", True),
])
def test_value_formats(type_name: str, value: str, ok: bool) -> None:
    assert value_has_format(type_name, value) is ok
