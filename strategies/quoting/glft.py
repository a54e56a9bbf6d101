"""Guéant-Lehalle-Fernandez-Tapia (2013) optimal quotes, as pure functions.

Model: arithmetic Brownian mid ``dS = mu dt + sigma dW``, Poisson fills at intensity
``A * exp(-k * delta)`` with ``delta`` measured from the mid, CARA risk aversion ``gamma``, and a
hard inventory bound ``|q| <= Q`` (no bid at ``q = Q``, no ask at ``q = -Q``).

Units must be consistent, and are the caller's (calibration converts, the formulas never do):
prices and ``delta`` in dollars; ``sigma`` in dollars per square root of the time unit; ``A`` per
time unit; ``mu`` in dollars per time unit; ``k`` per dollar; ``gamma`` per dollar for inventory
``q`` in quote units; horizons ``tau = T - t`` in the same time unit. The time unit cancels in every
asymptotic formula (``sigma**2 / A`` is per-time over per-time), so seconds or session fractions
give the same asymptotic quotes as long as ``sigma``, ``A`` and ``mu`` agree.

Two solutions:

- ``GlftExact``: the finite-horizon solution through the matrix exponential of a tridiagonal
  matrix (market-making-models.md §2.1), with the drift term of GLFT §5.1 (``M`` gains
  ``-k mu q`` on its diagonal);
- ``asymptotic_deltas`` / ``asymptotic_quotes``: the infinite-horizon closed form (§2.2), with
  the drift (``mu``) and adverse-selection (``xi``) extensions of §2.3, and
  ``sized_half_spread_and_skew``, the order-size version of Guéant (2017).

All outputs are unrounded; tick rounding, minimum spread and caps live in ``quote_shaping``.
Free of NautilusTrader imports on purpose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy.linalg

# Below this fraction of the largest component, an entry of v computed from the eigenvectors has
# lost more than ~1e-7 of its relative precision (eigh is accurate to ~1e-16 of the norm, not of
# each component), so ``deltas`` recomputes it with a matrix exponential.
_EIGEN_RELIABLE = 1e-9


def liquidity_half_spread(gamma: float, k: float) -> float:
    """``(1/gamma) * ln(1 + gamma/k)``, dollars: the half-spread of a maker with no inventory risk.

    Parameters
    ----------
    gamma : float
        Risk aversion, per dollar (> 0).
    k : float
        Intensity decay, per dollar (> 0).
    """
    return math.log1p(gamma / k) / gamma


def asymptotic_skew(gamma: float, sigma: float, k: float, a: float) -> float:
    """``c = sqrt(sigma^2 gamma / (2 k A) * (1 + gamma/k)^(1 + k/gamma))``: dollars of skew per unit.

    Parameters
    ----------
    gamma : float
        Risk aversion, per dollar.
    sigma : float
        Volatility, dollars per sqrt(time unit).
    k : float
        Intensity decay, per dollar.
    a : float
        Intensity at the mid, per time unit.
    """
    return math.sqrt(sigma * sigma * gamma / (2.0 * k * a) * (1.0 + gamma / k) ** (1.0 + k / gamma))


def asymptotic_half_spread(gamma: float, sigma: float, k: float, a: float) -> float:
    """Infinite-horizon half-spread at ``q = 0``, dollars: ``(1/gamma) ln(1 + gamma/k) + c/2``.

    Parameters as for ``asymptotic_skew``.
    """
    return liquidity_half_spread(gamma, k) + 0.5 * asymptotic_skew(gamma, sigma, k, a)


def asymptotic_deltas(
    q: float, gamma: float, sigma: float, k: float, a: float, mu: float = 0.0, xi: float = 0.0,
) -> tuple[float, float]:
    """Infinite-horizon distances ``(delta_bid, delta_ask)`` of the quotes from the mid, dollars.

    ``delta_b = h + ((2q + 1)/2 - mu/(gamma sigma^2)) c'`` and
    ``delta_a = h + (mu/(gamma sigma^2) - (2q - 1)/2) c'`` with ``h = ln(1 + gamma/k)/gamma + xi/2``
    and ``c' = c exp(k xi / 4)``.

    Parameters
    ----------
    q : float
        Inventory in quote units (fractional inventories interpolate linearly).
    gamma, sigma, k, a : float
        Risk aversion (per dollar), volatility (dollars per sqrt(time unit)), intensity decay (per
        dollar) and intensity at the mid (per time unit).
    mu : float
        Drift of the mid (alpha), dollars per time unit: acts like an inventory offset of
        ``mu / (gamma sigma^2)`` units (GLFT §5.1).
    xi : float
        Permanent price impact of each fill, dollars: widens each side by ``xi/2`` and multiplies
        the skew by ``exp(k xi / 4)`` (GLFT §5.2).

    Returns
    -------
    (delta_bid, delta_ask) : tuple of float
        Dollars; ``bid = mid - delta_bid``, ``ask = mid + delta_ask``. Either may be negative (a
        quote through the mid) at extreme inventory or drift.
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
    """Unrounded infinite-horizon GLFT ``(bid, ask)`` in dollars (see ``asymptotic_deltas``)."""
    db, da = asymptotic_deltas(q, gamma, sigma, k, a, mu, xi)
    return mid - db, mid + da


def sized_half_spread_and_skew(
    gamma: float, sigma: float, k: float, a: float, size: float, xi: float | None = None,
) -> tuple[float, float]:
    """Guéant (2017, eqs. 4.6-4.7) asymptotic half-spread and skew for orders of ``size`` units.

    ``c1 = ln(1 + xi size / k) / (xi size)``,
    ``c2 = sqrt(gamma / (2 A size k) * (1 + xi size / k)^(k / (xi size) + 1))``;
    ``half = c1 + (size/2) sigma c2`` and ``skew = sigma c2``, so that
    ``bid = mid - half - skew q`` and ``ask = mid + half - skew q`` (hftbacktest's GLFT form).

    Parameters
    ----------
    gamma : float
        Risk aversion, per dollar per unit of inventory (units are those of ``size`` and ``q``).
    sigma, k, a : float
        Volatility (dollars per sqrt(time unit)), intensity decay (per dollar), intensity at the
        mid (orders per time unit).
    size : float
        Order size Delta, in inventory units (> 0).
    xi : float, optional
        The second risk parameter of Guéant (2017); ``None`` means ``xi = gamma`` (the CARA
        objective, which reproduces ``asymptotic_half_spread``/``asymptotic_skew`` at ``size = 1``).

    Returns
    -------
    (half, skew) : tuple of float
        Dollars, and dollars per inventory unit.
    """
    xi = gamma if xi is None else xi
    xd = xi * size
    c1 = math.log1p(xd / k) / xd
    c2 = math.sqrt(gamma / (2.0 * a * size * k) * (1.0 + xd / k) ** (k / xd + 1.0))
    return c1 + 0.5 * size * sigma * c2, sigma * c2


@dataclass(frozen=True)
class GlftExact:
    """The exact finite-horizon GLFT solution for one parameter set.

    ``M`` is the (2Q+1)x(2Q+1) tridiagonal matrix with ``alpha q^2 - k mu q`` on the diagonal
    (``alpha = k gamma sigma^2 / 2``) and ``-eta`` beside it (``eta = A (1 + gamma/k)^-(1 + k/gamma)``);
    ``v(tau) = exp(-M tau) 1`` and the optimal distances are
    ``delta_b(q) = ln(v_q / v_{q+1}) / k + ln(1 + gamma/k) / gamma`` and
    ``delta_a(q) = ln(v_q / v_{q-1}) / k + ln(1 + gamma/k) / gamma``.

    ``M`` is symmetric, so it is diagonalised once at construction and each call is three dot
    products. Where ``v`` spans many orders of magnitude (large ``gamma sigma^2 k / A``, extreme
    inventory) the eigenvector route loses relative precision in the smallest components; those
    calls are recomputed with ``scipy.linalg.expm`` (slower, about 1 ms, exact). Use
    ``exact_solution`` to share one instance per parameter set.

    Parameters
    ----------
    gamma, sigma, k, a : float
        As in ``asymptotic_deltas`` (units: per dollar, dollars/sqrt(time), per dollar, per time).
    q_max : int
        Inventory bound Q, quote units (>= 1).
    mu : float
        Drift of the mid, dollars per time unit.
    """

    gamma: float
    sigma: float
    k: float
    a: float
    q_max: int
    mu: float = 0.0
    _m: np.ndarray = field(init=False, repr=False)
    _eigenvalues: np.ndarray = field(init=False, repr=False)
    _eigenvectors: np.ndarray = field(init=False, repr=False)
    _projection: np.ndarray = field(init=False, repr=False)
    _liquidity: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.q_max < 1:
            raise ValueError(f"q_max must be >= 1, got {self.q_max}")
        if min(self.gamma, self.sigma, self.k, self.a) <= 0:
            raise ValueError("gamma, sigma, k and a must be > 0")
        alpha = 0.5 * self.k * self.gamma * self.sigma**2
        eta = self.a * (1.0 + self.gamma / self.k) ** (-(1.0 + self.k / self.gamma))
        q = np.arange(-self.q_max, self.q_max + 1, dtype=float)
        m = np.diag(alpha * q * q - self.k * self.mu * q) - eta * (np.eye(q.size, k=1) + np.eye(q.size, k=-1))
        w, v = np.linalg.eigh(m)
        object.__setattr__(self, "_m", m)
        object.__setattr__(self, "_eigenvalues", w)
        object.__setattr__(self, "_eigenvectors", v)
        object.__setattr__(self, "_projection", v.T @ np.ones(q.size))
        object.__setattr__(self, "_liquidity", liquidity_half_spread(self.gamma, self.k))

    def _weights(self, tau: float) -> np.ndarray:
        w = self._eigenvalues
        # Shift by the smallest eigenvalue so that long horizons neither overflow nor underflow;
        # the positive factor exp(-w0 tau) cancels in every log-ratio.
        return np.exp(-(w - w[0]) * tau) * self._projection

    def v(self, tau: float) -> np.ndarray:
        """``exp(-M tau) 1`` up to a positive factor, for q = -Q..Q, via the eigendecomposition.

        Parameters
        ----------
        tau : float
            Time to the horizon, in the time unit of ``sigma`` and ``a`` (>= 0).
        """
        return self._eigenvectors @ self._weights(tau)

    def v_expm(self, tau: float) -> np.ndarray:
        """``exp(-(M - w0) tau) 1`` with ``scipy.linalg.expm``: entrywise accurate, about 1 ms."""
        shift = self._eigenvalues[0] * np.eye(self._m.shape[0])
        return scipy.linalg.expm(-(self._m - shift) * tau) @ np.ones(self._m.shape[0])

    def deltas(self, tau: float, q: int) -> tuple[float, float]:
        """``(delta_bid, delta_ask)`` in dollars at inventory ``q`` with ``tau`` time units left.

        A side that would take the inventory past ``q_max`` is NaN (do not quote it).

        Raises
        ------
        ValueError
            If ``|q| > q_max``.
        """
        qm = self.q_max
        if abs(q) > qm:
            raise ValueError(f"|q| = {abs(q)} exceeds q_max = {qm}")
        i = q + qm
        lo, hi = max(i - 1, 0), min(i + 1, 2 * qm)
        weights = self._weights(tau)
        rows = self._eigenvectors[lo:hi + 1] @ weights
        # The largest component of v is bounded below by |v| / sqrt(n); compare with its norm.
        scale = float(np.sqrt(weights @ weights))
        if rows.min() <= _EIGEN_RELIABLE * scale:
            rows = self.v_expm(tau)[lo:hi + 1]
        vi = float(rows[i - lo])
        base, k = self._liquidity, self.k
        db = math.log(vi / float(rows[i + 1 - lo])) / k + base if q < qm else math.nan
        da = math.log(vi / float(rows[i - 1 - lo])) / k + base if q > -qm else math.nan
        return db, da

    def stationary_deltas(self, q: int) -> tuple[float, float]:
        """The ``tau -> infinity`` limit of ``deltas`` (ground state of ``M``), dollars."""
        gap = float(self._eigenvalues[1] - self._eigenvalues[0])
        # After 40 relaxation times the excited modes weigh below e^-40 relative to the ground state.
        return self.deltas(40.0 / gap, q)

    def quotes(self, mid: float, tau: float, q: int) -> tuple[float, float]:
        """Unrounded exact GLFT ``(bid, ask)`` in dollars (NaN for a side that must not be quoted)."""
        db, da = self.deltas(tau, q)
        return mid - db, mid + da


@lru_cache(maxsize=64)
def exact_solution(gamma: float, sigma: float, k: float, a: float, q_max: int, mu: float = 0.0) -> GlftExact:
    """A shared ``GlftExact`` per parameter set (the eigendecomposition is done once per set)."""
    return GlftExact(gamma, sigma, k, a, q_max, mu)


def glft_deltas(
    q: float, gamma: float, sigma: float, k: float, a: float, tau: float | None, q_max: int,
    mu: float = 0.0, xi: float = 0.0,
) -> tuple[float, float]:
    """GLFT ``(delta_bid, delta_ask)``, dollars: exact to a horizon, or asymptotic without one.

    Parameters
    ----------
    q : float
        Inventory in quote units; the exact solution lives on integers, so it is rounded there.
    tau : float or None
        Time to the horizon (the session close), in the time unit of ``sigma``, ``a`` and ``mu``;
        ``None`` or ``inf`` for the infinite horizon (closed form).
    q_max : int
        Inventory bound Q in quote units: a side that would cross it is NaN.
    xi : float
        Adverse-selection impact, dollars; only the asymptotic form has it, so with a finite
        horizon it is added as the same ``xi/2`` widening (the skew factor is not applied).
    """
    if tau is None or math.isinf(tau):
        db, da = asymptotic_deltas(q, gamma, sigma, k, a, mu, xi)
        if q + 1 > q_max:
            db = math.nan
        if q - 1 < -q_max:
            da = math.nan
        return db, da
    qi = max(-q_max, min(q_max, round(q)))
    db, da = exact_solution(gamma, sigma, k, a, q_max, mu).deltas(tau, qi)
    return db + 0.5 * xi, da + 0.5 * xi


def hamiltonian_scale(gamma: float, k: float, a: float) -> float:
    """``(A/k) (1 + gamma/k)^-(1 + k/gamma)``: ``H(p) = scale * exp(-k p)`` for one side.

    ``H(p) = sup_delta A exp(-k delta) (1 - exp(-gamma (delta - p))) / gamma`` is reached at
    ``delta = p + ln(1 + gamma/k)/gamma``; this is its value at ``p = 0``.
    """
    return a / k * (1.0 + gamma / k) ** (-(1.0 + k / gamma))


@dataclass(frozen=True)
class GlftSided:
    """The finite-horizon GLFT solution with a different ``(A, k)`` on each side.

    With one ``k`` for both sides the change of variable ``theta = ln(v)/k`` makes the HJB
    system linear (``GlftExact``); with two it stays nonlinear, so it is integrated numerically:

    ``d theta_q / d tau = mu q - gamma sigma^2 q^2 / 2 + H_b(theta_q - theta_{q+1}) + H_a(theta_q - theta_{q-1})``

    from ``theta(0, q) = 0``, where ``H_s(p) = (A_s/k_s)(1 + gamma/k_s)^-(1 + k_s/gamma) exp(-k_s p)``
    (the bid term is absent at ``q = Q``, the ask term at ``q = -Q``), and the distances are
    ``delta_b(q) = theta_q - theta_{q+1} + ln(1 + gamma/k_b)/gamma`` and
    ``delta_a(q) = theta_q - theta_{q-1} + ln(1 + gamma/k_a)/gamma`` (Guéant 2017, §3, CARA case).

    The system is solved once per parameter set on a grid of horizons up to ``tau_max`` (stiff
    solver, tridiagonal Jacobian) and ``deltas`` interpolates linearly in ``tau`` between grid
    points; beyond ``tau_max`` the quotes are those at ``tau_max`` (by then stationary, see
    ``relaxed``). With equal sides it reproduces ``GlftExact`` (a test checks it).

    Parameters
    ----------
    gamma, sigma : float
        Risk aversion (per dollar) and volatility (dollars per sqrt(time unit)).
    k_bid, a_bid : float
        Intensity decay (per dollar) and intensity at the mid (per time unit) of fills of our bid
        (sells reaching down to it).
    k_ask, a_ask : float
        The same for our ask.
    q_max : int
        Inventory bound Q, quote units.
    tau_max : float
        Longest horizon solved, in the time unit (e.g. a session's seconds).
    mu : float
        Drift of the mid, dollars per time unit.
    points : int
        Horizon grid points (geometric from ``tau_max * 1e-6``, plus 0).
    """

    gamma: float
    sigma: float
    k_bid: float
    a_bid: float
    k_ask: float
    a_ask: float
    q_max: int
    tau_max: float
    mu: float = 0.0
    points: int = 400
    _tau: np.ndarray = field(init=False, repr=False)
    _db: np.ndarray = field(init=False, repr=False)
    _da: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.q_max < 1:
            raise ValueError(f"q_max must be >= 1, got {self.q_max}")
        if min(self.gamma, self.sigma, self.k_bid, self.a_bid, self.k_ask, self.a_ask, self.tau_max) <= 0:
            raise ValueError("gamma, sigma, k_bid, a_bid, k_ask, a_ask and tau_max must be > 0")
        from scipy.integrate import solve_ivp  # noqa: PLC0415 - only this solver needs it

        n = 2 * self.q_max + 1
        q = np.arange(-self.q_max, self.q_max + 1, dtype=float)
        running = self.mu * q - 0.5 * self.gamma * self.sigma**2 * q * q
        kb, ka = self.k_bid, self.k_ask
        hb, ha = hamiltonian_scale(self.gamma, kb, self.a_bid), hamiltonian_scale(self.gamma, ka, self.a_ask)

        def rhs(_: float, theta: np.ndarray) -> np.ndarray:
            out = running.copy()
            out[:-1] += hb * np.exp(-kb * (theta[:-1] - theta[1:]))
            out[1:] += ha * np.exp(-ka * (theta[1:] - theta[:-1]))
            return out

        def jac(_: float, theta: np.ndarray) -> np.ndarray:
            j = np.zeros((n, n))
            eb = hb * np.exp(-kb * (theta[:-1] - theta[1:]))
            ea = ha * np.exp(-ka * (theta[1:] - theta[:-1]))
            idx = np.arange(n - 1)
            j[idx, idx] -= kb * eb
            j[idx, idx + 1] += kb * eb
            j[idx + 1, idx + 1] -= ka * ea
            j[idx + 1, idx] += ka * ea
            return j

        grid = np.concatenate(([0.0], np.geomspace(self.tau_max * 1e-6, self.tau_max, self.points)))
        sol = solve_ivp(rhs, (0.0, self.tau_max), np.zeros(n), method="BDF", t_eval=grid, jac=jac,
                        rtol=1e-9, atol=1e-12)
        if not sol.success:
            raise RuntimeError(f"GLFT sided solution failed: {sol.message}")
        theta = sol.y.T  # (tau, q)
        base_b = liquidity_half_spread(self.gamma, kb)
        base_a = liquidity_half_spread(self.gamma, ka)
        db = np.full_like(theta, np.nan)
        da = np.full_like(theta, np.nan)
        db[:, :-1] = theta[:, :-1] - theta[:, 1:] + base_b
        da[:, 1:] = theta[:, 1:] - theta[:, :-1] + base_a
        object.__setattr__(self, "_tau", sol.t)
        object.__setattr__(self, "_db", db)
        object.__setattr__(self, "_da", da)

    def deltas(self, tau: float, q: int) -> tuple[float, float]:
        """``(delta_bid, delta_ask)`` in dollars at inventory ``q`` with ``tau`` left (NaN: do not quote).

        Raises
        ------
        ValueError
            If ``|q| > q_max``.
        """
        if abs(q) > self.q_max:
            raise ValueError(f"|q| = {abs(q)} exceeds q_max = {self.q_max}")
        i = q + self.q_max
        t = min(max(tau, 0.0), self.tau_max)
        return float(np.interp(t, self._tau, self._db[:, i])), float(np.interp(t, self._tau, self._da[:, i]))

    def relaxed(self, rtol: float = 1e-6) -> bool:
        """Whether the quotes at ``tau_max`` no longer move with the horizon (the stationary regime)."""
        a, b = self._db[-2:, :-1], self._da[-2:, 1:]
        return bool(np.allclose(a[0], a[1], rtol=rtol, atol=0) and np.allclose(b[0], b[1], rtol=rtol, atol=0))
