"""Short-hands for venue tests: prices in cents, one symbol, and report filters."""

from __future__ import annotations

from hftmm.venue.matching_engine import MatchingEngine, SymbolSpec
from hftmm.venue.orders import (
    CancelOrder,
    Event,
    ExecType,
    ExecutionReport,
    NewOrder,
    OrdType,
    ReplaceOrder,
    Side,
    TimeInForce,
)

SYM = "ACME"
CENT = 10_000_000  # nanodollars


def c(cents: int) -> int:
    """A price in cents, as nanodollars."""
    return cents * CENT


def engine(*symbols: str) -> MatchingEngine:
    return MatchingEngine([SymbolSpec(symbol=s) for s in (symbols or (SYM,))])


def new(
    who: str, cid: str, side: Side, qty: int, cents: int | None = None, *, tif: TimeInForce = TimeInForce.DAY,
    post_only: bool = False, epoch: int = 0, ts: int = 0, symbol: str = SYM,
) -> NewOrder:
    return NewOrder(
        participant=who, client_order_id=cid, symbol=symbol, side=side, qty=qty,
        order_type=OrdType.MARKET if cents is None else OrdType.LIMIT, price=0 if cents is None else c(cents),
        tif=tif, post_only=post_only, epoch=epoch, ts_ns=ts,
    )


def buy(who: str, cid: str, qty: int, cents: int | None = None, **kw: object) -> NewOrder:
    return new(who, cid, Side.BUY, qty, cents, **kw)  # type: ignore[arg-type]


def sell(who: str, cid: str, qty: int, cents: int | None = None, **kw: object) -> NewOrder:
    return new(who, cid, Side.SELL, qty, cents, **kw)  # type: ignore[arg-type]


def cancel(who: str, cid: str, orig: str, *, epoch: int = 0, symbol: str = SYM) -> CancelOrder:
    return CancelOrder(participant=who, client_order_id=cid, orig_client_order_id=orig, symbol=symbol, epoch=epoch)


def replace(who: str, cid: str, orig: str, qty: int, cents: int, *, epoch: int = 0) -> ReplaceOrder:
    return ReplaceOrder(
        participant=who, client_order_id=cid, orig_client_order_id=orig, symbol=SYM, qty=qty, price=c(cents),
        epoch=epoch,
    )


def reports(events: list[Event]) -> list[ExecutionReport]:
    return [e for e in events if isinstance(e, ExecutionReport)]


def fills(events: list[Event], who: str | None = None) -> list[ExecutionReport]:
    """Fill reports (partial or full), optionally of one participant."""
    return [
        e for e in reports(events)
        if e.exec_type in (ExecType.PARTIAL_FILL, ExecType.FILL) and (who is None or e.participant == who)
    ]


def kinds(events: list[Event]) -> list[tuple[str, str, ExecType]]:
    """(participant, client order id, exec type) of each report."""
    return [(e.participant, e.client_order_id, e.exec_type) for e in reports(events)]


def filled_qty(events: list[Event], who: str | None = None) -> int:
    return sum(e.last_qty for e in fills(events, who))
