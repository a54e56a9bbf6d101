"""The venue's FIX gateway: the order-flow profile (docs/adapters/fix.md) on the matching engine.

An :class:`adapters.fix.application.Application` shared by every acceptor session of the venue:

- participant sessions (the node's SenderCompIDs) send NewOrderSingle (D), OrderCancelRequest (F),
  OrderCancelReplaceRequest (G), OrderMassCancelRequest (q), OrderStatusRequest (H),
  OrderMassStatusRequest (AF) and TradeCaptureReportRequest (AD); the gateway turns D/F/G/q into
  engine requests (participant = the SenderCompID, epoch = FencingEpoch 20001, time = the replay
  clock's catalog time) and the engine's reports into ExecutionReport (8), OrderCancelReject (9)
  and OrderMassCancelReport (r); AD is answered with an ack (AQ) and one TradeCaptureReport (AE)
  per fill of the day, so a node that lost fills (a failover successor) recovers them exactly. Any
  other application message gets a BusinessMessageReject (j, 380=3).
- the drop-copy session receives a copy of every ExecutionReport (not the 150=I status answers),
  with OnBehalfOfCompID (115) naming the participant; it may not send orders (j).
- every report is appended to the venue's record (:mod:`hftmm.venue.record`) before it is sent.
- a report for a session that is not logged on (a fill from the replayed market while the node is
  disconnected) is queued and sent, in order, right after that session's next Logon; the queue is
  part of :meth:`VenueGateway.state`, so a venue restart does not lose it either.

Prices on the wire are decimal strings (``50.01``); the engine's are integer nanodollars.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

import msgspec

from adapters.fix.application import Application
from adapters.fix.codec import FixMessage
from adapters.fix.errors import RejectLogon, SessionNotLoggedOn, UnsupportedMessageType
from adapters.fix.profile import (
    FENCING_EPOCH_TAG,
    SUBSCRIPTION_SNAPSHOT,
    TRADE_REQUEST_ACCEPTED,
    TRADE_REQUEST_ALL_TRADES,
    TRADE_REQUEST_NOT_SUPPORTED,
    TRADE_REQUEST_REJECTED,
    TRADE_REQUEST_SUCCESSFUL,
)
from adapters.fix.session import Session
from adapters.fix.times import format_utc_timestamp
from hftmm.venue.matching_engine import MatchingEngine
from hftmm.venue.orders import (
    CancelOrder,
    CancelRejectResponseTo,
    Event,
    ExecType,
    ExecutionReport,
    MassCancel,
    MassCancelReport,
    NewOrder,
    OrdType,
    ReplaceOrder,
    Side,
    TimeInForce,
    price_from_str,
    price_to_str,
)
from hftmm.venue.record import VenueRecord

log = logging.getLogger(__name__)

NO_ORDER = "NONE"

_EXEC_TYPE = {
    ExecType.NEW: "0", ExecType.PARTIAL_FILL: "F", ExecType.FILL: "F", ExecType.CANCELED: "4",
    ExecType.REPLACED: "5", ExecType.REJECTED: "8", ExecType.EXPIRED: "C",
}
_SIDES = {"1": Side.BUY, "2": Side.SELL, "5": Side.SELL}
_ORD_TYPES = {"1": OrdType.MARKET, "2": OrdType.LIMIT}
_TIFS = {"0": TimeInForce.DAY, "1": TimeInForce.GTC, "3": TimeInForce.IOC, "4": TimeInForce.FOK}


# -- state ----------------------------------------------------------------------------------------


class OrderState(msgspec.Struct, kw_only=True):
    """What the gateway knows of one order of the day (for H, AF and cancel-reject answers)."""

    order_id: int
    fix_order_id: str
    participant: str
    cl_ord_id: str
    symbol: str
    side: str
    ord_type: str
    tif: str
    price: int
    qty: int
    cum_qty: int = 0
    leaves_qty: int = 0
    avg_px: int = 0
    ord_status: str = "0"
    cl_ord_ids: list[str] = msgspec.field(default_factory=list)


class PendingMessage(msgspec.Struct, frozen=True):
    """A message for a session that was not logged on when it was produced."""

    msg_type: str
    body: list[tuple[int, str]]
    header: list[tuple[int, str]]


class TradeState(msgspec.Struct, frozen=True, kw_only=True):
    """One fill of the day as its ExecutionReport gave it (for AD, TradeCaptureReportRequest)."""

    participant: str
    exec_id: str
    order_id: str
    cl_ord_id: str
    symbol: str
    exchange: str
    side: str
    last_qty: str
    last_px: str
    liquidity: str
    transact_time: str


class GatewayState(msgspec.Struct, kw_only=True):
    """The gateway's persistent part (saved with the engine snapshot)."""

    orders: list[OrderState]
    pending: dict[str, list[PendingMessage]]
    next_status_id: int
    next_report_id: int
    generation: int = 0
    fills: list[TradeState] = msgspec.field(default_factory=list)


class _Reject(Exception):
    """A D/F/G/q the gateway cannot turn into an engine request; ``text`` names the field."""

    def __init__(self, text: str, reason: str = "99") -> None:
        super().__init__(text)
        self.text = text
        self.reason = reason


def _status_after(report: ExecutionReport) -> str:
    et = report.exec_type
    if et == ExecType.NEW:
        return "0"
    if et == ExecType.PARTIAL_FILL:
        return "1"
    if et == ExecType.FILL:
        return "2"
    if et == ExecType.CANCELED:
        return "4"
    if et == ExecType.REPLACED:
        return "1" if report.cum_qty else "0"
    if et == ExecType.EXPIRED:
        return "C"
    return "8"


def _reject_reason(text: str) -> str:
    """OrdRejReason (103) for an engine reason."""
    if text.startswith("unknown symbol"):
        return "1"
    if text.startswith("duplicate client order id"):
        return "6"
    if text.startswith("quantity"):
        return "13"
    return "99"


# -- gateway --------------------------------------------------------------------------------------


class VenueGateway(Application):
    """Maps the FIX profile to the matching engine for every session of the venue.

    Parameters
    ----------
    engine : MatchingEngine
    exchanges : dict of str to str
        Symbol -> MIC (207) of every instrument traded.
    record : VenueRecord
    clock_ns : callable
        The venue's catalog time now (UTC ns): request times and TransactTime (60).
    date : date
        The venue day (prefix of ExecIDs, so they are unique per venue day).
    drop_copy_comp_id : str, optional
        SenderCompID of the drop-copy initiator.
    """

    def __init__(self, engine: MatchingEngine, exchanges: dict[str, str], record: VenueRecord,
                 clock_ns: Callable[[], int], date: dt.date, drop_copy_comp_id: str | None = None) -> None:
        self.engine = engine
        self.exchanges = exchanges
        self.record = record
        self.clock_ns = clock_ns
        self.day = date.strftime("%Y%m%d")
        self.drop_copy_comp_id = drop_copy_comp_id
        self.sessions: dict[str, Session] = {}
        self.orders: dict[int, OrderState] = {}
        self.fills: list[TradeState] = []
        self._by_cl_ord_id: dict[tuple[str, str], int] = {}
        self.pending: dict[str, list[PendingMessage]] = {}
        self._next_status_id = 1
        self._next_report_id = 1
        self.generation = 0
        self._by_fix_order_id: dict[str, int] = {}
        self.counters: Counter[str] = Counter()
        self._request: tuple[str, str | None] | None = None
        self._handlers: dict[str, Callable[[FixMessage, str], None]] = {
            "D": self._on_new, "F": self._on_cancel, "G": self._on_replace, "q": self._on_mass_cancel,
            "H": self._on_status, "AF": self._on_mass_status, "AD": self._on_trade_capture_request,
        }

    # -- Application hooks --------------------------------------------------------------------------

    def on_create(self, session: Session) -> None:
        self.sessions[session.config.target_comp_id] = session

    def on_logon(self, session: Session) -> None:
        name = session.config.target_comp_id
        queued = self.pending.pop(name, [])
        for i, message in enumerate(queued):
            try:
                session.send(message.msg_type, message.body, header=message.header)
            except SessionNotLoggedOn:
                self.pending[name] = queued[i:] + self.pending.get(name, [])
                return
        if queued:
            log.info("%s: sent %d report(s) queued while it was logged out", name, len(queued))

    def from_admin(self, message: FixMessage, session: Session) -> None:
        # A Logon carrying FencingEpoch is a leader announcing its term: from then on the former
        # leader's orders (even those resent from the shared FIX store) are stale; a Logon from an
        # older term is refused outright.
        if message.msg_type != "A" or message.get(FENCING_EPOCH_TAG) is None:
            return
        participant = session.config.target_comp_id
        try:
            epoch = self._epoch(message)
        except _Reject as exc:
            raise RejectLogon(str(exc)) from None
        refused = self.engine.announce_epoch(participant, epoch)
        if refused:
            self.counters["stale_logons"] += 1
            raise RejectLogon(f"{refused} {epoch} < {self.engine.highest_epoch(participant)}")
        log.info("%s logged on with fencing epoch %d", participant, epoch)

    def from_app(self, message: FixMessage, session: Session) -> None:
        participant = session.config.target_comp_id
        handler = self._handlers.get(message.msg_type)
        if handler is None or participant == self.drop_copy_comp_id:
            self.counters["unsupported"] += 1
            raise UnsupportedMessageType(message.msg_type)
        self.counters[f"in_{message.msg_type}"] += 1
        # Reports answering this request carry its epoch in the record (who acted, in which term).
        self._request = (participant, message.get(FENCING_EPOCH_TAG))
        try:
            handler(message, participant)
        finally:
            self._request = None

    # -- market side ------------------------------------------------------------------------------

    def publish(self, events: list[Event]) -> None:
        """Send (and record) engine reports not caused by a FIX request (replayed market fills, expiry)."""
        for event in events:
            self._publish_event(event, None)

    # -- D / F / G / q ------------------------------------------------------------------------------

    def _epoch(self, message: FixMessage) -> int:
        text = message.get(FENCING_EPOCH_TAG)
        if text is None:
            return 0
        try:
            return int(text)
        except ValueError:
            raise _Reject(f"tag 20001 FencingEpoch {text!r} is not an integer") from None

    def _stale_text(self, participant: str, epoch: int) -> str | None:
        highest = self.engine.highest_epoch(participant)
        if highest is not None and epoch < highest:
            return f"stale epoch {epoch} < {highest}"
        return None

    def _symbol(self, message: FixMessage) -> str:
        symbol = message.get(55) or ""
        exchange = message.get(207)
        if symbol not in self.exchanges:
            raise _Reject(f"unknown symbol {symbol!r} (tag 55)", "1")
        if exchange is not None and exchange != self.exchanges[symbol]:
            raise _Reject(f"tag 207 SecurityExchange {exchange!r}: {symbol} trades on {self.exchanges[symbol]}", "1")
        return symbol

    @staticmethod
    def _qty(message: FixMessage) -> int:
        text = message.get(38)
        if text is None:
            raise _Reject("tag 38 OrderQty is required", "13")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _Reject(f"tag 38 OrderQty {text!r} is not a number", "13") from None
        if value != value.to_integral_value() or value <= 0:
            raise _Reject(f"tag 38 OrderQty {text} must be a positive whole number of shares", "13")
        return int(value)

    @staticmethod
    def _price(message: FixMessage, required: bool) -> int:
        text = message.get(44)
        if text is None:
            if required:
                raise _Reject("tag 44 Price is required for a limit order")
            return 0
        try:
            return price_from_str(text)
        except ValueError as exc:
            raise _Reject(f"tag 44 Price: {exc}") from None

    def _on_new(self, message: FixMessage, participant: str) -> None:
        cl_ord_id = message.get(11) or ""
        side_text = message.get(54) or ""
        try:
            epoch = self._epoch(message)
            symbol = self._symbol(message)
            side = _SIDES.get(side_text)
            if side is None:
                raise _Reject(f"tag 54 Side {side_text!r} is not supported (1, 2, 5)")
            ord_type = _ORD_TYPES.get(message.get(40) or "")
            if ord_type is None:
                raise _Reject(f"tag 40 OrdType {message.get(40)!r} is not supported (1 market, 2 limit)")
            tif = _TIFS.get(message.get(59) or "0")
            if tif is None:
                raise _Reject(f"tag 59 TimeInForce {message.get(59)!r} is not supported (0, 1, 3, 4)")
            exec_inst = message.get(18) or ""
            if exec_inst and set(exec_inst.split()) - {"6"}:
                raise _Reject(f"tag 18 ExecInst {exec_inst!r} is not supported (6 post-only)")
            request = NewOrder(
                participant=participant, client_order_id=cl_ord_id, symbol=symbol, side=side,
                qty=self._qty(message), order_type=ord_type, price=self._price(message, ord_type == OrdType.LIMIT),
                tif=tif, post_only=exec_inst == "6", epoch=epoch, ts_ns=self.clock_ns(),
            )
        except _Reject as exc:
            self._reject_new_message(message, participant, exc.text, exc.reason)
            return
        stale = self._stale_text(participant, request.epoch)
        for event in self.engine.submit(request):
            if isinstance(event, ExecutionReport) and event.client_order_id == cl_ord_id and event.order_id:
                self._remember_side(event, side_text)
            text = stale if stale and isinstance(event, ExecutionReport) and event.exec_type == ExecType.REJECTED else None
            self._publish_event(event, text, side_text if event.order_id == 0 else None)

    def _remember_side(self, report: ExecutionReport, side_text: str) -> None:
        if report.order_id not in self.orders:
            fix_order_id = self._fix_id(report.order_id)
            self._by_fix_order_id[fix_order_id] = report.order_id
            self.orders[report.order_id] = OrderState(
                order_id=report.order_id, fix_order_id=fix_order_id, participant=report.participant, cl_ord_id=report.client_order_id,
                symbol=report.symbol, side=side_text, ord_type=str(int(report.order_type)), tif=str(int(report.tif)),
                price=report.price, qty=report.order_qty, leaves_qty=report.leaves_qty,
            )

    def _reject_new_message(self, message: FixMessage, participant: str, text: str, reason: str) -> None:
        """A D the engine never saw: ExecutionReport 150=8 built from the message itself."""
        self.counters["rejected_by_gateway"] += 1
        body = [(6, "0"), (11, message.get(11) or NO_ORDER), (14, "0"), (17, self._status_exec_id()),
                (37, NO_ORDER), (39, "8")]
        for tag in (38, 40, 44):
            value = message.get(tag)
            if value is not None:
                body.append((tag, value))
        body += [(54, message.get(54) or "1"), (55, message.get(55) or NO_ORDER), (58, text),
                 (59, message.get(59) or "0"), (60, self._time(self.clock_ns())), (103, reason), (150, "8"),
                 (151, "0")]
        if message.get(207):
            body.append((207, message.get(207) or ""))
        self._emit(participant, "8", body, self.clock_ns(), drop_copy=True)

    def _cancel_fields(self, message: FixMessage) -> tuple[str, str, str, int]:
        cl_ord_id = message.get(11) or ""
        orig = message.get(41) or ""
        epoch = self._epoch(message)
        symbol = self._symbol(message)
        return cl_ord_id, orig, symbol, epoch

    def _on_cancel(self, message: FixMessage, participant: str) -> None:
        try:
            cl_ord_id, orig, symbol, epoch = self._cancel_fields(message)
        except _Reject as exc:
            self._cancel_reject_message(message, participant, "1", exc.text)
            return
        stale = self._stale_text(participant, epoch)
        request = CancelOrder(participant=participant, client_order_id=cl_ord_id, orig_client_order_id=orig,
                              symbol=symbol, epoch=epoch, ts_ns=self.clock_ns())
        for event in self.engine.submit(request):
            self._publish_event(event, stale)

    def _on_replace(self, message: FixMessage, participant: str) -> None:
        try:
            cl_ord_id, orig, symbol, epoch = self._cancel_fields(message)
            if (message.get(40) or "2") != "2":
                raise _Reject(f"tag 40 OrdType {message.get(40)!r}: only limit orders can be replaced")
            request = ReplaceOrder(participant=participant, client_order_id=cl_ord_id, orig_client_order_id=orig,
                                   symbol=symbol, qty=self._qty(message), price=self._price(message, True),
                                   epoch=epoch, ts_ns=self.clock_ns())
        except _Reject as exc:
            self._cancel_reject_message(message, participant, "2", exc.text)
            return
        stale = self._stale_text(participant, epoch)
        for event in self.engine.submit(request):
            self._publish_event(event, stale)

    def _cancel_reject_message(self, message: FixMessage, participant: str, response_to: str, text: str) -> None:
        self.counters["rejected_by_gateway"] += 1
        orig = message.get(41) or ""
        state = self._find(participant, orig)
        body = [(11, message.get(11) or NO_ORDER), (37, state.fix_order_id if state else NO_ORDER),
                (39, state.ord_status if state else "8"), (41, orig or NO_ORDER), (58, text), (102, "99"),
                (434, response_to)]
        self._emit(participant, "9", body, self.clock_ns(), drop_copy=False)

    def _on_mass_cancel(self, message: FixMessage, participant: str) -> None:
        request_type = message.get(530) or ""
        try:
            epoch = self._epoch(message)
            if request_type == "1":
                symbol: str | None = self._symbol(message)
            elif request_type == "7":
                symbol = None
            else:
                raise _Reject(f"tag 530 MassCancelRequestType {request_type!r} is not supported (1, 7)")
        except _Reject as exc:
            self._mass_cancel_report(participant, message.get(11) or NO_ORDER, request_type or "7", None, 0, exc.text)
            return
        stale = self._stale_text(participant, epoch)
        request = MassCancel(participant=participant, request_id=message.get(11) or "", symbol=symbol, epoch=epoch,
                             ts_ns=self.clock_ns())
        for event in self.engine.submit(request):
            if isinstance(event, MassCancelReport):
                self._mass_cancel_report(participant, event.request_id, request_type, event.symbol, event.canceled,
                                         (stale or event.reason) if event.rejected else None)
            else:
                self._publish_event(event, None)

    def _mass_cancel_report(self, participant: str, cl_ord_id: str, request_type: str, symbol: str | None,
                            canceled: int, reject_text: str | None) -> None:
        report_id = f"{self.day}-MC{self._fix_id(self._next_report_id)}"
        self._next_report_id += 1
        body = [(11, cl_ord_id), (37, report_id)]
        if reject_text is not None:
            body.append((58, reject_text))
        if symbol is not None:
            body += [(55, symbol), (207, self.exchanges.get(symbol, ""))]
        body += [(530, request_type), (531, "0" if reject_text is not None else request_type), (533, str(canceled))]
        self._emit(participant, "r", body, self.clock_ns(), drop_copy=False)

    # -- H / AF --------------------------------------------------------------------------------------

    def _find(self, participant: str, cl_ord_id: str, order_id: str | None = None) -> OrderState | None:
        if order_id and order_id in self._by_fix_order_id:
            state = self.orders.get(self._by_fix_order_id[order_id])
            if state is not None and state.participant == participant:
                return state
        key = self._by_cl_ord_id.get((participant, cl_ord_id))
        return self.orders.get(key) if key is not None else None

    def _on_status(self, message: FixMessage, participant: str) -> None:
        state = self._find(participant, message.get(11) or "", message.get(37))
        if state is None:
            body = [(6, "0"), (11, message.get(11) or NO_ORDER), (14, "0"), (17, self._status_exec_id()),
                    (37, NO_ORDER), (39, "8"), (54, message.get(54) or "1"), (55, message.get(55) or NO_ORDER),
                    (58, "unknown order"), (150, "I"), (151, "0")]
            self._send(participant, "8", body)
            return
        self._send(participant, "8", self._status_body(state))

    def _on_mass_status(self, message: FixMessage, participant: str) -> None:
        request_id = message.get(584) or ""
        request_type = message.get(585) or "7"
        states = [s for s in sorted(self.orders.values(), key=lambda s: s.order_id) if s.participant == participant]
        if request_type != "7":  # every other type asks about live orders only
            states = [s for s in states if s.leaves_qty > 0]
        if not states:
            body = [(6, "0"), (11, NO_ORDER), (14, "0"), (17, self._status_exec_id()), (37, NO_ORDER), (39, "0"),
                    (54, "1"), (55, NO_ORDER), (150, "I"), (151, "0"), (584, request_id), (911, "0"), (912, "Y")]
            self._send(participant, "8", body)
            return
        for i, state in enumerate(states):
            extra = [(584, request_id), (911, str(len(states)))]
            if i == len(states) - 1:
                extra.append((912, "Y"))
            self._send(participant, "8", self._status_body(state) + extra)

    def _on_trade_capture_request(self, message: FixMessage, participant: str) -> None:
        """AD: the participant's fills of the day as TradeCaptureReports (AE), after an ack (AQ).

        Only a snapshot of all trades is served (569=0, 263 absent or 0); any other request gets an
        AQ rejecting it (749=8 TradeRequestType not supported), naming the field.
        """
        request_id = message.get(568) or ""
        request_type = message.get(569) or ""
        subscription = message.get(263)
        ack = [(568, request_id), (569, request_type)] + ([(263, subscription)] if subscription else [])
        problem = None
        if request_type != TRADE_REQUEST_ALL_TRADES:
            problem = f"tag 569 TradeRequestType {request_type!r}: only 0 (all trades) is served"
        elif subscription not in (None, SUBSCRIPTION_SNAPSHOT):
            problem = f"tag 263 SubscriptionRequestType {subscription!r}: only 0 (snapshot) is served"
        if problem is not None:
            self.counters["trade_capture_rejects"] += 1
            self._send(participant, "AQ", ack + [(748, "0"), (749, TRADE_REQUEST_NOT_SUPPORTED),
                                                 (750, TRADE_REQUEST_REJECTED), (55, "[N/A]"), (58, problem)])
            return
        fills = [f for f in self.fills if f.participant == participant]
        self._send(participant, "AQ", ack + [(748, str(len(fills))), (749, TRADE_REQUEST_SUCCESSFUL),
                                             (750, TRADE_REQUEST_ACCEPTED), (55, "[N/A]")])
        for i, fill in enumerate(fills):
            self._send(participant, "AE", [
                (571, f"T{fill.exec_id}"), (568, request_id), (150, "F"), (748, str(len(fills))),
                (912, "Y" if i == len(fills) - 1 else "N"), (17, fill.exec_id), (570, "Y"), (55, fill.symbol),
                (207, fill.exchange), (32, fill.last_qty), (31, fill.last_px), (75, self.day),
                (60, fill.transact_time), (851, fill.liquidity),
                (552, "1"), (54, fill.side), (37, fill.order_id), (11, fill.cl_ord_id),
            ])

    def _status_body(self, state: OrderState) -> list[tuple[int, str]]:
        body = [(6, price_to_str(state.avg_px)), (11, state.cl_ord_id), (14, str(state.cum_qty)),
                (17, self._status_exec_id()), (37, state.fix_order_id), (38, str(state.qty)), (39, state.ord_status),
                (40, state.ord_type)]
        if state.ord_type == "2":
            body.append((44, price_to_str(state.price)))
        body += [(54, state.side), (55, state.symbol), (59, state.tif), (60, self._time(self.clock_ns())),
                 (150, "I"), (151, str(state.leaves_qty)), (207, self.exchanges.get(state.symbol, ""))]
        return body

    def _status_exec_id(self) -> str:
        exec_id = f"{self.day}-S{self._fix_id(self._next_status_id)}"
        self._next_status_id += 1
        return exec_id

    # -- engine reports -> FIX ---------------------------------------------------------------------

    def _publish_event(self, event: Event, stale_text: str | None, side_text: str | None = None) -> None:
        if isinstance(event, MassCancelReport):
            # Only a mass cancel request produces these; _on_mass_cancel formats them.
            self._mass_cancel_report(event.participant, event.request_id, "7" if event.symbol is None else "1",
                                     event.symbol, event.canceled, event.reason if event.rejected else None)
            return
        if event.exec_type == ExecType.CANCEL_REJECTED:
            self._publish_cancel_reject(event, stale_text)
            return
        state = self.orders.get(event.order_id)
        if state is not None:
            self._update_state(state, event)
        body = self._execution_report_body(event, state, stale_text, side_text)
        if event.last_qty:
            fields = dict(body)
            self.fills.append(TradeState(
                participant=event.participant, exec_id=fields[17], order_id=fields[37], cl_ord_id=fields[11],
                symbol=fields[55], exchange=fields[207], side=fields[54], last_qty=fields[32], last_px=fields[31],
                liquidity=fields[851], transact_time=fields[60]))
        self._emit(event.participant, "8", body, event.ts_ns, drop_copy=True)

    def _update_state(self, state: OrderState, event: ExecutionReport) -> None:
        if event.client_order_id != state.cl_ord_id:
            state.cl_ord_ids.append(state.cl_ord_id)
            state.cl_ord_id = event.client_order_id
        self._by_cl_ord_id[(state.participant, event.client_order_id)] = state.order_id
        state.qty, state.price = event.order_qty, event.price
        state.cum_qty, state.leaves_qty, state.avg_px = event.cum_qty, event.leaves_qty, event.avg_px
        state.ord_status = _status_after(event)

    def _execution_report_body(self, event: ExecutionReport, state: OrderState | None, stale_text: str | None,
                               side_text: str | None) -> list[tuple[int, str]]:
        rejected = event.exec_type == ExecType.REJECTED
        body = [(6, price_to_str(event.avg_px)), (11, event.client_order_id or NO_ORDER), (14, str(event.cum_qty)),
                (17, f"{self.day}-{self._fix_id(event.exec_id)}")]
        if event.last_qty:
            body += [(31, price_to_str(event.last_px)), (32, str(event.last_qty))]
        order_id = state.fix_order_id if state is not None else self._fix_id(event.order_id) if event.order_id else NO_ORDER
        body += [(37, order_id), (38, str(event.order_qty)),
                 (39, "8" if rejected else _status_after(event)), (40, str(int(event.order_type)))]
        if event.orig_client_order_id:
            body.append((41, event.orig_client_order_id))
        if event.order_type == OrdType.LIMIT and event.price > 0:
            body.append((44, price_to_str(event.price)))
        side = side_text or (state.side if state is not None else str(int(event.side)))
        body += [(54, side), (55, event.symbol)]
        text = stale_text if rejected and stale_text else event.reason
        if text:
            body.append((58, text))
        body += [(59, str(int(event.tif))), (60, self._time(event.ts_ns))]
        if rejected:
            body.append((103, _reject_reason(event.reason)))
        body += [(150, _EXEC_TYPE[event.exec_type]), (151, str(event.leaves_qty)),
                 (207, self.exchanges.get(event.symbol, ""))]
        if event.last_qty:
            body.append((851, str(int(event.liquidity))))
        return body

    def _publish_cancel_reject(self, event: ExecutionReport, stale_text: str | None) -> None:
        if event.order_id:
            state = self.orders.get(event.order_id)
        else:
            state = self._find(event.participant, event.orig_client_order_id)
        if stale_text or event.reason == "stale epoch":
            reason, text = "99", stale_text or event.reason
        elif event.order_id == 0 and state is not None and state.leaves_qty == 0:
            reason, text = "0", f"too late: order {event.orig_client_order_id!r} is closed ({state.ord_status})"
        elif event.order_id == 0:
            reason, text = "1", event.reason
        else:
            reason, text = "99", event.reason
        status = state.ord_status if state is not None else "8"
        response_to = "2" if event.response_to == CancelRejectResponseTo.REPLACE else "1"
        body = [(11, event.client_order_id or NO_ORDER), (37, state.fix_order_id if state is not None else NO_ORDER),
                (39, status), (41, event.orig_client_order_id or NO_ORDER), (58, text), (102, reason), (434, response_to)]
        self._emit(event.participant, "9", body, event.ts_ns, drop_copy=False)

    # -- output ----------------------------------------------------------------------------------

    def _fix_id(self, number: int) -> str:
        """An engine counter (order, exec, status, report id) as its FIX id text.

        After an unclean restart (:attr:`generation` > 0) the engine's counters continue from the
        last snapshot and would repeat numbers already sent; the generation prefix keeps every
        OrderID and ExecID unique for the venue day.
        """
        return str(number) if self.generation == 0 else f"{self.generation}.{number}"

    @staticmethod
    def _time(ts_ns: int) -> str:
        return format_utc_timestamp(dt.datetime.fromtimestamp(ts_ns // 1_000_000_000, dt.UTC).replace(
            microsecond=(ts_ns % 1_000_000_000) // 1000), 6)

    def _emit(self, participant: str, msg_type: str, body: list[tuple[int, str]], ts_ns: int, *,
              drop_copy: bool) -> None:
        """Record, then send to the participant and (ExecutionReports) to the drop copy."""
        epoch = None
        if self._request is not None and self._request[0] == participant and self._request[1] is not None:
            with contextlib.suppress(ValueError):
                epoch = int(self._request[1])
        self.record.append(participant=participant, msg_type=msg_type, ts_ns=ts_ns, fields=body, epoch=epoch)
        self._send(participant, msg_type, body)
        if drop_copy and self.drop_copy_comp_id is not None:
            self._send(self.drop_copy_comp_id, msg_type, body, header=[(115, participant)])

    def _send(self, name: str, msg_type: str, body: list[tuple[int, str]],
              header: list[tuple[int, str]] | None = None) -> None:
        session = self.sessions.get(name)
        if session is None:
            self.counters["no_session"] += 1
            log.warning("no session for %s; %s dropped", name, msg_type)
            return
        queued = self.pending.get(name)
        if not queued:
            try:
                session.send(msg_type, body, header=header or ())
                self.counters[f"out_{msg_type}"] += 1
                return
            except SessionNotLoggedOn:
                pass
        self.counters["queued"] += 1
        self.pending.setdefault(name, []).append(PendingMessage(msg_type, body, header or []))

    # -- persistence ------------------------------------------------------------------------------

    def state(self) -> GatewayState:
        """The persistent part of the gateway."""
        return GatewayState(orders=sorted(self.orders.values(), key=lambda s: s.order_id), pending=self.pending,
                            next_status_id=self._next_status_id, next_report_id=self._next_report_id,
                            generation=self.generation, fills=list(self.fills))

    def restore(self, state: GatewayState) -> None:
        """Continue from a saved :meth:`state`."""
        self.orders = {s.order_id: s for s in state.orders}
        self._by_fix_order_id = {s.fix_order_id: s.order_id for s in state.orders}
        self.generation = state.generation
        self._by_cl_ord_id = {}
        for s in state.orders:
            for cl_ord_id in [*s.cl_ord_ids, s.cl_ord_id]:
                self._by_cl_ord_id[(s.participant, cl_ord_id)] = s.order_id
        self.pending = dict(state.pending)
        self.fills = list(state.fills)
        self._next_status_id = state.next_status_id
        self._next_report_id = state.next_report_id
