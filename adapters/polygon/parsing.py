"""Decoded WebSocket messages -> NautilusTrader ``QuoteTick``, ``TradeTick`` and L1 ``OrderBookDeltas``.

The rules match the historical ingests so that live and backtest see the same kinds of events:

- QuoteTicks only for two-sided, uncrossed, unlocked NBBO updates (as the TAQ ingest writes them);
- TradeTicks only for lit trades (exchange id 4, the TRFs/ADF, is off-exchange) whose conditions
  make a regular print (``ConditionTable.trade_reason``; without a table every lit trade is kept);
  the aggressor side is Lee-Ready against the last NBBO received (the tick test at the mid);
- the book is the NBBO as an L1 market-by-price book: the same deltas as the TAQ adapter's
  ``AggregatedBook`` with one contributor (``l1.l1_changes``, checked against it in the tests), a
  crossed or locked NBBO withdrawing both sides as a crossed venue quote does in TAQ.

Prices and sizes are converted to Nautilus raw fixed-point integers directly (``from_raw``), which
is what makes batch parsing fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.enums import AggressorSide, BookAction, OrderSide, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId, TradeId
from nautilus_trader.model.objects import FIXED_PRECISION

from adapters.polygon.l1 import EMPTY, Touch, l1_changes
from adapters.polygon.messages import IGNORED_TYPES, Problem, Quote, Status, Trade, decode_frame
from adapters.polygon.reference import OFF_EXCHANGE_ID, ConditionTable
from adapters.taq.book import ADD, ASK, BID, DELETE, PRICE_SCALE, UPDATE
from adapters.taq.providers import PRICE_PRECISION

_SIZE_RAW = 10**FIXED_PRECISION  # raw of one share at size precision 0
_MS = 100_000_000_000_000  # a ms epoch is below this (see messages.ms_to_ns)
_RAW_PER_UNIT = 10 ** (FIXED_PRECISION - PRICE_PRECISION)  # raw of 1e-4 $ at precision 4
_BUYER, _SELLER = AggressorSide.BUYER, AggressorSide.SELLER
_SIDES = {BID: OrderSide.BUY, ASK: OrderSide.SELL}
_ACTIONS = {ADD: BookAction.ADD, UPDATE: BookAction.UPDATE, DELETE: BookAction.DELETE}
_CLEAR, _NO_SIDE = BookAction.CLEAR, OrderSide.NO_ORDER_SIDE
_F_SNAPSHOT, _F_LAST = int(RecordFlag.F_SNAPSHOT), int(RecordFlag.F_LAST)


@dataclass(slots=True)
class SymbolRoute:
    """What to build for one Polygon ticker, and its per-symbol state.

    Parameters
    ----------
    instrument_id : InstrumentId
        The Nautilus instrument the ticker's events belong to.
    price_precision : int
        The instrument's price precision (ticks are built at it).
    quotes, trades, book : bool
        Whether QuoteTicks, TradeTicks and L1 OrderBookDeltas are wanted.
    """

    instrument_id: InstrumentId
    price_precision: int = PRICE_PRECISION
    quotes: bool = False
    trades: bool = False
    book: bool = False
    touch: Touch = EMPTY  # the L1 book as last published
    book_sequence: int = 0
    snapshot_next: bool = True
    last_bid: int = 0  # last NBBO in 1e-4 $, for the aggressor side
    last_ask: int = 0
    last_trade: int = 0  # 1e-4 $
    last_tick: AggressorSide = AggressorSide.NO_AGGRESSOR
    price_factor: int = 0
    raw_factor: int = 0

    def __post_init__(self) -> None:
        self.price_factor = 10**self.price_precision
        self.raw_factor = 10 ** (FIXED_PRECISION - self.price_precision)

    @property
    def wanted(self) -> bool:
        return self.quotes or self.trades or self.book

    def reset_book(self) -> None:
        """Forget the L1 state (after a reconnect): the next NBBO is published as a snapshot."""
        self.touch = EMPTY
        self.snapshot_next = True


@dataclass(slots=True)
class ParserStats:
    """Counters of everything the parser saw (exported as metrics by the data client)."""

    frames: int = 0
    messages: int = 0
    quotes: int = 0
    trades: int = 0
    statuses: int = 0
    ignored: int = 0
    unrouted: int = 0
    malformed: int = 0
    unknown: int = 0
    quote_ticks: int = 0
    trade_ticks: int = 0
    book_events: int = 0
    quotes_one_sided: int = 0
    quotes_crossed_or_locked: int = 0
    trades_off_exchange: int = 0
    trades_filtered: int = 0
    trades_sub_share: int = 0
    non_ms_timestamps: int = 0


@dataclass(slots=True)
class ParsedFrame:
    """Nautilus objects of one frame in frame order, its status messages and its problems."""

    data: list[QuoteTick | TradeTick | OrderBookDeltas]
    statuses: list[Status]
    problems: list[Problem]


class FrameParser:
    """Turns Polygon stocks frames into Nautilus data for the routed tickers.

    Parameters
    ----------
    quote_size_unit : int
        Shares per unit of ``bs``/``as`` (100: the documented round lots; 1: shares).
    conditions : ConditionTable, optional
        Trade conditions; without it every lit trade becomes a TradeTick.
    on_problem : callable, optional
        Called with each ``Problem`` (the data client logs them).
    """

    def __init__(
        self,
        quote_size_unit: int = 100,
        conditions: ConditionTable | None = None,
        on_problem: Callable[[Problem], None] | None = None,
    ) -> None:
        if quote_size_unit <= 0:
            raise ValueError(f"quote_size_unit must be positive, was {quote_size_unit}")
        self.quote_size_unit = quote_size_unit
        self.conditions = conditions
        self.on_problem = on_problem
        self.routes: dict[str, SymbolRoute] = {}
        self.stats = ParserStats()

    def route(self, ticker: str, instrument_id: InstrumentId, price_precision: int = PRICE_PRECISION) -> SymbolRoute:
        """The route of ``ticker``, created on first use."""
        r = self.routes.get(ticker)
        if r is None:
            r = self.routes[ticker] = SymbolRoute(instrument_id, price_precision)
        return r

    def reset_books(self) -> None:
        """After a reconnect: every L1 book restarts with a snapshot."""
        for r in self.routes.values():
            r.reset_book()

    def parse(self, frame: bytes | str, ts_init: int) -> ParsedFrame:
        """Parse one frame; never raises on bad input (problems are counted and returned).

        Parameters
        ----------
        frame : bytes or str
            The frame's text.
        ts_init : int
            UTC ns at which the frame was received (every object's ``ts_init``).
        """
        stats = self.stats
        stats.frames += 1
        decoded = decode_frame(frame)
        out: list = []
        append = out.append
        statuses: list[Status] = []
        routes = self.routes
        n_quotes = n_trades = unrouted = 0
        # The hot loop: counters are locals and the common cases are inlined (a call per message
        # costs as much as building the tick).
        for msg in decoded.messages:
            cls = type(msg)
            if cls is Quote:
                n_quotes += 1
                r = routes.get(msg.sym)
                if r is None or not (r.quotes or r.book):
                    unrouted += 1
                    continue
                self._quote(msg, r, ts_init, append)
            elif cls is Trade:
                n_trades += 1
                r = routes.get(msg.sym)
                if r is None or not r.trades:
                    unrouted += 1
                    continue
                self._trade(msg, r, ts_init, append)
            elif cls is Status:
                stats.statuses += 1
                statuses.append(msg)
            elif isinstance(msg, IGNORED_TYPES):
                stats.ignored += 1
        stats.quotes += n_quotes
        stats.trades += n_trades
        stats.unrouted += unrouted
        stats.messages += len(decoded.messages) + len(decoded.problems)
        for p in decoded.problems:
            if p.kind == "unknown":
                stats.unknown += 1
            else:
                stats.malformed += 1
            if self.on_problem is not None:
                self.on_problem(p)
        return ParsedFrame(out, statuses, decoded.problems)

    def _quote(self, msg: Quote, r: SymbolRoute, ts_init: int, append: Callable[[object], None]) -> None:
        t = msg.t
        ts = t * 1_000_000 if t < _MS else self._other_unit(t)
        bid = round(msg.bp * PRICE_SCALE)
        ask = round(msg.ap * PRICE_SCALE)
        unit = self.quote_size_unit
        bid_size = round(msg.bs) * unit
        ask_size = round(msg.as_) * unit
        # A zero price or size means the side is missing, never a $0 level.
        if bid <= 0 or bid_size <= 0:
            bid = bid_size = 0
        if ask <= 0 or ask_size <= 0:
            ask = ask_size = 0
        usable = 0 < bid < ask and ask_size > 0
        if not usable:
            if bid and ask:
                self.stats.quotes_crossed_or_locked += 1
            else:
                self.stats.quotes_one_sided += 1
            # Lee-Ready needs a valid prevailing quote; without one, trades go to the tick test.
            r.last_bid = r.last_ask = 0
        else:
            r.last_bid = bid
            r.last_ask = ask
            if r.quotes:
                if r.price_precision == PRICE_PRECISION:
                    bid_raw, ask_raw = bid * _RAW_PER_UNIT, ask * _RAW_PER_UNIT
                else:
                    bid_raw = round(msg.bp * r.price_factor) * r.raw_factor
                    ask_raw = round(msg.ap * r.price_factor) * r.raw_factor
                append(
                    QuoteTick.from_raw(
                        r.instrument_id, bid_raw, ask_raw, r.price_precision, r.price_precision,
                        bid_size * _SIZE_RAW, ask_size * _SIZE_RAW, 0, 0, ts, ts_init,
                    ),
                )
                self.stats.quote_ticks += 1
        if r.book:
            crossed = bid > 0 and ask > 0 and not usable
            touch = EMPTY if crossed else (bid, bid_size, ask, ask_size)
            changes = l1_changes(r.touch, touch)
            r.touch = touch
            if changes or r.snapshot_next:
                append(self._deltas(r, changes, ts, ts_init))

    def _deltas(self, r: SymbolRoute, changes: list[tuple[int, int, int, int]], ts: int, ts_init: int) -> OrderBookDeltas:
        """One book event: a CLEAR first when it is a snapshot, ``F_LAST`` on the last delta."""
        iid, seq = r.instrument_id, r.book_sequence
        flags = _F_SNAPSHOT if r.snapshot_next else 0
        deltas = []
        if r.snapshot_next:
            clear_flags = flags if changes else flags | _F_LAST
            deltas.append(OrderBookDelta.from_raw(iid, _CLEAR, _NO_SIDE, 0, PRICE_PRECISION, 0, 0, 0, clear_flags, seq, ts, ts_init))
        last = len(changes) - 1
        for k, (side, action, px, size) in enumerate(changes):
            deltas.append(
                OrderBookDelta.from_raw(
                    iid, _ACTIONS[action], _SIDES[side], px * _RAW_PER_UNIT, PRICE_PRECISION, size * _SIZE_RAW, 0, 0,
                    flags | _F_LAST if k == last else flags, seq, ts, ts_init,
                ),
            )
        r.snapshot_next = False
        r.book_sequence += 1
        self.stats.book_events += 1
        return OrderBookDeltas(iid, deltas)

    def _trade(self, msg: Trade, r: SymbolRoute, ts_init: int, append: Callable[[object], None]) -> None:
        if msg.x == OFF_EXCHANGE_ID:
            self.stats.trades_off_exchange += 1
            return
        if self.conditions is not None and self.conditions.trade_reason(msg.c):
            self.stats.trades_filtered += 1
            return
        size = round(msg.s)
        if size <= 0:
            self.stats.trades_sub_share += 1
            return
        t = msg.t
        ts = t * 1_000_000 if t < _MS else self._other_unit(t)
        px = round(msg.p * PRICE_SCALE)
        # Tick test state: the sign of the last non-zero price change, this trade included.
        last = r.last_trade
        if last and px != last:
            r.last_tick = _BUYER if px > last else _SELLER
        r.last_trade = px
        # Lee-Ready against the last two-sided NBBO received; at the mid (or with none) the tick test.
        side = r.last_tick
        bid = r.last_bid
        if bid:
            twice, both = 2 * px, bid + r.last_ask
            if twice > both:
                side = _BUYER
            elif twice < both:
                side = _SELLER
        if r.price_precision == PRICE_PRECISION:
            raw = px * _RAW_PER_UNIT
        else:
            raw = round(msg.p * r.price_factor) * r.raw_factor
        append(
            TradeTick.from_raw(
                r.instrument_id, raw, r.price_precision, size * _SIZE_RAW, 0, side,
                TradeId(f"{msg.x}-{msg.i or msg.q}"), ts, ts_init,
            ),
        )
        self.stats.trade_ticks += 1

    def _other_unit(self, t: int) -> int:
        # Not ms: the spec's own examples carry µs and ns values; count it, convert by magnitude.
        self.stats.non_ms_timestamps += 1
        return t * 1_000 if t < _MS * 1000 else t
