"""The recorded market-data files: an Arrow IPC stream cut by a crash keeps its complete batches."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from hftmm.eventlog.recorded import read_stream


def _write(path: Path, batches: list[list[int]]) -> list[int]:
    """Write one batch per list, flushing after each (as the recorder does); return the file size after each."""
    sizes = []
    with path.open("wb") as f:
        writer = None
        for values in batches:
            table = pa.table({"ts_init": pa.array(values, pa.uint64())})
            writer = writer or ipc.new_stream(f, table.schema)
            writer.write_table(table)
            f.flush()
            sizes.append(path.stat().st_size)
    return sizes


def test_a_stream_cut_mid_batch_keeps_the_batches_flushed_before(tmp_path: Path) -> None:
    path = tmp_path / "quote_tick.feather"
    sizes = _write(path, [[1, 2, 3], [4, 5], [6, 7, 8, 9]])
    whole = path.read_bytes()
    assert read_stream(path)["ts_init"].to_pylist() == list(range(1, 10))  # no end-of-stream marker needed
    path.write_bytes(whole[: sizes[1] + 20])  # the node died while writing the third batch
    assert read_stream(path)["ts_init"].to_pylist() == [1, 2, 3, 4, 5]
    path.write_bytes(whole[:10])  # not even the schema
    assert read_stream(path) is None
    path.write_bytes(whole[: sizes[0] - 8])  # the schema, no complete batch
    assert read_stream(path) is None


def test_replayed_data_follows_the_recorded_arrival_order_or_else_time() -> None:
    from types import SimpleNamespace as O

    from hftmm.engine.live_replay import merged_market_data

    q1, d1 = O(ts_init=10, ts_event=5, n="q1"), O(ts_init=10, ts_event=5, n="d1")
    t1, q2, d2 = O(ts_init=10, ts_event=3, n="t1"), O(ts_init=10, ts_event=6, n="q2"), O(ts_init=20, ts_event=7, n="d2")
    recorded = {"quote_tick": {"A": [q1, q2]}, "order_book_deltas": {"A": [d1, d2]}, "trade_tick": {"A": [t1]},
                # A frame whose messages were not in event-time order: q1, d1, then the older trade t1.
                "arrival": {"quote_tick/A": [0, 3], "order_book_deltas/A": [1, 4], "trade_tick/A": [2]}}
    assert [o.n for o in merged_market_data(recorded)] == ["q1", "d1", "t1", "q2", "d2"]
    recorded["arrival"]["trade_tick/A"] = []  # a crash cut the last arrival numbers: by time instead
    assert [o.n for o in merged_market_data(recorded)] == ["t1", "q1", "d1", "q2", "d2"]
