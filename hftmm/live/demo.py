"""``hftmm demo-live``: the venue simulator, the Polygon-protocol feed and a live node on one
machine, trading a recorded day for a while, then checked against the venue's record.

The feed (``hftmm feed``) and the venue (``hftmm venue``) run as separate processes with the same
day, speed, start time and wall-clock origin, so the market the node sees and the market its
orders meet are the same replay. After the run, the node's fills and positions are compared with
the venue's record: every fill the venue reported must be in the node exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hftmm.config import LiveConfig


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for_port(port: int, timeout: float, proc: subprocess.Popen, name: str) -> None:
    """Wait until something listens on ``port`` (or the process died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with status {proc.returncode} before listening on {port}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout:g} s")


@dataclass
class Reconciliation:
    """Node vs venue, per symbol: positions and fills."""

    node_positions: dict[str, float]
    venue_positions: dict[str, float]
    node_fills: int
    venue_fills: int
    duplicate_exec_ids: list[str] = field(default_factory=list)
    missing_fills: list[str] = field(default_factory=list)
    """ExecIDs of venue fills the node's fill table lacks."""
    unknown_fills: list[str] = field(default_factory=list)
    """Trade ids in the node's fill table that are no venue fill (an inferred or synthetic fill)."""

    @property
    def matches(self) -> bool:
        """Same positions, the venue's fills exactly (by ExecID), no fill reported twice."""
        symbols = set(self.node_positions) | set(self.venue_positions)
        return (all(self.node_positions.get(s, 0.0) == self.venue_positions.get(s, 0.0) for s in symbols)
                and self.node_fills == self.venue_fills and not self.duplicate_exec_ids
                and not self.missing_fills and not self.unknown_fills)


def reconcile(run_dir: Path, record_path: Path, participants: set[str]) -> Reconciliation:
    """Compare the node's run folder with the venue's record (fills are ExecutionReports 150=F)."""
    from hftmm.venue.record import read_record

    venue_pos: Counter[str] = Counter()
    exec_ids: Counter[str] = Counter()
    for entry in read_record(record_path):
        if entry.participant not in participants or entry.msg_type != "8" or entry.exec_type != "F":
            continue
        side = entry.get(54)
        qty = float(entry.get(32) or 0)
        venue_pos[entry.symbol] += qty if side == "1" else -qty
        exec_ids[entry.exec_id] += 1
    summary = json.loads((run_dir / "summary.json").read_text())
    node_pos = {iid.split(".")[0]: float(v["final_position"]) for iid, v in summary["per_instrument"].items()}
    fills = pd.read_parquet(run_dir / "fills.parquet") if (run_dir / "fills.parquet").is_file() else pd.DataFrame()
    trade_ids = set(fills["trade_id"]) if len(fills) else set()
    return Reconciliation(node_pos, {k: float(v) for k, v in venue_pos.items()}, len(fills), sum(exec_ids.values()),
                          sorted(e for e, n in exec_ids.items() if n > 1), sorted(set(exec_ids) - trade_ids),
                          sorted(trade_ids - set(exec_ids)))


@dataclass
class DemoOutcome:
    """What the demo ran and found."""

    run_dir: Path
    summary: dict[str, Any]
    reconciliation: Reconciliation
    venue_record: Path
    live: Any = None


@dataclass
class LocalMarket:
    """``hftmm feed`` and ``hftmm venue`` running as processes on loopback."""

    feed_port: int
    fix_port: int
    record: Path
    participants: set[str]
    processes: list[subprocess.Popen] = field(default_factory=list)


@contextlib.asynccontextmanager
async def local_market(
    config: LiveConfig, *, catalog: Path, date: dt.date, speed: float, start: str, state: Path,
) -> AsyncIterator[LocalMarket]:
    """Start the feed and the venue for ``config``'s instruments with the same day, speed, start
    and wall-clock origin (so the market the node sees and the one its orders meet are the same
    replay); stop them (SIGINT, then SIGKILL after 20 s) on exit. Their logs go to ``state``."""
    feed_port, fix_port = free_port(), free_port()
    venue_state = state / "venue"
    origin = time.time() + 2.0
    mics = sorted({i.rsplit(".", 1)[1] for i in config.live.instruments})
    participants = {f"{config.live.fix.sender_comp_id}{mic}" for mic in mics}
    common = ["--catalog", str(catalog), "--date", date.isoformat(), "--speed", f"{speed:g}", "--start", start,
              "--clock-origin", f"{origin:.6f}"]
    hftmm = [sys.executable, "-m", "hftmm"]
    # The local feed and the node share a throwaway key (a real one is never needed on loopback).
    if not any(os.environ.get(v) for v in ("MASSIVE_API_KEY", "POLYGON_API_KEY", "MASSIVE_API_KEY_FILE", "POLYGON_API_KEY_FILE")):
        os.environ["MASSIVE_API_KEY"] = secrets.token_hex(16)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    state.mkdir(parents=True, exist_ok=True)
    logs = {name: (state / f"{name}.log").open("wb") for name in ("feed", "venue")}
    # Plain Popen: Nautilus installs uvloop's policy, whose asyncio subprocess support needs its own loop.
    feed = subprocess.Popen([*hftmm, "feed", *common, "--port", str(feed_port)],
                            stdout=logs["feed"], stderr=subprocess.STDOUT, env=env)
    venue = subprocess.Popen([*hftmm, "venue", *common, "--port", str(fix_port), "--instruments",
                              ",".join(config.live.instruments), "--state-dir", str(venue_state),
                              "--participants", ",".join(sorted(participants))],
                             stdout=logs["venue"], stderr=subprocess.STDOUT, env=env)
    try:
        await wait_for_port(feed_port, 60, feed, "hftmm feed")
        await wait_for_port(fix_port, 60, venue, "hftmm venue")
        yield LocalMarket(feed_port, fix_port, venue_state / "record.jsonl", participants, [feed, venue])
    finally:
        for proc in (venue, feed):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in (venue, feed):
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for f in logs.values():
            f.close()


async def run_demo_live(
    config: LiveConfig, *, catalog: Path, date: dt.date, duration_s: float, speed: float = 1.0, start: str = "09:30",
    work_dir: Path, fix_route: Callable[[int], Awaitable[int]] | None = None,
    while_running: Callable[[Any], Awaitable[None]] | None = None,
) -> DemoOutcome:
    """Start feed and venue processes, run the node for ``duration_s``, stop everything, reconcile.

    ``fix_route(venue_port) -> port`` lets a test put something (a proxy that drops the connection)
    between the node and the venue; ``while_running(live_node)`` runs beside the node."""
    import msgspec

    from hftmm.live.node import new_live_run_id
    from hftmm.live.runner import run_live

    run_id = new_live_run_id()
    state = work_dir / run_id
    async with local_market(config, catalog=catalog, date=date, speed=speed, start=start, state=state) as market:
        node_fix_port = await fix_route(market.fix_port) if fix_route is not None else market.fix_port
        live = msgspec.structs.replace(config.live, feed=msgspec.structs.replace(config.live.feed, ws_url=f"ws://127.0.0.1:{market.feed_port}"),
                                       # A fresh venue and a fresh file store: both start at sequence 1, and a
                                       # reconnect mid-session resends what the cut connection lost (a reset
                                       # on every Logon would drop an order written to the dying socket).
                                       fix=msgspec.structs.replace(config.live.fix, port=node_fix_port, store="file",
                                                                   reset_on_logon=False),
                                       state_dir=str(state / "node"), metrics_port=0)
        outcome = await run_live(msgspec.structs.replace(config, live=live), duration_s=duration_s, run_id=run_id,
                                 while_running=while_running)
    assert outcome.run_dir is not None
    return DemoOutcome(outcome.run_dir, outcome.summary, reconcile(outcome.run_dir, market.record, market.participants),
                       market.record, outcome)
