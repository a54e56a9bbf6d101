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
