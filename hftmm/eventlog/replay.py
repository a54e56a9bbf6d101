"""Replay a recorded backtest and check it reproduces the same decisions, orders and fills.

``replay_run`` re-runs the run folder's resolved config (same catalog, seed and inputs: their
SHA-256 fingerprints in the event log are checked first, so a changed catalog file or model is a
clear error rather than a silent difference) into ``RUN_DIR/replays/<replay-id>/``, then compares
three sequences, ids aside:

- the event log's order commands (time, strategy, instrument, kind, side, quantity, price, type,
  risk verdict);
- the orders (instrument, side, type, price, quantity, filled, status, created and last times);
- the fills (time, instrument, side, quantity, price, liquidity side, commission).

For each, the first divergence is reported with both rows.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hftmm.eventlog.inputs import file_digest
from hftmm.eventlog.log import load_log, read_run_started

ORDER_COLUMNS = ["instrument_id", "side", "order_type", "price", "quantity", "filled_qty", "status", "ts_init", "ts_last"]
FILL_COLUMNS = ["ts_event", "instrument_id", "side", "quantity", "price", "liquidity_side", "commission"]
COMMAND_FIELDS = ["ts", "strategy", "instrument", "kind", "side", "quantity", "price", "order_type", "allowed", "plugin"]


class ReplayError(RuntimeError):
    """The run cannot be replayed as recorded (names the file and what changed)."""


@dataclass
class Divergence:
    """The first place two sequences differ."""

    sequence: str
    index: int
    recorded: dict[str, Any] | None
    replayed: dict[str, Any] | None


@dataclass
class ReplayReport:
    """What a replay found."""

    run_dir: Path
    replay_dir: Path
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    divergences: list[Divergence] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """No sequence diverged."""
        return not self.divergences


def check_inputs(run_dir: Path) -> dict[str, Any]:
    """Verify the catalog files and inputs the run read are unchanged; return the run_started record's data."""
    log_path = Path(run_dir) / "eventlog.jsonl"
    if not log_path.is_file():
        raise ReplayError(f"{log_path}: missing (the run was recorded with backtest.event_log = false)")
    started = read_run_started(log_path)
    if started.mode != "backtest":
        raise ReplayError(f"{run_dir}: a {started.mode} run; replaying live runs needs their recorded market data")
    catalog = Path(started.data["catalog"])
    for rel, digest in started.data.get("files", {}).items():
        path = catalog / rel
        if not path.is_file():
            raise ReplayError(f"catalog file {path} the run read is gone")
        if file_digest(path) != digest:
            raise ReplayError(f"catalog file {path} changed since the run (sha256 {digest[:12]}… recorded)")
    for name, digest in started.inputs.items():
        if not Path(name).is_file() or file_digest(Path(name)) != digest:
            raise ReplayError(f"input {name} changed or is gone since the run")
    return {"config": started.config, "catalog": catalog}


def _rows(df: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return df[columns].to_dict("records") if len(df) else []


def _first_difference(name: str, a: list[dict[str, Any]], b: list[dict[str, Any]]) -> Divergence | None:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return Divergence(name, i, x, y)
    if len(a) != len(b):
        i = min(len(a), len(b))
        return Divergence(name, i, a[i] if i < len(a) else None, b[i] if i < len(b) else None)
    return None


def compare_runs(recorded: Path, replayed: Path) -> ReplayReport:
    """Compare commands, orders and fills of two run folders, ids aside."""
    report = ReplayReport(recorded, replayed)
    seqs: dict[str, tuple[list, list]] = {}
    cmds = []
    for folder in (recorded, replayed):
        _, _, commands, _ = load_log(folder / "eventlog.jsonl")
        cmds.append([{f: getattr(c, f) for f in COMMAND_FIELDS} for c in commands])
    seqs["commands"] = (cmds[0], cmds[1])
    for name, file, columns, key in (("orders", "orders.parquet", ORDER_COLUMNS, ["ts_init", "instrument_id"]),
                                     ("fills", "fills.parquet", FILL_COLUMNS, ["ts_event", "instrument_id"])):
        a = pd.read_parquet(recorded / file).sort_values(key, kind="stable")
        b = pd.read_parquet(replayed / file).sort_values(key, kind="stable")
        seqs[name] = (_rows(a, columns), _rows(b, columns))
    for name, (a, b) in seqs.items():
        report.counts[name] = (len(a), len(b))
        diff = _first_difference(name, a, b)
        if diff is not None:
            report.divergences.append(diff)
    return report


def replay_run(run_dir: Path, replays_dir: Path | None = None) -> ReplayReport:
    """Re-run a recorded backtest and compare (see the module docstring)."""
    from hftmm.config import parse_config
    from hftmm.engine.backtest import run_backtest

    run_dir = Path(run_dir)
    recorded = check_inputs(run_dir)
    config = parse_config(recorded["config"], source=str(run_dir / "eventlog.jsonl"))
    replays = Path(replays_dir) if replays_dir is not None else run_dir / "replays"
    replay_id = "replay-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    outcome = run_backtest(config, catalog_path=recorded["catalog"], runs_dir=replays, run_id=replay_id)
    report = compare_runs(run_dir, outcome.run_dir)
    (outcome.run_dir / "replay.json").write_text(json.dumps({
        "recorded": str(run_dir), "identical": report.identical,
        "counts": {k: list(v) for k, v in report.counts.items()},
        "divergences": [d.__dict__ for d in report.divergences]}, indent=2, default=str) + "\n")
    return report
