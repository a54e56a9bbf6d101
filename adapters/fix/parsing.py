"""FIX <-> Nautilus mapping of the order-flow profile: enums, order fields, reports.

The pure message layouts are in :mod:`adapters.fix.profile`; this module turns Nautilus orders
into :class:`~adapters.fix.profile.OrderFields` and parsed ExecutionReports into Nautilus
``OrderStatusReport`` / ``FillReport`` values.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.reports import FillReport, OrderStatusReport
from nautilus_trader.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce
from nautilus_trader.model.identifiers import AccountId, ClientOrderId, InstrumentId, Symbol, TradeId, Venue, VenueOrderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.model.orders import Order

from adapters.fix.profile import LIQUIDITY_ADDED, LIQUIDITY_REMOVED, ExecReport, OrderFields, root_cl_ord_id
from adapters.fix.times import format_utc_timestamp, parse_utc_timestamp

SIDE_TO_FIX = {OrderSide.BUY: "1", OrderSide.SELL: "2"}
SIDE_FROM_FIX = {"1": OrderSide.BUY, "2": OrderSide.SELL, "5": OrderSide.SELL}
ORD_TYPE_TO_FIX = {OrderType.MARKET: "1", OrderType.LIMIT: "2"}
ORD_TYPE_FROM_FIX = {"1": OrderType.MARKET, "2": OrderType.LIMIT}
TIF_TO_FIX = {TimeInForce.DAY: "0", TimeInForce.GTC: "1", TimeInForce.IOC: "3", TimeInForce.FOK: "4"}
TIF_FROM_FIX = {v: k for k, v in TIF_TO_FIX.items()}
ORD_STATUS_FROM_FIX = {
    "0": OrderStatus.ACCEPTED,
    "1": OrderStatus.PARTIALLY_FILLED,
    "2": OrderStatus.FILLED,
    "4": OrderStatus.CANCELED,
    "8": OrderStatus.REJECTED,
    "C": OrderStatus.EXPIRED,
    "5": OrderStatus.ACCEPTED,  # replaced: working under its new ClOrdID
    "6": OrderStatus.PENDING_CANCEL,
    "E": OrderStatus.PENDING_UPDATE,
    "A": OrderStatus.SUBMITTED,
}
LIQUIDITY_FROM_FIX = {LIQUIDITY_ADDED: LiquiditySide.MAKER, LIQUIDITY_REMOVED: LiquiditySide.TAKER}


class UnsupportedOrder(ValueError):
    """An order the profile cannot express (order type, time in force, side)."""


def transact_time(ts_ns: int) -> str:
    """TransactTime (60) of a UTC nanosecond timestamp, microsecond precision."""
    from datetime import datetime

    return format_utc_timestamp(datetime.fromtimestamp(ts_ns / 1e9, UTC), 6)


def fix_time_ns(text: str | None, default: int) -> int:
    """UTC nanoseconds of a UTCTimestamp field, ``default`` when absent or malformed."""
    if not text:
        return default
    try:
        moment = parse_utc_timestamp(text)
    except ValueError:
        return default
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


def order_fields(order: Order, cl_ord_id: str, account: str | None, quantity: Quantity | None = None,
                 price: Price | None = None) -> OrderFields:
    """The wire fields of a Nautilus order (``quantity`` / ``price`` override for a replace).

    Raises
    ------
    UnsupportedOrder
        Not a market or limit order, or a time in force the profile has no code for.
    """
    ord_type = ORD_TYPE_TO_FIX.get(order.order_type)
    if ord_type is None:
        raise UnsupportedOrder(f"order type {order.order_type.name} is not in the FIX profile (market, limit)")
    tif = TIF_TO_FIX.get(order.time_in_force)
    if tif is None:
        raise UnsupportedOrder(f"time in force {order.time_in_force.name} is not in the FIX profile")
    side = SIDE_TO_FIX.get(order.side)
    if side is None:
        raise UnsupportedOrder(f"order side {order.side.name}")
    limit = price if price is not None else (order.price if order.has_price else None)
    qty = quantity if quantity is not None else order.quantity
    iid = order.instrument_id
    return OrderFields(
        cl_ord_id=cl_ord_id, symbol=iid.symbol.value, exchange=iid.venue.value, side=side, quantity=str(qty),
        ord_type=ord_type, time_in_force=tif, price=str(limit) if limit is not None and ord_type == "2" else None,
        post_only=bool(getattr(order, "is_post_only", False)), account=account,
    )


def instrument_id_of(report: ExecReport, default_venue: str) -> InstrumentId:
    """``SYMBOL.MIC`` from 55 and 207 (the client's venue when 207 is absent)."""
    return InstrumentId(Symbol(report.symbol), Venue(report.exchange or default_venue))


def commission(liquidity: LiquiditySide, last_qty: Decimal, maker_per_share: Decimal, taker_per_share: Decimal,
               instrument: Instrument) -> Money:
    """Per-share fee of a fill (rebates negative), as ``hftmm.engine.fees.PerShareFeeModel`` charges in backtests."""
    fee = maker_per_share if liquidity == LiquiditySide.MAKER else taker_per_share
    return Money(fee * last_qty, instrument.quote_currency)


def order_status_report(report: ExecReport, account_id: AccountId, instrument: Instrument, ts_init: int,
                        post_only: bool = False) -> OrderStatusReport:
    """A Nautilus ``OrderStatusReport`` from an ExecutionReport (a 150=I status report usually).

    Raises
    ------
    ValueError
        OrdStatus, side, order type or time in force outside the profile.
    """
    status = ORD_STATUS_FROM_FIX.get(report.ord_status)
    side = SIDE_FROM_FIX.get(report.side)
    ord_type = ORD_TYPE_FROM_FIX.get(report.ord_type or "2")
    tif = TIF_FROM_FIX.get(report.time_in_force or "0")
    if status is None or side is None or ord_type is None or tif is None:
        raise ValueError(f"ExecutionReport {report.exec_id}: OrdStatus {report.ord_status!r}, Side {report.side!r}, "
                         f"OrdType {report.ord_type!r}, TimeInForce {report.time_in_force!r} outside the profile")
    qty = report.order_qty if report.order_qty is not None else report.cum_qty + report.leaves_qty
    ts = fix_time_ns(report.transact_time, ts_init)
    return OrderStatusReport(
        account_id=account_id,
        instrument_id=instrument.id,
        client_order_id=ClientOrderId(root_cl_ord_id(report.cl_ord_id)) if report.cl_ord_id else None,
        venue_order_id=VenueOrderId(report.order_id),
        order_side=side,
        order_type=ord_type,
        time_in_force=tif,
        order_status=status,
        quantity=instrument.make_qty(qty),
        filled_qty=instrument.make_qty(report.cum_qty),
        price=instrument.make_price(report.price) if report.price is not None and ord_type == OrderType.LIMIT else None,
        avg_px=report.avg_px if report.cum_qty > 0 else None,
        post_only=post_only,
        report_id=UUID4(),
        ts_accepted=ts,
        ts_last=ts,
        ts_init=ts_init,
    )


def fill_report(report: ExecReport, account_id: AccountId, instrument: Instrument, fee: Money, ts_init: int) -> FillReport:
    """A Nautilus ``FillReport`` from a trade ExecutionReport (150=F)."""
    assert report.last_qty is not None and report.last_px is not None  # checked by parse_execution_report
    side = SIDE_FROM_FIX.get(report.side)
    if side is None:
        raise ValueError(f"ExecutionReport {report.exec_id}: Side {report.side!r} outside the profile")
    return FillReport(
        account_id=account_id,
        instrument_id=instrument.id,
        venue_order_id=VenueOrderId(report.order_id),
        client_order_id=ClientOrderId(root_cl_ord_id(report.cl_ord_id)) if report.cl_ord_id else None,
        trade_id=TradeId(report.exec_id),
        order_side=side,
        last_qty=instrument.make_qty(report.last_qty),
        last_px=instrument.make_price(report.last_px),
        commission=fee,
        liquidity_side=LIQUIDITY_FROM_FIX.get(report.liquidity or "", LiquiditySide.NO_LIQUIDITY_SIDE),
        report_id=UUID4(),
        ts_event=fix_time_ns(report.transact_time, ts_init),
        ts_init=ts_init,
    )
