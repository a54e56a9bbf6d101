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

A live run is replayed differently (``replay_live``): a backtest over the market data the node
recorded (``market_data/``) with the run's resolved config (``hftmm.engine.live_replay``), then
``hftmm.eventlog.divergence`` aligns its decisions, orders and fills with the recorded ones (by
the market-data event each decision followed, not by wall-clock time) and derives a cause for
the first divergence of each from the recorded data.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hftmm.eventlog.divergence import Divergence
from hftmm.eventlog.inputs import file_digest
from hftmm.eventlog.log import load_log, read_run_started
from hftmm.eventlog.schema import RunStarted

ORDER_COLUMNS = ["instrument_id", "side", "order_type", "price", "quantity", "filled_qty", "status", "ts_init", "ts_last"]
FILL_COLUMNS = ["ts_event", "instrument_id", "side", "quantity", "price", "liquidity_side", "commission"]
COMMAND_FIELDS = ["ts", "strategy", "instrument", "kind", "side", "quantity", "price", "order_type", "allowed", "plugin"]


class ReplayError(RuntimeError):
    """The run cannot be replayed as recorded (names the file and what changed)."""



@dataclass
class ReplayReport:
    """What a replay found (``mode``: the recorded run's; ``market_data``: a live run's recorded
    market-data counts by type)."""

    run_dir: Path
    replay_dir: Path
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    divergences: list[Divergence] = field(default_factory=list)
    mode: str = "backtest"
    market_data: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

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
        raise ReplayError(f"{run_dir}: a {started.mode} run (replay_run replays it with replay_live)")
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


def _write_report(report: ReplayReport) -> None:
    (report.replay_dir / "replay.json").write_text(json.dumps({
        "recorded": str(report.run_dir), "mode": report.mode, "identical": report.identical,
        "counts": {k: list(v) for k, v in report.counts.items()}, "market_data": report.market_data, "notes": report.notes,
        "divergences": [d.__dict__ for d in report.divergences]}, indent=2, default=str) + "\n")


def _replay_id() -> str:
    return "replay-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")


def replay_run(run_dir: Path, replays_dir: Path | None = None) -> ReplayReport:
    """Re-run a recorded run and compare (see the module docstring): a backtest must reproduce
    itself; a live run is replayed with ``replay_live``."""
    from hftmm.config import parse_config
    from hftmm.engine.backtest import run_backtest

    run_dir = Path(run_dir)
    log_path = run_dir / "eventlog.jsonl"
    if log_path.is_file() and read_run_started(log_path).mode == "live":
        return replay_live(run_dir, replays_dir)
    recorded = check_inputs(run_dir)
    config = parse_config(recorded["config"], source=str(run_dir / "eventlog.jsonl"))
    replays = Path(replays_dir) if replays_dir is not None else run_dir / "replays"
    outcome = run_backtest(config, catalog_path=recorded["catalog"], runs_dir=replays, run_id=_replay_id())
    report = compare_runs(run_dir, outcome.run_dir)
    _write_report(report)
    return report


def check_live_inputs(run_dir: Path) -> RunStarted:
    """A live run's ``run_started`` record, once its recorded market data is known to be there.

    Raises
    ------
    ReplayError
        Naming the event log, the market-data folder or the files that are missing.
    """
    from hftmm.eventlog.recorded import KIND_DIRS, MARKET_DATA_DIR, read_stream

    log_path = Path(run_dir) / "eventlog.jsonl"
    if not log_path.is_file():
        raise ReplayError(f"{log_path}: missing (not a run folder)")
    started = read_run_started(log_path)
    root = Path(run_dir) / started.data.get("market_data", MARKET_DATA_DIR)
    if not root.is_dir():
        raise ReplayError(f"{root}: missing: this live run recorded no market data (recorded before hftmm recorded "
                          "it, or the node died before its first flush), so it cannot be replayed")
    instruments = list(started.data.get("instruments", []))
    files = [root / kind / f"{iid}.feather" for kind in KIND_DIRS for iid in instruments]
    present = [f for f in files if f.is_file()]
    if not any(f.parent.name == "order_book_deltas" for f in present):
        wanted = ", ".join(str(f) for f in files if f.parent.name == "order_book_deltas")
        raise ReplayError(f"{wanted}: missing: the live run recorded no book events (what its strategies react to)")
    if all(read_stream(f) is None for f in present):
        raise ReplayError(f"{', '.join(str(f) for f in present)}: no complete batch (the node died before its first flush)")
    return started


def live_notes(run_dir: Path) -> list[str]:
    """What the replay cannot reproduce of a live run, from its records: runtime parameter
    changes (the replay runs the starting configuration), an unclean stop, feed gaps."""
    from hftmm.eventlog.divergence import clock
    from hftmm.eventlog.log import read_log
    from hftmm.eventlog.recorded import MANIFEST, MARKET_DATA_DIR
    from hftmm.eventlog.schema import ParamChange, RunEnded

    notes = []
    records = list(read_log(Path(run_dir) / "eventlog.jsonl"))
    applied = [r for r in records if isinstance(r, ParamChange) and r.status == "applied"]
    if applied:
        notes.append(f"the live run applied {len(applied)} runtime parameter change(s), the first at {clock(applied[0].ts)} "
                     f"({applied[0].changes}); the replay runs the configuration the run started with")
    if not any(isinstance(r, RunEnded) for r in records):
        notes.append("the live event log has no run_ended record: the node did not stop cleanly, and commands after its "
                     "last flush are missing")
    summary_path = Path(run_dir) / "summary.json"
    if summary_path.is_file():
        for gap in json.loads(summary_path.read_text()).get("market_data", {}).get("feed_gaps", []):
            last = gap.get("last_gap") or {}
            notes.append(f"the feed ({gap['client']}) was interrupted {gap['gaps']} time(s), {gap['gap_ns_total'] / 1e9:.3f} s in all"
                         + (f" (the last from {clock(last.get('disconnected_ns'))} to {clock(last.get('reconnected_ns'))}: "
                            f"{last.get('reason')})" if last else "")
                         + "; what the node missed is missing from the recording and the replay too")
    if not (Path(run_dir) / MARKET_DATA_DIR / MANIFEST).is_file():
        notes.append(f"{Path(run_dir) / MARKET_DATA_DIR / MANIFEST} is missing: the recorder was not closed, so up to its "
                     "last flush interval of market data may be missing")
    return notes


def replay_live(run_dir: Path, replays_dir: Path | None = None) -> ReplayReport:
    """Backtest a live run over its recorded market data and explain where it departs from the
    recorded commands, orders and fills (see the module docstring)."""
    from hftmm.engine.live_replay import run_live_replay
    from hftmm.eventlog.divergence import Market, compare_live, load_run_record
    from hftmm.eventlog.recorded import recorded_quotes, recorded_trades

    run_dir = Path(run_dir)
    started = check_live_inputs(run_dir)
    replays = Path(replays_dir) if replays_dir is not None else run_dir / "replays"
    replay_dir = replays / _replay_id()
    summary = run_live_replay(run_dir, started, replay_dir)
    instruments = list(started.data.get("instruments", []))
    market = Market({i: recorded_quotes(run_dir, i) for i in instruments}, {i: recorded_trades(run_dir, i) for i in instruments})
    counts, divergences = compare_live(load_run_record(run_dir), load_run_record(replay_dir), market)
    report = ReplayReport(run_dir, replay_dir, counts, divergences, mode="live", market_data=summary["market_data"], notes=live_notes(run_dir))
    _write_report(report)
    return report
