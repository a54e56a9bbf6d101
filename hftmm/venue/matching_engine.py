"""A price-time priority matching engine for participant orders among replayed market liquidity.

Pure Python, no NautilusTrader and no FIX: the FIX acceptor drives it with ``submit(request)`` and
``on_market_event(symbol, event)``, both returning the execution reports to send, in order.

Rules (docs/venue.md has the full text):

- **Order types.** Limit (DAY or GTC) rests what it does not fill. Market, IOC and FOK never rest:
  the unfilled rest is canceled right after matching. FOK checks that its whole quantity is
  available (participant orders of others plus available replayed size, within its limit) before
  any fill; if not, it is accepted and canceled with no fill. Post-only limit orders that would
  take any liquidity are rejected (they never rest crossed).
- **Priority.** Best price first; at one price, time of arrival at the level, with the replayed
  queue model of ``hftmm.venue.market_replay`` deciding how much replayed size is ahead.
- **Replace.** A size-down (new quantity at most the old, above the filled quantity) at the same
  price keeps time priority and queue position. A price change or a size-up moves the order to the
  back of the (new) level, with a new queue position, and it may take liquidity if it now crosses.
  A post-only order whose new price would take is refused (cancel-reject), and stays unchanged.
- **Self-trade prevention: cancel resting.** When an incoming order meets a resting order of the
  same participant, the resting order is canceled (reason ``self-trade prevention``) and the
  incoming order continues. A market maker's newest instruction wins over its stale quote.
- **Fencing.** Every request carries the sender's ``epoch``. The engine keeps the highest epoch
  seen per participant; a request with a lower one is refused (new order: REJECTED; cancel or
  replace: CANCEL_REJECTED; mass cancel: a rejected ``MassCancelReport``) with reason
  ``stale epoch``, so a fenced-off former primary cannot act on the book.
- **Ids.** ``order_id`` and ``exec_id`` are engine-wide counters starting at 1; ``exec_id``
  increases by exactly one per ``ExecutionReport``. Client order ids must be unique among a
  participant's live orders.

State (``snapshot()`` / ``MatchingEngine.restore(data)``) is a msgspec MessagePack document of the
counters, epochs, resting orders in priority order and the replayed books with their consumption,
so a restored engine continues exactly as the original would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import msgspec

from hftmm.venue.market_replay import (
    CLEAR,
    LEVEL,
    NO_AGGRESSOR,
    QUOTE,
    TRADE,
    MarketEvent,
    ParticipantSide,
    ReplayedSide,
    clamp_queue,
    join_ahead,
    walk_through_volume,
    walk_trade_volume,
)
from hftmm.venue.orders import (
    MARKET_COUNTERPARTY,
    CancelOrder,
    CancelRejectResponseTo,
    Event,
    ExecType,
    ExecutionReport,
    Liquidity,
    MassCancel,
    MassCancelReport,
    NewOrder,
    OrdType,
    ReplaceOrder,
    Request,
    RestingOrder,
    Side,
    TimeInForce,
    avg_price,
)

log = logging.getLogger(__name__)

STATE_VERSION = 1
BUY = Side.BUY
SELL = Side.SELL
_RESTING_TIFS = (TimeInForce.DAY, TimeInForce.GTC)
_SIDES = frozenset(Side)
_ORD_TYPES = frozenset(OrdType)
_TIFS = frozenset(TimeInForce)


class SymbolSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A tradable symbol. ``tick`` is the price increment in nanodollars ($0.01 by default)."""

    symbol: str
    tick: int = 10_000_000


class EngineCounters(msgspec.Struct, kw_only=True):
    """What the engine refused or skipped, for metrics and logs."""

    rejected: int = 0
    cancel_rejected: int = 0
    stale_epoch: int = 0
    self_trade_cancels: int = 0
    bad_market_events: int = 0


class _Book:
    """Everything the engine holds for one symbol."""

    __slots__ = ("asks", "bids", "depth_known", "mkt_asks", "mkt_bids", "spec")

    def __init__(self, spec: SymbolSpec) -> None:
        self.spec = spec
        self.bids = ParticipantSide(is_bid=True)
        self.asks = ParticipantSide(is_bid=False)
        self.mkt_bids = ReplayedSide(is_bid=True)
        self.mkt_asks = ReplayedSide(is_bid=False)
        self.depth_known = True  # False once a top-of-book QUOTE feed drives the replayed book

    def ours(self, side: Side) -> ParticipantSide:
        return self.bids if side == BUY else self.asks

    def market(self, side: Side) -> ReplayedSide:
        return self.mkt_bids if side == BUY else self.mkt_asks


class _BookState(msgspec.Struct, kw_only=True):
    spec: SymbolSpec
    depth_known: bool
    orders: list[RestingOrder]
    mkt_bids: dict[int, int]
    mkt_asks: dict[int, int]
    bid_used: dict[int, int]
    ask_used: dict[int, int]


class _EngineState(msgspec.Struct, kw_only=True):
    version: int
    next_exec_id: int
    next_order_id: int
    next_match_id: int
    next_seq: int
    epochs: dict[str, int]
    counters: EngineCounters
    books: list[_BookState]


class MatchingEngine:
    """Per-symbol order books with price-time priority, replayed liquidity and fencing.

    Parameters
    ----------
    symbols : iterable of SymbolSpec
        The symbols the venue trades; orders for others are rejected.
    """

    def __init__(self, symbols: Iterable[SymbolSpec]) -> None:
        self._books: dict[str, _Book] = {s.symbol: _Book(s) for s in symbols}
        self._orders: dict[int, RestingOrder] = {}
        self._by_client: dict[tuple[str, str], RestingOrder] = {}
        self._epochs: dict[str, int] = {}
        self._next_exec_id = 1
        self._next_order_id = 1
        self._next_match_id = 1
        self._next_seq = 1
        self.counters = EngineCounters()
        self._handlers: dict[type, Callable[[Request], list[Event]]] = {
            NewOrder: self._new,
            CancelOrder: self._cancel,
            ReplaceOrder: self._replace,
            MassCancel: self._mass_cancel,
        }

    # -- public API -------------------------------------------------------------------------------

    @property
    def symbols(self) -> list[str]:
        """The symbols traded, in configuration order."""
        return list(self._books)

    def submit(self, request: Request) -> list[Event]:
        """Apply one participant request; return the reports it caused, in order.

        Raises
        ------
        TypeError
            If ``request`` is not one of the request structs.
        """
        handler = self._handlers.get(type(request))
        if handler is None:
            raise TypeError(f"not a venue request: {type(request).__name__}")
        return handler(request)

    def on_market_event(self, symbol: str, event: MarketEvent) -> list[Event]:
        """Apply one replayed market event; return the fills it caused for resting orders.

        A malformed event (unknown symbol or kind, non-integer fields, negative size, non-positive
        price) is counted
        in ``counters.bad_market_events``, logged and skipped.
        """
        book = self._books.get(symbol)
        try:
            ts, kind, side, price, size = event
        except (TypeError, ValueError):
            return self._bad_event(symbol, event, "not a (ts_ns, kind, side, price, size) tuple")
        if book is None:
            return self._bad_event(symbol, event, "unknown symbol")
        if type(price) is not int or type(size) is not int or type(ts) is not int:
            return self._bad_event(symbol, event, "ts, price and size must be integers")
        if size < 0:
            return self._bad_event(symbol, event, "negative size")
        events: list[Event] = []
        if kind == LEVEL:
            if side not in (BUY, SELL) or price <= 0:
                return self._bad_event(symbol, event, "LEVEL needs side BUY/SELL and a positive price")
            self._on_level(book, ts, Side(side), price, size, events)
        elif kind == TRADE:
            if side not in (BUY, SELL, NO_AGGRESSOR) or price <= 0 or size == 0:
                return self._bad_event(symbol, event, "TRADE needs an aggressor, a positive price and size")
            self._on_trade(book, ts, side, price, size, events)
        elif kind == QUOTE:
            if side not in (BUY, SELL) or (size > 0 and price <= 0):
                return self._bad_event(symbol, event, "QUOTE needs side BUY/SELL and a positive price")
            self._on_quote(book, ts, Side(side), price, size, events)
        elif kind == CLEAR:
            self._on_clear(book)
        else:
            return self._bad_event(symbol, event, f"unknown kind {kind!r}")
        return events

    def expire_day_orders(self, ts_ns: int) -> list[Event]:
        """End of the trading day: every resting DAY order expires (GTC orders stay)."""
        events: list[Event] = []
        for order in sorted(self._orders.values(), key=lambda o: o.order_id):
            if order.tif == TimeInForce.DAY:
                self._unrest(order)
                order.leaves_qty = 0
                events.append(self._report(order, ExecType.EXPIRED, ts_ns, reason="end of day"))
        return events

    def order(self, participant: str, client_order_id: str) -> RestingOrder | None:
        """The live order known by ``client_order_id`` (a copy), or None."""
        order = self._by_client.get((participant, client_order_id))
        return None if order is None else msgspec.structs.replace(order)

    def open_orders(self, participant: str | None = None, symbol: str | None = None) -> list[RestingOrder]:
        """Copies of the live orders, optionally of one participant and/or symbol, by venue order id.

        What a FIX order mass status request or a reconnecting session needs.
        """
        return [
            msgspec.structs.replace(o) for o in sorted(self._orders.values(), key=lambda o: o.order_id)
            if (participant is None or o.participant == participant) and (symbol is None or o.symbol == symbol)
        ]

    def resting_orders(self, symbol: str, side: Side) -> list[RestingOrder]:
        """Copies of the live orders on one side of ``symbol``, in priority order."""
        return [msgspec.structs.replace(o) for o in self._books[symbol].ours(side).orders()]

    def best_price(self, symbol: str, side: Side) -> int | None:
        """Best participant price on ``side`` of ``symbol``."""
        return self._books[symbol].ours(side).best()

    def replayed_level(self, symbol: str, side: Side, price: int) -> tuple[int, int]:
        """``(displayed, available)`` replayed size at one price."""
        market = self._books[symbol].market(side)
        return market.displayed(price), market.avail(price)

    def replayed_best(self, symbol: str, side: Side) -> tuple[int, int] | None:
        """``(price, displayed)`` of the replayed market's best level on ``side``, or None."""
        market = self._books[symbol].market(side)
        best = market.best()
        return None if best is None else (best, market.displayed(best))

    def replayed_levels(self, symbol: str, side: Side) -> list[tuple[int, int, int]]:
        """``(price, displayed, available)`` of every replayed level on ``side``, best first."""
        market = self._books[symbol].market(side)
        return [(p, market.displayed(p), market.avail(p)) for p in sorted(market.levels, reverse=market.is_bid)]

    def announce_epoch(self, participant: str, epoch: int) -> str:
        """A participant's new leader announces its epoch (at Logon): from now on every request
        with a lower one is refused. Returns why the announcement itself is refused ("" if not)."""
        return self._fence(participant, epoch)

    def highest_epoch(self, participant: str) -> int | None:
        """The highest fencing epoch seen from ``participant``."""
        return self._epochs.get(participant)

    @property
    def next_exec_id(self) -> int:
        """The exec id the next report will carry."""
        return self._next_exec_id

    # -- persistence ------------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """The engine's whole state as MessagePack bytes (see ``restore``)."""
        books = []
        for book in self._books.values():
            orders = sorted(book.bids.orders() + book.asks.orders(), key=lambda o: o.seq)
            books.append(
                _BookState(
                    spec=book.spec, depth_known=book.depth_known, orders=orders,
                    mkt_bids=book.mkt_bids.levels, mkt_asks=book.mkt_asks.levels,
                    bid_used=book.mkt_bids.used, ask_used=book.mkt_asks.used,
                ),
            )
        state = _EngineState(
            version=STATE_VERSION, next_exec_id=self._next_exec_id, next_order_id=self._next_order_id,
            next_match_id=self._next_match_id, next_seq=self._next_seq, epochs=self._epochs,
            counters=self.counters, books=books,
        )
        return msgspec.msgpack.encode(state)

    @classmethod
    def restore(cls, data: bytes) -> MatchingEngine:
        """An engine in the state ``snapshot()`` saved.

        Raises
        ------
        ValueError
            If ``data`` is not a snapshot of this version.
        """
        try:
            state = msgspec.msgpack.decode(data, type=_EngineState)
        except msgspec.DecodeError as exc:
            raise ValueError(f"not a matching engine snapshot: {exc}") from exc
        if state.version != STATE_VERSION:
            raise ValueError(f"snapshot version {state.version} is not {STATE_VERSION}")
        engine = cls(b.spec for b in state.books)
        engine._next_exec_id = state.next_exec_id
        engine._next_order_id = state.next_order_id
        engine._next_match_id = state.next_match_id
        engine._next_seq = state.next_seq
        engine._epochs = dict(state.epochs)
        engine.counters = state.counters
        for saved in state.books:
            book = engine._books[saved.spec.symbol]
            book.depth_known = saved.depth_known
            book.mkt_bids.levels, book.mkt_bids.used = dict(saved.mkt_bids), dict(saved.bid_used)
            book.mkt_asks.levels, book.mkt_asks.used = dict(saved.mkt_asks), dict(saved.ask_used)
            for order in saved.orders:  # in seq order, so each level's FIFO is rebuilt as it was
                book.ours(order.side).add(order)
                engine._orders[order.order_id] = order
                engine._by_client[(order.participant, order.client_order_id)] = order
        return engine

    # -- requests ---------------------------------------------------------------------------------

    def _fence(self, participant: str, epoch: int) -> str:
        """Why ``epoch`` is refused for ``participant`` ("" when accepted, and then recorded)."""
        if type(epoch) is not int:
            return f"epoch {epoch!r} is not an integer"
        highest = self._epochs.get(participant)
        if highest is not None and epoch < highest:
            self.counters.stale_epoch += 1
            log.info("stale epoch %d from %s (highest seen %d)", epoch, participant, highest)
            return "stale epoch"
        if highest is None or epoch > highest:
            self._epochs[participant] = epoch
        return ""

    def _new(self, req: NewOrder) -> list[Event]:
        events: list[Event] = []
        reason = self._validate_new(req)
        if reason:
            self.counters.rejected += 1
            log.debug("reject %s/%s: %s", req.participant, req.client_order_id, reason)
            events.append(self._reject_new(req, reason))
            return events
        book = self._books[req.symbol]
        is_market = req.order_type == OrdType.MARKET
        order = RestingOrder(
            order_id=self._next_order_id, participant=req.participant, client_order_id=req.client_order_id,
            symbol=req.symbol, side=req.side, order_type=req.order_type, tif=req.tif, post_only=req.post_only,
            price=0 if is_market else req.price, qty=req.qty, leaves_qty=req.qty, ts_ns=req.ts_ns,
        )
        limit = None if is_market else req.price
        if req.post_only and self._would_take(book, req.side, limit):
            self.counters.rejected += 1
            events.append(self._reject_new(req, "post-only order would take liquidity"))
            return events
        self._next_order_id += 1
        events.append(self._report(order, ExecType.NEW, req.ts_ns))
        if req.tif == TimeInForce.FOK and self._fillable(book, order, limit) < order.qty:
            order.leaves_qty = 0
            events.append(self._report(order, ExecType.CANCELED, req.ts_ns, reason="FOK order cannot be filled in full"))
            return events
        self._take(book, order, limit, req.ts_ns, events)
        if order.leaves_qty:
            if is_market or req.tif not in _RESTING_TIFS:
                order.leaves_qty = 0
                why = "no more liquidity for the market order" if is_market else "unfilled IOC quantity canceled"
                events.append(self._report(order, ExecType.CANCELED, req.ts_ns, reason=why))
            else:
                self._rest(book, order)
        return events

    def _validate_new(self, req: NewOrder) -> str:
        fence = self._fence(req.participant, req.epoch)
        if fence:
            return fence
        book = self._books.get(req.symbol)
        if book is None:
            return f"unknown symbol {req.symbol!r}"
        if req.side not in _SIDES:
            return f"side {req.side!r} is not BUY or SELL"
        if req.order_type not in _ORD_TYPES:
            return f"order type {req.order_type!r} is not supported"
        if req.tif not in _TIFS:
            return f"time in force {req.tif!r} is not supported"
        if type(req.qty) is not int or type(req.price) is not int:
            return "quantity and price must be integers (shares, nanodollars)"
        if req.qty <= 0:
            return "quantity must be positive"
        if req.order_type == OrdType.LIMIT:
            if req.price <= 0:
                return "limit price must be positive"
            if req.price % book.spec.tick:
                return f"price {req.price} is not a multiple of the tick {book.spec.tick}"
        if req.post_only and (req.order_type != OrdType.LIMIT or req.tif not in _RESTING_TIFS):
            return "post-only needs a DAY or GTC limit order"
        if not req.client_order_id:
            return "client order id is empty"
        if (req.participant, req.client_order_id) in self._by_client:
            return f"duplicate client order id {req.client_order_id!r}"
        return ""

    def _cancel(self, req: CancelOrder) -> list[Event]:
        order = self._by_client.get((req.participant, req.orig_client_order_id))
        reason = self._fence(req.participant, req.epoch)
        if not reason and order is None:
            reason = f"unknown order {req.orig_client_order_id!r}"
        elif not reason and order is not None and order.symbol != req.symbol:
            reason = f"order {req.orig_client_order_id!r} is on {order.symbol}, not {req.symbol}"
        if reason:
            return [self._cancel_reject(req, order, CancelRejectResponseTo.CANCEL, reason)]
        assert order is not None
        self._unrest(order)
        order.leaves_qty = 0
        return [
            self._report(
                order, ExecType.CANCELED, req.ts_ns, client_order_id=req.client_order_id,
                orig_client_order_id=req.orig_client_order_id,
            ),
        ]

    def _replace(self, req: ReplaceOrder) -> list[Event]:
        order = self._by_client.get((req.participant, req.orig_client_order_id))
        reason = self._validate_replace(req, order)
        if reason:
            return [self._cancel_reject(req, order, CancelRejectResponseTo.REPLACE, reason)]
        assert order is not None
        book = self._books[order.symbol]
        keeps_priority = req.price == order.price and req.qty <= order.qty
        del self._by_client[(order.participant, order.client_order_id)]
        order.client_order_id = req.client_order_id
        self._by_client[(order.participant, order.client_order_id)] = order
        events: list[Event] = []
        if keeps_priority:
            order.qty = req.qty
            order.leaves_qty = req.qty - order.cum_qty
            events.append(self._report(order, ExecType.REPLACED, req.ts_ns, orig_client_order_id=req.orig_client_order_id))
            return events
        self._unrest(order)
        order.qty = req.qty
        order.price = req.price
        order.leaves_qty = req.qty - order.cum_qty
        events.append(self._report(order, ExecType.REPLACED, req.ts_ns, orig_client_order_id=req.orig_client_order_id))
        self._take(book, order, order.price, req.ts_ns, events)
        if order.leaves_qty:
            self._rest(book, order)
        return events

    def _validate_replace(self, req: ReplaceOrder, order: RestingOrder | None) -> str:
        fence = self._fence(req.participant, req.epoch)
        if fence:
            return fence
        if order is None:
            return f"unknown order {req.orig_client_order_id!r}"
        if order.symbol != req.symbol:
            return f"order {req.orig_client_order_id!r} is on {order.symbol}, not {req.symbol}"
        book = self._books[order.symbol]
        if type(req.qty) is not int or type(req.price) is not int:
            return "quantity and price must be integers (shares, nanodollars)"
        if req.price <= 0 or req.price % book.spec.tick:
            return f"price {req.price} is not a positive multiple of the tick {book.spec.tick}"
        if req.qty <= order.cum_qty:
            return f"new quantity {req.qty} must exceed the filled quantity {order.cum_qty}"
        if req.client_order_id != req.orig_client_order_id and (req.participant, req.client_order_id) in self._by_client:
            return f"duplicate client order id {req.client_order_id!r}"
        if not req.client_order_id:
            return "client order id is empty"
        if order.post_only and req.price != order.price and self._would_take(book, order.side, req.price):
            return "post-only order would take liquidity at the new price"
        return ""

    def _mass_cancel(self, req: MassCancel) -> list[Event]:
        fence = self._fence(req.participant, req.epoch)
        if fence:
            self.counters.cancel_rejected += 1
            return [
                MassCancelReport(
                    participant=req.participant, request_id=req.request_id, symbol=req.symbol, side=req.side,
                    canceled=0, ts_ns=req.ts_ns, rejected=True, reason=fence,
                ),
            ]
        events: list[Event] = []
        targets = [
            o for o in self._orders.values()
            if o.participant == req.participant
            and (req.symbol is None or o.symbol == req.symbol)
            and (req.side is None or o.side == req.side)
        ]
        for order in sorted(targets, key=lambda o: o.order_id):
            self._unrest(order)
            order.leaves_qty = 0
            events.append(self._report(order, ExecType.CANCELED, req.ts_ns, reason=f"mass cancel {req.request_id}"))
        events.append(
            MassCancelReport(
                participant=req.participant, request_id=req.request_id, symbol=req.symbol, side=req.side,
                canceled=len(targets), ts_ns=req.ts_ns,
            ),
        )
        return events

    # -- matching ---------------------------------------------------------------------------------

    def _crossing_prices(self, book: _Book, side: Side, limit: int | None) -> list[int]:
        """Prices on the opposite side (participant or replayed) an order reaches, best first."""
        ours = book.asks if side == BUY else book.bids
        market = book.mkt_asks if side == BUY else book.mkt_bids
        a = ours.crossing(limit)
        b = market.crossing(limit)
        if not b:
            return a
        if not a:
            return b
        return sorted(set(a) | set(b), reverse=side == SELL)

    def _would_take(self, book: _Book, side: Side, limit: int | None) -> bool:
        """Whether an order at ``limit`` would take anything (a participant's own orders included)."""
        ours = book.asks if side == BUY else book.bids
        return bool(ours.crossing(limit)) or bool(book.market(SELL if side == BUY else BUY).crossing(limit))

    def _fillable(self, book: _Book, order: RestingOrder, limit: int | None) -> int:
        """How much ``order`` could fill now (others' orders plus available replayed size), capped at its size."""
        ours = book.asks if order.side == BUY else book.bids
        market = book.mkt_asks if order.side == BUY else book.mkt_bids
        total = 0
        for p in self._crossing_prices(book, order.side, limit):
            total += market.avail(p)
            for o in ours.levels.get(p, ()):
                if o.participant != order.participant:
                    total += o.leaves_qty
            if total >= order.qty:
                return order.qty
        return total

    def _take(self, book: _Book, order: RestingOrder, limit: int | None, ts: int, events: list[Event]) -> None:
        """Match an incoming (or re-priced) order against the opposite side, best price first."""
        ours = book.asks if order.side == BUY else book.bids
        market = book.mkt_asks if order.side == BUY else book.mkt_bids
        for price in self._crossing_prices(book, order.side, limit):
            if not order.leaves_qty:
                return
            queue = ours.levels.get(price)
            avail = market.avail(price)
            front = 0  # replayed size taken at this level
            if queue:
                i = 0
                while i < len(queue) and order.leaves_qty:
                    resting = queue[i]
                    gap = min(resting.ahead, avail) - front
                    if gap > 0:
                        qty = min(order.leaves_qty, gap)
                        self._fill(order, price, qty, Liquidity.TAKER, self._match_id(), MARKET_COUNTERPARTY, ts, events)
                        front += qty
                        if not order.leaves_qty:
                            break
                    if resting.participant == order.participant:
                        self.counters.self_trade_cancels += 1
                        ours.remove_at(queue, i)
                        self._forget(resting)
                        resting.leaves_qty = 0
                        events.append(self._report(resting, ExecType.CANCELED, ts, reason="self-trade prevention"))
                        continue
                    qty = min(order.leaves_qty, resting.leaves_qty)
                    match_id = self._match_id()
                    self._fill(order, price, qty, Liquidity.TAKER, match_id, resting.participant, ts, events)
                    self._fill(resting, price, qty, Liquidity.MAKER, match_id, order.participant, ts, events)
                    if resting.leaves_qty:
                        i += 1
                    else:
                        ours.remove_at(queue, i)
                        self._forget(resting)
            if order.leaves_qty and avail > front:
                qty = min(order.leaves_qty, avail - front)
                self._fill(order, price, qty, Liquidity.TAKER, self._match_id(), MARKET_COUNTERPARTY, ts, events)
                front += qty
            if front:
                market.consume(price, front)
                if queue:
                    for resting in queue:
                        resting.ahead = resting.ahead - front if resting.ahead > front else 0

    def _rest(self, book: _Book, order: RestingOrder) -> None:
        ours = book.ours(order.side)
        order.seq = self._next_seq
        self._next_seq += 1
        order.ahead = join_ahead(ours.levels.get(order.price), book.market(order.side), order.price, book.depth_known)
        ours.add(order)
        self._orders[order.order_id] = order
        self._by_client[(order.participant, order.client_order_id)] = order

    def _unrest(self, order: RestingOrder) -> None:
        self._books[order.symbol].ours(order.side).remove(order)
        self._forget(order)

    def _forget(self, order: RestingOrder) -> None:
        del self._orders[order.order_id]
        del self._by_client[(order.participant, order.client_order_id)]

    def _match_id(self) -> int:
        match_id = self._next_match_id
        self._next_match_id += 1
        return match_id

    def _fill(
        self, order: RestingOrder, price: int, qty: int, liquidity: Liquidity, match_id: int,
        counterparty: str, ts: int, events: list[Event],
    ) -> None:
        order.cum_qty += qty
        order.leaves_qty -= qty
        order.cum_notional += price * qty
        events.append(
            self._report(
                order, ExecType.FILL if order.leaves_qty == 0 else ExecType.PARTIAL_FILL, ts,
                last_px=price, last_qty=qty, liquidity=liquidity, match_id=match_id, counterparty=counterparty,
            ),
        )

    def _apply_maker_fills(
        self, ours: ParticipantSide, fills: list[tuple[RestingOrder, int]], ts: int, events: list[Event],
    ) -> None:
        """Fill resting orders against the replayed market at their own price; remove the completed."""
        for order, qty in fills:
            self._fill(order, order.price, qty, Liquidity.MAKER, self._match_id(), MARKET_COUNTERPARTY, ts, events)
            if not order.leaves_qty:
                ours.remove(order)
                self._forget(order)

    # -- market events ----------------------------------------------------------------------------

    def _on_level(self, book: _Book, ts: int, side: Side, price: int, size: int, events: list[Event]) -> None:
        book.market(side).set_level(price, size)
        book.depth_known = True
        queue = book.ours(side).levels.get(price)
        if queue:
            clamp_queue(queue, size)
        if size:
            self._cross_resting(book, side, price, ts, events)

    def _on_quote(self, book: _Book, ts: int, side: Side, price: int, size: int, events: list[Event]) -> None:
        book.market(side).replace_all(price, size)
        book.depth_known = False
        ours = book.ours(side)
        if not size:
            for queue in ours.levels.values():
                clamp_queue(queue, 0)
            return
        for p in ours.at_or_better(price):
            # In front of the market's touch an order is alone: nothing is ahead any more.
            clamp_queue(ours.levels[p], size if p == price else 0)
        self._cross_resting(book, side, price, ts, events)

    def _on_clear(self, book: _Book) -> None:
        book.mkt_bids.clear()
        book.mkt_asks.clear()
        for ours in (book.bids, book.asks):
            for queue in ours.levels.values():
                clamp_queue(queue, 0)

    def _cross_resting(self, book: _Book, side: Side, price: int, ts: int, events: list[Event]) -> None:
        """A replayed level at ``price`` on ``side`` reaching our opposite resting orders fills them."""
        ours = book.asks if side == BUY else book.bids
        best = ours.best()
        if best is None or (best > price if side == BUY else best < price):
            return
        market = book.market(side)
        avail = market.avail(price)
        used = 0
        for p in ours.at_or_better(price):
            if used == avail:
                break
            fills, left = walk_through_volume(ours.levels[p], avail - used)
            used = avail - left
            self._apply_maker_fills(ours, fills, ts, events)
        market.consume(price, used)

    def _on_trade(self, book: _Book, ts: int, aggressor: int, price: int, size: int, events: list[Event]) -> None:
        if aggressor in (SELL, NO_AGGRESSOR):
            self._trade_reaches(book.bids, price, size, ts, events)
        if aggressor in (BUY, NO_AGGRESSOR):
            self._trade_reaches(book.asks, price, size, ts, events)
        if aggressor == SELL:
            book.mkt_bids.seed_trade(price, size)
        elif aggressor == BUY:
            book.mkt_asks.seed_trade(price, size)

    def _trade_reaches(self, ours: ParticipantSide, price: int, size: int, ts: int, events: list[Event]) -> None:
        """A print at ``price`` of ``size``: through-levels fill first, then the queue at the price."""
        remaining = size
        for p in ours.at_or_better(price):
            queue = ours.levels[p]
            if p == price:
                fills, remaining = walk_trade_volume(queue, remaining)
            else:
                fills, remaining = walk_through_volume(queue, remaining)
            self._apply_maker_fills(ours, fills, ts, events)
            if not remaining:
                break

    # -- reports ----------------------------------------------------------------------------------

    def _report(
        self, order: RestingOrder, exec_type: ExecType, ts: int, *, client_order_id: str | None = None,
        orig_client_order_id: str = "", last_px: int = 0, last_qty: int = 0, liquidity: Liquidity = Liquidity.NONE,
        match_id: int = 0, counterparty: str = "", response_to: CancelRejectResponseTo = CancelRejectResponseTo.NONE,
        reason: str = "",
    ) -> ExecutionReport:
        exec_id = self._next_exec_id
        self._next_exec_id = exec_id + 1
        cum_qty = order.cum_qty
        return ExecutionReport(
            exec_id=exec_id, exec_type=exec_type, ts_ns=ts, participant=order.participant, symbol=order.symbol,
            order_id=order.order_id,
            client_order_id=order.client_order_id if client_order_id is None else client_order_id,
            orig_client_order_id=orig_client_order_id, side=order.side, order_type=order.order_type, tif=order.tif,
            price=order.price, order_qty=order.qty, leaves_qty=order.leaves_qty, cum_qty=cum_qty,
            avg_px=avg_price(order.cum_notional, cum_qty),
            last_px=last_px, last_qty=last_qty, liquidity=liquidity, match_id=match_id, counterparty=counterparty,
            response_to=response_to, reason=reason,
        )

    def _reject_new(self, req: NewOrder, reason: str) -> ExecutionReport:
        exec_id = self._next_exec_id
        self._next_exec_id = exec_id + 1
        return ExecutionReport(
            exec_id=exec_id, exec_type=ExecType.REJECTED, ts_ns=req.ts_ns, participant=req.participant,
            symbol=req.symbol, order_id=0, client_order_id=req.client_order_id, side=req.side,
            order_type=req.order_type, tif=req.tif, price=req.price, order_qty=req.qty, leaves_qty=0, cum_qty=0,
            reason=reason,
        )

    def _cancel_reject(
        self, req: CancelOrder | ReplaceOrder, order: RestingOrder | None, response_to: CancelRejectResponseTo,
        reason: str,
    ) -> ExecutionReport:
        self.counters.cancel_rejected += 1
        log.debug("cancel-reject %s/%s: %s", req.participant, req.client_order_id, reason)
        if order is not None:
            return self._report(
                order, ExecType.CANCEL_REJECTED, req.ts_ns, client_order_id=req.client_order_id,
                orig_client_order_id=req.orig_client_order_id, response_to=response_to, reason=reason,
            )
        exec_id = self._next_exec_id
        self._next_exec_id = exec_id + 1
        return ExecutionReport(
            exec_id=exec_id, exec_type=ExecType.CANCEL_REJECTED, ts_ns=req.ts_ns, participant=req.participant,
            symbol=req.symbol, order_id=0, client_order_id=req.client_order_id,
            orig_client_order_id=req.orig_client_order_id, side=Side.BUY, order_type=OrdType.LIMIT,
            tif=TimeInForce.DAY, price=0, order_qty=0, leaves_qty=0, cum_qty=0, response_to=response_to,
            reason=reason,
        )

    def _bad_event(self, symbol: str, event: object, reason: str) -> list[Event]:
        self.counters.bad_market_events += 1
        log.warning("skipped market event for %s: %s: %r", symbol, reason, event)
        return []
