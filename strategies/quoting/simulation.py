"""The Avellaneda-Stoikov (2008) paper's simulation, vectorised over paths (pure numpy).

Each step: quote from the current (s, q, t); a sell (our bid hit) arrives with probability
``min(lambda(delta_b) dt, 1)`` and a buy with ``min(lambda(delta_a) dt, 1)``, with
``lambda(delta) = A exp(-k delta)`` and ``delta`` from the mid; the mid moves ``+-sigma sqrt(dt)``.
The paper uses ``lambda dt`` as the probability, which at its parameters (A dt = 0.7) is not small,
hence the cap (market-making-models.md §1.2). Profit is cash plus inventory at the final mid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from strategies.quoting import avellaneda_stoikov as as_model


@dataclass(frozen=True)
class SimulationResult:
    """Per-path outcomes of one strategy."""

    profit: np.ndarray
    final_q: np.ndarray
    mean_spread: float  # time- and path-averaged total quoted spread


@dataclass(frozen=True)
class ComparisonRow:
    """One gamma of the paper's table: both strategies' outcome statistics over the paths.

    Profits are in dollars (the paper's price units), inventories in units.
    """

    gamma: float
    strategy: str
    spread: float
    mean_profit: float
    std_profit: float
    mean_final_q: float
    std_final_q: float


def compare_strategies(gammas: tuple[float, ...] = (0.1, 0.01, 1.0), paths: int = 1000, seed: int = 0) -> list[ComparisonRow]:
    """The paper's table: for each gamma, the inventory strategy then the symmetric benchmark
    quoting the inventory strategy's average spread, on the same random draws."""
    rows: list[ComparisonRow] = []
    for gamma in gammas:
        inv = simulate("inventory", gamma=gamma, paths=paths, seed=seed)
        sym = simulate("symmetric", gamma=gamma, paths=paths, seed=seed, symmetric_spread=inv.mean_spread)
        for name, res in (("inventory", inv), ("symmetric", sym)):
            rows.append(ComparisonRow(gamma, name, res.mean_spread, float(res.profit.mean()), float(res.profit.std()),
                                      float(res.final_q.mean()), float(res.final_q.std())))
    return rows


def format_table(rows: list[ComparisonRow]) -> str:
    """A plain-text table of ``compare_strategies`` rows."""
    lines = [f"{'gamma':>6} {'strategy':<10} {'spread':>7} {'profit':>8} {'std(P)':>7} {'q_T':>6} {'std(q_T)':>8}"]
    lines += [f"{r.gamma:>6g} {r.strategy:<10} {r.spread:>7.3f} {r.mean_profit:>8.2f} {r.std_profit:>7.2f} "
              f"{r.mean_final_q:>6.2f} {r.std_final_q:>8.2f}" for r in rows]
    return "\n".join(lines)


def simulate(
    strategy: str,
    *,
    gamma: float,
    sigma: float = 2.0,
    k: float = 1.5,
    a: float = 140.0,
    s0: float = 100.0,
    horizon: float = 1.0,
    dt: float = 0.005,
    paths: int = 1000,
    symmetric_spread: float | None = None,
    seed: int = 0,
) -> SimulationResult:
    """Run the paper's simulation for ``"inventory"`` (A-S quotes) or ``"symmetric"`` quotes.

    ``symmetric`` quotes ``symmetric_spread`` (the inventory strategy's average spread, as in the
    paper) centred on the mid at every step. The random draws depend only on ``seed``, so both
    strategies see the same mid paths and the same arrival uniforms.
    """
    rng = np.random.default_rng(seed)
    steps = int(round(horizon / dt))
    s = np.full(paths, s0)
    q = np.zeros(paths)
    cash = np.zeros(paths)
    spreads = np.empty(steps)
    for n in range(steps):
        tau = horizon - n * dt
        if strategy == "inventory":
            bid, ask = as_model.quotes(s, q, gamma, sigma, tau, k)
        elif strategy == "symmetric":
            if symmetric_spread is None:
                raise ValueError("the symmetric strategy needs symmetric_spread")
            bid, ask = s - symmetric_spread / 2, s + symmetric_spread / 2
        else:
            raise ValueError(f"unknown strategy {strategy!r}")
        spreads[n] = float(np.mean(ask - bid))
        p_bid = np.minimum(a * np.exp(-k * (s - bid)) * dt, 1.0)
        p_ask = np.minimum(a * np.exp(-k * (ask - s)) * dt, 1.0)
        u_bid, u_ask, u_move = rng.random(paths), rng.random(paths), rng.random(paths)
        hit_bid = u_bid < p_bid
        lift_ask = u_ask < p_ask
        q += hit_bid.astype(float) - lift_ask.astype(float)
        cash += np.where(lift_ask, ask, 0.0) - np.where(hit_bid, bid, 0.0)
        s = s + np.where(u_move < 0.5, sigma, -sigma) * np.sqrt(dt)
    return SimulationResult(profit=cash + q * s, final_q=q, mean_spread=float(spreads.mean()))


if __name__ == "__main__":
    print(format_table(compare_strategies()))
