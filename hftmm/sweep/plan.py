"""Expand a sweep into its runs: one validated run configuration per point x day x symbol.

Expansion is deterministic: the grid is walked in the order written (the last parameter fastest), the
random points are drawn from ``numpy.random.default_rng(seed)`` parameter by parameter in sorted name
order, and runs are numbered point-major, then by day, then by symbol. Every run configuration is
validated here, before anything runs, so a bad value fails the whole sweep at once with the sweep
file's path instead of failing N runs later.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hftmm.config import ConfigError, config_to_builtins, parse_config
from hftmm.sweep.config import Range, Scalar, SweepConfig, config_path_of


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep, everything a worker process needs (plain builtins, picklable).

    Attributes
    ----------
    index : int
        Position in the sweep, from 0.
    run_id : str
        ``run-0000``...; the run folder is ``runs_dir/run_id``.
    params : dict
        The varied parameters' values of this run, by the names in the sweep file.
    symbol : str
        The instrument id traded.
    date : str
        The day, ISO format.
    config : dict
        The whole run configuration (validated), catalog path absolute.
    runs_dir : str
        Absolute directory the run folder is written into.
    """

    index: int
    run_id: str
    params: dict[str, Any]
    symbol: str
    date: str
    config: dict[str, Any]
    runs_dir: str


@dataclass(frozen=True)
class SweepPlan:
    """The expanded sweep.

    Attributes
    ----------
    runs : list of RunSpec
    param_names : list of str
        The varied parameters, in the sweep file's order (grid first).
    points : list of dict
        The parameter points (grid x random), before days and symbols.
    symbols, dates : list of str
    """

    runs: list[RunSpec]
    param_names: list[str]
    points: list[dict[str, Any]]
    symbols: list[str]
    dates: list[str]
    base_source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def _tidy(value: float) -> float:
    # Six significant digits: a random draw reads well in tables and file names, and is the same
    # number in the config, the results table and the report.
    return float(f"{value:.6g}")


def draw(spec: list[Scalar] | Range, rng: np.random.Generator) -> Scalar:
    """One random value of a parameter.

    Parameters
    ----------
    spec : list or Range
        Values to choose from uniformly, or a range.
    rng : numpy.random.Generator

    Returns
    -------
    bool, int, float or str
    """
    if isinstance(spec, list):
        return spec[int(rng.integers(len(spec)))]
    if spec.log:
        value = math.exp(rng.uniform(math.log(spec.low), math.log(spec.high)))
        return int(round(value)) if spec.integer else _tidy(value)
    if spec.integer:
        return int(rng.integers(int(spec.low), int(spec.high) + 1))
    return _tidy(rng.uniform(spec.low, spec.high))


def parameter_points(sweep: SweepConfig) -> list[dict[str, Any]]:
    """The grid points x the random draws, each a dict parameter -> value.

    Parameters
    ----------
    sweep : SweepConfig

    Returns
    -------
    list of dict
        ``[{}]`` (one point, nothing varied) when the sweep has neither grid nor random.
    """
    names = list(sweep.grid)
    grid = [dict(zip(names, values, strict=True)) for values in itertools.product(*(sweep.grid[n] for n in names))]
    if sweep.random is None:
        return grid
    rng = np.random.default_rng(sweep.random.seed)
    order = sorted(sweep.random.params)
    draws = []
    for _ in range(sweep.random.n):
        point = {name: draw(sweep.random.params[name], rng) for name in order}
        draws.append({name: point[name] for name in sweep.random.params})
    return [{**g, **r} for g in grid for r in draws]


def set_path(raw: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set ``raw[path[0]][path[1]]... = value``, creating the objects on the way."""
    node = raw
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[path[-1]] = value


def _origin(error: ConfigError, sweep: SweepConfig, point: dict[str, Any]) -> str:
    """The sweep file's path that set the value a run configuration error is about."""
    for name in point:
        if ".".join(config_path_of(name)) == error.path:
            return f"grid.{name}" if name in sweep.grid else f"random.params.{name}"
    for name in sweep.overrides:
        if ".".join(config_path_of(name)) == error.path:
            return f"overrides.{name}"
    return f"base.{error.path}" if error.path else "base"


def expand_sweep(
    sweep: SweepConfig,
    base: dict[str, Any],
    *,
    sweep_runs_dir: Path,
    catalog: Path | None = None,
    source: str | None = None,
    base_source: str | None = None,
) -> SweepPlan:
    """Expand a sweep into validated run specifications.

    Parameters
    ----------
    sweep : SweepConfig
    base : dict
        The base run configuration as builtins.
    sweep_runs_dir : pathlib.Path
        Where the run folders go (``runs/sweep-<id>/runs``).
    catalog : pathlib.Path, optional
        Catalog root; default the base configuration's ``catalog.path`` (relative to the working
        directory, like ``hftmm backtest``).
    source, base_source : str, optional
        The sweep file and the base file, named in errors.

    Returns
    -------
    SweepPlan

    Raises
    ------
    ConfigError
        When a run configuration is invalid, naming the sweep file's path that set the bad value.
    """
    backtest = base.get("backtest") if isinstance(base.get("backtest"), dict) else {}
    symbols = list(sweep.symbols) if sweep.symbols is not None else list(backtest.get("instruments") or [])
    dates = [d.isoformat() for d in sweep.dates] if sweep.dates is not None else (
        [str(backtest["date"])] if "date" in backtest else [])
    if not symbols:
        raise ConfigError("symbols", "no symbols: list them, or give the base configuration backtest.instruments", source)
    if not dates:
        raise ConfigError("dates", "no dates: list them, or give the base configuration backtest.date", source)
    points = parameter_points(sweep)
    runs_dir = sweep_runs_dir.resolve()
    runs: list[RunSpec] = []
    for point, date, symbol in itertools.product(points, dates, symbols):
        raw = copy.deepcopy(base)
        for name, value in sweep.overrides.items():
            set_path(raw, config_path_of(name), value)
        for name, value in point.items():
            set_path(raw, config_path_of(name), value)
        set_path(raw, ("backtest", "instruments"), [symbol])
        set_path(raw, ("backtest", "date"), date)
        set_path(raw, ("backtest", "runs_dir"), str(runs_dir))
        catalog_path = catalog if catalog is not None else Path((raw.get("catalog") or {}).get("path", "catalog"))
        set_path(raw, ("catalog", "path"), str(catalog_path.resolve()))
        try:
            config = parse_config(raw, source=base_source)
        except ConfigError as e:
            where = _origin(e, sweep, point)
            described = ", ".join(f"{k}={v!r}" for k, v in point.items())
            raise ConfigError(where, f"{e.reason} (run {symbol} {date}{', ' + described if described else ''})",
                              source) from e
        index = len(runs)
        runs.append(RunSpec(
            index=index, run_id=f"run-{index:04d}", params=dict(point), symbol=symbol, date=date,
            config=config_to_builtins(config), runs_dir=str(runs_dir),
        ))
    return SweepPlan(runs=runs, param_names=sweep.param_names, points=points, symbols=symbols, dates=dates,
                     base_source=base_source)


def plan_to_builtins(plan: SweepPlan) -> dict[str, Any]:
    """The plan as JSON-ready builtins (``plan.json`` in the sweep folder)."""
    return {
        "param_names": plan.param_names,
        "points": plan.points,
        "symbols": plan.symbols,
        "dates": plan.dates,
        "base_source": plan.base_source,
        "runs": [
            {"index": r.index, "run_id": r.run_id, "params": r.params, "symbol": r.symbol, "date": r.date,
             "config": r.config}
            for r in plan.runs
        ],
        **plan.meta,
    }
