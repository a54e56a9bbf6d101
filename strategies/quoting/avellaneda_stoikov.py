"""Avellaneda-Stoikov (2008) quotes as pure functions.

Units are the caller's to choose but must be consistent: prices in dollars, ``sigma`` in dollars per
square root of the time unit of ``tau``, ``k`` in 1/dollars, ``q`` in the inventory unit that the risk
aversion ``gamma`` was set for. The functions do no tick rounding, no minimum-spread clamp and no
order-book clamp: those belong to the rounding layer, so that these can be checked against the paper.

Free of NautilusTrader imports on purpose (see docs/architecture.md).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatLike = float | npt.NDArray[np.float64]


def reservation_price(mid: FloatLike, q: FloatLike, gamma: float, sigma: float, tau: FloatLike) -> FloatLike:
    """Indifference price ``r = s - q * gamma * sigma**2 * (T - t)`` (A-S eq. 29).

    Parameters
    ----------
    mid : float or ndarray
        Mid price ``s``.
    q : float or ndarray
        Signed inventory (long positive).
    gamma : float
        Risk aversion, > 0.
    sigma : float
        Volatility of the arithmetic Brownian mid, per square root of the time unit.
    tau : float or ndarray
        Time left to the horizon, ``T - t`` (>= 0).
    """
    return mid - q * gamma * sigma * sigma * tau


def total_spread(gamma: float, sigma: float, tau: FloatLike, k: float) -> FloatLike:
    """Optimal TOTAL spread ``gamma*sigma**2*(T-t) + (2/gamma)*ln(1 + gamma/k)`` (A-S eq. 30).

    The spread is centred on the reservation price, not the mid; it does not depend on inventory.
    """
    return gamma * sigma * sigma * tau + (2.0 / gamma) * np.log1p(gamma / k)


def quotes(
    mid: FloatLike, q: FloatLike, gamma: float, sigma: float, tau: FloatLike, k: float
) -> tuple[FloatLike, FloatLike]:
    """Unrounded A-S bid and ask: ``r -/+ spread/2``.

    Returns
    -------
    (bid, ask)
        Same shape as the broadcast of ``mid``, ``q`` and ``tau``.
    """
    r = reservation_price(mid, q, gamma, sigma, tau)
    half = 0.5 * total_spread(gamma, sigma, tau, k)
    return r - half, r + half
