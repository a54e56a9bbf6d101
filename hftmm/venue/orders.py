"""The venue's order requests, resting orders and execution reports (pure, FIX-free structs).

Units, everywhere in ``hftmm.venue``:

- prices are integers in nanodollars (1e-9 USD, ``PRICE_SCALE`` per dollar), so matching never
  compares floats; $50.01 is ``50_010_000_000``. ``price_from_str`` / ``price_to_str`` convert.
- sizes are integer shares.
- times are integer UTC nanoseconds, taken from the request or the market event (the engine
  never reads a clock, so a replay is deterministic).

Enum values follow FIX where FIX has one (``OrdType`` tag 40, ``TimeInForce`` tag 59,
``Side`` tag 54, ``LastLiquidityInd`` tag 851) so the FIX application maps them one to one.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import IntEnum

import msgspec

PRICE_SCALE = 1_000_000_000
"""Nanodollars per dollar."""

MARKET_COUNTERPARTY = "@market"
"""``ExecutionReport.counterparty`` of a fill against replayed market liquidity."""


class Side(IntEnum):
    """Order side (FIX tag 54)."""

    BUY = 1
    SELL = 2


class OrdType(IntEnum):
    """Order type (FIX tag 40)."""

    MARKET = 1
    LIMIT = 2


class TimeInForce(IntEnum):
    """Time in force (FIX tag 59). DAY orders expire at ``MatchingEngine.expire_day_orders``."""

    DAY = 0
    GTC = 1
    IOC = 3
    FOK = 4


class Liquidity(IntEnum):
    """Liquidity indicator of a fill (FIX tag 851: 1 added, 2 removed)."""

    NONE = 0
    MAKER = 1
    TAKER = 2


class ExecType(IntEnum):
    """What an execution report says happened."""

    NEW = 0
    """The order was accepted (FIX ExecType 0)."""
    PARTIAL_FILL = 1
    """A fill leaving quantity open (ExecType F, OrdStatus 1)."""
    FILL = 2
    """The fill that completed the order (ExecType F, OrdStatus 2)."""
    CANCELED = 4
    """Canceled by request, by self-trade prevention, or the unfilled rest of an IOC/FOK/market order."""
    REPLACED = 5
    """A cancel/replace took effect."""
    REJECTED = 8
    """A new order was refused; ``reason`` says why."""
    EXPIRED = 12
    """A DAY order reached the end of the day."""
    CANCEL_REJECTED = 100
    """A cancel or replace was refused (FIX OrderCancelReject); ``response_to`` says which."""


class CancelRejectResponseTo(IntEnum):
    """Which request a ``CANCEL_REJECTED`` answers (FIX tag 434)."""

    NONE = 0
    CANCEL = 1
    REPLACE = 2


# -- requests -------------------------------------------------------------------------------------


class NewOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A new order.

    ``price`` is ignored for market orders. ``epoch`` is the sender's fencing epoch: the venue
    rejects any request whose epoch is below the highest it has seen for ``participant``.
    """

    participant: str
    client_order_id: str
    symbol: str
    side: Side
    qty: int
    order_type: OrdType = OrdType.LIMIT
    price: int = 0
    tif: TimeInForce = TimeInForce.DAY
    post_only: bool = False
    epoch: int = 0
    ts_ns: int = 0


class CancelOrder(msgspec.Struct, frozen=True, kw_only=True):
    """Cancel the live order ``orig_client_order_id`` of ``participant``."""

    participant: str
    client_order_id: str
    orig_client_order_id: str
    symbol: str
    epoch: int = 0
    ts_ns: int = 0


class ReplaceOrder(msgspec.Struct, frozen=True, kw_only=True):
    """Cancel/replace: new total quantity and price for a live limit order.

    After the replace the order is known by ``client_order_id``. A size-down at the same price keeps
    time priority; a price change or a size-up sends the order to the back of its new level.
    """

    participant: str
    client_order_id: str
    orig_client_order_id: str
    symbol: str
    qty: int
    price: int
    epoch: int = 0
    ts_ns: int = 0


class MassCancel(msgspec.Struct, frozen=True, kw_only=True):
    """Cancel every live order of ``participant``, optionally only on ``symbol`` and/or ``side``."""

    participant: str
    request_id: str
    symbol: str | None = None
    side: Side | None = None
    epoch: int = 0
    ts_ns: int = 0


Request = NewOrder | CancelOrder | ReplaceOrder | MassCancel


# -- state ----------------------------------------------------------------------------------------


class RestingOrder(msgspec.Struct, kw_only=True):
    """A live order inside the engine (mutable; owned by the engine, do not modify).

    ``ahead`` is the replayed market quantity queued ahead of this order at its price
    (see ``hftmm.venue.market_replay``). ``seq`` is the time priority: lower is earlier.
    """

    order_id: int
    participant: str
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrdType
    tif: TimeInForce
    post_only: bool
    price: int
    qty: int
    cum_qty: int = 0
    leaves_qty: int = 0
    cum_notional: int = 0
    seq: int = 0
    ahead: int = 0
    ts_ns: int = 0


# -- outputs --------------------------------------------------------------------------------------


class ExecutionReport(msgspec.Struct, frozen=True, kw_only=True):
    """One thing that happened to one order.

    ``exec_id`` increases by one per report across the whole engine. ``order_id`` is the venue's
    order id (0 for a rejected new order). ``avg_px`` is the average fill price rounded to the
    nanodollar (0 before any fill). ``last_px``/``last_qty``/``liquidity``/``match_id``/
    ``counterparty`` describe the fill of a fill report; both sides of a trade between two
    participants share the ``match_id``; a fill against replayed market liquidity has
    ``counterparty == MARKET_COUNTERPARTY``. A ``CANCEL_REJECTED`` for an order the engine does not
    know has ``order_id`` 0 and placeholder order fields (BUY, LIMIT, DAY, zero price and sizes).
    """

    exec_id: int
    exec_type: ExecType
    ts_ns: int
    participant: str
    symbol: str
    order_id: int
    client_order_id: str
    orig_client_order_id: str = ""
    side: Side
    order_type: OrdType
    tif: TimeInForce
    price: int
    order_qty: int
    leaves_qty: int
    cum_qty: int
    avg_px: int = 0
    last_px: int = 0
    last_qty: int = 0
    liquidity: Liquidity = Liquidity.NONE
    match_id: int = 0
    counterparty: str = ""
    response_to: CancelRejectResponseTo = CancelRejectResponseTo.NONE
    reason: str = ""


class MassCancelReport(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a ``MassCancel``: how many orders it canceled, or why it was refused."""

    participant: str
    request_id: str
    symbol: str | None
    side: Side | None
    canceled: int
    ts_ns: int
    rejected: bool = False
    reason: str = ""


Event = ExecutionReport | MassCancelReport


# -- price helpers --------------------------------------------------------------------------------


def price_from_str(text: str | Decimal) -> int:
    """Dollars as text (``"50.01"``) or ``Decimal`` to integer nanodollars.

    Raises
    ------
    ValueError
        If ``text`` is not a number or has more than nine decimals.
    """
    try:
        value = Decimal(text) * PRICE_SCALE
    except InvalidOperation as exc:
        raise ValueError(f"price {text!r} is not a number") from exc
    if value != value.to_integral_value():
        raise ValueError(f"price {text!r} has more than nine decimals")
    return int(value)


def price_to_str(price: int) -> str:
    """Integer nanodollars to dollars as text, without trailing zeros beyond the cent."""
    sign = "-" if price < 0 else ""
    whole, frac = divmod(abs(price), PRICE_SCALE)
    digits = f"{frac:09d}".rstrip("0")
    return f"{sign}{whole}.{digits.ljust(2, '0')}"


def avg_price(cum_notional: int, cum_qty: int) -> int:
    """Average price in nanodollars, rounded half up, from the integer notional (no floats)."""
    if cum_qty <= 0:
        return 0
    return (2 * cum_notional + cum_qty) // (2 * cum_qty)
