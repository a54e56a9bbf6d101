"""Market-by-price L2 book aggregated across exchanges, and its diff events.

Pure Python/numpy, no NautilusTrader: each exchange's latest usable quote contributes its bid and
ask size to one level per price; a quote row is one book event whose deltas (ADD a new level,
UPDATE a changed size, DELETE a level that emptied) turn the previous aggregated book into the new
one. Prices are integers in 1/10,000 dollar so that equal prices compare equal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

BID, ASK = 0, 1
ADD, UPDATE, DELETE = 1, 2, 3  # the values of Nautilus's BookAction
PRICE_SCALE = 10_000


@dataclass(frozen=True, slots=True)
class Delta:
    """One level change: ``side`` BID/ASK, ``action`` ADD/UPDATE/DELETE, price (1e-4 $), size after."""

    side: int
    action: int
    price: int
    size: int


@dataclass(frozen=True, slots=True)
class BookEvent:
    """The deltas of one quote row, and the aggregated touch after it (0 when a side is empty)."""

    row: int
    deltas: tuple[Delta, ...]
    best_bid: int
    best_bid_size: int
    best_ask: int
    best_ask_size: int

    @property
    def crossed(self) -> bool:
        """Best bid above best ask (both present)."""
        return bool(self.best_bid and self.best_ask and self.best_bid > self.best_ask)

    @property
    def locked(self) -> bool:
        """Best bid equal to best ask (both present)."""
        return bool(self.best_bid and self.best_ask and self.best_bid == self.best_ask)


class AggregatedBook:
    """The cross-exchange L2 book of one symbol."""

    def __init__(self) -> None:
        self.levels: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self.quotes: dict[str, tuple[int, int, int, int]] = {}

    def _contribute(self, quote: tuple[int, int, int, int], sign: int, touched: set[tuple[int, int]]) -> None:
        bid_px, bid_sz, ask_px, ask_sz = quote
        for side, px, sz in ((BID, bid_px, bid_sz), (ASK, ask_px, ask_sz)):
            if px > 0 and sz > 0:
                book = self.levels[side]
                new = book.get(px, 0) + sign * sz
                if new:
                    book[px] = new
                else:
                    del book[px]
                touched.add((side, px))

    def apply(self, exchange: str, quote: tuple[int, int, int, int] | None) -> list[Delta]:
        """Replace one exchange's quote (None withdraws it) and return the level deltas.

        A side with a zero price or size is absent (TAQ's one-sided quote), not a $0 level.
        """
        touched: set[tuple[int, int]] = set()
        old = self.quotes.pop(exchange, None)
        snapshot: dict[tuple[int, int], int] = {}
        for q in (old, quote):
            if q is None:
                continue
            for side, px, sz in ((BID, q[0], q[1]), (ASK, q[2], q[3])):
                if px > 0 and sz > 0:
                    snapshot.setdefault((side, px), self.levels[side].get(px, 0))
        if old is not None:
            self._contribute(old, -1, touched)
        if quote is not None:
            self.quotes[exchange] = quote
            self._contribute(quote, +1, touched)
        deltas = []
        for side, px in sorted(touched):
            was, now = snapshot[(side, px)], self.levels[side].get(px, 0)
            if was == now:
                continue
            action = ADD if was == 0 else DELETE if now == 0 else UPDATE
            deltas.append(Delta(side, action, px, now))
        return deltas

    def touch(self) -> tuple[int, int, int, int]:
        """(best bid, its size, best ask, its size), zeros for an empty side."""
        bids, asks = self.levels
        bb = max(bids) if bids else 0
        ba = min(asks) if asks else 0
        return bb, bids.get(bb, 0), ba, asks.get(ba, 0)


def build_events(
    exchanges: Sequence[str],
    bid_px: np.ndarray,
    bid_sz: np.ndarray,
    ask_px: np.ndarray,
    ask_sz: np.ndarray,
    usable: np.ndarray,
) -> Iterator[BookEvent]:
    """Book events of one symbol's quote rows, in row order.

    Parameters
    ----------
    exchanges : sequence of str
        Participant letter of each row.
    bid_px, ask_px : ndarray of int64
        Prices in 1/10,000 dollar (0 = side missing).
    bid_sz, ask_sz : ndarray of int64
        Sizes in shares (0 = side missing).
    usable : ndarray of bool
        False withdraws the exchange's quote (closed, non-firm or crossed quote).

    Yields one event per row whose quote changed the aggregated book.
    """
    book = AggregatedBook()
    for i, x in enumerate(exchanges):
        quote = (int(bid_px[i]), int(bid_sz[i]), int(ask_px[i]), int(ask_sz[i])) if usable[i] else None
        deltas = book.apply(x, quote)
        if deltas:
            yield BookEvent(i, tuple(deltas), *book.touch())
