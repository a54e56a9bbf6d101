"""From unrounded model quotes to tradable ones: ticks, minimum spread, book safety, caps, sizes.

The quote models (``avellaneda_stoikov``, ``glft``) return unrounded dollar prices so that they can
be checked against their papers; this layer turns ``(bid, ask)`` into ``Quotes``:

1. round each price to the tick, ``"join"`` (toward the touch: bid up, ask down) or
   ``"step_back"`` (away from it: bid down, ask up) — the equity tick decision of
   market-making-models.md §5.4 when the optimal distance is below a tick;
2. widen to ``min_spread_ticks`` symmetrically about the centre of the rounded pair;
3. never touch the opposite best (post-only safe): ``bid < best_ask`` and ``ask > best_bid``;
4. ``levels`` levels per side, ``level_step_ticks`` apart, away from the touch;
5. sizes: ``base_size`` shares, reduced on the side that adds inventory by
   ``exp(-eta * |position| / max_position)`` (Hummingbot's eta with normalised inventory, as its
   PR #3235 asks), rounded to ``lot``, then clipped so that filling every level of a side cannot
   take ``|position|`` past ``max_position``; no bid at ``position >= max_position`` and no ask at
   ``position <= -max_position``.

Prices are computed in integer ticks and converted once, rounded to the tick's decimals, so that
they are the floats closest to exact tick multiples. Every step is monotone in the input prices,
and the whole map commutes with the reflection about the mid (when the best bid and ask are on the
tick grid); ``tests/quoting/test_quote_shaping.py`` checks both. Free of NautilusTrader imports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import msgspec

TickMode = Literal["join", "step_back"]

# A price within this many ticks of a tick multiple is that multiple: 10.03 / 0.01 is
# 1002.9999999999999 in binary floating point and must floor to 1003, not 1002.
_TICK_EPS = 1e-7


# msgspec Structs rather than frozen dataclasses: construction is about 10x cheaper (a frozen
# dataclass goes through object.__setattr__), and six Levels are built per quote update.
class Level(msgspec.Struct, frozen=True, gc=False):
    """One quote: ``price`` in dollars (a tick multiple), ``size`` in shares (a lot multiple, > 0)."""

    price: float
    size: int


class Quotes(msgspec.Struct, frozen=True):
    """Bid levels best (highest) first and ask levels best (lowest) first; empty = no quote."""

    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()


@dataclass(frozen=True, slots=True)
class ShapingParams:
    """How unrounded quotes become tradable ones.

    Parameters
    ----------
    tick : float
        Price increment, dollars (> 0).
    base_size : int
        Shares per level before the size skew (rounded to the nearest lot).
    max_position : int
        Absolute position cap, shares (> 0).
    mode : "join" or "step_back"
        Tick rounding toward the touch (more aggressive) or away from it (more passive).
    min_spread_ticks : int
        Minimum distance between our best bid and best ask, ticks (>= 1). When the two rounded
        prices are closer, both move apart about their centre; with an odd shortfall and a
        half-tick centre the result may be one tick wider than the minimum (that keeps the map
        mirror-symmetric).
    levels : int
        Levels per side (>= 1).
    level_step_ticks : int
        Distance between consecutive levels of a side, ticks (>= 1).
    eta : float
        Size-skew shape factor (>= 0): the side adding inventory quotes
        ``base_size * exp(-eta * |position| / max_position)``.
    lot : int
        Size granularity, shares (>= 1); sizes round to the nearest lot, then down to fit the cap.
    """

    tick: float
    base_size: int
    max_position: int
    mode: TickMode = "join"
    min_spread_ticks: int = 1
    levels: int = 1
    level_step_ticks: int = 1
    eta: float = 0.0
    lot: int = 1
    decimals: int = field(init=False)

    def __post_init__(self) -> None:
        if not self.tick > 0:
            raise ValueError(f"tick must be > 0, got {self.tick}")
        if self.mode not in ("join", "step_back"):
            raise ValueError(f"mode must be 'join' or 'step_back', got {self.mode!r}")
        if self.min_spread_ticks < 1 or self.levels < 1 or self.level_step_ticks < 1 or self.lot < 1:
            raise ValueError("min_spread_ticks, levels, level_step_ticks and lot must be >= 1")
        if self.max_position <= 0 or self.base_size < 0 or self.eta < 0:
            raise ValueError("max_position must be > 0, base_size and eta >= 0")
        exponent = Decimal(repr(self.tick)).normalize().as_tuple().exponent
        object.__setattr__(self, "decimals", max(0, -int(exponent)))


def to_ticks_floor(price: float, tick: float) -> int:
    """The largest tick multiple <= ``price``, in ticks (exact multiples stay put)."""
    return math.floor(price / tick + _TICK_EPS)


def to_ticks_ceil(price: float, tick: float) -> int:
    """The smallest tick multiple >= ``price``, in ticks (exact multiples stay put)."""
    return math.ceil(price / tick - _TICK_EPS)


def _side_levels(
    first_tick: int, step_ticks: int, room: float, size: int, params: ShapingParams,
) -> tuple[Level, ...]:
    """Levels from ``first_tick`` outward (``step_ticks`` signed), best first, whose sizes total at
    most ``room`` shares; each size a positive lot multiple; nothing at or below a zero price."""
    lot, tick, dec = params.lot, params.tick, params.decimals
    out: list[Level] = []
    left = room
    t = first_tick
    for _ in range(params.levels):
        s = math.floor(left / lot + 1e-9) * lot
        if s > size:
            s = size
        if s <= 0 or t <= 0:
            break
        out.append(Level(round(t * tick, dec), s))
        left -= s
        t += step_ticks
    return tuple(out)


def _lot_round(x: float, lot: int) -> int:
    # Half-up rounding (not Python's banker's rounding) so equal distances from the cap on either
    # side of zero inventory give the same size.
    return int(math.floor(x / lot + 0.5)) * lot


def shape_quotes(
    bid: float, ask: float, position: float, best_bid: float, best_ask: float, params: ShapingParams,
) -> Quotes:
    """Tradable ``Quotes`` from unrounded model prices.

    Parameters
    ----------
    bid, ask : float
        Unrounded model prices, dollars; NaN or infinite means "do not quote this side" (e.g. the
        exact GLFT solution at its inventory bound).
    position : float
        Signed position, shares (long positive).
    best_bid, best_ask : float
        The market's touch, dollars (NaN if that side of the book is empty: no clamp).
    params : ShapingParams
        Rounding, spread, cap, size and level settings.

    Returns
    -------
    Quotes
        Bid and ask levels, best first. A side is empty when the cap forbids it, its size rounds to
        zero, or its model price is NaN.
    """
    tick = params.tick
    has_bid = math.isfinite(bid) and position < params.max_position
    has_ask = math.isfinite(ask) and position > -params.max_position
    if params.mode == "join":
        b = to_ticks_ceil(bid, tick) if has_bid else 0
        a = to_ticks_floor(ask, tick) if has_ask else 0
    else:
        b = to_ticks_floor(bid, tick) if has_bid else 0
        a = to_ticks_ceil(ask, tick) if has_ask else 0
    m = params.min_spread_ticks
    if has_bid and has_ask and a - b < m:
        centre2 = a + b  # twice the centre, in ticks: keeps half-tick centres exact
        b = min(b, (centre2 - m) // 2)
        a = max(a, -((-(centre2 + m)) // 2))
    # Post-only safety against the book; each clamp only moves a quote away, so the spread holds.
    if has_bid and not math.isnan(best_ask):
        b = min(b, to_ticks_ceil(best_ask, tick) - 1)
    if has_ask and not math.isnan(best_bid):
        a = max(a, to_ticks_floor(best_bid, tick) + 1)

    size, lot, cap = params.base_size, params.lot, params.max_position
    skew = math.exp(-params.eta * abs(position) / cap) if params.eta > 0 else 1.0
    bid_size = _lot_round(size * skew if position > 0 else size, lot)
    ask_size = _lot_round(size * skew if position < 0 else size, lot)
    step = params.level_step_ticks
    bids = _side_levels(b, -step, cap - position, bid_size, params) if has_bid else ()
    asks = _side_levels(a, step, cap + position, ask_size, params) if has_ask else ()
    return Quotes(bids, asks)
