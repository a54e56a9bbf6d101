"""The sweep file: a base run configuration and the parameters, symbols and days to vary.

A sweep file (JSON, TOML or YAML) looks like::

    {
      "base": "backtest.json",                      # a run config path (relative to this file) or inline
      "overrides": {"backtest.event_stream": "off"},  # set in every run
      "grid": {"gamma": [0.005, 0.02], "order_qty": [100, 200]},
      "random": {"n": 4, "seed": 7, "params": {"k": {"low": 50, "high": 200, "log": true},
                                                "min_spread_ticks": [1, 2]}},
      "symbols": ["ACME.XNYS", "BOLT.XNAS"],      # default: each instrument of the base config
      "dates": ["2024-03-11"],                     # default: the base config's date
      "workers": 2,                                # default: the number of CPUs
      "runs_dir": "runs"                           # default: the base config's backtest.runs_dir
    }

A parameter name without a dot is a strategy parameter (``"gamma"`` = ``"strategy.gamma"``); a dotted
name is a path into the run configuration (``"venue.latency.base_ns"``). The runs are the Cartesian
product grid points x random draws x dates x symbols; every run trades one symbol on one day. Errors
are :class:`~hftmm.config.ConfigError` naming the sweep file's path, like the run configuration's.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Annotated, Any

import msgspec

from hftmm.config.errors import ConfigError
from hftmm.config.loader import read_config_file, validation_error
from hftmm.config.schema import InstrumentIdStr, NonNegativeInt, PositiveInt

# Scalars a parameter can take: whatever a JSON/TOML/YAML scalar decodes to.
Scalar = bool | int | float | str
NonEmptyValues = Annotated[list[Scalar], msgspec.Meta(min_length=1)]
SECTIONS = ("backtest", "strategy", "venue", "risk", "catalog")
# The sweep itself sets these in every run (from `symbols` and `dates`).
RESERVED_PATHS = ("backtest.instruments", "backtest.date")
_NAME_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class _Section(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Base of the sweep file's objects: unknown keys are errors."""


class Range(_Section):
    """A continuous range for random search: uniform in ``[low, high]``, or log-uniform with ``log``.

    When both bounds are written as integers the draws are integers too (inclusive bounds).
    """

    low: int | float
    high: int | float
    log: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0, got {self.low}")

    @property
    def integer(self) -> bool:
        """Whether draws are integers (both bounds written as integers)."""
        return isinstance(self.low, int) and isinstance(self.high, int)


class RandomSearch(_Section):
    """``n`` random points; each parameter drawn from its list (uniformly) or its :class:`Range`.

    Parameters
    ----------
    n : int
        Number of points drawn.
    seed : int
        Seed of the draws: the same file gives the same points.
    params : dict
        Parameter name -> list of values, or ``{"low", "high", "log"}``.
    """

    n: PositiveInt
    params: Annotated[dict[str, NonEmptyValues | Range], msgspec.Meta(min_length=1)]
    seed: NonNegativeInt = 0


class SweepConfig(_Section):
    """A whole sweep file (see the module docstring).

    ``base`` is kept as written (a path or an inline object); :func:`load_sweep_config` resolves it.
    """

    base: str | dict[str, Any]
    overrides: dict[str, Any] = msgspec.field(default_factory=dict)
    grid: dict[str, NonEmptyValues] = msgspec.field(default_factory=dict)
    random: RandomSearch | None = None
    symbols: Annotated[list[InstrumentIdStr], msgspec.Meta(min_length=1)] | None = None
    dates: Annotated[list[dt.date], msgspec.Meta(min_length=1)] | None = None
    workers: PositiveInt | None = None
    runs_dir: str | None = None

    @property
    def param_names(self) -> list[str]:
        """The varied parameters, grid first, in the order written."""
        return [*self.grid, *(self.random.params if self.random else {})]


def config_path_of(name: str) -> tuple[str, ...]:
    """The path of a parameter in the run configuration (``"gamma"`` -> ``("strategy", "gamma")``)."""
    parts = tuple(name.split("."))
    return ("strategy", *parts) if len(parts) == 1 else parts


def _check_name(name: str, where: str, source: str | None) -> None:
    if not _NAME_RE.match(name):
        raise ConfigError(where, "must be a parameter name or a dotted path such as 'venue.latency.base_ns'", source)
    path = config_path_of(name)
    if path[0] not in SECTIONS:
        raise ConfigError(where, f"unknown section {path[0]!r} (one of: {', '.join(SECTIONS)})", source)
    if len(path) < 2:
        raise ConfigError(where, "names a whole section; name a value inside it", source)
    if ".".join(path[:2]) in RESERVED_PATHS:
        raise ConfigError(where, "is set by the sweep's 'symbols' and 'dates'", source)
    if path[:2] in (("strategy", "path"), ("strategy", "config_path")) and where.startswith(("grid", "random")):
        # One strategy class per sweep keeps the results table's columns meaningful.
        raise ConfigError(where, "the strategy class cannot be swept; run one sweep per strategy", source)


def _check(sweep: SweepConfig, source: str | None) -> None:
    for name in sweep.overrides:
        _check_name(name, f"overrides.{name}", source)
    for name in sweep.grid:
        _check_name(name, f"grid.{name}", source)
    if sweep.random is not None:
        for name in sweep.random.params:
            _check_name(name, f"random.params.{name}", source)
    seen: dict[tuple[str, ...], str] = {}
    for where, names in (("grid", sweep.grid), ("random.params", sweep.random.params if sweep.random else {}),
                         ("overrides", sweep.overrides)):
        for name in names:
            path = config_path_of(name)
            if path in seen:
                raise ConfigError(f"{where}.{name}", f"the same setting as {seen[path]}", source)
            seen[path] = f"{where}.{name}"
    for field, values in (("symbols", sweep.symbols), ("dates", sweep.dates)):
        if values is not None and len(set(values)) != len(values):
            dup = next(v for i, v in enumerate(values) if v in values[:i])
            raise ConfigError(field, f"lists {dup} twice", source)
    for name, values in sweep.grid.items():
        dup = [v for i, v in enumerate(values) if v in values[:i]]
        if dup:
            raise ConfigError(f"grid.{name}", f"lists {dup[0]!r} twice", source)


def parse_sweep_config(raw: dict[str, Any], source: str | None = None) -> SweepConfig:
    """Validate builtins into a :class:`SweepConfig`.

    Parameters
    ----------
    raw : dict
        The decoded sweep file.
    source : str, optional
        The file it came from, named in errors.

    Returns
    -------
    SweepConfig

    Raises
    ------
    ConfigError
        Naming the path of the bad value (``"random.params.k"``) and the reason.
    """
    _check_entries(raw, source)
    try:
        sweep = msgspec.convert(raw, SweepConfig)
    except msgspec.ValidationError as e:
        raise validation_error(e, raw, source=source) from e
    _check(sweep, source)
    return sweep


def _check_entries(raw: dict[str, Any], source: str | None) -> None:
    """Validate the values of the keyed tables one by one: msgspec names a dict entry ``[...]``, not its key."""
    random = raw.get("random")
    tables = [("grid", raw.get("grid"), NonEmptyValues)]
    if isinstance(random, dict):
        tables.append(("random.params", random.get("params"), NonEmptyValues | Range))
    for where, table, kind in tables:
        if not isinstance(table, dict):
            continue  # the whole-file decode names a wrong type for the table itself
        for name, value in table.items():
            try:
                msgspec.convert(value, kind)
            except msgspec.ValidationError as e:
                raise validation_error(e, value, prefix=f".{where}.{name}", source=source) from e


def resolve_base(sweep: SweepConfig, base_dir: Path, source: str | None = None) -> tuple[dict[str, Any], str | None]:
    """The base run configuration as builtins, and the file it came from (None when inline).

    Parameters
    ----------
    sweep : SweepConfig
    base_dir : pathlib.Path
        Directory a relative ``base`` path is resolved against (the sweep file's).
    source : str, optional
        The sweep file, named in errors.
    """
    if isinstance(sweep.base, dict):
        return dict(sweep.base), None
    path = Path(sweep.base)
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise ConfigError("base", f"run configuration {str(path)!r} not found", source)
    return read_config_file(path), str(path)


def load_sweep_config(path: Path | str) -> tuple[SweepConfig, dict[str, Any], str | None]:
    """Read and validate a sweep file, and read its base run configuration.

    Parameters
    ----------
    path : pathlib.Path or str
        The sweep file.

    Returns
    -------
    tuple
        The :class:`SweepConfig`, the base run configuration as builtins, and the base file's path
        (None when inline). The base is validated run by run when the sweep is planned.
    """
    path = Path(path)
    sweep = parse_sweep_config(read_config_file(path), source=str(path))
    base, base_source = resolve_base(sweep, path.parent, str(path))
    return sweep, base, base_source
