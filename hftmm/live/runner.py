"""Run a live node until a duration elapses or a signal arrives, then write its run folder."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hftmm.config import LiveConfig
from hftmm.live.node import LiveNode, build_live_node, latency_summary, market_data_summary, wait_while_running
from hftmm.live.run_folder import write_live_outputs


@dataclass
class LiveOutcome:
    """Where the run was written and its summary; ``dispose()`` the node once the loop has ended
    (disposing stops Nautilus's loop, so it cannot happen inside it)."""

    run_id: str | None  # None: a standby that never led
    run_dir: Path | None
    summary: dict[str, Any]
    node: Any = None

    def dispose(self) -> None:
        """Release the node's resources."""
        if self.node is not None:
            self.node.dispose()
            self.node = None


@contextlib.contextmanager
def _stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> Iterator[None]:
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


async def run_live(
    config: LiveConfig, *, duration_s: float | None = None, run_id: str | None = None,
    while_running: Callable[[LiveNode], Awaitable[None]] | None = None, standby: bool = False,
) -> LiveOutcome:
    """Build and run the node on the running loop; stop after ``duration_s`` (or
    ``config.live.duration_s``), on SIGINT/SIGTERM, or when ``while_running`` returns.

    With ``live.failover.enabled`` the node runs under the leadership lease
    (:mod:`hftmm.live.leadership`): ``standby`` waits for it, and ``duration_s`` counts from the
    promotion; a node that never led returns an outcome without a run folder."""
    loop = asyncio.get_running_loop()
    duration = duration_s if duration_s is not None else config.live.duration_s
    if config.live.failover.enabled:
        return await _run_failover(config, loop, duration, run_id, while_running, standby)
    if standby:
        raise ValueError("--standby needs live.failover.enabled (and live.redis_url)")
    live = build_live_node(config, loop, run_id=run_id)
    stop = asyncio.Event()
    started = time.time_ns()
    task = asyncio.create_task(live.node.run_async())
    with _stop_on_signals(loop, stop):
        try:
            await wait_while_running(live, task, stop, duration, while_running)
        finally:
            with contextlib.suppress(Exception):
                await live.node.stop_async()
            await asyncio.sleep(0.2)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    return _outcome(config, live, started, time.time_ns())


def _outcome(config: LiveConfig, live: LiveNode, started: int, ended: int, **extra: Any) -> LiveOutcome:
    """Write the stopped node's run-folder outputs and summary."""
    kernel = live.node.kernel
    summary = write_live_outputs(live.run_dir, live.run_id, kernel, list(config.live.instruments), started, ended,
                                 extra={**latency_summary(kernel), **market_data_summary(kernel, live.run_dir), **extra})
    return LiveOutcome(live.run_id, live.run_dir, summary, live.node)


async def _run_failover(
    config: LiveConfig, loop: asyncio.AbstractEventLoop, duration: float | None, run_id: str | None,
    while_running: Callable[[LiveNode], Awaitable[None]] | None, standby: bool,
) -> LiveOutcome:
    from hftmm.live.leadership import run_failover_node

    stop = asyncio.Event()
    with _stop_on_signals(loop, stop):
        node = await run_failover_node(config, standby=standby, duration_s=duration, run_id=run_id, stop=stop,
                                       while_running=while_running)
    lead = node.leadership
    failover = {"owner": lead.owner, "epoch": lead.epoch, "demoted": lead.demoted, "events": lead.events}
    if node.live is None:
        return LiveOutcome(None, None, {"mode": "live", "failover": failover})
    started = int((lead.acquired_at or time.time()) * 1e9)
    return _outcome(config, node.live, started, time.time_ns(), failover=failover)
