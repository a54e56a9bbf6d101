"""Replayed market liquidity and the queue model of participant orders resting among it.

The venue is fed the catalog day's market data as plain tuples ``(ts_ns, kind, side, price, size)``
(prices in nanodollars, sizes in shares), per symbol:

``(ts, CLEAR, 0, 0, 0)``
    The replayed book is emptied (the start of a snapshot).
``(ts, LEVEL, side, price, size)``
    Depth (L2, market by price): the displayed size at one price level is now ``size``; 0 deletes it.
``(ts, QUOTE, side, price, size)``
    Top of book only (L1): the whole side is now the single level ``price``/``size``; size 0 empties it.
``(ts, TRADE, aggressor, price, size)``
    A print; ``aggressor`` is ``Side.BUY``, ``Side.SELL`` or ``NO_AGGRESSOR``.

How participant orders interact with it (all quantities are integers; nothing is random):

1. **Taking replayed liquidity.** An incoming participant order that crosses the replayed opposite
   side takes the *available* size at each crossed level, best price first, at the level's price
   (TAKER). Available = displayed minus consumed. **Liquidity consumption:** what we take is
   remembered per level and not offered again until the market refreshes that level (any LEVEL
   event at the price, a QUOTE on the side, or a CLEAR). A replayed trade also consumes the levels
   it swept (aggressor BUY: asks up to its price; SELL: bids down to it), so we cannot take what
   the market has just taken before the book update arrives.
2. **Queue position.** A resting participant order records ``ahead`` = the replayed quantity
   available at its price and side when it joined the level (behind any earlier participant order
   there). ``ahead`` only shrinks:
   - a replayed trade at the order's price, whose aggressor is on the other side (or unknown),
     flows through the level in time order: first the replayed quantity ahead of the first
     participant order, then that order (it fills), then the replayed quantity between it and the
     next participant order, and so on (``walk_trade_volume``);
   - a participant taker consuming the replayed quantity ahead moves everyone behind it forward;
   - the displayed size at the price dropping below ``ahead`` clamps it (``clamp_queue``): the
     level holds at least everything still ahead of us, so ``ahead <= displayed`` is a certainty,
     not an optimistic guess. A DELETE or CLEAR therefore puts the order at the front.
   On a top-of-book (QUOTE) feed, a level behind the touch is invisible: an order joining there
   gets ``UNKNOWN_AHEAD`` and learns its queue when the quote reaches its price (clamp).
3. **Trade-through.** A replayed trade at a price worse than a resting order's limit (a sell print
   below our bid, a buy print above our offer) means the market traded through it: those orders
   fill at their own price (MAKER), best price first and in time order, regardless of ``ahead``
   (the whole level was swept), up to the trade's size; what is left then reaches the orders at
   the trade's own price (point 2).
4. **Book crossing.** A replayed LEVEL or QUOTE at or through a resting order's price (an offer at or
   below our bid) fills it at its own price (MAKER) up to that level's available size, best price
   first, in time order; the level's liquidity is consumed.
5. Participant orders also match each other with ordinary price-time priority; at one price level
   the replayed quantity ahead of a participant order is taken before it.

Compared with NautilusTrader's ``OrderMatchingEngine`` (``queue_position=True``,
``liquidity_consumption=True``, ``trade_execution=True``), the differences are deliberate:
Nautilus never credits a shrinking level (only DELETE/CLEAR reset the queue), sends every modify to
the back of the queue (we keep priority on a size-down at the same price), decrements the queue
of every order at a price by the full trade size (we let our own earlier fills absorb their share),
and blocks trade-through fills while the queue ahead is non-zero. See docs/venue.md.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from hftmm.venue.orders import RestingOrder

CLEAR = 0
LEVEL = 1
QUOTE = 2
TRADE = 3
KINDS = (CLEAR, LEVEL, QUOTE, TRADE)
KIND_NAMES = {CLEAR: "CLEAR", LEVEL: "LEVEL", QUOTE: "QUOTE", TRADE: "TRADE"}

NO_AGGRESSOR = 0
"""``side`` of a TRADE whose aggressor is not known."""

UNKNOWN_AHEAD = 1 << 62
"""``ahead`` of an order resting where a top-of-book feed shows no depth; the next quote at its price sets it."""

MarketEvent = tuple[int, int, int, int, int]
"""``(ts_ns, kind, side, price, size)``."""


class ReplayedSide:
    """One side of the replayed market book: displayed size per price and what we consumed of it.

    Parameters
    ----------
    is_bid : bool
        True for the bid side (best = highest price), False for the ask side.
    """

    __slots__ = ("is_bid", "levels", "used")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[int, int] = {}
        self.used: dict[int, int] = {}

    def displayed(self, price: int) -> int:
        """Displayed size at ``price`` (0 when the level is absent)."""
        return self.levels.get(price, 0)

    def avail(self, price: int) -> int:
        """Displayed minus consumed at ``price``."""
        size = self.levels.get(price, 0)
        return size - self.used.get(price, 0) if size else 0

    def set_level(self, price: int, size: int) -> None:
        """L2 update: the level is now ``size`` (0 deletes it); fresh data ends its consumption."""
        if size > 0:
            self.levels[price] = size
        else:
            self.levels.pop(price, None)
        self.used.pop(price, None)

    def replace_all(self, price: int, size: int) -> None:
        """L1 update: the side is now the single level ``price``/``size`` (empty when size is 0)."""
        self.levels.clear()
        self.used.clear()
        if size > 0:
            self.levels[price] = size

    def clear(self) -> None:
        """Empty the side."""
        self.levels.clear()
        self.used.clear()

    def consume(self, price: int, qty: int) -> None:
        """Mark ``qty`` of the level at ``price`` as taken."""
        if qty > 0 and price in self.levels:
            self.used[price] = self.used.get(price, 0) + qty

    def best(self) -> int | None:
        """Best displayed price, or None when the side is empty."""
        if not self.levels:
            return None
        return max(self.levels) if self.is_bid else min(self.levels)

    def crossing(self, limit: int | None) -> list[int]:
        """Prices with available size that a counter order limited at ``limit`` reaches, best first.

        ``limit`` None is a market order (every level).
        """
        used = self.used
        if self.is_bid:
            prices = [p for p, s in self.levels.items() if (limit is None or p >= limit) and s > used.get(p, 0)]
            prices.sort(reverse=True)
        else:
            prices = [p for p, s in self.levels.items() if (limit is None or p <= limit) and s > used.get(p, 0)]
            prices.sort()
        return prices

    def seed_trade(self, price: int, size: int) -> None:
        """A replayed trade of ``size`` swept this side best first down (bids) or up (asks) to ``price``."""
        remaining = size
        for p in self.crossing(price):
            take = min(remaining, self.avail(p))
            self.consume(p, take)
            remaining -= take
            if remaining == 0:
                break


class ParticipantSide:
    """One side of the participant book: FIFO queues per price, and the sorted prices.

    Parameters
    ----------
    is_bid : bool
        True for bids (best = highest price).
    """

    __slots__ = ("is_bid", "levels", "prices")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[int, list[RestingOrder]] = {}
        self.prices: list[int] = []  # ascending

    def best(self) -> int | None:
        """Best price with a resting order, or None."""
        if not self.prices:
            return None
        return self.prices[-1] if self.is_bid else self.prices[0]

    def add(self, order: RestingOrder) -> None:
        """Append ``order`` at the back of its price level."""
        queue = self.levels.get(order.price)
        if queue is None:
            self.levels[order.price] = [order]
            i = bisect_left(self.prices, order.price)
            self.prices.insert(i, order.price)
        else:
            queue.append(order)

    def remove_at(self, queue: list[RestingOrder], index: int) -> None:
        """Remove ``queue[index]``; drop the level when it empties."""
        price = queue[index].price
        del queue[index]
        if not queue:
            del self.levels[price]
            del self.prices[bisect_left(self.prices, price)]

    def remove(self, order: RestingOrder) -> None:
        """Remove ``order`` from its level (identity match)."""
        queue = self.levels[order.price]
        for i, o in enumerate(queue):
            if o is order:
                self.remove_at(queue, i)
                return
        raise KeyError(order.order_id)

    def crossing(self, limit: int | None) -> list[int]:
        """Prices a counter order limited at ``limit`` reaches, best first (None: every price)."""
        prices = self.prices
        if self.is_bid:
            start = 0 if limit is None else bisect_left(prices, limit)
            return prices[start:][::-1]
        end = len(prices) if limit is None else bisect_right(prices, limit)
        return prices[:end]

    def at_or_better(self, price: int) -> list[int]:
        """Prices at ``price`` or better than it, best first."""
        if self.is_bid:
            return self.prices[bisect_left(self.prices, price):][::-1]
        return self.prices[: bisect_right(self.prices, price)]

    def orders(self) -> list[RestingOrder]:
        """Every resting order in priority order (best price first, then time)."""
        return [o for p in self.crossing(None) for o in self.levels[p]]


def join_ahead(queue: list[RestingOrder] | None, market: ReplayedSide, price: int, depth_known: bool) -> int:
    """``ahead`` of an order joining the back of ``queue`` at ``price``.

    The available replayed size at the price, never less than the order in front of it has (an
    order cannot overtake an earlier one). On a top-of-book feed, a price behind the displayed
    touch is ``UNKNOWN_AHEAD``.
    """
    ahead = market.avail(price)
    if ahead == 0 and not depth_known and price not in market.levels:
        best = market.best()
        if best is not None and (price < best if market.is_bid else price > best):
            ahead = UNKNOWN_AHEAD
    if queue:
        ahead = max(ahead, queue[-1].ahead)
    return ahead


def clamp_queue(queue: list[RestingOrder], displayed: int) -> None:
    """The level now displays ``displayed``: nobody can have more than that ahead of them."""
    for o in queue:
        if o.ahead > displayed:
            o.ahead = displayed


def walk_trade_volume(queue: list[RestingOrder], volume: int) -> tuple[list[tuple[RestingOrder, int]], int]:
    """A replayed trade of ``volume`` at this level's price flows through its queue in time order.

    Replayed quantity ahead of each participant order trades first, then the order itself. Updates
    every order's ``ahead`` by the replayed quantity that traded; does not touch order sizes.

    Returns
    -------
    fills : list of (order, qty)
        What the participant orders fill, in queue order.
    remaining : int
        The volume left after the level (0 unless the queue and its replayed share are exhausted).
    """
    fills: list[tuple[RestingOrder, int]] = []
    front = 0
    for o in queue:
        gap = o.ahead - front
        if gap > 0:
            take = min(volume, gap)
            volume -= take
            front += take
        if volume == 0:
            break
        qty = min(volume, o.leaves_qty)
        fills.append((o, qty))
        volume -= qty
        if volume == 0:
            break
    if front:
        for o in queue:
            o.ahead = o.ahead - front if o.ahead > front else 0
    return fills, volume


def walk_through_volume(queue: list[RestingOrder], volume: int) -> tuple[list[tuple[RestingOrder, int]], int]:
    """The market traded through this level: its queue is gone; orders fill in time order up to ``volume``."""
    fills: list[tuple[RestingOrder, int]] = []
    for o in queue:
        o.ahead = 0
        if volume:
            qty = min(volume, o.leaves_qty)
            fills.append((o, qty))
            volume -= qty
    return fills, volume
