"""The run folder of a live node, written when it stops: the same tables as a backtest's
(orders, fills, vetoes, risk actions, summary) beside what the node wrote while running
(config, event log, audit trail, Nautilus stream, node log)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from hftmm.engine import run_folder as rf


def write_live_outputs(run_dir: Path, run_id: str, kernel: Any, instruments: list[str], started_ns: int,
                       ended_ns: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write fills, orders, risk tables and ``summary.json`` from a stopped node's kernel."""
    orders, fills, versions = rf.orders_and_fills(kernel)
    rf.write_table(fills, rf.FILLS_SCHEMA, run_dir / "fills.parquet")
    rf.write_table(orders, rf.ORDERS_SCHEMA, run_dir / "orders.parquet")
    rf.write_table(versions, rf.QUOTE_VERSIONS_SCHEMA, run_dir / "quote_versions.parquet")
    risk = rf.write_risk(kernel, run_dir)
    per_instrument = {iid: rf.instrument_figures(kernel.portfolio, iid, orders, fills) for iid in instruments}

    def iso(ns: int) -> str:
        return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).isoformat()

    summary: dict[str, Any] = {
        "run_id": run_id, "mode": "live", "instruments": instruments,
        "started": iso(started_ns), "stopped": iso(ended_ns), "wall_seconds": (ended_ns - started_ns) / 1e9,
        "orders": len(orders), "amendments": sum(o["amendments"] for o in orders), "fills": len(fills),
        "filled_qty": sum(f["quantity"] for f in fills), "fees": sum(f["commission"] for f in fills),
        "realized_pnl": sum(v["realized_pnl"] for v in per_instrument.values()),
        "unrealized_pnl": sum(v["unrealized_pnl"] for v in per_instrument.values()),
        "currency": "USD", "per_instrument": per_instrument, **(extra or {}),
    }
    summary["total_pnl"] = summary["realized_pnl"] + summary["unrealized_pnl"]
    if risk is not None:
        summary["risk"] = risk
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary
