"""A scripted venue for the execution client tests: the FIX profile, just enough of it.

It acks NewOrderSingle (150=0) or rejects it (a post-only buy at or above ``reject_post_only_at``,
or a symbol it does not list), cancels, replaces (refusing a new quantity not above the filled
one), mass-cancels, answers OrderStatusRequest and OrderMassStatusRequest, and fills on the
test's instruction (:meth:`ScriptedVenue.fill`). No matching: the tests say what happens.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

from adapters.fix.application import Application
from adapters.fix.codec import FixMessage
from adapters.fix.errors import UnsupportedMessageType
from adapters.fix.session import Session, utc_now
from adapters.fix.times import format_utc_timestamp


@dataclass
class VenueOrder:
    order_id: str
    cl_ord_id: str
    symbol: str
    exchange: str
    side: str
    qty: Decimal
    ord_type: str
    price: str | None
    tif: str
    cum: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    status: str = "0"

    @property
    def leaves(self) -> Decimal:
        return Decimal(0) if self.status in ("2", "4", "8", "C") else self.qty - self.cum

    @property
    def avg(self) -> Decimal:
        return self.notional / self.cum if self.cum else Decimal(0)


class ScriptedVenue(Application):
    """Venue side of the profile over one acceptor session.

    Parameters
    ----------
    symbols : set of str
        Symbols it lists.
    """

    def __init__(self, symbols: set[str]) -> None:
        self.symbols = symbols
        self.session: Session | None = None
        self.orders: dict[str, VenueOrder] = {}  # by current ClOrdID
        self.by_order_id: dict[str, VenueOrder] = {}
        self.received: list[FixMessage] = []
        self._order_ids = itertools.count(1)
        self._exec_ids = itertools.count(1)
        self.reject_post_only_at: Decimal | None = None
        self.reject_mass_cancel: str | None = None  # a text: the next mass cancel is refused with it
        self.highest_epoch = 0
        # Hold each replace's acknowledgement until the next message arrives: the client then sends
        # that message before it has heard of the replace (a cancel crossing an amend).
        self.hold_replace_acks = False
        # Every fill's ExecutionReport body, for TradeCaptureReportRequest (AD); False: AD is not
        # served (a venue without trade capture answers a BusinessMessageReject).
        self.fills: list[list[tuple[int, str]]] = []
        self.serve_trade_capture = True
        self._held: list[list[tuple[int, str]]] = []

    def on_create(self, session: Session) -> None:
        self.session = session

    def from_app(self, message: FixMessage, session: Session) -> None:
        self.received.append(message)
        for body in self._held:
            session.send("8", body)
        self._held.clear()
        handler = {"D": self._new, "F": self._cancel, "G": self._replace, "q": self._mass_cancel,
                   "H": self._status, "AF": self._mass_status,
                   "AD": self._trade_capture if self.serve_trade_capture else None}.get(message.msg_type)
        if handler is None:
            raise UnsupportedMessageType(message.msg_type)
        if message.get(20001) is not None:
            self.highest_epoch = max(self.highest_epoch, int(message[20001]))
        handler(message)

    # -- helpers --------------------------------------------------------------------------------

    def _now(self) -> str:
        return format_utc_timestamp(utc_now(), 6)

    def report(self, order: VenueOrder, exec_type: str, extra: list[tuple[int, str]] = (),  # type: ignore[assignment]
               cl_ord_id: str | None = None, orig: str | None = None, send: bool = True) -> list[tuple[int, str]]:
        body = [(6, str(order.avg)), (11, cl_ord_id or order.cl_ord_id), (14, str(order.cum)), (17, f"E{next(self._exec_ids)}"),
                (37, order.order_id), (38, str(order.qty)), (39, order.status), (40, order.ord_type)]
        if orig:
            body.append((41, orig))
        if order.price is not None:
            body.append((44, order.price))
        body += [(54, order.side), (55, order.symbol), (59, order.tif), (60, self._now()), (150, exec_type),
                 (151, str(order.leaves)), (207, order.exchange), *extra]
        if send:
            assert self.session is not None
            self.session.send("8", body)
        return body

    # -- handlers -------------------------------------------------------------------------------

    def _new(self, m: FixMessage) -> None:
        order = VenueOrder(order_id=f"V{next(self._order_ids)}", cl_ord_id=m[11], symbol=m[55], exchange=m.get(207, ""),
                           side=m[54], qty=Decimal(m[38]), ord_type=m[40], price=m.get(44), tif=m.get(59, "0"))
        reason = None
        if order.symbol not in self.symbols:
            reason = ("1", f"unknown symbol {order.symbol}")
        elif (self.reject_post_only_at is not None and m.get(18) == "6" and order.side == "1"
              and Decimal(order.price or 0) >= self.reject_post_only_at):
            reason = ("99", "post-only order would take liquidity")
        if reason is not None:
            order.status = "8"
            self.report(order, "8", [(58, reason[1]), (103, reason[0])])
            return
        self.orders[order.cl_ord_id] = order
        self.by_order_id[order.order_id] = order
        self.report(order, "0")

    def _cancel_reject(self, m: FixMessage, response_to: str, reason: str, text: str) -> None:
        order = self.orders.get(m.get(41, ""))
        assert self.session is not None
        self.session.send("9", [(11, m[11]), (37, order.order_id if order else "NONE"),
                                (39, order.status if order else "8"), (41, m[41]), (58, text), (102, reason),
                                (434, response_to)])

    def _cancel(self, m: FixMessage) -> None:
        order = self.orders.get(m[41])
        if order is None or order.leaves == 0:
            self._cancel_reject(m, "1", "1" if order is None else "0", "unknown order" if order is None else "too late")
            return
        order.status = "4"
        self.report(order, "4", cl_ord_id=m[11], orig=m[41])

    def _replace(self, m: FixMessage) -> None:
        order = self.orders.get(m[41])
        if order is None or order.leaves == 0:
            self._cancel_reject(m, "2", "1" if order is None else "0", "unknown order" if order is None else "too late")
            return
        qty = Decimal(m[38])
        if qty <= order.cum:
            self._cancel_reject(m, "2", "99", f"new quantity {qty} not above the filled {order.cum}")
            return
        del self.orders[order.cl_ord_id]
        order.cl_ord_id, order.qty, order.price = m[11], qty, m.get(44, order.price)
        self.orders[order.cl_ord_id] = order
        if self.hold_replace_acks:
            self._held.append(self.report(order, "5", orig=m[41], send=False))
        else:
            self.report(order, "5", orig=m[41])

    def _mass_cancel(self, m: FixMessage) -> None:
        assert self.session is not None
        if self.reject_mass_cancel is not None:
            self.session.send("r", [(11, m[11]), (37, "NONE"), (58, self.reject_mass_cancel), (530, m[530]),
                                    (531, "0")])
            self.reject_mass_cancel = None
            return
        symbol = m.get(55) if m.get(530) == "1" else None
        count = 0
        for order in list(self.orders.values()):
            if order.leaves > 0 and (symbol is None or order.symbol == symbol):
                order.status = "4"
                self.report(order, "4")
                count += 1
        assert self.session is not None
        self.session.send("r", [(11, m[11]), (37, f"MC{next(self._order_ids)}"), (530, m[530]),
                                (531, m[530]), (533, str(count))])

    def _status(self, m: FixMessage) -> None:
        order = self.by_order_id.get(m.get(37, "")) or self.orders.get(m.get(11, ""))
        if order is None:
            assert self.session is not None
            self.session.send("8", [(6, "0"), (11, m.get(11, "NONE")), (14, "0"), (17, f"E{next(self._exec_ids)}"),
                                    (37, "NONE"), (39, "8"), (54, m[54]), (55, m[55]), (58, "unknown order"),
                                    (150, "I"), (151, "0")])
            return
        self.report(order, "I")

    def _mass_status(self, m: FixMessage) -> None:
        orders = list(self.by_order_id.values())
        assert self.session is not None
        if not orders:
            self.session.send("8", [(6, "0"), (11, "NONE"), (14, "0"), (17, f"E{next(self._exec_ids)}"), (37, "NONE"),
                                    (39, "0"), (54, "1"), (55, "NONE"), (150, "I"), (151, "0"), (584, m[584]),
                                    (911, "0"), (912, "Y")])
            return
        for i, order in enumerate(orders):
            extra = [(584, m[584]), (911, str(len(orders)))]
            if i == len(orders) - 1:
                extra.append((912, "Y"))
            self.report(order, "I", extra)

    def _trade_capture(self, m: FixMessage) -> None:
        assert self.session is not None
        self.session.send("AQ", [(568, m[568]), (569, m[569]), (748, str(len(self.fills))), (749, "0"), (750, "0"),
                                 (55, "[N/A]")])
        for i, body in enumerate(self.fills):
            f = dict(body)
            self.session.send("AE", [(571, f"T{f[17]}"), (568, m[568]), (748, str(len(self.fills))),
                                     (912, "Y" if i == len(self.fills) - 1 else "N"), (17, f[17]), (570, "Y"),
                                     (55, f[55]), (207, f[207]), (32, f[32]), (31, f[31]), (75, "20240311"),
                                     (60, f[60]), (851, f[851]), (552, "1"), (54, f[54]), (37, f[37]), (11, f[11])])

    # -- the test's instructions --------------------------------------------------------------------

    def order(self, root: str) -> VenueOrder:
        """The order whose ClOrdID chain starts with ``root``."""
        for order in self.by_order_id.values():
            if order.cl_ord_id.split("#", 1)[0] == root:
                return order
        raise KeyError(root)

    def fill(self, root: str, qty: int, price: str, liquidity: str = "1", send: bool = True) -> list[tuple[int, str]]:
        """Fill ``qty`` of an order at ``price`` (851 ``liquidity``: 1 maker, 2 taker)."""
        order = self.order(root)
        order.cum += qty
        order.notional += qty * Decimal(price)
        order.status = "2" if order.cum >= order.qty else "1"
        body = self.report(order, "F", [(31, price), (32, str(qty)), (851, liquidity)], send=send)
        self.fills.append(body)
        return body

    def add_order(self, cl_ord_id: str, symbol: str, side: str, qty: int, price: str, cum: int = 0) -> VenueOrder:
        """An order the venue holds from an earlier run (for reconciliation tests)."""
        order = VenueOrder(order_id=f"V{next(self._order_ids)}", cl_ord_id=cl_ord_id, symbol=symbol, exchange="XNYS",
                           side=side, qty=Decimal(qty), ord_type="2", price=price, tif="1", cum=Decimal(cum),
                           notional=Decimal(cum) * Decimal(price))
        if cum:
            order.status = "2" if cum >= qty else "1"
        self.orders[cl_ord_id] = order
        self.by_order_id[order.order_id] = order
        return order
