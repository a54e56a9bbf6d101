"""Nautilus glue: the actor that writes the event log of a node (backtest or live).

Strategies publish their quote intents and order commands on ``hftmm.eventlog.*``; this actor
appends them to ``eventlog.jsonl`` after the ``run_started`` record, flushes every
``flush_interval_s`` (live) and closes the log with ``run_ended`` when the node stops.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig

from hftmm.eventlog.log import EventLogWriter
from hftmm.eventlog.schema import TOPIC_PREFIX, RunStarted


class EventLogActorConfig(ActorConfig, frozen=True):
    """Where to write and what the run is.

    Parameters
    ----------
    path : str
        The ``eventlog.jsonl`` file.
    run_started : dict
        The ``RunStarted`` fields (without ``ts``).
    flush_interval_s : float, optional
        How often buffered records are written (live); None: when the buffer fills and at the end
        (a backtest, where a crash loses the run anyway).
    """

    path: str
    run_started: dict[str, Any]
    flush_interval_s: float | None = None


class EventLogActor(Actor):
    """Writes the event log (see the module docstring)."""

    def __init__(self, config: EventLogActorConfig) -> None:
        super().__init__(config)
        self.writer: EventLogWriter | None = None

    def on_start(self) -> None:
        """Open the log, write ``run_started``, subscribe to the strategies' records."""
        self.writer = EventLogWriter(Path(self.config.path))
        self.writer.append(msgspec.convert({**self.config.run_started, "ts": self.clock.timestamp_ns()}, RunStarted))
        self.msgbus.subscribe(TOPIC_PREFIX + "*", self.writer.append)
        if self.config.flush_interval_s is not None:
            self.clock.set_timer("hftmm-eventlog-flush", timedelta(seconds=self.config.flush_interval_s),
                                 callback=lambda _: self.writer.flush() if self.writer else None)

    def on_stop(self) -> None:
        """Close the log with ``run_ended``."""
        if self.writer is not None:
            self.writer.close(self.clock.timestamp_ns())
