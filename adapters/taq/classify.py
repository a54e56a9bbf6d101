"""Trade aggressor side: Lee-Ready against the prevailing NBBO, tick test as the fallback.

TAQ has no aggressor flag. Sides are +1 buyer-initiated, -1 seller-initiated, 0 unknown.
"""

from __future__ import annotations

import numpy as np


def tick_test(price: np.ndarray) -> np.ndarray:
    """Sign of the last non-zero price change before and including each trade (0 until one exists)."""
    n = price.size
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    step = np.sign(np.diff(price, prepend=price[0])).astype(np.int8)
    # Zero ticks inherit the previous non-zero tick (zero-uptick / zero-downtick).
    idx = np.where(step != 0, np.arange(n), 0)
    np.maximum.accumulate(idx, out=idx)
    # step[0] is always 0, so trades before the first price change stay unknown.
    out = step[idx]
    return out


def lee_ready(
    trade_ts: np.ndarray,
    trade_px: np.ndarray,
    quote_ts: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
) -> np.ndarray:
    """Aggressor side of each trade.

    The prevailing quote is the last NBBO strictly before the trade (a quote stamped at the same
    nanosecond may be the trade's own effect). Above the mid: buyer; below: seller; at the mid, or
    with no valid prevailing quote: the tick test over the given trades.

    Parameters
    ----------
    trade_ts, trade_px : ndarray
        Trades in time order (int64 ns; prices as int64 in 1e-4 dollars, so mid comparisons are exact).
    quote_ts, bid, ask : ndarray
        All NBBO updates in time order, in the same price unit; when the prevailing one is
        one-sided, locked or crossed the trade falls back to the tick test.

    Returns
    -------
    ndarray of int8
        +1 buyer-initiated, -1 seller-initiated, 0 unknown.
    """
    side = np.zeros(trade_ts.size, dtype=np.int8)
    if quote_ts.size:
        i = np.searchsorted(quote_ts, trade_ts, side="left") - 1
        has = i >= 0
        j = np.where(has, i, 0)
        b, a = bid[j], ask[j]
        # A crossed, locked or one-sided prevailing quote has no meaningful mid: tick test.
        valid = has & (b > 0) & (a > 0) & (a > b)
        # Compare 2*price with bid+ask: exact on integer price units, no halving.
        twice, both = 2 * trade_px, b + a
        side[valid & (twice > both)] = 1
        side[valid & (twice < both)] = -1
    undecided = side == 0
    if undecided.any():
        side[undecided] = tick_test(trade_px)[undecided]
    return side
