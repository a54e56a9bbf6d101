"""The profile's pure pieces: message bodies, ExecutionReport and TradeCaptureReport parsing errors, the
dictionary with FencingEpoch and LastLiquidityInd on AE, ClOrdID chains and latency percentiles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.fix.codec import FixMessage, decode, encode
from adapters.fix.dictionary import DataDictionary
from adapters.fix.errors import InvalidTagNumber, TagNotDefinedForMessage
from adapters.fix.latency import LatencySamples
from adapters.fix.profile import (
    OrderFields,
    ProfileError,
    new_order_single,
    order_mass_cancel_request,
    parse_execution_report,
    parse_trade_capture_ack,
    parse_trade_capture_report,
    profile_dictionary_path,
    request_cl_ord_id,
    root_cl_ord_id,
    trade_capture_report_request,
)

HEADER = [(35, "D"), (34, "2"), (49, "HFTMM"), (52, "20260105-14:30:00.000"), (56, "HFTMMVENUE")]
ORDER = OrderFields(cl_ord_id="O-1", symbol="ACME", exchange="XNYS", side="1", quantity="100", ord_type="2",
                    time_in_force="1", price="49.99", post_only=True)


def test_new_order_single_validates_only_with_the_profile_dictionary() -> None:
    raw = encode(HEADER + new_order_single(ORDER, "20260105-14:30:00.000000", 3))
    message = decode(raw)
    assert message[20001] == "3" and message[18] == "6" and message[207] == "XNYS"
    DataDictionary(profile_dictionary_path()).validate(message)
    with pytest.raises(InvalidTagNumber):
        DataDictionary().validate(message)


def test_mass_cancel_by_security_and_all() -> None:
    by_security = dict(order_mass_cancel_request("MC1", "20260105-14:30:00", 0, "ACME", "XNYS"))
    assert by_security[530] == "1" and by_security[55] == "ACME"
    everything = dict(order_mass_cancel_request("MC2", "20260105-14:30:00", 0))
    assert everything[530] == "7" and 55 not in everything
    for body in (order_mass_cancel_request("MC1", "20260105-14:30:00", 0, "ACME", "XNYS"),
                 order_mass_cancel_request("MC2", "20260105-14:30:00", 0)):
        DataDictionary(profile_dictionary_path()).validate(decode(encode([(35, "q"), *HEADER[1:], *body])))


def test_cl_ord_id_chain() -> None:
    request = request_cl_ord_id("O-20260105-143000-001-001-1", 17)
    assert request == "O-20260105-143000-001-001-1#17" and root_cl_ord_id(request) == "O-20260105-143000-001-001-1"
    assert root_cl_ord_id("O-1") == "O-1"


def report(**changes: str) -> FixMessage:
    fields = {6: "49.99", 11: "O-1", 14: "100", 17: "E1", 31: "49.99", 32: "100", 37: "V1", 38: "300", 39: "1",
              54: "1", 55: "ACME", 150: "F", 151: "200", 851: "1"}
    for key, value in changes.items():
        tag = int(key[1:])
        if value:
            fields[tag] = value
        else:
            fields.pop(tag)
    return FixMessage([(35, "8"), *fields.items()])


def test_parse_execution_report() -> None:
    parsed = parse_execution_report(report())
    assert parsed.last_qty == Decimal(100) and parsed.cum_qty == Decimal(100) and parsed.liquidity == "1"


@pytest.mark.parametrize(("changes", "tag", "problem"), [
    ({"t32": ""}, 32, "missing"),
    ({"t32": "0"}, 32, "must be positive"),
    ({"t31": "abc"}, 31, "not a number"),
    ({"t14": "NaN"}, 14, "not finite"),
    ({"t17": ""}, 17, "missing"),
    ({"t151": ""}, 151, "missing"),
])
def test_parse_errors_name_the_field(changes: dict[str, str], tag: int, problem: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_execution_report(report(**changes))
    assert info.value.tag == tag and problem in str(info.value) and "35=8" in str(info.value)


def test_a_status_report_needs_no_last_qty() -> None:
    parsed = parse_execution_report(report(t150="I", t32="", t31="", t851=""))
    assert parsed.exec_type == "I" and parsed.last_qty is None


def test_latency_percentiles() -> None:
    samples = LatencySamples(capacity=1000)
    assert samples.percentiles() == {} and samples.summary() == "n=0"
    for ns in range(1_000, 101_000, 1_000):  # 1 .. 100 µs
        samples.add(ns)
    pct = samples.percentiles((50.0, 99.0, 100.0))
    assert pct == {50.0: 50.0, 99.0: 99.0, 100.0: 100.0}
    assert samples.count == 100 and "p50=50.0 µs" in samples.summary()


AE_HEADER = [(35, "AE"), (34, "9"), (49, "HFTMMVENUE"), (52, "20260105-14:30:00.000"), (56, "HFTMM")]
AE_BODY = [(571, "T20240311-7"), (568, "TC1-5"), (748, "2"), (912, "Y"), (17, "20240311-7"), (570, "Y"), (55, "ACME"),
           (207, "XNYS"), (32, "100"), (31, "50.12"), (75, "20240311"), (60, "20240311-14:30:01.000000"),
           (851, "2"), (552, "1"), (54, "2"), (37, "41"), (11, "O-1#9")]


def test_trade_capture_report_reads_as_the_fill_it_reports() -> None:
    assert dict(trade_capture_report_request("TC1-5")) == {568: "TC1-5", 569: "0", 263: "0"}
    message = decode(encode(AE_HEADER + AE_BODY))
    DataDictionary(profile_dictionary_path()).validate(message)  # 851 on AE is the profile's addition
    with pytest.raises(TagNotDefinedForMessage):
        DataDictionary().validate(message)
    capture = parse_trade_capture_report(message)
    assert (capture.request_id, capture.total, capture.last_report) == ("TC1-5", 2, True)
    fill = capture.fill
    assert (fill.exec_type, fill.exec_id, fill.order_id, fill.cl_ord_id, fill.side) == ("F", "20240311-7", "41", "O-1#9", "2")
    assert (fill.last_qty, fill.last_px, fill.liquidity, fill.exchange) == (Decimal(100), Decimal("50.12"), "2", "XNYS")


@pytest.mark.parametrize(("tag", "value", "problem"), [
    (17, None, "missing"), (32, "0", "must be positive"), (31, "x", "is not a number"), (748, "two", "is not a count"),
    (748, "\u00b9", "is not a count"), (60, None, "missing"),
])
def test_trade_capture_report_errors_name_the_field(tag: int, value: str | None, problem: str) -> None:
    body = [(t, value if t == tag else v) for t, v in AE_BODY if not (t == tag and value is None)]
    with pytest.raises(ProfileError, match=f"35=AE: tag {tag} {problem}"):
        parse_trade_capture_report(FixMessage(AE_HEADER + body))


def test_trade_capture_ack() -> None:
    ack = parse_trade_capture_ack(FixMessage([(35, "AQ"), (568, "TC1"), (569, "0"), (748, "0"), (749, "0"), (750, "0")]))
    assert ack.accepted and ack.total == 0
    refused = parse_trade_capture_ack(FixMessage([(35, "AQ"), (568, "TC2"), (569, "1"), (749, "8"), (750, "2"),
                                                  (58, "tag 569 ...")]))
    assert not refused.accepted and refused.text == "tag 569 ..."
    with pytest.raises(ProfileError, match="tag 749 missing"):
        parse_trade_capture_ack(FixMessage([(35, "AQ"), (568, "TC3"), (750, "0")]))
