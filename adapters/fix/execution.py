"""``FixExecutionClient``: a Nautilus live execution client speaking hftmm's FIX 4.4 profile.

Orders go out as NewOrderSingle (D), OrderCancelRequest (F), OrderCancelReplaceRequest (G) and
OrderMassCancelRequest (q); ExecutionReports (8), OrderCancelRejects (9) and
OrderMassCancelReports (r) come back as Nautilus order events. Start-up reconciliation asks the
venue with OrderMassStatusRequest (AF) and OrderStatusRequest (H).

The FIX session (:mod:`adapters.fix.session`) runs on the node's event loop; its ``Application``
hooks call this client directly, so an ExecutionReport becomes an event within the processing
of its frame. Commands are sent synchronously from the command handlers (no task hop): a
``submit_order`` returns after the NewOrderSingle was written to the socket, which is what
tick-to-trade measures.

No order is sent "later": when the session is not logged on, or its message store (Redis, a
file) cannot record the message, a command is refused at once (an order rejected, a cancel or
modify rejected). A message is never sent unrecorded: the next sequence number would then be
lost, and a failover standby continuing the session would break it. Messages already written are recovered by the
session layer after a reconnect (ResendRequest / gap fill, from the file or Redis store), and
duplicate fills are dropped by ExecID (TradeId).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.common.enums import LogLevel
from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import (
    BatchCancelOrders,
    CancelAllOrders,
    CancelOrder,
    GenerateFillReports,
    GenerateOrderStatusReport,
    GenerateOrderStatusReports,
    GeneratePositionStatusReports,
    ModifyOrder,
    SubmitOrder,
    SubmitOrderList,
)
from nautilus_trader.execution.reports import ExecutionMassStatus, FillReport, OrderStatusReport, PositionStatusReport
from nautilus_trader.live.execution_client import LiveExecutionClient
from nautilus_trader.model.enums import (
    AccountType,
    LiquiditySide,
    OmsType,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
)
from nautilus_trader.model.identifiers import AccountId, ClientId, ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import AccountBalance, Money
from nautilus_trader.model.orders import Order

from adapters.fix.application import Application
from adapters.fix.client_config import FixExecClientConfig
from adapters.fix.codec import FixMessage
from adapters.fix.errors import BusinessReject, DoNotSend, SessionNotLoggedOn, StoreError, UnsupportedMessageType
from adapters.fix.latency import LatencySamples
from adapters.fix.parsing import (
    LIQUIDITY_FROM_FIX,
    SIDE_FROM_FIX,
    SIDE_TO_FIX,
    UnsupportedOrder,
    commission,
    fill_report,
    instrument_id_of,
    order_fields,
    order_status_report,
    transact_time,
)
from adapters.fix.profile import (
    CXL_REJ_RESPONSE_TO_REPLACE,
    EXEC_CANCELED,
    EXEC_EXPIRED,
    EXEC_NEW,
    EXEC_PENDING,
    EXEC_REJECTED,
    EXEC_REPLACED,
    EXEC_STATUS,
    EXEC_TRADE,
    FENCING_EPOCH_TAG,
    MASS_CANCEL_REJECTED,
    NO_ORDERS,
    ExecReport,
    ProfileError,
    TradeCapture,
    TradeCaptureAck,
    new_order_single,
    order_cancel_replace_request,
    order_cancel_request,
    order_mass_cancel_request,
    order_mass_status_request,
    order_status_request,
    parse_cancel_reject,
    parse_execution_report,
    parse_trade_capture_ack,
    parse_trade_capture_report,
    request_cl_ord_id,
    root_cl_ord_id,
    trade_capture_report_request,
)
from adapters.fix.session import Session
from adapters.fix.transport import FixInitiator
from hftmm.metrics.registry import NodeMetrics
from hftmm.risk.bus import VENUE_TOPIC

MD_TAG_PREFIX = "md="
"""Order tag carrying the ``ts_init`` (ns) of the market data that triggered the order."""

_MAX_IN_FLIGHT = 100_000


def _bounded_put(mapping: dict[Any, Any], key: Any, value: Any) -> None:
    """``mapping[key] = value``, forgetting the oldest entry at ``_MAX_IN_FLIGHT`` (requests the
    venue never answered, orders long done) rather than growing without bound."""
    if len(mapping) >= _MAX_IN_FLIGHT:
        del mapping[next(iter(mapping))]
    mapping[key] = value


class FixRequestTimeout(TimeoutError):
    """The venue did not answer an order status (H) or mass status (AF) request in time."""


@dataclass(slots=True)
class _PendingReports:
    """The reports answering one AF or AD request, collected until the last one."""

    future: asyncio.Future[list[ExecReport]]
    reports: list[ExecReport] = field(default_factory=list)
    total: int | None = None  # TradeCaptureReportRequestAck's TotNumTradeReports (748)


class TradeCaptureRejected(ConnectionError):
    """The venue refused a TradeCaptureReportRequest (AQ with a TradeRequestResult other than 0)."""


def market_data_ts(order: Order) -> int | None:
    """The ``md=<ns>`` tag of an order (see strategies/base.py), or None."""
    tags = order.tags
    if not tags:
        return None
    for tag in tags:
        if tag.startswith(MD_TAG_PREFIX):
            try:
                return int(tag[len(MD_TAG_PREFIX):])
            except ValueError:
                return None
    return None


class _ClientApplication(Application):
    """The session's callbacks, forwarded to the client."""

    def __init__(self, client: FixExecutionClient) -> None:
        self._client = client

    def on_logon(self, session: Session) -> None:
        self._client._on_logon()

    def on_logout(self, session: Session) -> None:
        self._client._on_logout()

    def to_admin(self, message: FixMessage, session: Session) -> None:
        # A failover leader announces its term on the Logon, fencing the former leader off at the
        # venue before anything (even a resend of that leader's orders) is processed.
        epoch = self._client.fencing_epoch
        if message.msg_type == "A" and epoch > 0:
            message.append(FENCING_EPOCH_TAG, str(epoch))

    def from_app(self, message: FixMessage, session: Session) -> None:
        self._client._on_message(message)


class FixExecutionClient(LiveExecutionClient):
    """Execution client over a FIX 4.4 initiator session (hftmm's profile).

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
    client_id : ClientId
        Also the account issuer: the venue's MIC.
    msgbus, cache, clock
        The node's.
    instrument_provider : InstrumentProvider
        Loads the instruments into the cache at connect.
    config : FixExecClientConfig

    Notes
    -----
    The session is attached after construction (:meth:`attach`), because it is built with this
    client's :meth:`application`; ``FixLiveExecClientFactory`` does both.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, client_id: ClientId, msgbus: MessageBus, cache: Cache,
                 clock: LiveClock, instrument_provider: InstrumentProvider, config: FixExecClientConfig) -> None:
        balance = Money.from_str(config.starting_balance)
        super().__init__(
            loop=loop, client_id=client_id, venue=Venue(config.venue), oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN, base_currency=balance.currency,
            instrument_provider=instrument_provider, msgbus=msgbus, cache=cache, clock=clock, config=config,
        )
        self._config = config
        self._set_account_id(AccountId(f"{client_id}-{config.account_id}"))
        self._maker_fee = Decimal(config.maker_fee_per_share)
        self._taker_fee = Decimal(config.taker_fee_per_share)
        self._account = config.account_id if config.send_account else None
        self.fencing_epoch: int = config.fencing_epoch
        self.session: Session | None = None
        self._initiator: FixInitiator | None = None
        # root ClOrdID -> the ClOrdID the venue knows the order by now (changes on a replace)
        self._current_cl_ord_id: dict[str, str] = {}
        # FIX request ClOrdID -> (ns sent, MsgType), popped by its first answer
        self._in_flight: dict[str, tuple[int, str]] = {}
        # Orders this client sent (the engine may not have processed their OrderSubmitted yet when the
        # venue answers); an INITIALIZED order not in here was sent by a predecessor node.
        self._sent_here: dict[ClientOrderId, None] = {}
        self._mass_status: dict[str, _PendingReports] = {}
        self._trade_captures: dict[str, _PendingReports] = {}
        self._mass_cancels: dict[str, InstrumentId] = {}
        self._status_requests: dict[str, asyncio.Future[ExecReport | None]] = {}
        self._fills: list[FillReport] = []
        self._fill_ids: set[str] = set()
        self._request_ids = itertools.count(1)
        self._reconciled = False
        self.tick_to_trade = LatencySamples(config.latency_capacity)
        self.round_trip = LatencySamples(config.latency_capacity)
        self.counters: dict[str, int] = {}

    # -- wiring ---------------------------------------------------------------------------------

    def application(self) -> Application:
        """The FIX ``Application`` to build this client's session with."""
        return _ClientApplication(self)

    def attach(self, session: Session) -> None:
        """Use ``session`` (an initiator whose application is :meth:`application`)."""
        self.session = session
        self._initiator = FixInitiator(session)

    def _count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def _metrics(self) -> NodeMetrics | None:
        return NodeMetrics.current()

    # -- connection -----------------------------------------------------------------------------

    async def _connect(self) -> None:
        if self.session is None or self._initiator is None:
            raise RuntimeError("FixExecutionClient has no session: build it with FixLiveExecClientFactory")
        await self._instrument_provider.initialize()
        for instrument in self._instrument_provider.list_all():
            self._cache.add_instrument(instrument)
        total = Money.from_str(self._config.starting_balance)
        self.generate_account_state(
            balances=[AccountBalance(total, Money(0, total.currency), total)], margins=[], reported=False,
            ts_event=self._clock.timestamp_ns(),
        )
        await self._initiator.start()
        try:
            await self.session.wait_logged_on(self._config.logon_timeout_s)
        except TimeoutError:
            raise ConnectionError(f"{self.session.session_id}: no Logon within {self._config.logon_timeout_s} s") from None
        # Messages the venue sent while we were away come back through the ResendRequest the
        # session sent on logon: let them in before the engine reconciles.
        deadline = self._loop.time() + self._config.logon_timeout_s
        while self.session.resend_range is not None and self._loop.time() < deadline:
            await asyncio.sleep(0.01)
        await self._await_account_registered()

    async def _disconnect(self) -> None:
        if self._initiator is not None:
            await self._initiator.stop()
        self._log.info(f"tick-to-trade {self.tick_to_trade.summary()}; FIX round trip {self.round_trip.summary()}")

    def _on_logon(self) -> None:
        self._log.info(f"FIX session {self.session.session_id if self.session else ''} logged on")
        # The risk chain's kill switch watches venue sessions (hftmm.risk.bus.VENUE_TOPIC).
        self._msgbus.publish(VENUE_TOPIC, (self._config.venue, True))
        metrics = self._metrics()
        if metrics is not None:
            metrics.venue_connected.labels(self._config.venue).set(1.0)
            metrics.reconnects.labels("fix")  # the series at zero until the first drop

    def _on_logout(self) -> None:
        self._log.warning("FIX session logged out / disconnected; reconnecting")
        self._msgbus.publish(VENUE_TOPIC, (self._config.venue, False))
        metrics = self._metrics()
        if metrics is not None:
            metrics.venue_connected.labels(self._config.venue).set(0.0)
            metrics.reconnects.labels("fix").inc()
        for pending in self._mass_status.values():
            if not pending.future.done():
                pending.future.set_exception(ConnectionError("FIX session lost during a mass status request"))
        for future in self._status_requests.values():
            if not future.done():
                future.set_exception(ConnectionError("FIX session lost during an order status request"))

    # -- sending --------------------------------------------------------------------------------

    def _send(self, msg_type: str, body: list[tuple[int, str]], cl_ord_id: str) -> int:
        """Send and note the time for the round trip; raises SessionNotLoggedOn / DoNotSend."""
        assert self.session is not None
        seq = self.session.send(msg_type, body)
        self._note_in_flight(cl_ord_id, msg_type)
        return seq

    def _note_in_flight(self, cl_ord_id: str, msg_type: str) -> None:
        _bounded_put(self._in_flight, cl_ord_id, (self._clock.timestamp_ns(), msg_type))

    def _next_request_id(self, root: str) -> str:
        # Our next MsgSeqNum is unique for the life of the store (across restarts), unlike a counter.
        assert self.session is not None
        return request_cl_ord_id(root, self.session.next_sender_seq)

    def submit_order(self, command: SubmitOrder) -> None:
        """Send the NewOrderSingle now (synchronously) and record tick-to-trade."""
        order = command.order
        now = self._clock.timestamp_ns()
        cl_ord_id = order.client_order_id.value
        try:
            fields = order_fields(order, cl_ord_id, self._account)
            if self.session is None:
                raise SessionNotLoggedOn("no FIX session")
            self.session.send("D", new_order_single(fields, transact_time(now), self.fencing_epoch))
        except (UnsupportedOrder, SessionNotLoggedOn, DoNotSend, StoreError) as exc:
            self._count("orders_refused")
            self.generate_order_submitted(order.strategy_id, order.instrument_id, order.client_order_id, now)
            self.generate_order_rejected(order.strategy_id, order.instrument_id, order.client_order_id,
                                         f"not sent: {exc}", self._clock.timestamp_ns())
            return
        written = self._clock.timestamp_ns()
        self._note_in_flight(cl_ord_id, "D")
        _bounded_put(self._sent_here, order.client_order_id, None)
        self._current_cl_ord_id[cl_ord_id] = cl_ord_id
        self.generate_order_submitted(order.strategy_id, order.instrument_id, order.client_order_id, written)
        md_ts = market_data_ts(order)
        if md_ts is not None:
            self.tick_to_trade.add(written - md_ts)
            metrics = self._metrics()
            if metrics is not None:
                metrics.tick_to_trade.labels(order.instrument_id.value).observe((written - md_ts) / 1e9)

    async def _submit_order(self, command: SubmitOrder) -> None:
        self.submit_order(command)

    def submit_order_list(self, command: SubmitOrderList) -> None:
        """Each order of the list as its own NewOrderSingle (the profile has no NewOrderList)."""
        for order in command.order_list.orders:
            self.submit_order(SubmitOrder(
                trader_id=command.trader_id, strategy_id=command.strategy_id, order=order, command_id=UUID4(),
                ts_init=command.ts_init, position_id=command.position_id, client_id=command.client_id))

    async def _submit_order_list(self, command: SubmitOrderList) -> None:
        self.submit_order_list(command)

    def modify_order(self, command: ModifyOrder) -> None:
        """Send an OrderCancelReplaceRequest with the new total quantity and price."""
        order = self._cache.order(command.client_order_id)
        if order is None:
            self._log.error(f"modify: {command.client_order_id!r} not in the cache")
            return
        venue_order_id = order.venue_order_id
        root = order.client_order_id.value
        try:
            if self.session is None:
                raise SessionNotLoggedOn("no FIX session")
            if order.is_closed:
                raise ValueError(f"order is {order.status.name}")
            request = self._next_request_id(root)
            fields = order_fields(order, request, self._account, quantity=command.quantity, price=command.price)
            self._send("G", order_cancel_replace_request(
                request, self._current_cl_ord_id.get(root, root), venue_order_id.value if venue_order_id else None,
                fields, transact_time(self._clock.timestamp_ns()), self.fencing_epoch), request)
        except (UnsupportedOrder, SessionNotLoggedOn, DoNotSend, StoreError, ValueError) as exc:
            self._count("modifies_refused")
            self.generate_order_modify_rejected(order.strategy_id, order.instrument_id, order.client_order_id,
                                                venue_order_id, f"not sent: {exc}", self._clock.timestamp_ns())

    async def _modify_order(self, command: ModifyOrder) -> None:
        self.modify_order(command)

    def cancel_order(self, command: CancelOrder) -> None:
        """Send an OrderCancelRequest."""
        order = self._cache.order(command.client_order_id)
        if order is None:
            self._log.error(f"cancel: {command.client_order_id!r} not in the cache")
            return
        self._cancel(order)

    def _cancel(self, order: Order) -> None:
        venue_order_id = order.venue_order_id
        root = order.client_order_id.value
        iid = order.instrument_id
        try:
            if self.session is None:
                raise SessionNotLoggedOn("no FIX session")
            request = self._next_request_id(root)
            self._send("F", order_cancel_request(
                request, self._current_cl_ord_id.get(root, root), venue_order_id.value if venue_order_id else None,
                iid.symbol.value, iid.venue.value, SIDE_TO_FIX[order.side], str(order.quantity),
                transact_time(self._clock.timestamp_ns()), self.fencing_epoch), request)
        except (SessionNotLoggedOn, DoNotSend, StoreError) as exc:
            self._count("cancels_refused")
            self.generate_order_cancel_rejected(order.strategy_id, iid, order.client_order_id, venue_order_id,
                                                f"not sent: {exc}", self._clock.timestamp_ns())

    async def _cancel_order(self, command: CancelOrder) -> None:
        self.cancel_order(command)

    def cancel_all_orders(self, command: CancelAllOrders) -> None:
        """One OrderMassCancelRequest for the instrument; a one-sided cancel-all is sent as
        single cancels (the profile's mass cancel has no side)."""
        iid = command.instrument_id
        if command.order_side != OrderSide.NO_ORDER_SIDE:
            for order in self._cache.orders_open(instrument_id=iid, side=command.order_side):
                self._cancel(order)
            return
        try:
            if self.session is None:
                raise SessionNotLoggedOn("no FIX session")
            request = f"MC{self.session.next_sender_seq}"
            self._mass_cancels[request] = iid
            self._send("q", order_mass_cancel_request(request, transact_time(self._clock.timestamp_ns()),
                                                      self.fencing_epoch, iid.symbol.value, iid.venue.value), request)
        except (SessionNotLoggedOn, DoNotSend, StoreError) as exc:
            self._count("cancels_refused")
            for order in self._cache.orders_open(instrument_id=iid):
                self.generate_order_cancel_rejected(order.strategy_id, iid, order.client_order_id,
                                                    order.venue_order_id, f"not sent: {exc}", self._clock.timestamp_ns())

    async def _cancel_all_orders(self, command: CancelAllOrders) -> None:
        self.cancel_all_orders(command)

    def batch_cancel_orders(self, command: BatchCancelOrders) -> None:
        """One OrderCancelRequest per order."""
        for cancel in command.cancels:
            self.cancel_order(cancel)

    async def _batch_cancel_orders(self, command: BatchCancelOrders) -> None:
        self.batch_cancel_orders(command)

    # -- receiving ------------------------------------------------------------------------------

    def _on_message(self, message: FixMessage) -> None:
        msg_type = message.msg_type
        try:
            if msg_type == "8":
                self._on_execution_report(parse_execution_report(message))
            elif msg_type == "9":
                self._on_cancel_reject(message)
            elif msg_type == "r":
                self._on_mass_cancel_report(message)
            elif msg_type == "AQ":
                self._on_trade_capture_ack(parse_trade_capture_ack(message))
            elif msg_type == "AE":
                self._on_trade_capture(parse_trade_capture_report(message))
            elif msg_type == "j":
                self._count("business_rejects")
                self._log.error(f"venue BusinessMessageReject of our {message.get(372)} (seq {message.get(45)}): "
                                f"{message.get(58)}")
                if message.get(372) == "AD":  # a venue without trade capture: do not wait for reports
                    for pending in self._trade_captures.values():
                        if not pending.future.done():
                            pending.future.set_exception(TradeCaptureRejected(
                                f"the venue does not serve TradeCaptureReportRequest: {message.get(58)}"))
            else:
                raise UnsupportedMessageType(msg_type)
        except ProfileError as exc:
            self._count("malformed_messages")
            self._log.error(f"malformed message from the venue (seq {message.get(34)}): {exc}")
            raise BusinessReject(5 if "missing" in str(exc) else 0, str(exc), exc.tag) from exc

    def _round_trip(self, cl_ord_id: str) -> None:
        sent = self._in_flight.pop(cl_ord_id, None)
        if sent is None:
            return
        elapsed = self._clock.timestamp_ns() - sent[0]
        self.round_trip.add(elapsed)
        metrics = self._metrics()
        if metrics is not None:
            metrics.fix_round_trip.labels(sent[1]).observe(elapsed / 1e9)

    def _instrument(self, report: ExecReport) -> Instrument | None:
        iid = instrument_id_of(report, self._config.venue)
        instrument = self._cache.instrument(iid)
        if instrument is None:
            self._count("unknown_instrument")
            self._log.error(f"ExecutionReport {report.exec_id} for {iid}: instrument not in the cache")
        return instrument

    def _on_execution_report(self, report: ExecReport) -> None:
        self._round_trip(report.cl_ord_id)
        if report.exec_type == EXEC_STATUS:
            self._on_status_report(report)
            return
        if report.exec_type in EXEC_PENDING:
            return
        instrument = self._instrument(report)
        if instrument is None:
            return
        if report.exec_type == EXEC_TRADE:
            self._record_fill(report, instrument)
        order = self._find_order(report)
        if order is None:
            self._on_unknown_order(report, instrument)
            return
        root = order.client_order_id.value
        if report.exec_type == EXEC_REPLACED and report.cl_ord_id:
            self._current_cl_ord_id[root] = report.cl_ord_id
        venue_order_id = VenueOrderId(report.order_id)
        ts = self._clock.timestamp_ns()
        if report.exec_type == EXEC_NEW:
            self._accept(order, venue_order_id, ts)
        elif report.exec_type == EXEC_TRADE:
            self._fill(order, report, instrument, venue_order_id, ts)
        elif report.exec_type == EXEC_REPLACED:
            if order.is_closed:
                return
            self._accept(order, venue_order_id, ts)
            self.generate_order_updated(
                order.strategy_id, order.instrument_id, order.client_order_id, venue_order_id,
                instrument.make_qty(report.order_qty if report.order_qty is not None else order.quantity),
                instrument.make_price(report.price) if report.price is not None and order.order_type == OrderType.LIMIT
                else None, None, ts, venue_order_id_modified=order.venue_order_id not in (None, venue_order_id))
        elif report.exec_type == EXEC_CANCELED:
            if not order.is_closed:
                self._accept(order, venue_order_id, ts)
                self.generate_order_canceled(order.strategy_id, order.instrument_id, order.client_order_id,
                                             venue_order_id, ts)
        elif report.exec_type == EXEC_EXPIRED:
            if not order.is_closed:
                self._accept(order, venue_order_id, ts)
                self.generate_order_expired(order.strategy_id, order.instrument_id, order.client_order_id,
                                            venue_order_id, ts)
        elif report.exec_type == EXEC_REJECTED:
            if order.status in (OrderStatus.SUBMITTED, OrderStatus.INITIALIZED):
                text = report.text or f"OrdRejReason {report.reject_reason}"
                self.generate_order_rejected(order.strategy_id, order.instrument_id, order.client_order_id, text, ts,
                                             due_post_only="post" in text.lower())
            else:
                self._log.warning(f"reject of {order.client_order_id} in state {order.status.name}: {report.text}")
        else:
            self._count("unhandled_exec_types")
            self._log.warning(f"ExecutionReport {report.exec_id}: ExecType {report.exec_type} not handled")

    def _find_order(self, report: ExecReport) -> Order | None:
        """The Nautilus order of a report: by the root of ClOrdID (11), of OrigClOrdID (41) (a
        venue may put a mass cancel's id in 11), then by the venue order id (37)."""
        for cl_ord_id in (report.cl_ord_id, report.orig_cl_ord_id):
            if cl_ord_id:
                order = self._cache.order(ClientOrderId(root_cl_ord_id(cl_ord_id)))
                if order is not None:
                    return order
        client_order_id = self._cache.client_order_id(VenueOrderId(report.order_id))
        return self._cache.order(client_order_id) if client_order_id is not None else None

    def _accept(self, order: Order, venue_order_id: VenueOrderId, ts: int) -> None:
        """OrderAccepted if the venue's first answer is not a 150=0 (an immediate fill, a replace).

        An order still INITIALIZED in the cache went out all the same: a predecessor node (failover)
        sent it and died or stalled before its cache recorded the submission. It is marked submitted
        first; otherwise Nautilus refuses the fill on the order but still books it in the position.
        """
        status = order.status
        if status == OrderStatus.INITIALIZED and order.client_order_id not in self._sent_here:
            self._count("adopted_unsubmitted")
            self.generate_order_submitted(order.strategy_id, order.instrument_id, order.client_order_id, ts)
        if status in (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED):
            self.generate_order_accepted(order.strategy_id, order.instrument_id, order.client_order_id,
                                         venue_order_id, ts)

    def _fill(self, order: Order, report: ExecReport, instrument: Instrument, venue_order_id: VenueOrderId,
              ts: int) -> None:
        trade_id = TradeId(report.exec_id)
        if trade_id in order.trade_ids:
            self._count("duplicate_fills")
            self._log.warning(f"duplicate fill {trade_id} of {order.client_order_id} ignored")
            return
        assert report.last_qty is not None and report.last_px is not None
        if order.status == OrderStatus.FILLED or float(order.filled_qty) + float(report.last_qty) > float(order.quantity):
            # Reconciliation already inferred this fill (under another trade id) from the venue's
            # CumQty: booking it again would count it twice in the position.
            self._count("duplicate_fills")
            self._log.warning(f"fill {trade_id} of {order.client_order_id} would overfill it (filled "
                              f"{order.filled_qty} of {order.quantity}): already booked, ignored")
            return
        self._accept(order, venue_order_id, ts)
        liquidity = LIQUIDITY_FROM_FIX.get(report.liquidity or "", LiquiditySide.NO_LIQUIDITY_SIDE)
        self.generate_order_filled(
            order.strategy_id, order.instrument_id, order.client_order_id, venue_order_id, None, trade_id,
            order.side, order.order_type, instrument.make_qty(report.last_qty), instrument.make_price(report.last_px),
            instrument.quote_currency,
            commission(liquidity, report.last_qty, self._maker_fee, self._taker_fee, instrument), liquidity, ts,
        )
        metrics = self._metrics()
        if metrics is not None:
            metrics.fills.labels(order.instrument_id.value, order.side.name, liquidity.name).inc()

    def _record_fill(self, report: ExecReport, instrument: Instrument) -> None:
        """Every fill seen or recovered from the venue (AE), once, for ``generate_fill_reports``."""
        liquidity = LIQUIDITY_FROM_FIX.get(report.liquidity or "", LiquiditySide.NO_LIQUIDITY_SIDE)
        assert report.last_qty is not None
        fee = commission(liquidity, report.last_qty, self._maker_fee, self._taker_fee, instrument)
        if report.exec_id in self._fill_ids:
            return
        self._fill_ids.add(report.exec_id)
        self._fills.append(fill_report(report, self.account_id, instrument, fee, self._clock.timestamp_ns()))

    def _on_unknown_order(self, report: ExecReport, instrument: Instrument) -> None:
        """A report on an order the node does not know (placed by an earlier run, or elsewhere).

        Before start-up reconciliation it is only recorded (the mass status tells the engine);
        afterwards an OrderStatusReport lets the engine adopt it as an external order.
        """
        self._count("unknown_order_reports")
        self._log.warning(f"ExecutionReport {report.exec_id} (150={report.exec_type}) for unknown order "
                          f"{report.cl_ord_id or report.order_id}")
        if not self._reconciled or report.exec_type == EXEC_REJECTED:
            return
        try:
            status = order_status_report(report, self.account_id, instrument, self._clock.timestamp_ns())
        except ValueError as exc:
            self._log.error(str(exc))
            return
        self._send_order_status_report(status)

    def _on_cancel_reject(self, message: FixMessage) -> None:
        reject = parse_cancel_reject(message)
        self._round_trip(reject.cl_ord_id)
        order = self._cache.order(ClientOrderId(root_cl_ord_id(reject.orig_cl_ord_id)))
        if order is None:
            self._count("unknown_order_reports")
            self._log.warning(f"OrderCancelReject for unknown order {reject.orig_cl_ord_id}: {reject.text}")
            return
        root = order.client_order_id.value
        if (reject.response_to != CXL_REJ_RESPONSE_TO_REPLACE and not order.is_closed
                and self._current_cl_ord_id.get(root, root) != reject.orig_cl_ord_id):
            # The cancel crossed an amend: it named the order's previous ClOrdID, which the venue
            # had already replaced. Chase it with the current one rather than leave the order working.
            self._count("cancels_chased")
            self._log.info(f"cancel of {reject.orig_cl_ord_id} crossed its replacement: cancelling "
                           f"{self._current_cl_ord_id.get(root, root)}")
            self._cancel(order)
            return
        reason = f"{reject.text or ''} (CxlRejReason {reject.reason})".strip()
        venue_order_id = VenueOrderId(reject.order_id) if reject.order_id else order.venue_order_id
        ts = self._clock.timestamp_ns()
        if reject.response_to == CXL_REJ_RESPONSE_TO_REPLACE:
            self.generate_order_modify_rejected(order.strategy_id, order.instrument_id, order.client_order_id,
                                                venue_order_id, reason, ts)
        else:
            self.generate_order_cancel_rejected(order.strategy_id, order.instrument_id, order.client_order_id,
                                                venue_order_id, reason, ts)

    def _on_mass_cancel_report(self, message: FixMessage) -> None:
        request = message.get(11) or ""
        self._round_trip(request)
        iid = self._mass_cancels.pop(request, None)
        if message.get(531) == MASS_CANCEL_REJECTED:
            self._count("mass_cancel_rejects")
            self._log.error(f"mass cancel {request} rejected by the venue: {message.get(58)}")
            # the orders the strategy marked pending cancel are still working
            for order in self._cache.orders_open(instrument_id=iid) if iid is not None else ():
                if order.status == OrderStatus.PENDING_CANCEL:
                    self.generate_order_cancel_rejected(order.strategy_id, order.instrument_id, order.client_order_id,
                                                        order.venue_order_id, f"mass cancel rejected: {message.get(58)}",
                                                        self._clock.timestamp_ns())
        else:
            self._log.info(f"mass cancel {request}: {message.get(533, '0')} orders canceled")

    # -- reconciliation -------------------------------------------------------------------------

    def _on_status_report(self, report: ExecReport) -> None:
        if report.cl_ord_id and report.order_id != NO_ORDERS:
            self._current_cl_ord_id[root_cl_ord_id(report.cl_ord_id)] = report.cl_ord_id
        if report.mass_status_req_id is not None:
            pending = self._mass_status.get(report.mass_status_req_id)
            if pending is None or pending.future.done():
                return
            if report.order_id != NO_ORDERS:
                pending.reports.append(report)
            # LastRptRequested (912=Y) ends the answer; TotNumReports (911) too, should 912 be missing
            total = report.tot_num_reports
            if report.last_report or (total is not None and len(pending.reports) >= total):
                pending.future.set_result(pending.reports)
            return
        for key in (root_cl_ord_id(report.cl_ord_id), report.order_id):
            future = self._status_requests.get(key)
            if future is not None and not future.done():
                future.set_result(None if report.order_id == NO_ORDERS else report)

    def _on_trade_capture_ack(self, ack: TradeCaptureAck) -> None:
        pending = self._trade_captures.get(ack.request_id)
        if pending is None or pending.future.done():
            return
        if not ack.accepted:
            pending.future.set_exception(TradeCaptureRejected(
                f"TradeCaptureReportRequest {ack.request_id} refused (TradeRequestResult {ack.result}, "
                f"TradeRequestStatus {ack.status}): {ack.text or ''}"))
            return
        pending.total = ack.total
        if ack.total == 0:
            pending.future.set_result([])

    def _on_trade_capture(self, capture: TradeCapture) -> None:
        pending = self._trade_captures.get(capture.request_id)
        if pending is None or pending.future.done():
            return
        pending.reports.append(capture.fill)
        total = capture.total if capture.total is not None else pending.total
        if capture.last_report or (total is not None and len(pending.reports) >= total):
            pending.future.set_result(pending.reports)

    async def _request_reports(self, msg_type: str, name: str, what: str, pending_by_id: dict[str, _PendingReports],
                               body: Callable[[str], list[tuple[int, str]]]) -> list[ExecReport]:
        """Send one AF or AD (``name``) and wait for every report answering it."""
        if self.session is None or not self.session.is_logged_on:
            raise ConnectionError(f"FIX session not logged on: cannot ask the venue for its {what}")
        request_id = f"{msg_type}{next(self._request_ids)}-{self.session.next_sender_seq}"
        pending = _PendingReports(self._loop.create_future())
        pending_by_id[request_id] = pending
        try:
            self.session.send(msg_type, body(request_id))
            return await asyncio.wait_for(pending.future, self._config.request_timeout_s)
        except TimeoutError:
            raise FixRequestTimeout(f"no complete answer to {name} {request_id} within "
                                    f"{self._config.request_timeout_s} s ({len(pending.reports)} reports)") from None
        finally:
            del pending_by_id[request_id]

    async def _request_trade_capture(self) -> list[ExecReport]:
        """The venue's fills of the day for this session (AD, answered by AQ then one AE per fill)."""
        return await self._request_reports("AD", "TradeCaptureReportRequest", "fills", self._trade_captures,
                                           trade_capture_report_request)

    async def _request_mass_status(self) -> list[ExecReport]:
        """The venue's orders of the day (AF 585=7, one 150=I report per order)."""
        return await self._request_reports("AF", "OrderMassStatusRequest", "orders", self._mass_status,
                                           order_mass_status_request)

    def _status_of(self, report: ExecReport) -> OrderStatusReport | None:
        instrument = self._instrument(report)
        if instrument is None:
            return None
        cached = self._cache.order(ClientOrderId(root_cl_ord_id(report.cl_ord_id))) if report.cl_ord_id else None
        post_only = bool(getattr(cached, "is_post_only", False)) if cached is not None else False
        try:
            return order_status_report(report, self.account_id, instrument, self._clock.timestamp_ns(), post_only)
        except ValueError as exc:
            self._count("malformed_messages")
            self._log.error(str(exc))
            return None

    async def generate_order_status_reports(self, command: GenerateOrderStatusReports) -> list[OrderStatusReport]:
        """The venue's orders of the day (AF 585=7), filtered by the command."""
        reports: list[OrderStatusReport] = []
        for report in await self._request_mass_status():
            status = self._status_of(report)
            if status is None:
                continue
            if command.instrument_id is not None and status.instrument_id != command.instrument_id:
                continue
            if command.open_only and not status.is_open:
                continue
            reports.append(status)
        self._log_report_receipt(len(reports), "OrderStatusReport", LogLevel.INFO)
        return reports

    async def generate_order_status_report(self, command: GenerateOrderStatusReport) -> OrderStatusReport | None:
        """One order's status from the venue (H), or None if the venue does not know it."""
        if command.client_order_id is None and command.venue_order_id is None:
            raise ValueError("give client_order_id or venue_order_id")
        if self.session is None or not self.session.is_logged_on:
            self._log.warning("order status request while the FIX session is not logged on")
            return None
        order = self._cache.order(command.client_order_id) if command.client_order_id is not None else None
        if order is None and command.venue_order_id is not None:
            coid = self._cache.client_order_id(command.venue_order_id)
            order = self._cache.order(coid) if coid is not None else None
        root = (command.client_order_id or (order.client_order_id if order else None))
        root_text = root.value if root is not None else ""
        order_id = command.venue_order_id.value if command.venue_order_id is not None else (
            order.venue_order_id.value if order is not None and order.venue_order_id is not None else None)
        iid = command.instrument_id or (order.instrument_id if order else None)
        if iid is None:
            raise ValueError("an order status request needs the instrument")
        side = SIDE_TO_FIX.get(order.side, "1") if order is not None else "1"
        future: asyncio.Future[ExecReport | None] = self._loop.create_future()
        keys = [k for k in (root_text, order_id) if k]
        for key in keys:
            self._status_requests[key] = future
        try:
            self.session.send("H", order_status_request(self._current_cl_ord_id.get(root_text, root_text), order_id,
                                                        iid.symbol.value, iid.venue.value, side))
            report = await asyncio.wait_for(future, self._config.request_timeout_s)
        except TimeoutError:
            self._log.warning(f"no answer to OrderStatusRequest for {root_text or order_id}")
            return None
        finally:
            for key in keys:
                self._status_requests.pop(key, None)
        if report is None or report.ord_status == "8" and report.order_id in ("", NO_ORDERS):
            return None
        return self._status_of(report)

    async def generate_fill_reports(self, command: GenerateFillReports) -> list[FillReport]:
        """The venue's fills of the day (TradeCaptureReportRequest AD), with the ExecIDs it sent.

        Fills the node never booked (a failover predecessor received them and died before its cache
        recorded them) come back exact: trade id, price, liquidity. Should the venue not answer, the
        fills received in this session are reported (with a warning) and the engine infers the rest
        from the status reports' CumQty.
        """
        try:
            captured = await self._request_trade_capture()
        except (ConnectionError, FixRequestTimeout) as exc:
            self._count("trade_capture_failures")
            self._log.warning(f"the venue's fills of the day are not available ({exc}): reporting this session's "
                              "fills only")
            captured = []
        known = len(self._fills)
        for report in captured:
            instrument = self._instrument(report)
            if instrument is not None:
                self._record_fill(report, instrument)
        if captured:
            self._log.info(f"the venue reported {len(captured)} fills of the day, {len(self._fills) - known} of them "
                           "not received in this session")
        start = int(command.start.value) if command.start is not None else None
        end = int(command.end.value) if command.end is not None else None
        return [
            f for f in self._fills
            if (command.instrument_id is None or f.instrument_id == command.instrument_id)
            and (command.venue_order_id is None or f.venue_order_id == command.venue_order_id)
            and (start is None or f.ts_event >= start) and (end is None or f.ts_event <= end)
        ]

    async def generate_position_status_reports(self, command: GeneratePositionStatusReports) -> list[PositionStatusReport]:
        """Net positions from the venue's orders of the day: signed CumQty summed per instrument
        (the venue reports no positions; hftmm starts each day flat)."""
        net: dict[InstrumentId, Decimal] = {}
        instruments: dict[InstrumentId, Instrument] = {}
        for report in await self._request_mass_status():
            instrument = self._instrument(report)
            side = SIDE_FROM_FIX.get(report.side)
            if instrument is None or side is None:
                continue
            instruments[instrument.id] = instrument
            signed = report.cum_qty if side == OrderSide.BUY else -report.cum_qty
            net[instrument.id] = net.get(instrument.id, Decimal(0)) + signed
        if command.instrument_id is not None:
            instrument = instruments.get(command.instrument_id) or self._cache.instrument(command.instrument_id)
            if instrument is None:
                return []
            instruments = {command.instrument_id: instrument}
            net = {command.instrument_id: net.get(command.instrument_id, Decimal(0))}
        now = self._clock.timestamp_ns()
        reports = []
        for iid, qty in net.items():
            if qty == 0 and command.instrument_id is None:
                continue
            side = PositionSide.FLAT if qty == 0 else (PositionSide.LONG if qty > 0 else PositionSide.SHORT)
            reports.append(PositionStatusReport(
                account_id=self.account_id, instrument_id=iid, position_side=side,
                quantity=instruments[iid].make_qty(abs(qty)), report_id=UUID4(), ts_last=now, ts_init=now))
        return reports

    async def generate_mass_status(self, lookback_mins: int | None = None) -> ExecutionMassStatus | None:
        """The venue's orders and fills of the day, for start-up reconciliation.

        No position reports: the venue keeps none, and the net position its orders imply is
        reconciled order by order already. A second snapshot of it would be compared with a cache
        that has moved on: a fill arriving while the engine reconciles is booked at once, and the
        engine would "correct" the position by a synthetic fill the venue never made. Afterwards
        reports on unknown orders go to the engine directly.

        ``lookback_mins`` is not applied: AF and AD answer with the venue day's orders and fills,
        and their times are the venue's (a simulator's replay clock is not the node's wall clock),
        so a window on the node's clock could only drop fills of the day.
        """
        self._log.info("Generating ExecutionMassStatus (orders and fills of the venue day)...")
        now = self._clock.timestamp_ns()
        mass_status = ExecutionMassStatus(client_id=self.id, account_id=self.account_id, venue=self.venue,
                                          report_id=UUID4(), ts_init=now)
        self.reconciliation_active = True
        try:
            orders = await self.generate_order_status_reports(GenerateOrderStatusReports(
                instrument_id=None, start=None, end=None, open_only=False, command_id=UUID4(), ts_init=now))
            fills = await self.generate_fill_reports(GenerateFillReports(
                instrument_id=None, venue_order_id=None, start=None, end=None, command_id=UUID4(), ts_init=now))
        except (ConnectionError, FixRequestTimeout) as exc:
            self._log.error(f"cannot reconcile with the venue: {exc}")
            return None
        finally:
            self.reconciliation_active = False
        mass_status.add_order_reports(reports=orders)
        mass_status.add_fill_reports(reports=fills)
        self._reconciled = True
        return mass_status
