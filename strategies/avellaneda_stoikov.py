"""A first Avellaneda-Stoikov market maker, as a ``MarketMakingStrategy`` plugin.

One level per side at the A-S bid and ask around the mid, skewed by inventory, with a position
cap and a minimum spread; the base class rounds to the tick, keeps the quotes post-only and amends
an order only when its tick-rounded target changes.

Units: prices in dollars; ``sigma`` in dollars per square root of a second, estimated online from
mid changes; ``k`` in 1/dollar; time to the horizon (the session close) in seconds; inventory
``q`` in order-size units (position / order_qty), the unit ``gamma`` is set for.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from strategies.base import InventoryQuoterConfig, Level, MarketMakingStrategy, MarketState, Quotes
from strategies.quoting import avellaneda_stoikov as as_model
from strategies.quoting.ewma_volatility import EwmaVolatility


class AvellanedaStoikovConfig(InventoryQuoterConfig, frozen=True, forbid_unknown_fields=True):
    """Parameters of ``AvellanedaStoikovMarketMaker`` (plus those of ``InventoryQuoterConfig``).

    Parameters
    ----------
    gamma : float
        Risk aversion, per dollar, for inventory counted in order-size units.
    k : float
        Decay of the fill intensity with distance from the mid, per dollar.
    min_spread_ticks : int
        Minimum distance between our bid and ask, in ticks.
    """

    gamma: Annotated[float, msgspec.Meta(gt=0)] = 0.01
    k: Annotated[float, msgspec.Meta(gt=0)] = 100.0
    min_spread_ticks: Annotated[int, msgspec.Meta(ge=1)] = 1


class AvellanedaStoikovMarketMaker(MarketMakingStrategy):
    """Quotes one level per side at the A-S bid and ask (finite horizon: the session close)."""

    def __init__(self, config: AvellanedaStoikovConfig) -> None:
        super().__init__(config)
        self._vol = EwmaVolatility(config.sigma, config.sigma_halflife_s, config.sigma_sample_s)

    def on_start(self) -> None:
        """The A-S horizon is the session close: refuse to run without one."""
        if self.params.session_close_ns is None:
            self.disable("session_close_ns is not set: the A-S horizon is undefined")
        super().on_start()

    def on_reset(self) -> None:
        """Forget the volatility estimate."""
        super().on_reset()
        cfg = self.params
        self._vol = EwmaVolatility(cfg.sigma, cfg.sigma_halflife_s, cfg.sigma_sample_s)

    def state_snapshot(self) -> dict[str, Any]:
        """The volatility estimate, kept across a restart or a failover."""
        return {"vol": self._vol.snapshot()}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Continue the volatility estimate of the previous node."""
        if "vol" in state:
            self._vol.restore(state["vol"])

    @property
    def sigma(self) -> float:
        """Current volatility estimate, dollars per sqrt(second)."""
        return self._vol.sigma

    def on_market_state(self, state: MarketState) -> None:
        """Feed the volatility estimator (also before the trading window opens)."""
        self._vol.update(state.ts_ns, state.mid)

    def get_quotes(self, state: MarketState) -> Quotes:
        """A-S bid and ask, widened to the minimum spread, the growing side dropped at the cap."""
        cfg = self.params
        q = state.position / cfg.order_qty
        bid, ask = as_model.quotes(state.mid, q, cfg.gamma, self.sigma, state.time_to_close_s or 0.0, cfg.k)
        shortfall = cfg.min_spread_ticks * state.tick - (ask - bid)
        if shortfall > 0:
            bid, ask = bid - shortfall / 2, ask + shortfall / 2
        bids = (Level(bid, cfg.order_qty),) if state.position + cfg.order_qty <= cfg.max_position else ()
        asks = (Level(ask, cfg.order_qty),) if state.position - cfg.order_qty >= -cfg.max_position else ()
        return Quotes(bids, asks)
