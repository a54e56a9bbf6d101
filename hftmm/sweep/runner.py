"""Run a sweep's backtests, each in a fresh process, on a local process pool or on a Ray cluster.

NautilusTrader keeps one kernel per process (global logging, Rust state), so no process ever runs two
backtests: the pool is ``ProcessPoolExecutor(mp_context=spawn, max_tasks_per_child=1)`` and the Ray
task is ``@ray.remote(max_calls=1)``, both a new interpreter per run.

A run that raises is recorded as ``failed`` with the error and its traceback. A worker process that
dies outright (killed, out of memory, a crash in native code) breaks a ``ProcessPoolExecutor`` for
every run in flight; those runs are re-run one at a time in a pool of their own, so the one that
really crashes is recorded as failed and the others get their results.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hftmm.sweep.plan import RunSpec
from hftmm.sweep.results import OK, base_row, failed_row, stat_columns, summary_columns

Backend = Literal["pool", "ray"]
RowFn = Callable[[dict[str, Any]], None]
CRASHED = ("the run's worker process ended without a result (killed, out of memory or a crash in native code), "
           "also when re-run alone")


class SweepError(RuntimeError):
    """A sweep could not be run (e.g. Ray requested but not installed or not reachable)."""


def execute_run(spec: RunSpec) -> dict[str, Any]:
    """Run one backtest of a sweep and return its results row; never raises for a failed run.

    This is the worker's whole job, called in a fresh process. The statistics come from the report
    analytics over the run folder; when only they fail, the row stays ``ok`` with a ``note``.

    Parameters
    ----------
    spec : RunSpec

    Returns
    -------
    dict
        The row (see :mod:`hftmm.sweep.results`).
    """
    t0 = time.perf_counter()
    where = {"pid": os.getpid(), "host": socket.gethostname()}
    try:
        from hftmm.config import parse_config
        from hftmm.engine.backtest import run_backtest

        config = parse_config(spec.config)
        outcome = run_backtest(config, catalog_path=Path(config.catalog.path), runs_dir=Path(spec.runs_dir),
                               run_id=spec.run_id)
    except Exception as e:  # noqa: BLE001 - any failure of the run is the run's result
        return {**failed_row(spec, f"{type(e).__name__}: {e}", traceback.format_exc()), **where,
                "wall_seconds": time.perf_counter() - t0}
    row = {**base_row(spec, OK), **summary_columns(outcome.summary), "run_dir": str(outcome.run_dir), **where}
    try:
        from hftmm.reports import compute_run_analytics

        row.update(stat_columns(compute_run_analytics(outcome.run_dir).total.stats))
    except Exception as e:  # noqa: BLE001 - the backtest's own figures stand without the statistics
        row.update(stat_columns({}))
        row["note"] = f"statistics not computed: {type(e).__name__}: {e}"
    row["wall_seconds"] = time.perf_counter() - t0
    return row


def _run_pool(specs: list[RunSpec], workers: int, on_row: RowFn) -> None:
    context = multiprocessing.get_context("spawn")
    crashed: list[RunSpec] = []
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, max_tasks_per_child=1)
    try:
        futures = {pool.submit(execute_run, spec): spec for spec in specs}
        for future in as_completed(futures):
            spec = futures[future]
            try:
                row = future.result()
            except BrokenProcessPool:
                crashed.append(spec)
                continue
            except Exception as e:  # noqa: BLE001 - e.g. a result that cannot be unpickled
                row = failed_row(spec, f"{type(e).__name__}: {e}", traceback.format_exc())
            on_row(row)
    except BaseException:
        # Ctrl-C or a failing callback: start no more runs (a plain shutdown would run every queued one).
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    for spec in sorted(crashed, key=lambda s: s.index):
        _set_aside(Path(spec.runs_dir) / spec.run_id)
        # Alone in its own pool: if it breaks this one too, it is the run that crashes.
        with ProcessPoolExecutor(max_workers=1, mp_context=context, max_tasks_per_child=1) as pool:
            try:
                row = pool.submit(execute_run, spec).result()
            except BrokenProcessPool:
                row = failed_row(spec, CRASHED)
        on_row(row)


def _set_aside(run_dir: Path) -> None:
    """Keep what an interrupted attempt wrote, under another name, so the re-run starts clean."""
    if run_dir.exists():
        n = 1
        while (aside := run_dir.with_name(f"{run_dir.name}.interrupted-{n}")).exists():
            n += 1
        run_dir.rename(aside)


def _ray_module(local: bool) -> Any:
    if local:
        _keep_this_interpreter_for_ray_workers()
    try:
        import ray
    except ImportError as e:
        raise SweepError("--ray needs Ray: install the extra, e.g. pip install 'hftmm[ray]'") from e
    return ray


def _keep_this_interpreter_for_ray_workers() -> None:
    """Stop Ray from starting local workers through ``uv run`` when the driver runs under ``uv run``.

    By default (``RAY_ENABLE_UV_RUN_RUNTIME_ENV``) Ray then uploads the working directory and starts
    every worker with ``uv run`` in a copy of it: a new environment per worker, minutes per run, and
    it fails offline. Workers of a cluster on this machine use this interpreter and environment as
    they are. Ray reads the switch when it is imported; when it already was, its constant is set too.
    """
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None and os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] == "0":
        constants.RAY_ENABLE_UV_RUN_RUNTIME_ENV = False


def _run_ray(specs: list[RunSpec], workers: int | None, address: str, on_row: RowFn) -> int:
    """Run on Ray; return the number of runs allowed in flight."""
    ray = _ray_module(local=address == "local")
    started = False
    if not ray.is_initialized():
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        try:
            if address == "local":
                # A cluster on this machine, sized like the process pool would be.
                ray.init(num_cpus=workers or os.cpu_count() or 1, **options)
            else:
                ray.init(address=address, **options)
        except Exception as e:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError...
            raise SweepError(f"cannot start or reach the Ray cluster at {address!r}: {type(e).__name__}: {e}") from e
        started = True
    in_flight: dict[Any, RunSpec] = {}
    try:
        limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray.remote(num_cpus=1, max_calls=1, max_retries=0)(execute_run)
        queue = list(specs)
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                spec = queue.pop(0)
                in_flight[task.remote(spec)] = spec
            done, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in done:
                spec = in_flight.pop(ref)
                try:
                    row = ray.get(ref)
                except Exception as e:  # noqa: BLE001 - WorkerCrashedError, RayTaskError, node loss...
                    row = failed_row(spec, f"{type(e).__name__}: {e}", traceback.format_exc())
                on_row(row)
    except BaseException:
        # On a shared cluster the tasks would outlive this driver otherwise.
        for ref in in_flight:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
    return limit


@dataclass(frozen=True)
class ExecutionInfo:
    """How a sweep ran."""

    backend: Backend
    workers: int
    ray_address: str | None
    wall_seconds: float


def execute_runs(
    specs: list[RunSpec],
    *,
    workers: int | None,
    on_row: RowFn,
    backend: Backend = "pool",
    ray_address: str | None = None,
) -> ExecutionInfo:
    """Run the specs and hand each finished run's row to ``on_row`` (in the order they finish).

    Parameters
    ----------
    specs : list of RunSpec
    workers : int, optional
        Runs at a time; default the number of CPUs here (pool, local Ray) or of the Ray cluster.
    on_row : callable
        Called in this process with each row, ok or failed.
    backend : {"pool", "ray"}
    ray_address : str, optional
        With ``backend="ray"``: ``"local"`` starts a cluster on this machine with ``workers`` CPUs,
        anything else is given to ``ray.init(address=...)`` (e.g. ``"auto"`` or ``"ray://head:10001"``).

    Returns
    -------
    ExecutionInfo

    Raises
    ------
    SweepError
        When Ray is missing or its cluster cannot be reached.
    """
    if workers is not None and workers < 1:
        raise SweepError(f"workers must be >= 1, got {workers}")
    t0 = time.perf_counter()
    if backend == "pool":
        workers = workers or os.cpu_count() or 1
        _run_pool(specs, workers, on_row)
    elif backend == "ray":
        workers = _run_ray(specs, workers, ray_address or "local", on_row)
    else:
        raise SweepError(f"unknown backend {backend!r} (pool or ray)")
    return ExecutionInfo(backend=backend, workers=workers, ray_address=ray_address if backend == "ray" else None,
                         wall_seconds=time.perf_counter() - t0)
