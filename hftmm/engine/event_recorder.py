"""Record a backtest's order, position and account events, and write them in bulk as a Nautilus stream.

Nautilus's ``StreamingConfig`` writer serialises and writes each event as it is published, which on
a market-making backtest (tens of thousands of amendments and account updates) costs about 0.5 ms
per event: three times the whole engine time. This actor subscribes to the same event topics,
keeps the events in memory, and writes them once at the end, per type, in the same layout and
schemas as the Nautilus writer (``<table>_0.feather`` Arrow IPC streams), so
``ParquetDataCatalog(stream_dir).read_backtest(instance_id)`` reads either.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow as pa
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.persistence.funcs import class_to_filename
from nautilus_trader.serialization.arrow.serializer import ArrowSerializer, list_schemas

TOPICS = ("events.order.*", "events.position.*", "events.account.*")


class EventRecorderConfig(ActorConfig, frozen=True):
    """Configuration of ``EventRecorder`` (it has no parameters of its own)."""


class EventRecorder(Actor):
    """Buffers every order, position and account event published on the message bus."""

    def __init__(self, config: EventRecorderConfig | None = None) -> None:
        super().__init__(config or EventRecorderConfig())
        self._events: dict[type, list] = defaultdict(list)
        self._seen: set = set()

    def on_start(self) -> None:
        """Subscribe to the event topics (an event published on several topics is kept once)."""
        for topic in TOPICS:
            self.msgbus.subscribe(topic=topic, handler=self._record)

    def _record(self, event: object) -> None:
        event_id = event.id  # type: ignore[attr-defined]
        if event_id in self._seen:
            return
        self._seen.add(event_id)
        self._events[type(event)].append(event)

    @property
    def counts(self) -> dict[str, int]:
        """Events recorded, by class name."""
        return {cls.__name__: len(v) for cls, v in self._events.items()}

    def write(self, directory: Path) -> list[Path]:
        """Write one ``<table>_0.feather`` per event type into ``directory``; return the paths."""
        directory.mkdir(parents=True, exist_ok=True)
        # The opening account state is published before any actor starts; the cache has it.
        for account in self.cache.accounts():
            for event in account.events:
                self._record(event)
        schemas = list_schemas()
        written = []
        for cls, events in sorted(self._events.items(), key=lambda kv: kv[0].__name__):
            events.sort(key=lambda e: e.ts_init)  # stable: publication order within a timestamp
            table = ArrowSerializer.serialize_batch(events, cls)
            schema = schemas.get(cls, table.schema).with_metadata({"class": cls.__name__})
            path = directory / f"{class_to_filename(cls)}_0.feather"
            with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
                writer.write_table(table.cast(schema))
            written.append(path)
        return written
