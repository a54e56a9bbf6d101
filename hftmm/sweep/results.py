"""The sweep's results table: one row per run, written as runs finish and as one table at the end.

Each finished run (ok or failed) is appended at once to ``results.jsonl`` in the sweep folder, so a
sweep stopped half-way keeps every result it had; :meth:`ResultsWriter.finish` writes the table as
``results.parquet`` and ``results.csv``, with a ``cancelled`` row for any planned run that never
reported.

Columns: ``index``, ``run_id``, ``status`` (``ok``/``failed``/``cancelled``), ``symbol``, ``date``,
``param.<name>`` per varied parameter, the run's ``summary.json`` figures (:data:`SUMMARY_COLUMNS`), the
report analytics' statistics of the whole run (:data:`STAT_COLUMNS`), where and how long it ran
(``pid``, ``host``, ``engine_seconds``, ``wall_seconds``, ``run_dir``) and, for a failed run, ``error``
and ``traceback``. ``note`` says why a statistic is missing on a run that otherwise succeeded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from hftmm.sweep.plan import RunSpec

PARAM_PREFIX = "param."
OK, FAILED, CANCELLED = "ok", "failed", "cancelled"
# summary.json key -> column.
SUMMARY_COLUMNS = {
    "total_pnl": "total_pnl",
    "realized_pnl": "realized_pnl",
    "unrealized_pnl": "unrealized_pnl",
    "fees": "fees",
    "fills": "fills",
    "orders": "orders",
    "amendments": "amendments",
    "filled_qty": "filled_qty",
    "max_abs_inventory": "max_abs_inventory",
    "events": "events",
}
# Report statistic (hftmm.reports, whole run) -> column.
STAT_COLUMNS = {
    "total PnL (mark-to-mid)": "mtm_pnl",
    "spread capture": "spread_capture",
    "inventory PnL": "inventory_pnl",
    "max drawdown": "max_drawdown",
    "Sharpe of 1-min PnL changes": "sharpe_1min",
    "PnL per share": "pnl_per_share",
    "PnL per notional": "pnl_bps_notional",
    "two-sided quote uptime": "quote_uptime",
    "mean markout 5s": "markout_5s_bps",
}
# Columns that differ between two executions of the same run (time, place, folder).
NONDETERMINISTIC_COLUMNS = ("pid", "host", "engine_seconds", "wall_seconds", "run_dir")
TEXT_COLUMNS = ("error", "traceback", "note")


def base_row(spec: RunSpec, status: str) -> dict[str, Any]:
    """The identifying columns of a run's row."""
    row: dict[str, Any] = {"index": spec.index, "run_id": spec.run_id, "status": status, "symbol": spec.symbol,
                           "date": spec.date}
    row.update({PARAM_PREFIX + name: value for name, value in spec.params.items()})
    return row


def summary_columns(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The results columns taken from a run's ``summary.json``."""
    out = {col: summary.get(key, math.nan) for key, col in SUMMARY_COLUMNS.items()}
    out["engine_seconds"] = summary.get("wall_seconds", math.nan)
    return out


def stat_columns(stats: Mapping[str, Any]) -> dict[str, float]:
    """The results columns taken from the report analytics' statistics (``Stat`` or plain numbers)."""
    out = {}
    for name, col in STAT_COLUMNS.items():
        value = stats.get(name)
        value = getattr(value, "value", value)
        out[col] = float(value) if isinstance(value, (int, float)) else math.nan
    return out


def failed_row(spec: RunSpec, error: str, traceback_text: str = "") -> dict[str, Any]:
    """The row of a run that produced no result."""
    return {**base_row(spec, FAILED), "error": error, "traceback": traceback_text}


def results_frame(rows: Iterable[Mapping[str, Any]], param_names: list[str]) -> pd.DataFrame:
    """Rows as the results table, sorted by run index, with a stable column order.

    Parameters
    ----------
    rows : iterable of mapping
    param_names : list of str
        The varied parameters (their columns come right after ``date``).
    """
    df = pd.DataFrame(list(rows))
    ordered = ["index", "run_id", "status", "symbol", "date", *(PARAM_PREFIX + n for n in param_names),
               *SUMMARY_COLUMNS.values(), *STAT_COLUMNS.values(), "engine_seconds", "wall_seconds", "pid", "host",
               "run_dir", *TEXT_COLUMNS]
    for col in ordered:
        if col not in df.columns:
            df[col] = "" if col in TEXT_COLUMNS or col in ("run_dir", "host") else math.nan
    df = df[ordered + [c for c in df.columns if c not in ordered]]
    for col in TEXT_COLUMNS + ("run_dir", "host"):
        df[col] = df[col].fillna("").astype(str)
    for name in param_names:
        col = df[PARAM_PREFIX + name]
        kinds = {type(v) for v in col if v is not None and not (isinstance(v, float) and math.isnan(v))}
        # Parquet needs one type per column: a parameter mixing numbers and text is kept as text.
        if len(kinds - {int, float}) > 0 and len(kinds) > 1:
            df[PARAM_PREFIX + name] = col.astype(str)
    return df.sort_values("index", kind="stable").reset_index(drop=True)


class ResultsWriter:
    """Collects run rows into the sweep folder as they come.

    Parameters
    ----------
    sweep_dir : pathlib.Path
        The sweep folder.
    runs : list of RunSpec
        The planned runs (those never reported become ``cancelled`` rows).
    param_names : list of str
    """

    def __init__(self, sweep_dir: Path, runs: list[RunSpec], param_names: list[str]) -> None:
        self.sweep_dir = sweep_dir
        self.runs = runs
        self.param_names = param_names
        self.rows: dict[int, dict[str, Any]] = {}
        self.jsonl = sweep_dir / "results.jsonl"

    def add(self, row: Mapping[str, Any]) -> None:
        """Record one finished run (appended to ``results.jsonl`` at once)."""
        self.rows[int(row["index"])] = dict(row)
        with self.jsonl.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row, default=str, allow_nan=True) + "\n")

    @property
    def failed(self) -> int:
        """Runs recorded as failed so far."""
        return sum(1 for r in self.rows.values() if r["status"] == FAILED)

    def finish(self) -> pd.DataFrame:
        """Write ``results.parquet`` and ``results.csv`` and return the table."""
        rows = [self.rows.get(spec.index) or {**base_row(spec, CANCELLED), "error": "the sweep stopped before this run finished"}
                for spec in self.runs]
        df = results_frame(rows, self.param_names)
        df.to_parquet(self.sweep_dir / "results.parquet", index=False)
        df.to_csv(self.sweep_dir / "results.csv", index=False)
        return df


def read_results(sweep_dir: Path) -> pd.DataFrame:
    """The results table of a sweep folder.

    Raises
    ------
    FileNotFoundError
        When the folder has no ``results.parquet``.
    """
    path = Path(sweep_dir) / "results.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no results table (is {sweep_dir} a sweep folder?)")
    return pd.read_parquet(path)
