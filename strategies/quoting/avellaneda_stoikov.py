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


def infinite_horizon_reservation_prices(
    mid: FloatLike, q: FloatLike, gamma: float, sigma: float, q_max: int,
) -> tuple[FloatLike, FloatLike]:
    """A-S sec. 2.3 frozen-inventory reservation ask and bid with discount ``omega`` (no horizon).

    ``r_a = s + ln(1 + (1 - 2q) g^2 s^2 / (2 w - g^2 q^2 s^2)) / g`` and the same with ``-1 - 2q``
    for ``r_b``, where ``w = g^2 s^2 (q_max + 1)^2 / 2`` keeps ``|q| <= q_max`` admissible.
    Hummingbot calls this variant mistaken and does not use it (market-making-models.md §1.1);
    it is here to compare against, GLFT's asymptotic quotes are the infinite-horizon quoter.

    Parameters
    ----------
    mid, q : float or ndarray
        Mid price (dollars) and inventory (units), ``|q| <= q_max``.
    gamma, sigma : float
        Risk aversion (per dollar) and volatility (dollars per sqrt(time unit)).
    q_max : int
        Inventory bound that sets the discount rate ``omega``; the bid is NaN at ``q >= q_max``
        and the ask at ``q <= -q_max``.

    Returns
    -------
    (r_ask, r_bid) : ndarray
        Dollars (0-d arrays for scalar inputs).
    """
    g2s2 = gamma * gamma * sigma * sigma
    omega = 0.5 * g2s2 * (q_max + 1) ** 2
    denom = 2.0 * omega - g2s2 * q * q
    # At q = q_max the bid's log argument is exactly 0 (r_b = -inf): rounding can make it slightly
    # negative, so the side that would cross the bound is NaN ("do not quote"), as in glft.
    with np.errstate(invalid="ignore", divide="ignore"):
        r_ask = np.where(q > -q_max, mid + np.log1p((1.0 - 2.0 * q) * g2s2 / denom) / gamma, np.nan)
        r_bid = np.where(q < q_max, mid + np.log1p((-1.0 - 2.0 * q) * g2s2 / denom) / gamma, np.nan)
    return r_ask, r_bid


def infinite_horizon_quotes(
    mid: FloatLike, q: FloatLike, gamma: float, sigma: float, k: float, q_max: int,
) -> tuple[FloatLike, FloatLike]:
    """Unrounded ``(bid, ask)`` from the sec. 2.3 reservation prices, each moved out by the
    liquidity term ``ln(1 + gamma/k) / gamma`` (the exact first-order condition for exponential
    intensity)."""
    r_ask, r_bid = infinite_horizon_reservation_prices(mid, q, gamma, sigma, q_max)
    liquidity = np.log1p(gamma / k) / gamma
    return r_bid - liquidity, r_ask + liquidity
