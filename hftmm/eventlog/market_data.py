"""Nautilus glue: record the market data a live node receives, and read it back for a replay.

The recorder actor listens on the DataEngine's market-data topics (``data.quotes.*``,
``data.trades.*``, ``data.book.deltas.*``) for the node's instruments, which are exactly the
objects the data client handed to the engine, with their ``ts_event`` and ``ts_init``. It does
not subscribe to anything itself (that would make the data client publish more than the node
uses). Each object is only appended to a list on the event loop; every ``flush_interval_s`` the
lists are serialized in one batch per type and instrument with Nautilus's Arrow serializer and
appended to an Arrow IPC stream file, then flushed to the OS: a crash loses at most one interval.

Layout (``RUN_DIR/market_data/``), Nautilus's own stream layout and schemas:

- ``quote_tick/<instrument_id>.feather``, ``trade_tick/<instrument_id>.feather``,
  ``order_book_deltas/<instrument_id>.feather`` (the deltas of each ``OrderBookDeltas`` event in
  order, the last one flagged ``F_LAST``);
- ``equity/<instrument_id>.feather``: the instrument as the node had it;
- ``arrival/<type>/<instrument_id>.feather``: the node-wide arrival number of each object (of each
  book event), so a replay feeds every type and instrument in exactly the received order;
- ``manifest.json`` (written when the stopped node's files are closed): counts per type and
  instrument.

An Arrow IPC stream is readable up to its last complete batch, so a cut file loses only the batch
being written; Parquet would lose the whole file without its footer.

Writing each object as it arrives (what ``StreamingConfig`` does) cost 150-500 µs per object on
the event loop here; the recorder's append costs 0.6-0.7 µs, and the batch 3.0-3.4 µs per object
once a second (``bench/bench_market_recorder.py``, docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.ipc as ipc
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.serialization.arrow.serializer import ArrowSerializer

from hftmm.eventlog.replay import ReplayError
from hftmm.eventlog.recorded import ARRIVAL_DIR, F_LAST, MANIFEST, MARKET_DATA_DIR, read_stream

# Folder per recorded type (Nautilus's class_to_filename names).
KINDS: dict[str, type] = {"quote_tick": QuoteTick, "trade_tick": TradeTick, "order_book_deltas": OrderBookDelta}


class MarketDataError(ReplayError):
    """Recorded market data that is missing or unreadable (names the file)."""


class MarketDataRecorderConfig(ActorConfig, frozen=True):
    """Where and what to record.

    Parameters
    ----------
    path : str
        The ``market_data`` folder.
    instruments : list[str]
        The node's instruments.
    flush_interval_s : float
        How often the buffered objects are written (the most a crash can lose).
    """

    path: str
    instruments: list[str]
    flush_interval_s: float = 1.0


class _Stream:
    """One append-only Arrow IPC stream file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.file: BinaryIO = path.open("wb")
        self.writer: ipc.RecordBatchStreamWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = ipc.new_stream(self.file, table.schema)
        self.writer.write_table(table)
        self.file.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()


class MarketDataRecorder(Actor):
    """Records the node's market data (see the module docstring)."""

    def __init__(self, config: MarketDataRecorderConfig) -> None:
        super().__init__(config)
        self.root = Path(config.path)
        # (objects, their arrival numbers) per (type, instrument) since the last flush.
        self._buffers: dict[tuple[str, str], tuple[list[Any], list[int]]] = {}
        self._arrival = 0
        self._streams: dict[tuple[str, str], _Stream] = {}
        self.counts: Counter[str] = Counter()  # "<kind>/<instrument>" -> objects (deltas: events)
        self.delta_counts: Counter[str] = Counter()  # instrument -> single deltas
        self._closed = False

    def on_start(self) -> None:
        """Record the instruments, listen on the market-data topics, start the flush timer."""
        self.root.mkdir(parents=True, exist_ok=True)
        for iid_str in self.config.instruments:
            iid = InstrumentId.from_str(iid_str)
            instrument = self.cache.instrument(iid)
            if instrument is not None:
                stream = _Stream(self.root / "equity" / f"{iid_str}.feather")
                stream.write(ArrowSerializer.serialize_batch([instrument], type(instrument)))
                stream.close()
            venue, symbol = iid.venue, iid.symbol
            # Priority 0 like every other handler; appending to a list is all it does per object.
            self.msgbus.subscribe(f"data.quotes.{venue}.{symbol}", self._on_quote)
            self.msgbus.subscribe(f"data.trades.{venue}.{symbol}", self._on_trade)
            self.msgbus.subscribe(f"data.book.deltas.{venue}.{symbol.topic()}", self._on_deltas)
        self.clock.set_timer("hftmm-market-data-flush", timedelta(seconds=self.config.flush_interval_s),
                             callback=lambda _: self.flush())

    def _add(self, kind: str, iid: str, obj: Any) -> None:
        buf = self._buffers.get((kind, iid))
        if buf is None:
            buf = self._buffers[(kind, iid)] = ([], [])
        buf[0].append(obj)
        buf[1].append(self._arrival)
        self._arrival += 1

    def _on_quote(self, tick: QuoteTick) -> None:
        self._add("quote_tick", tick.instrument_id.value, tick)

    def _on_trade(self, tick: TradeTick) -> None:
        self._add("trade_tick", tick.instrument_id.value, tick)

    def _on_deltas(self, deltas: OrderBookDeltas) -> None:
        self._add("order_book_deltas", deltas.instrument_id.value, deltas)

    def flush(self) -> None:
        """Serialize what is buffered (one batch per type and instrument) and append it."""
        for (kind, iid), (buf, arrivals) in self._buffers.items():
            if not buf:
                continue
            objects, numbers = buf[:], arrivals[:]
            buf.clear()
            arrivals.clear()
            self.counts[f"{kind}/{iid}"] += len(objects)
            if kind == "order_book_deltas":
                objects = [d for event in objects for d in event.deltas]
                self.delta_counts[iid] += len(objects)
            stream = self._streams.get((kind, iid))
            if stream is None:
                stream = self._streams[(kind, iid)] = _Stream(self.root / kind / f"{iid}.feather")
            stream.write(ArrowSerializer.serialize_batch(objects, KINDS[kind]))
            # Written after the data: a crash between the two leaves data without arrival numbers,
            # and the reader falls back to ordering by time (never the other way round).
            order = self._streams.get(("arrival/" + kind, iid))
            if order is None:
                order = self._streams[("arrival/" + kind, iid)] = _Stream(self.root / ARRIVAL_DIR / kind / f"{iid}.feather")
            order.write(pa.table({"arrival": pa.array(numbers, pa.uint64())}))

    def on_stop(self) -> None:
        """Write what is buffered. The files stay open: the data client still publishes until the
        node disconnects it, and the node received that too (``close`` runs after)."""
        self.flush()

    def on_dispose(self) -> None:
        """Close, if the runner did not."""
        self.close()

    def close(self) -> None:
        """Write the rest, close the files (fsync) and write the manifest (once). The live runner
        calls it once the node has stopped and its data clients are disconnected."""
        if self._closed:
            return
        self.flush()
        for stream in self._streams.values():
            stream.close()
        self._closed = True
        (self.root / MANIFEST).write_text(json.dumps({
            "counts": dict(self.counts), "deltas": dict(self.delta_counts),
            "files": sorted(str(s.path.relative_to(self.root)) for s in self._streams.values()),
        }, indent=2) + "\n")


def _book_events(deltas: list[OrderBookDelta]) -> list[OrderBookDeltas]:
    """Regroup recorded deltas into the events the node received (each ends with ``F_LAST``)."""
    out, batch = [], []
    for d in deltas:
        batch.append(d)
        if d.flags & F_LAST:
            out.append(OrderBookDeltas(d.instrument_id, batch))
            batch = []
    if batch:  # an event cut by a crash: keep what arrived
        out.append(OrderBookDeltas(batch[0].instrument_id, batch))
    return out


def read_market_data(run_dir: Path, instruments: list[str]) -> dict[str, dict[str, list[Any]]]:
    """``{kind: {instrument: [objects]}}`` of a live run's recorded market data (book deltas
    regrouped into the ``OrderBookDeltas`` events the node received), plus
    ``{"equity": {instrument: [instrument]}}`` and ``{"arrival": {"<kind>/<instrument>": [arrival
    number per object]}}`` (empty lists for runs recorded without them).

    Raises
    ------
    MarketDataError
        When the run recorded no market data (names the folder or file that is missing).
    """
    from nautilus_trader.model.instruments import Equity

    root = Path(run_dir) / MARKET_DATA_DIR
    if not root.is_dir():
        raise MarketDataError(f"{root}: missing: the live run recorded no market data (recorded before live "
                              "replay existed, or the node stopped before its first flush)")
    out: dict[str, dict[str, list[Any]]] = {kind: {} for kind in (*KINDS, "equity", "arrival")}
    found = False
    for kind, cls in (*KINDS.items(), ("equity", Equity)):
        for iid in instruments:
            path = root / kind / f"{iid}.feather"
            if not path.is_file():
                continue
            table = read_stream(path)
            if table is None:
                continue
            objects = ArrowSerializer.deserialize(cls, table)
            if objects and kind != "equity" and not isinstance(objects[0], cls):
                objects = cls.from_pyo3_list(objects)  # the Rust decoder hands back PyO3 objects
            out[kind][iid] = _book_events(objects) if kind == "order_book_deltas" else objects
            found = found or kind != "equity"
            if kind != "equity":
                numbers = read_stream(root / ARRIVAL_DIR / kind / f"{iid}.feather") \
                    if (root / ARRIVAL_DIR / kind / f"{iid}.feather").is_file() else None
                out["arrival"][f"{kind}/{iid}"] = numbers["arrival"].to_pylist() if numbers is not None else []
    if not found:
        wanted = ", ".join(str(root / k / f"{i}.feather") for k in KINDS for i in instruments)
        raise MarketDataError(f"{root}: no recorded market data in it (looked for {wanted})")
    return out
