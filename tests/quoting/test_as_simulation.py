"""A Monte Carlo of the Avellaneda-Stoikov paper's own model: the inventory strategy against the
symmetric one quoting the same average spread (market-making-models.md §1.2)."""

from __future__ import annotations

import pytest

from strategies.quoting.simulation import simulate


@pytest.mark.parametrize("gamma", [0.1, 0.01, 1.0])
def test_inventory_strategy_has_less_risk_than_symmetric(gamma: float) -> None:
    inventory = simulate("inventory", gamma=gamma, paths=2000, seed=7)
    symmetric = simulate("symmetric", gamma=gamma, paths=2000, seed=7, symmetric_spread=inventory.mean_spread)
    assert inventory.profit.std() < symmetric.profit.std()
    assert inventory.final_q.std() < symmetric.final_q.std()
    # The paper's point is a risk trade-off: the mean profit may be lower, but not collapse.
    assert inventory.profit.mean() > 0.5 * symmetric.profit.mean()


def test_average_spread_matches_the_published_definition() -> None:
    # Published version: the time average of eq. (30) is gamma sigma^2 T / 2 + (2/gamma) ln(1 + gamma/k).
    import math

    result = simulate("inventory", gamma=0.1, paths=10, seed=1)
    expected = 0.1 * 4 * 1 / 2 + (2 / 0.1) * math.log(1 + 0.1 / 1.5)
    assert result.mean_spread == pytest.approx(expected, rel=0.01)
