"""Guéant-Lehalle-Fernandez-Tapia (2013) optimal quotes, as pure functions.

Model: arithmetic Brownian mid with volatility ``sigma``, Poisson fills at intensity
``A * exp(-k * delta)`` with ``delta`` measured from the mid, CARA risk aversion ``gamma``, and a
hard inventory bound ``|q| <= Q`` (no bid at ``q = Q``, no ask at ``q = -Q``). Units as for
``avellaneda_stoikov``: prices in dollars, ``sigma`` per square root of the time unit of ``A`` and
of the horizon, ``k`` per dollar, ``q`` in quote units.

Two solutions:
- ``exact_quotes`` / ``GlftExact``: the closed-form solution of the finite-horizon problem through
  the matrix exponential of a tridiagonal matrix (eq. references in market-making-models.md §2.1);
- ``asymptotic_quotes``: the infinite-horizon approximation (§2.2), with the drift (alpha) and
  adverse-selection extensions of §2.3.

Free of NautilusTrader imports on purpose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def liquidity_half_spread(gamma: float, k: float) -> float:
    """``(1/gamma) * ln(1 + gamma/k)``: the half-spread of a risk-neutral-in-inventory maker."""
    return math.log1p(gamma / k) / gamma


def asymptotic_skew(gamma: float, sigma: float, k: float, a: float) -> float:
    """``c = sqrt(sigma^2 gamma / (2 k A) * (1 + gamma/k)^(1 + k/gamma))``: price skew per unit of inventory."""
    return math.sqrt(sigma * sigma * gamma / (2.0 * k * a) * (1.0 + gamma / k) ** (1.0 + k / gamma))


def asymptotic_deltas(
    q: float, gamma: float, sigma: float, k: float, a: float, mu: float = 0.0, xi: float = 0.0,
) -> tuple[float, float]:
    """Infinite-horizon distances ``(delta_bid, delta_ask)`` of the quotes from the mid.

    Parameters
    ----------
    q : float
        Inventory in quote units.
    gamma, sigma, k, a : float
        Risk aversion, volatility, intensity decay and scale.
    mu : float
        Drift of the mid (alpha), dollars per time unit: acts like an inventory offset of
        ``mu / (gamma sigma^2)`` units (GLFT §5.1).
    xi : float
        Permanent price impact of each fill, dollars: widens each side by ``xi/2`` and multiplies
        the skew by ``exp(k xi / 4)`` (GLFT §5.2).
    """
    half = liquidity_half_spread(gamma, k) + 0.5 * xi
    c = asymptotic_skew(gamma, sigma, k, a) * math.exp(0.25 * k * xi)
    offset = mu / (gamma * sigma * sigma)
    delta_bid = half + ((2.0 * q + 1.0) / 2.0 - offset) * c
    delta_ask = half + (offset - (2.0 * q - 1.0) / 2.0) * c
    return delta_bid, delta_ask


def asymptotic_quotes(
    mid: float, q: float, gamma: float, sigma: float, k: float, a: float, mu: float = 0.0, xi: float = 0.0,
) -> tuple[float, float]:
    """Unrounded infinite-horizon GLFT bid and ask (see ``asymptotic_deltas``)."""
    db, da = asymptotic_deltas(q, gamma, sigma, k, a, mu, xi)
    return mid - db, mid + da


@dataclass(frozen=True)
class GlftExact:
    """The exact finite-horizon GLFT solution for one parameter set.

    ``M`` is the (2Q+1)x(2Q+1) tridiagonal matrix with ``alpha q^2`` on the diagonal
    (``alpha = k gamma sigma^2 / 2``) and ``-eta`` beside it (``eta = A (1 + gamma/k)^-(1 + k/gamma)``);
    ``v(tau) = exp(-M tau) 1`` and the optimal distances are
    ``delta_b(q) = ln(v_q / v_{q+1}) / k + ln(1 + gamma/k) / gamma`` and
    ``delta_a(q) = ln(v_q / v_{q-1}) / k + ln(1 + gamma/k) / gamma``.
    ``M`` is symmetric, so it is diagonalised once at construction; each call is then a product.
    """

    gamma: float
    sigma: float
    k: float
    a: float
    q_max: int
    _eigenvalues: np.ndarray = field(init=False, repr=False)
    _eigenvectors: np.ndarray = field(init=False, repr=False)
    _projection: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.q_max < 1:
            raise ValueError(f"q_max must be >= 1, got {self.q_max}")
        alpha = 0.5 * self.k * self.gamma * self.sigma**2
        eta = self.a * (1.0 + self.gamma / self.k) ** (-(1.0 + self.k / self.gamma))
        q = np.arange(-self.q_max, self.q_max + 1, dtype=float)
        m = np.diag(alpha * q * q) - eta * (np.eye(q.size, k=1) + np.eye(q.size, k=-1))
        w, v = np.linalg.eigh(m)
        object.__setattr__(self, "_eigenvalues", w)
        object.__setattr__(self, "_eigenvectors", v)
        object.__setattr__(self, "_projection", v.T @ np.ones(q.size))

    def v(self, tau: float) -> np.ndarray:
        """``exp(-M tau) 1`` up to a positive factor (which the log-ratios cancel), for q = -Q..Q."""
        w = self._eigenvalues
        # Shift by the smallest eigenvalue so that long horizons neither overflow nor underflow.
        return self._eigenvectors @ (np.exp(-(w - w[0]) * tau) * self._projection)

    def deltas(self, tau: float, q: int) -> tuple[float, float]:
        """``(delta_bid, delta_ask)`` at inventory ``q`` with ``tau`` time units left.

        A side that would take the inventory past ``q_max`` is NaN (do not quote it).
        """
        if abs(q) > self.q_max:
            raise ValueError(f"|q| = {abs(q)} exceeds q_max = {self.q_max}")
        v = self.v(tau)
        i = q + self.q_max
        base = liquidity_half_spread(self.gamma, self.k)
        db = math.log(v[i] / v[i + 1]) / self.k + base if q < self.q_max else math.nan
        da = math.log(v[i] / v[i - 1]) / self.k + base if q > -self.q_max else math.nan
        return db, da

    def quotes(self, mid: float, tau: float, q: int) -> tuple[float, float]:
        """Unrounded exact GLFT bid and ask (NaN for a side that must not be quoted)."""
        db, da = self.deltas(tau, q)
        return mid - db, mid + da
