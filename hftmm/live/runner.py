"""Run a live node until a duration elapses or a signal arrives, then write its run folder."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hftmm.config import LiveConfig
from hftmm.live.node import LiveNode, build_live_node, latency_summary
from hftmm.live.run_folder import write_live_outputs


@dataclass
class LiveOutcome:
    """Where the run was written and its summary; ``dispose()`` the node once the loop has ended
    (disposing stops Nautilus's loop, so it cannot happen inside it)."""

    run_id: str
    run_dir: Path
    summary: dict[str, Any]
    node: Any = None

    def dispose(self) -> None:
        """Release the node's resources."""
        if self.node is not None:
            self.node.dispose()
            self.node = None


async def run_live(
    config: LiveConfig, *, duration_s: float | None = None, run_id: str | None = None,
    while_running: Callable[[LiveNode], Awaitable[None]] | None = None,
) -> LiveOutcome:
    """Build and run the node on the running loop; stop after ``duration_s`` (or
    ``config.live.duration_s``), on SIGINT/SIGTERM, or when ``while_running`` returns."""
    loop = asyncio.get_running_loop()
    live = build_live_node(config, loop, run_id=run_id)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    started = time.time_ns()
    task = asyncio.create_task(live.node.run_async())
    duration = duration_s if duration_s is not None else config.live.duration_s
    try:
        waits = [asyncio.create_task(stop.wait())]
        if duration is not None:
            waits.append(asyncio.create_task(asyncio.sleep(duration)))
        if while_running is not None:
            waits.append(asyncio.create_task(while_running(live)))
        waits.append(task)
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for p in pending:
            if p is not task:
                p.cancel()
        for d in done:
            if d is not task and not d.cancelled() and d.exception() is not None:
                raise d.exception()  # type: ignore[misc]
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        with contextlib.suppress(Exception):
            await live.node.stop_async()
        await asyncio.sleep(0.2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    ended = time.time_ns()
    kernel = live.node.kernel
    summary = write_live_outputs(live.run_dir, live.run_id, kernel, list(config.live.instruments), started, ended,
                                 extra=latency_summary(kernel))
    return LiveOutcome(live.run_id, live.run_dir, summary, live.node)
