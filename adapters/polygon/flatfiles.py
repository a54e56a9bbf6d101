"""Polygon/Massive flat files: the daily ``trades_v1`` / ``quotes_v1`` CSVs (gzip or plain) as REST-shaped rows.

One file holds every ticker of a day, sorted by ticker (market-data-formats.md §2.9). It is read in
pyarrow CSV blocks with every column as a string, only the wanted tickers kept, then each column
is converted with pyarrow casts (int64 stays exact: ns timestamps never go through float64). The
rows come out as the dicts the REST API returns, so the same loaders convert both sources.
``conditions``/``indicators`` are a quoted comma list, a bare int or empty; ``trf_id`` and
``trf_timestamp`` are 0 when absent; sizes may print as decimals (``4.000000``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from adapters.polygon.errors import PolygonFormatError

TRADE_COLUMNS = {
    "conditions": "list", "correction": "int", "exchange": "int", "id": "str", "participant_timestamp": "int",
    "price": "float", "sequence_number": "int", "sip_timestamp": "int", "size": "float", "tape": "int",
    "trf_id": "int", "trf_timestamp": "int",
}
QUOTE_COLUMNS = {
    "ask_exchange": "int", "ask_price": "float", "ask_size": "float", "bid_exchange": "int", "bid_price": "float",
    "bid_size": "float", "conditions": "list", "indicators": "list", "participant_timestamp": "int",
    "sequence_number": "int", "sip_timestamp": "int", "tape": "int", "trf_timestamp": "int",
}
REQUIRED = {"trades": ("ticker", "sip_timestamp", "price", "size", "exchange"), "quotes": ("ticker", "sip_timestamp")}
_LINE = "__line"


def _open(path: Path, block_size: int) -> pacsv.CSVStreamingReader:
    source = pa.input_stream(str(path), compression="detect")
    header = pacsv.open_csv(
        pa.input_stream(str(path), compression="detect"), read_options=pacsv.ReadOptions(block_size=1 << 16),
    ).schema.names
    return pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(block_size=block_size),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in header}, strings_can_be_null=False),
    )


def _convert(table: pa.Table, name: str, kind: str, path: Path, lines: list[int]) -> list[Any]:
    col = table[name]
    if kind == "str":
        return col.to_pylist()
    if kind == "list":
        return [[int(x) for x in s.split(",") if x.strip()] if s else [] for s in col.to_pylist()]
    filled = pc.if_else(pc.equal(pc.utf8_trim_whitespace(col), ""), "0", col)
    try:
        return pc.cast(filled, pa.int64() if kind == "int" else pa.float64()).to_pylist()
    except pa.ArrowInvalid:
        for value, line in zip(filled.to_pylist(), lines, strict=True):
            try:
                int(value) if kind == "int" else float(value)
            except ValueError:
                raise PolygonFormatError(f"{path}:{line}", name, f"not {'an integer' if kind == 'int' else 'a number'}: {value!r}") from None
        raise


def read_flat_file(
    path: Path,
    kind: str,
    tickers: Iterable[str],
    block_size: int = 16 << 20,
) -> dict[str, list[dict[str, Any]]]:
    """Rows of ``tickers`` from a ``trades_v1`` (``kind="trades"``) or ``quotes_v1`` (``"quotes"``) file.

    Returns
    -------
    dict[str, list[dict]]
        By ticker, the rows in file order with REST field names and types.

    Raises
    ------
    PolygonFormatError
        A missing required column, or a value that is not a number (naming file, line and column).
    """
    columns = TRADE_COLUMNS if kind == "trades" else QUOTE_COLUMNS
    wanted = {t.upper() for t in tickers}
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in wanted}
    reader = _open(Path(path), block_size)
    names = reader.schema.names
    missing = [c for c in REQUIRED[kind] if c not in names]
    if missing:
        raise PolygonFormatError(str(path), None, f"not a {kind}_v1 file: no column {', '.join(missing)} (header: {','.join(names)})")
    present = [c for c in columns if c in names]
    line = 1  # the header
    last = max(wanted) if wanted else ""
    for batch in reader:
        table = pa.Table.from_batches([batch])
        lines = list(range(line + 1, line + 1 + table.num_rows))
        line += table.num_rows
        keep = pc.is_in(table["ticker"], pa.array(sorted(wanted), pa.string()))
        if not pc.any(keep).as_py():
            if table.num_rows and pc.min(table["ticker"]).as_py() > last:
                break  # sorted by ticker: every wanted ticker is behind us
            continue
        table = table.filter(keep)
        lines = [n for n, k in zip(lines, keep.to_pylist(), strict=True) if k]
        values = {c: _convert(table, c, columns[c], Path(path), lines) for c in present}
        tick = table["ticker"].to_pylist()
        for i, t in enumerate(tick):
            out[t].append({c: values[c][i] for c in present})
    return out
