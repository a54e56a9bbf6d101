"""A live run's recorded market data as plain tables (pyarrow and pandas, no NautilusTrader).

The recorder (``market_data.py``) writes Nautilus's Arrow schemas: prices and sizes are 16-byte
little-endian fixed-point integers scaled by ``10**16`` (Nautilus's high-precision
``FIXED_PRECISION``). The divergence analysis and the positions projection read them here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

MARKET_DATA_DIR = "market_data"
MANIFEST = "manifest.json"
ARRIVAL_DIR = "arrival"
KIND_DIRS = ("quote_tick", "trade_tick", "order_book_deltas")
_SCALE = 10**16  # Nautilus FIXED_PRECISION (high-precision build)
F_LAST = 128  # RecordFlag.F_LAST


def read_stream(path: Path) -> pa.Table | None:
    """Every complete batch of an Arrow IPC stream file (a batch cut by a crash is dropped);
    None when the file holds no complete batch."""
    batches = []
    with pa.OSFile(str(path), "rb") as source:
        try:
            reader = ipc.open_stream(source)
        except (pa.ArrowInvalid, OSError):
            return None
        while True:
            try:
                batches.append(reader.read_next_batch())
            except StopIteration:
                break
            except (pa.ArrowInvalid, OSError):
                break  # the batch being written when the node died
        schema = reader.schema
    return pa.Table.from_batches(batches, schema=schema) if batches else None


def _fixed(column: pa.ChunkedArray) -> list[float]:
    return [int.from_bytes(b, "little", signed=True) / _SCALE for b in column.to_pylist()]


def _table(run_dir: Path, kind: str, instrument: str) -> pa.Table | None:
    path = Path(run_dir) / MARKET_DATA_DIR / kind / f"{instrument}.feather"
    return read_stream(path) if path.is_file() else None


def recorded_quotes(run_dir: Path, instrument: str) -> pd.DataFrame:
    """The NBBO quote ticks the node received: ``ts_init``, ``ts_event``, ``bid``, ``ask``,
    ``bid_size``, ``ask_size`` in arrival order."""
    t = _table(run_dir, "quote_tick", instrument)
    if t is None:
        return pd.DataFrame(columns=["ts_init", "ts_event", "bid", "ask", "bid_size", "ask_size"])
    return pd.DataFrame({"ts_init": t["ts_init"].to_pylist(), "ts_event": t["ts_event"].to_pylist(),
                         "bid": _fixed(t["bid_price"]), "ask": _fixed(t["ask_price"]),
                         "bid_size": _fixed(t["bid_size"]), "ask_size": _fixed(t["ask_size"])})


def recorded_trades(run_dir: Path, instrument: str) -> pd.DataFrame:
    """The trade ticks the node received: ``ts_init``, ``ts_event``, ``price``, ``size``,
    ``aggressor`` (1 buyer, 2 seller, 0 none) in arrival order."""
    t = _table(run_dir, "trade_tick", instrument)
    if t is None:
        return pd.DataFrame(columns=["ts_init", "ts_event", "price", "size", "aggressor"])
    return pd.DataFrame({"ts_init": t["ts_init"].to_pylist(), "ts_event": t["ts_event"].to_pylist(),
                         "price": _fixed(t["price"]), "size": _fixed(t["size"]),
                         "aggressor": t["aggressor_side"].to_pylist()})


def recorded_book_events(run_dir: Path, instrument: str) -> pd.DataFrame:
    """One row per book event (the deltas up to one flagged ``F_LAST``): ``ts_init``, ``ts_event``
    and its ordinal ``seq`` (0, 1, ... in arrival order): what a strategy reacts to."""
    t = _table(run_dir, "order_book_deltas", instrument)
    if t is None:
        return pd.DataFrame(columns=["ts_init", "ts_event", "seq"])
    flags = t["flags"].to_numpy()
    last = (flags & F_LAST) != 0
    df = pd.DataFrame({"ts_init": t["ts_init"].to_numpy()[last], "ts_event": t["ts_event"].to_numpy()[last]})
    df["seq"] = range(len(df))
    return df
