"""A Monte Carlo of the Avellaneda-Stoikov paper's own model: the inventory strategy against the
symmetric one quoting the same average spread (market-making-models.md §1.2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from strategies.quoting.simulation import compare_strategies, format_table, simulate

# The published article's table as recalled (mean profit, std profit, std final q), NOT verified
# against the paper: printed for comparison, never asserted. gamma = 1 is left out because the
# recalled row (spread 1.15) is the working paper's gamma = 0.5 row.
RECALLED_PUBLISHED = {
    (0.1, "inventory"): (62.94, 5.89, 2.80),
    (0.1, "symmetric"): (67.21, 13.43, 8.66),
    (0.01, "inventory"): (66.78, 8.76, 4.70),
    (0.01, "symmetric"): (67.36, 13.40, 8.65),
}


@pytest.fixture(scope="module")
def table() -> dict[tuple[float, str], object]:
    rows = compare_strategies((0.1, 0.01, 1.0), paths=1000, seed=7)
    print("\n" + format_table(rows))
    for r in rows:
        ref = RECALLED_PUBLISHED.get((r.gamma, r.strategy))
        if ref:
            print(f"gamma {r.gamma:g} {r.strategy}: profit {r.mean_profit:.2f} vs recalled {ref[0]}, "
                  f"std {r.std_profit:.2f} vs {ref[1]}, std(q) {r.std_final_q:.2f} vs {ref[2]}")
    return {(r.gamma, r.strategy): r for r in rows}


@pytest.mark.parametrize("gamma", [0.1, 0.01, 1.0])
def test_inventory_strategy_has_less_risk_than_symmetric(table: dict, gamma: float) -> None:
    inventory, symmetric = table[(gamma, "inventory")], table[(gamma, "symmetric")]
    assert inventory.spread == pytest.approx(symmetric.spread, rel=1e-12)
    assert inventory.std_profit < symmetric.std_profit
    assert inventory.std_final_q < symmetric.std_final_q
    # The paper's point is a risk trade-off: the mean profit may be lower, but it stays positive.
    assert inventory.mean_profit > 0


def test_more_risk_aversion_means_less_inventory() -> None:
    """Across gammas the inventory strategy's final-inventory dispersion falls as gamma rises."""
    stds = [simulate("inventory", gamma=g, paths=1000, seed=3).final_q.std() for g in (0.01, 0.1, 1.0)]
    assert stds[0] > stds[1] > stds[2]


def test_average_spread_matches_the_published_definition() -> None:
    # Published version: the time average of eq. (30) is gamma sigma^2 T / 2 + (2/gamma) ln(1 + gamma/k)
    # (the left Riemann sum over 200 steps adds gamma sigma^2 dt / 2).
    result = simulate("inventory", gamma=0.1, paths=10, seed=1)
    expected = 0.1 * 4 * (1 + 0.005) / 2 + (2 / 0.1) * math.log(1 + 0.1 / 1.5)
    assert result.mean_spread == pytest.approx(expected, rel=1e-9)


def test_fill_probability_is_capped_and_draws_are_shared() -> None:
    """At gamma = 1 a unit of inventory moves r by 2 > the liquidity half-spread, so quotes sit
    through the mid: lambda dt > 1 must be capped at 1, never produce a probability above 1."""
    res = simulate("inventory", gamma=1.0, paths=200, seed=5)
    assert np.all(np.isfinite(res.profit)) and np.all(np.abs(res.final_q) < 50)
    # Same seed, same paths: the simulation is reproducible.
    again = simulate("inventory", gamma=1.0, paths=200, seed=5)
    assert np.array_equal(res.profit, again.profit)
    with pytest.raises(ValueError):
        simulate("symmetric", gamma=0.1, paths=10)
