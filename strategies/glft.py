"""A Guéant-Lehalle-Fernandez-Tapia market maker, as a ``MarketMakingStrategy`` plugin.

Quotes one level per side at the GLFT distances from the mid: the exact finite-horizon solution
with the session close as horizon (``horizon = "close"``), or the infinite-horizon closed form
(``"infinite"``). The inventory bound is ``max_position / order_qty`` quote units: the side that
would cross it is not quoted.

Units: prices in dollars; ``sigma`` dollars per sqrt(second) (online EWMA from mid changes);
``k`` per dollar; ``a`` fills per second at the mid; time in seconds; inventory in order-size units.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import msgspec

from strategies.base import Level, MarketMakingConfig, MarketMakingStrategy, MarketState, Quotes
from strategies.quoting import glft
from strategies.quoting.ewma_volatility import EwmaVolatility


class GlftConfig(MarketMakingConfig, frozen=True, forbid_unknown_fields=True):
    """Parameters of ``GlftMarketMaker`` (plus those of ``MarketMakingConfig``).

    Parameters
    ----------
    gamma : float
        Risk aversion, per dollar, for inventory in order-size units.
    k : float
        Decay of the fill intensity with distance from the mid, per dollar.
    a : float
        Fill intensity at the mid, per second.
    sigma, sigma_halflife_s, sigma_sample_s : float
        Initial volatility (dollars per sqrt(second)) and its online EWMA settings.
    order_qty, max_position : int
        Shares per quote and the absolute position bound, shares.
    horizon : "close" or "infinite"
        Exact solution to the session close, or the infinite-horizon closed form.
    refit_tolerance : float
        Relative change of sigma that triggers a new exact solution (it costs a small eigen
        decomposition, so it is not redone on every book event).
    """

    gamma: Annotated[float, msgspec.Meta(gt=0)] = 0.01
    k: Annotated[float, msgspec.Meta(gt=0)] = 100.0
    a: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    sigma: Annotated[float, msgspec.Meta(gt=0)] = 0.005
    sigma_halflife_s: Annotated[float, msgspec.Meta(gt=0)] = 300.0
    sigma_sample_s: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    order_qty: Annotated[int, msgspec.Meta(gt=0)] = 100
    max_position: Annotated[int, msgspec.Meta(gt=0)] = 500
    horizon: Literal["close", "infinite"] = "close"
    refit_tolerance: Annotated[float, msgspec.Meta(gt=0)] = 0.05


class GlftMarketMaker(MarketMakingStrategy):
    """One level per side at the GLFT bid and ask."""

    def __init__(self, config: GlftConfig) -> None:
        super().__init__(config)
        self._vol = EwmaVolatility(config.sigma, config.sigma_halflife_s, config.sigma_sample_s)
        self._q_max = max(config.max_position // config.order_qty, 1)
        self._exact: glft.GlftExact | None = None

    def on_start(self) -> None:
        """A finite horizon needs the session close."""
        if self.config.horizon == "close" and self.config.session_close_ns is None:
            self.log.error("horizon='close' but session_close_ns is not set; stopping")
            self.stop()
            return
        super().on_start()

    def on_market_state(self, state: MarketState) -> None:
        """Feed the volatility estimator."""
        self._vol.update(state.ts_ns, state.mid)

    def _solution(self, sigma: float) -> glft.GlftExact:
        if self._exact is None or abs(sigma / self._exact.sigma - 1.0) > self.config.refit_tolerance:
            cfg = self.config
            self._exact = glft.GlftExact(cfg.gamma, sigma, cfg.k, cfg.a, self._q_max)
        return self._exact

    def get_quotes(self, state: MarketState) -> Quotes:
        """GLFT distances from the mid at the current inventory (in order-size units)."""
        cfg = self.config
        q = state.position / cfg.order_qty
        sigma = self._vol.sigma
        if cfg.horizon == "close":
            # The exact solution is on the integer inventory grid; a partial fill rounds to the nearest.
            qi = max(-self._q_max, min(self._q_max, round(q)))
            db, da = self._solution(sigma).deltas(state.time_to_close_s or 0.0, qi)
        else:
            db, da = glft.asymptotic_deltas(q, cfg.gamma, sigma, cfg.k, cfg.a)
            if q + 1 > self._q_max:
                db = math.nan
            if q - 1 < -self._q_max:
                da = math.nan
        bids = (Level(state.mid - db, cfg.order_qty),) if math.isfinite(db) and state.position + cfg.order_qty <= cfg.max_position else ()
        asks = (Level(state.mid + da, cfg.order_qty),) if math.isfinite(da) and state.position - cfg.order_qty >= -cfg.max_position else ()
        return Quotes(bids, asks)
