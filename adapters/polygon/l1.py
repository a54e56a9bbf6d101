"""The level changes of a one-level (NBBO) book: pure Python, no NautilusTrader.

The live client turns every NBBO update into book deltas; ``adapters.taq.book.AggregatedBook``
does the same for any number of contributors, but its generality (per-venue maps, sets, sorting)
costs several microseconds per quote. With one contributor the diff is a handful of comparisons;
``l1_changes`` gives exactly what ``AggregatedBook.apply`` gives for a single contributor, in the
same order (bids before asks, ascending price within a side), which a test checks.
"""

from __future__ import annotations

from adapters.taq.book import ADD, ASK, BID, DELETE, UPDATE

# (bid price, bid size, ask price, ask size): prices in 1e-4 $, sizes in shares, zeros for a missing side.
Touch = tuple[int, int, int, int]
EMPTY: Touch = (0, 0, 0, 0)


def _side(side: int, old_px: int, old_sz: int, new_px: int, new_sz: int, out: list[tuple[int, int, int, int]]) -> None:
    if old_px == new_px:
        if old_sz != new_sz:
            if not new_sz:
                out.append((side, DELETE, old_px, 0))
            elif not old_sz:
                out.append((side, ADD, new_px, new_sz))
            else:
                out.append((side, UPDATE, new_px, new_sz))
        return
    # Two prices: the lower first, as AggregatedBook sorts the levels it touched.
    if old_sz and (not new_sz or old_px < new_px):
        out.append((side, DELETE, old_px, 0))
        if new_sz:
            out.append((side, ADD, new_px, new_sz))
    else:
        if new_sz:
            out.append((side, ADD, new_px, new_sz))
        if old_sz:
            out.append((side, DELETE, old_px, 0))


def l1_changes(old: Touch, new: Touch) -> list[tuple[int, int, int, int]]:
    """(side, action, price, size after) of each level that changes from ``old`` to ``new``.

    A side is missing when its price or size is 0 (the caller normalises both to 0).
    """
    out: list[tuple[int, int, int, int]] = []
    _side(BID, old[0], old[1], new[0], new[1], out)
    _side(ASK, old[2], old[3], new[2], new[3], out)
    return out
