"""hftmm's FIX 4.4 order-flow profile (``docs/adapters/fix.md``), free of Nautilus.

What the execution client and the venue simulator agree on: the message bodies the node sends
(D, F, G, q, H, AF, AD) in wire order, the fields read from an ExecutionReport (8), OrderCancelReject
(9), OrderMassCancelReport (r) and the TradeCaptureReports (AQ, AE) answering AD, the custom FencingEpoch tag 20001 (on orders and on the Logon, where a new leader announces its
epoch so the venue fences the old one off at once), and the ClOrdID chain of
an order (a cancel or replace needs a new ClOrdID; the Nautilus ``ClientOrderId`` is the root).

:func:`profile_dictionary_path` writes the packaged FIX 4.4 dictionary with FencingEpoch added to
A, D, F, G and q and LastLiquidityInd to AE, for a session that receives those messages and
validates them.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from adapters.fix.codec import FixMessage, is_ascii_number
from adapters.fix.dictionary import fix44_spec_path

FENCING_EPOCH_TAG = 20001
"""FencingEpoch: the leader epoch of the failover lease, on A (Logon), D, F, G and q."""

CL_ORD_ID_SEPARATOR = "#"
"""Separates the root ClOrdID (the Nautilus ``ClientOrderId``) from the suffix of a cancel or
replace request: ``O-...-1#17`` is request 17 (our MsgSeqNum then) on order ``O-...-1``."""

NO_ORDERS = "NONE"
"""OrderID/ClOrdID of the single 150=I report answering a mass status request with no order."""

EXEC_NEW, EXEC_CANCELED, EXEC_REPLACED, EXEC_REJECTED = "0", "4", "5", "8"
EXEC_TRADE, EXEC_EXPIRED, EXEC_STATUS = "F", "C", "I"
EXEC_PENDING = frozenset({"6", "A", "E"})  # pending cancel / new / replace: no Nautilus event

LIQUIDITY_ADDED, LIQUIDITY_REMOVED = "1", "2"
CXL_REJ_RESPONSE_TO_CANCEL, CXL_REJ_RESPONSE_TO_REPLACE = "1", "2"
MASS_CANCEL_BY_SECURITY, MASS_CANCEL_ALL = "1", "7"
MASS_CANCEL_REJECTED = "0"
MASS_STATUS_ALL_ORDERS = "7"
TRADE_REQUEST_ALL_TRADES = "0"  # TradeRequestType (569)
SUBSCRIPTION_SNAPSHOT = "0"  # SubscriptionRequestType (263)
TRADE_REQUEST_SUCCESSFUL = "0"  # TradeRequestResult (749)
TRADE_REQUEST_NOT_SUPPORTED = "8"
TRADE_REQUEST_ACCEPTED, TRADE_REQUEST_REJECTED = "0", "2"  # TradeRequestStatus (750)
EXEC_INST_POST_ONLY = "6"


class ProfileError(ValueError):
    """An inbound business message lacks a field the profile requires, or has a malformed one.

    Parameters
    ----------
    msg_type : str
        MsgType of the message.
    tag : int
        The field.
    problem : str
        What is wrong.
    """

    def __init__(self, msg_type: str, tag: int, problem: str) -> None:
        super().__init__(f"35={msg_type}: tag {tag} {problem}")
        self.msg_type = msg_type
        self.tag = tag


def root_cl_ord_id(cl_ord_id: str) -> str:
    """The root ClOrdID (the Nautilus ``ClientOrderId``) of any ClOrdID of its chain."""
    return cl_ord_id.split(CL_ORD_ID_SEPARATOR, 1)[0]


def request_cl_ord_id(root: str, request_number: int) -> str:
    """A new ClOrdID for a cancel or replace of ``root``."""
    return f"{root}{CL_ORD_ID_SEPARATOR}{request_number}"


@dataclass(frozen=True, slots=True)
class OrderFields:
    """What a new order needs, as wire strings (prices and quantities already formatted)."""

    cl_ord_id: str
    symbol: str
    exchange: str
    side: str
    quantity: str
    ord_type: str
    time_in_force: str
    price: str | None = None
    post_only: bool = False
    account: str | None = None


def new_order_single(order: OrderFields, transact_time: str, epoch: int) -> list[tuple[int, str]]:
    """The body of a NewOrderSingle (D)."""
    body: list[tuple[int, str]] = [(11, order.cl_ord_id)]
    if order.account:
        body.append((1, order.account))
    if order.post_only:
        body.append((18, EXEC_INST_POST_ONLY))
    body += [(38, order.quantity), (40, order.ord_type)]
    if order.price is not None:
        body.append((44, order.price))
    body += [(54, order.side), (55, order.symbol), (59, order.time_in_force), (60, transact_time),
             (207, order.exchange), (FENCING_EPOCH_TAG, str(epoch))]
    return body


def order_cancel_request(cl_ord_id: str, orig_cl_ord_id: str, order_id: str | None, symbol: str, exchange: str,
                         side: str, quantity: str, transact_time: str, epoch: int) -> list[tuple[int, str]]:
    """The body of an OrderCancelRequest (F)."""
    body: list[tuple[int, str]] = [(11, cl_ord_id)]
    if order_id:
        body.append((37, order_id))
    body += [(38, quantity), (41, orig_cl_ord_id), (54, side), (55, symbol), (60, transact_time),
             (207, exchange), (FENCING_EPOCH_TAG, str(epoch))]
    return body


def order_cancel_replace_request(cl_ord_id: str, orig_cl_ord_id: str, order_id: str | None, order: OrderFields,
                                 transact_time: str, epoch: int) -> list[tuple[int, str]]:
    """The body of an OrderCancelReplaceRequest (G): ``order`` carries the new total quantity and price."""
    body: list[tuple[int, str]] = [(11, cl_ord_id)]
    if order.account:
        body.append((1, order.account))
    if order.post_only:
        body.append((18, EXEC_INST_POST_ONLY))
    if order_id:
        body.append((37, order_id))
    body += [(38, order.quantity), (40, order.ord_type), (41, orig_cl_ord_id)]
    if order.price is not None:
        body.append((44, order.price))
    body += [(54, order.side), (55, order.symbol), (59, order.time_in_force), (60, transact_time),
             (207, order.exchange), (FENCING_EPOCH_TAG, str(epoch))]
    return body


def order_mass_cancel_request(cl_ord_id: str, transact_time: str, epoch: int, symbol: str | None = None,
                              exchange: str | None = None) -> list[tuple[int, str]]:
    """The body of an OrderMassCancelRequest (q): one security when ``symbol`` is given, else all."""
    body: list[tuple[int, str]] = [(11, cl_ord_id)]
    if symbol is not None:
        body += [(55, symbol), (60, transact_time), (207, exchange or ""), (530, MASS_CANCEL_BY_SECURITY)]
    else:
        body += [(60, transact_time), (530, MASS_CANCEL_ALL)]
    body.append((FENCING_EPOCH_TAG, str(epoch)))
    return body


def order_status_request(cl_ord_id: str, order_id: str | None, symbol: str, exchange: str,
                         side: str) -> list[tuple[int, str]]:
    """The body of an OrderStatusRequest (H)."""
    body: list[tuple[int, str]] = [(11, cl_ord_id)]
    if order_id:
        body.append((37, order_id))
    body += [(54, side), (55, symbol), (207, exchange)]
    return body


def order_mass_status_request(request_id: str) -> list[tuple[int, str]]:
    """The body of an OrderMassStatusRequest (AF) for all of the day's orders (585=7)."""
    return [(584, request_id), (585, MASS_STATUS_ALL_ORDERS)]


def trade_capture_report_request(request_id: str) -> list[tuple[int, str]]:
    """The body of a TradeCaptureReportRequest (AD): a snapshot of every fill of the day."""
    return [(568, request_id), (569, TRADE_REQUEST_ALL_TRADES), (263, SUBSCRIPTION_SNAPSHOT)]


@dataclass(frozen=True, slots=True)
class ExecReport:
    """The profile's fields of one ExecutionReport (8), parsed and checked.

    Quantities and prices are ``Decimal`` (exact); absent optional fields are ``None``.
    """

    exec_type: str
    ord_status: str
    order_id: str
    cl_ord_id: str
    orig_cl_ord_id: str | None
    exec_id: str
    symbol: str
    exchange: str | None
    side: str
    order_qty: Decimal | None
    ord_type: str | None
    price: Decimal | None
    time_in_force: str | None
    last_qty: Decimal | None
    last_px: Decimal | None
    leaves_qty: Decimal
    cum_qty: Decimal
    avg_px: Decimal
    liquidity: str | None
    text: str | None
    reject_reason: str | None
    transact_time: str | None
    mass_status_req_id: str | None
    tot_num_reports: int | None
    last_report: bool


def _required(message: FixMessage, tag: int) -> str:
    value = message.get(tag)
    if not value:
        raise ProfileError(message.msg_type, tag, "missing")
    return value


def _decimal(message: FixMessage, tag: int, required: bool = False) -> Decimal | None:
    value = message.get(tag)
    if not value:
        if required:
            raise ProfileError(message.msg_type, tag, "missing")
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ProfileError(message.msg_type, tag, f"is not a number: {value!r}") from None
    if not number.is_finite():
        raise ProfileError(message.msg_type, tag, f"is not finite: {value!r}")
    return number


def _count(message: FixMessage, tag: int) -> int | None:
    value = message.get(tag)
    if value is None:
        return None
    if not is_ascii_number(value):
        raise ProfileError(message.msg_type, tag, f"is not a count: {value!r}")
    return int(value)


def parse_execution_report(message: FixMessage) -> ExecReport:
    """Read an ExecutionReport; raises :class:`ProfileError` naming the field at fault.

    A trade (150=F) must carry LastQty (32) > 0 and LastPx (31).
    """
    exec_type = _required(message, 150)
    last_qty = _decimal(message, 32, required=exec_type == EXEC_TRADE)
    last_px = _decimal(message, 31, required=exec_type == EXEC_TRADE)
    if exec_type == EXEC_TRADE and last_qty is not None and last_qty <= 0:
        raise ProfileError(message.msg_type, 32, f"must be positive on a trade: {last_qty}")
    tot = _count(message, 911)
    return ExecReport(
        exec_type=exec_type,
        ord_status=_required(message, 39),
        order_id=_required(message, 37),
        cl_ord_id=message.get(11) or "",
        orig_cl_ord_id=message.get(41),
        exec_id=_required(message, 17),
        symbol=_required(message, 55),
        exchange=message.get(207),
        side=_required(message, 54),
        order_qty=_decimal(message, 38),
        ord_type=message.get(40),
        price=_decimal(message, 44),
        time_in_force=message.get(59),
        last_qty=last_qty,
        last_px=last_px,
        leaves_qty=_decimal(message, 151, required=True) or Decimal(0),
        cum_qty=_decimal(message, 14, required=True) or Decimal(0),
        avg_px=_decimal(message, 6) or Decimal(0),
        liquidity=message.get(851),
        text=message.get(58),
        reject_reason=message.get(103),
        transact_time=message.get(60),
        mass_status_req_id=message.get(584),
        tot_num_reports=tot,
        last_report=message.get(912) == "Y",
    )


@dataclass(frozen=True, slots=True)
class CancelReject:
    """An OrderCancelReject (9)."""

    order_id: str | None
    cl_ord_id: str
    orig_cl_ord_id: str
    ord_status: str | None
    response_to: str
    reason: str | None
    text: str | None


def parse_cancel_reject(message: FixMessage) -> CancelReject:
    """Read an OrderCancelReject; raises :class:`ProfileError` naming the field at fault."""
    order_id = message.get(37)
    return CancelReject(
        order_id=order_id if order_id and order_id != NO_ORDERS else None,
        cl_ord_id=message.get(11) or "",
        orig_cl_ord_id=_required(message, 41),
        ord_status=message.get(39),
        response_to=_required(message, 434),
        reason=message.get(102),
        text=message.get(58),
    )


@dataclass(frozen=True, slots=True)
class TradeCaptureAck:
    """A TradeCaptureReportRequestAck (AQ): the venue's answer to AD before (or instead of) its reports."""

    request_id: str
    result: str
    status: str
    total: int | None
    text: str | None

    @property
    def accepted(self) -> bool:
        return self.result == TRADE_REQUEST_SUCCESSFUL and self.status != TRADE_REQUEST_REJECTED


@dataclass(frozen=True, slots=True)
class TradeCapture:
    """One TradeCaptureReport (AE) answering our AD: one of our fills of the day.

    ``fill`` is the fill as the ExecutionReport (150=F) that reported it would read: ExecID (17),
    LastQty/LastPx (32/31), TransactTime (60), symbol and exchange (55/207), the side group's Side,
    OrderID and ClOrdID (54/37/11) and LastLiquidityInd (851, the profile's addition); the order's
    CumQty and LeavesQty are not part of a trade report and read as 0.
    """

    request_id: str
    total: int | None
    last_report: bool
    fill: ExecReport


def parse_trade_capture_ack(message: FixMessage) -> TradeCaptureAck:
    """Read a TradeCaptureReportRequestAck; raises :class:`ProfileError` naming the field at fault."""
    return TradeCaptureAck(request_id=_required(message, 568), result=_required(message, 749),
                           status=_required(message, 750), total=_count(message, 748), text=message.get(58))


def parse_trade_capture_report(message: FixMessage) -> TradeCapture:
    """Read a TradeCaptureReport; raises :class:`ProfileError` naming the field at fault."""
    last_qty = _decimal(message, 32, required=True)
    if last_qty is not None and last_qty <= 0:
        raise ProfileError(message.msg_type, 32, f"must be positive on a trade: {last_qty}")
    fill = ExecReport(
        exec_type=EXEC_TRADE, ord_status=message.get(39) or "", order_id=_required(message, 37),
        cl_ord_id=message.get(11) or "", orig_cl_ord_id=None, exec_id=_required(message, 17),
        symbol=_required(message, 55), exchange=message.get(207), side=_required(message, 54), order_qty=None,
        ord_type=None, price=None, time_in_force=None, last_qty=last_qty, last_px=_decimal(message, 31, required=True),
        leaves_qty=Decimal(0), cum_qty=Decimal(0), avg_px=Decimal(0), liquidity=message.get(851), text=message.get(58),
        reject_reason=None, transact_time=_required(message, 60), mass_status_req_id=None, tot_num_reports=None,
        last_report=False,
    )
    return TradeCapture(request_id=_required(message, 568), total=_count(message, 748),
                        last_report=message.get(912) == "Y", fill=fill)


_DICTIONARY_CACHE: dict[str, Path] = {}
_PROFILE_FIELDS = {
    "Logon": "FencingEpoch", "NewOrderSingle": "FencingEpoch", "OrderCancelRequest": "FencingEpoch",
    "OrderCancelReplaceRequest": "FencingEpoch", "OrderMassCancelRequest": "FencingEpoch",
    # FIX 4.4's AE has no liquidity indicator; the maker/taker fee of a recovered fill needs it.
    "TradeCaptureReport": "LastLiquidityInd",
}


def profile_dictionary_xml(base: str) -> str:
    """``base`` (a QuickFIX FIX 4.4 dictionary) with FencingEpoch (20001, INT) defined and allowed
    on A, D, F, G and q, and LastLiquidityInd (851) allowed on AE."""
    field = f"  <field number='{FENCING_EPOCH_TAG}' name='FencingEpoch' type='INT' />\n </fields>"
    head, sep, tail = base.rpartition(" </fields>")
    if not sep:
        raise ValueError("dictionary has no </fields> section")
    text = head + field + tail
    for name, added in _PROFILE_FIELDS.items():
        opening = f"<message name='{name}'"
        start = text.find(opening)
        if start < 0:
            raise ValueError(f"dictionary has no {name}")
        end = text.find(">", start) + 1
        text = text[:end] + f"\n   <field name='{added}' required='N' />" + text[end:]
    return text


def profile_dictionary_path(base: Path | None = None) -> Path:
    """Path of the profile's dictionary (written once per base content into the temp directory)."""
    source = Path(base) if base is not None else fix44_spec_path()
    content = source.read_text(encoding="latin-1")
    # The name covers what is added too: a file written by an older profile must not be reused.
    digest = hashlib.sha256((content + repr((FENCING_EPOCH_TAG, _PROFILE_FIELDS))).encode("latin-1")).hexdigest()[:16]
    cached = _DICTIONARY_CACHE.get(digest)
    if cached is not None and cached.exists():
        return cached
    path = Path(tempfile.gettempdir()) / f"hftmm-FIX44-profile-{digest}.xml"
    if not path.exists():
        tmp = path.with_suffix(f".{id(content)}.tmp")
        tmp.write_text(profile_dictionary_xml(content), encoding="latin-1")
        tmp.replace(path)
    _DICTIONARY_CACHE[digest] = path
    return path
