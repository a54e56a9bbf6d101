"""Online EWMA volatility of a mid price sampled at irregular times (pure, O(1) per update)."""

from __future__ import annotations

import math


class EwmaVolatility:
    """Exponentially weighted variance of mid changes per second.

    Each sample at least ``sample_s`` after the previous one contributes ``move^2 / elapsed``
    (a per-second variance), weighted by ``1 - 0.5 ** (elapsed / halflife_s)`` so that irregular
    sampling weighs each observation by the time it covers.

    Parameters
    ----------
    sigma0 : float
        Initial volatility, dollars per sqrt(second).
    halflife_s, sample_s : float
        Half-life of the weights and minimum sample spacing, seconds.
    """

    __slots__ = ("_var", "_last_ns", "_last_mid", "halflife_s", "sample_s")

    def __init__(self, sigma0: float, halflife_s: float, sample_s: float) -> None:
        self._var = sigma0 * sigma0
        self._last_ns = 0
        self._last_mid = math.nan
        self.halflife_s = halflife_s
        self.sample_s = sample_s

    def update(self, ts_ns: int, mid: float) -> None:
        """Feed one mid observation."""
        if math.isnan(self._last_mid):
            self._last_ns, self._last_mid = ts_ns, mid
            return
        elapsed_s = (ts_ns - self._last_ns) * 1e-9
        if elapsed_s < self.sample_s:
            return
        move = mid - self._last_mid
        alpha = 1.0 - 0.5 ** (elapsed_s / self.halflife_s)
        self._var += alpha * (move * move / elapsed_s - self._var)
        self._last_ns, self._last_mid = ts_ns, mid

    def reset(self, sigma: float) -> None:
        """Replace the current estimate (e.g. with a GARCH forecast), keeping the sampling state."""
        self._var = sigma * sigma

    def snapshot(self) -> dict[str, float | int | None]:
        """The estimator's state, JSON-able (to carry it across a restart)."""
        return {"var": self._var, "last_ns": self._last_ns,
                "last_mid": None if math.isnan(self._last_mid) else self._last_mid}

    def restore(self, state: dict[str, float | int | None]) -> None:
        """Continue from a ``snapshot()``."""
        var = float(state["var"])  # type: ignore[arg-type]
        if not (math.isfinite(var) and var > 0):
            raise ValueError(f"variance {var!r} is not a positive number")
        last_mid = state.get("last_mid")
        self._var = var
        self._last_ns = int(state["last_ns"])  # type: ignore[arg-type]
        self._last_mid = math.nan if last_mid is None else float(last_mid)

    @property
    def sigma(self) -> float:
        """Current volatility, dollars per sqrt(second)."""
        return math.sqrt(self._var)
