"""A whole sweep: plan it into ``runs/sweep-<id>/``, run it, collect the results table, write the report.

The sweep folder holds ``plan.json`` (every run's parameters and full configuration, written before
anything runs), ``runs/<run-id>/`` (each run's ordinary run folder), ``results.jsonl`` (rows appended
as runs finish), ``results.parquet`` and ``results.csv`` (the table), ``sweep.json`` (how it ran) and
``report.html`` (the comparison report).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hftmm.sweep.config import SweepConfig, load_sweep_config, parse_sweep_config, resolve_base
from hftmm.sweep.plan import SweepPlan, expand_sweep, plan_to_builtins
from hftmm.sweep.results import CANCELLED, FAILED, OK, ResultsWriter
from hftmm.sweep.runner import Backend, ExecutionInfo, execute_runs


def new_sweep_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique sweep id: ``sweep-<UTC timestamp>-<random suffix>``."""
    now = now or dt.datetime.now(dt.UTC)
    return f"sweep-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class PreparedSweep:
    """A validated, expanded sweep and the folder it will write.

    Attributes
    ----------
    sweep : SweepConfig
    plan : SweepPlan
    sweep_id : str
    sweep_dir : pathlib.Path
    source : str or None
        The sweep file (None for an inline sweep).
    """

    sweep: SweepConfig
    plan: SweepPlan
    sweep_id: str
    sweep_dir: Path
    source: str | None


@dataclass(frozen=True)
class SweepOutcome:
    """A finished sweep: its folder, results table, how it ran and the report."""

    sweep_id: str
    sweep_dir: Path
    results: pd.DataFrame
    info: ExecutionInfo
    report: Path | None

    @property
    def counts(self) -> dict[str, int]:
        """Runs by status."""
        return {s: int((self.results["status"] == s).sum()) for s in (OK, FAILED, CANCELLED)}


def prepare_sweep(
    source: Path | str | dict[str, Any],
    *,
    catalog: Path | None = None,
    runs_dir: Path | None = None,
    sweep_id: str | None = None,
) -> PreparedSweep:
    """Validate and expand a sweep; nothing is written yet.

    Parameters
    ----------
    source : pathlib.Path, str or dict
        A sweep file, or the sweep as builtins (a relative ``base`` path is then relative to the
        working directory).
    catalog : pathlib.Path, optional
        Catalog root for every run (default: the base configuration's ``catalog.path``).
    runs_dir : pathlib.Path, optional
        Parent of the sweep folder (default: the sweep's ``runs_dir``, else the base configuration's
        ``backtest.runs_dir``, else ``runs``).
    sweep_id : str, optional
        Default :func:`new_sweep_id`.

    Raises
    ------
    ConfigError
        When the sweep file or any run configuration it makes is invalid.
    """
    if isinstance(source, dict):
        sweep = parse_sweep_config(source)
        base, base_source = resolve_base(sweep, Path.cwd())
        where = None
    else:
        sweep, base, base_source = load_sweep_config(source)
        where = str(source)
    backtest = base.get("backtest") if isinstance(base.get("backtest"), dict) else {}
    parent = runs_dir or Path(sweep.runs_dir or backtest.get("runs_dir") or "runs")
    sweep_id = sweep_id or new_sweep_id()
    sweep_dir = (parent / sweep_id).resolve()
    plan = expand_sweep(sweep, base, sweep_runs_dir=sweep_dir / "runs", catalog=catalog, source=where,
                        base_source=base_source)
    return PreparedSweep(sweep=sweep, plan=plan, sweep_id=sweep_id, sweep_dir=sweep_dir, source=where)


def run_sweep(
    prepared: PreparedSweep,
    *,
    backend: Backend = "pool",
    workers: int | None = None,
    ray_address: str | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    report: bool = True,
) -> SweepOutcome:
    """Run a prepared sweep and write its folder.

    Parameters
    ----------
    prepared : PreparedSweep
    backend : {"pool", "ray"}
    workers : int, optional
        Runs at a time (default: the sweep file's ``workers``, else the number of CPUs).
    ray_address : str, optional
        With ``backend="ray"``: ``"local"`` (default) or a cluster address.
    on_row : callable, optional
        Called with each finished run's row (progress display).
    report : bool
        Write ``report.html``.

    Returns
    -------
    SweepOutcome
        Failed runs are rows with ``status == "failed"``; the sweep itself does not fail for them.
    """
    plan, sweep_dir = prepared.plan, prepared.sweep_dir
    (sweep_dir / "runs").mkdir(parents=True, exist_ok=False)
    (sweep_dir / "plan.json").write_text(json.dumps(
        {"sweep_id": prepared.sweep_id, "source": prepared.source, **plan_to_builtins(plan)}, indent=2, default=str) + "\n")
    writer = ResultsWriter(sweep_dir, plan.runs, plan.param_names)

    def collect(row: dict[str, Any]) -> None:
        writer.add(row)
        if on_row is not None:
            on_row(row)

    workers = workers or prepared.sweep.workers
    started = dt.datetime.now(dt.UTC)
    try:
        info = execute_runs(plan.runs, workers=workers, on_row=collect, backend=backend, ray_address=ray_address)
    finally:
        # Also on Ctrl-C or a lost cluster: the rows so far become the table, the rest "cancelled".
        results = writer.finish()
    meta = {
        "sweep_id": prepared.sweep_id,
        "source": prepared.source,
        "base_source": plan.base_source,
        "started_at": started.isoformat(),
        "backend": info.backend,
        "workers": info.workers,
        "ray_address": info.ray_address,
        "wall_seconds": info.wall_seconds,
        "runs": len(plan.runs),
        **{status: int((results["status"] == status).sum()) for status in (OK, FAILED, CANCELLED)},
        "param_names": plan.param_names,
        "symbols": plan.symbols,
        "dates": plan.dates,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    (sweep_dir / "sweep.json").write_text(json.dumps(meta, indent=2) + "\n")
    report_path = None
    if report:
        from hftmm.sweep.report import build_sweep_report

        report_path = build_sweep_report(sweep_dir)
    return SweepOutcome(sweep_id=prepared.sweep_id, sweep_dir=sweep_dir, results=results, info=info, report=report_path)
