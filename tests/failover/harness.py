"""Real processes for failover tests: `hftmm live` nodes (leader and standby) against `hftmm feed`,
`hftmm venue` and a real redis-server, and the checks of a node's state against the venue's record."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import redis

from hftmm.config import load_live_config
from hftmm.live.demo import LocalMarket, local_market
from hftmm.live.leadership import read_nodes
from hftmm.venue.record import read_record
from tests.redis_process import RedisProcess

REPO = Path(__file__).resolve().parents[2]
TRADER = "HFTMM-001"
DATE = dt.date(2024, 3, 11)


def failover_config(catalog: Path, work: Path, redis_url: str, feed_port: int, fix_port: int) -> Path:
    """configs/live.json for one instrument with failover on; returns the written file."""
    raw = json.loads((REPO / "configs" / "live.json").read_text())
    live = raw["live"]
    live.update(instruments=["ACME.XNYS"], runs_dir=str(work / "runs"), state_dir=str(work / "state"),
                redis_url=redis_url, metrics_port=None, log_level="WARNING",
                failover={"enabled": True, "lease_ttl_ms": 1000, "poll_ms": 50, "safety_ms": 250})
    live["feed"]["ws_url"] = f"ws://127.0.0.1:{feed_port}"
    live["fix"].update(port=fix_port, store="redis", reset_on_logon=False, heartbeat_s=2)
    raw["catalog"]["path"] = str(catalog)
    path = work / "live.json"
    path.write_text(json.dumps(raw, indent=2))
    return path


@dataclass
class Nodes:
    """The `hftmm live` processes of one trader id."""

    config: Path
    logs: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    def start(self, standby: bool) -> subprocess.Popen:
        """Start a node (``--standby`` or not); its output goes to ``logs/node-<n>.log``."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"node-{len(self.procs) + 1}.log").open("wb")
        args = [sys.executable, "-m", "hftmm", "live", "--config", str(self.config)] + (["--standby"] if standby else [])
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        self.procs.append(proc)
        return proc

    def by_pid(self, pid: int) -> subprocess.Popen:
        """The process with ``pid``."""
        return next(p for p in self.procs if p.pid == pid)

    def stop_all(self, timeout: float = 30) -> dict[int, int | None]:
        """SIGINT every running node, wait; returns pid -> exit status."""
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        status = {}
        for p in self.procs:
            try:
                status[p.pid] = p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                status[p.pid] = p.wait()
        return status

    def tail(self, n: int = 40) -> str:
        """The last lines of every node log (for failure messages)."""
        parts = []
        for path in sorted(self.logs.glob("node-*.log")):
            lines = path.read_text(errors="replace").splitlines()[-n:]
            parts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(parts)


async def wait_until(what: str, probe: Callable[[], Any], timeout: float, nodes: Nodes | None = None) -> Any:
    """Poll ``probe`` every 10 ms until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n{nodes.tail() if nodes else ''}")


def leader(client: redis.Redis, above_epoch: int) -> dict[str, Any] | None:
    """The node trading with an epoch above ``above_epoch``, if any."""
    for n in read_nodes(client, TRADER):
        if n.get("role") == "active" and n.get("epoch", 0) > above_epoch and n.get("trading_at"):
            return n
    return None


def standby_ready(client: redis.Redis) -> bool:
    """A standby is polling for the lease."""
    return any(n.get("role") == "standby" for n in read_nodes(client, TRADER))


def venue_order_checks(record: Path, participants: set[str]) -> dict[str, Any]:
    """What the venue's record says about the orders of ``participants``:

    - ``acks``: New acknowledgements (150=0) per ClOrdID (a duplicated order would show 2);
    - ``duplicate_rejects``: orders refused as a duplicate ClOrdID;
    - ``stale_rejects``: requests refused for a stale epoch;
    - ``epoch_regressions``: accepted orders whose epoch is below one accepted earlier (an order of
      a dead leader's term accepted after the new leader acted);
    - ``max_open``: the most orders working at once per side.
    """
    acks: dict[str, int] = {}
    duplicate_rejects = stale_rejects = 0
    regressions: list[tuple[str, int, int]] = []
    highest = 0
    open_orders: dict[str, str] = {}
    max_open = {"1": 0, "2": 0}
    for entry in read_record(record):
        if entry.participant not in participants or entry.msg_type != "8":
            continue
        text = entry.get(58) or ""
        if entry.exec_type == "8":
            duplicate_rejects += text.startswith("duplicate client order id")
            stale_rejects += "stale epoch" in text
            continue
        if entry.exec_type == "0":
            acks[entry.cl_ord_id] = acks.get(entry.cl_ord_id, 0) + 1
            if entry.epoch is not None:
                if entry.epoch < highest:
                    regressions.append((entry.cl_ord_id, entry.epoch, highest))
                highest = max(highest, entry.epoch)
        status = entry.get(39)
        if status in ("0", "1", "5") or (entry.exec_type in ("0", "5") and status not in ("2", "4", "C", "8")):
            open_orders[entry.order_id] = entry.get(54) or "1"
        elif status in ("2", "4", "C", "8"):
            open_orders.pop(entry.order_id, None)
        for side in max_open:
            max_open[side] = max(max_open[side], sum(1 for s in open_orders.values() if s == side))
    return {"acks": acks, "duplicate_rejects": duplicate_rejects, "stale_rejects": stale_rejects,
            "epoch_regressions": regressions, "max_open": max_open, "highest_epoch": highest}


def hftmm_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m hftmm ARGS`` (wide output, so tables keep whole ids)."""
    return subprocess.run([sys.executable, "-m", "hftmm", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "250"})


def new_orders(record: Path, epoch: int) -> int:
    """New-order acknowledgements the venue gave to orders of ``epoch``."""
    return sum(1 for e in read_record(record) if e.msg_type == "8" and e.exec_type == "0" and e.epoch == epoch)


@dataclass
class Cluster:
    """A local market, the nodes of one trader id, and the Redis they share."""

    market: LocalMarket
    nodes: Nodes
    client: redis.Redis
    first: dict[str, Any]  # the first leader's advertisement
    statuses: dict[int, int | None] = field(default_factory=dict)  # pid -> exit status, once stopped


@contextlib.asynccontextmanager
async def leader_and_standby(catalog: Path, server: RedisProcess, work: Path) -> AsyncIterator[Cluster]:
    """`hftmm feed` and `hftmm venue` on ``catalog``'s day, a first `hftmm live` node trading and a
    `--standby` node polling for the lease; every node is stopped (SIGINT) on exit, and the
    statuses are in ``Cluster.statuses``."""
    client = redis.Redis.from_url(server.url)
    base = load_live_config(REPO / "configs" / "live.json")
    market_config = msgspec.structs.replace(base, live=msgspec.structs.replace(base.live, instruments=["ACME.XNYS"]))
    try:
        async with local_market(market_config, catalog=catalog, date=DATE, speed=10.0, start="09:30",
                                state=work / "market") as market:
            nodes = Nodes(failover_config(catalog, work, server.url, market.feed_port, market.fix_port), work / "logs")
            nodes.start(standby=False)
            cluster: Cluster | None = None
            try:
                first = await wait_until("the first leader to trade", lambda: leader(client, 0), 60, nodes)
                nodes.start(standby=True)
                await wait_until("a standby", lambda: standby_ready(client), 60, nodes)
                cluster = Cluster(market, nodes, client, first)
                yield cluster
            finally:
                statuses = nodes.stop_all()
                if cluster is not None:
                    cluster.statuses = statuses
    finally:
        client.close()
