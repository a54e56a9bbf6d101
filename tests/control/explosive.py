"""A test plugin whose quotes fail when told to: the rollback path of a runtime update."""

from __future__ import annotations

from strategies.base import InventoryQuoterConfig, Level, MarketMakingStrategy, MarketState, Quotes


class ExplosiveConfig(InventoryQuoterConfig, frozen=True, forbid_unknown_fields=True):
    half_spread_ticks: int = 2
    explode: bool = False


class ExplosiveQuoter(MarketMakingStrategy):
    def get_quotes(self, state: MarketState) -> Quotes:
        p = self.params
        if p.explode:
            raise ZeroDivisionError("told to explode")
        d = p.half_spread_ticks * state.tick
        return Quotes((Level(state.mid - d, p.order_qty),), (Level(state.mid + d, p.order_qty),))
