"""NYSE Daily TAQ v3.x text layout: headers, field formatting and the file writer.

Everything here is about bytes on disk, nothing about the market: the headers are copied from NYSE's
2018 sample files (``shared/data/taq/``) and from the NBBO v3.x layout in
``shared/docs/market-data-formats.md`` §1.5, so generated files are indistinguishable in layout from
real ones (header line, pipe-delimited rows, ``END|YYYYMMDD|<count>|…`` trailer padded to the
column count, optional gzip).
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import numpy as np

from adapters.taq.layouts import MASTER_HEADER, NBBO_HEADER, QUOTE_HEADER, TRADE_HEADER

__all__ = ["MASTER_HEADER", "NBBO_HEADER", "QUOTE_HEADER", "TRADE_HEADER"]


# Participant letters behind the master file's TradedOn* columns, in header order. Nasdaq is one
# column for both of its letters (T for tapes A/B, Q for tape C).
TRADED_ON_LETTERS: tuple[str, ...] = (
    "A", "B", "C", "D", "I", "J", "K", "M", "N", "P", "TQ", "W", "X", "Y", "Z", "V",
)

NS_PER_S = 1_000_000_000
# Prices are carried as integers in 1/10,000 dollar: trades print to four decimals (sub-penny
# off-exchange prints such as 65.9799), and integers keep the output free of float noise.
PRICE_UNITS = 10_000


def taq_times(ns_since_midnight: np.ndarray) -> list[str]:
    """Format ET wall-clock times as TAQ's 15-character ``HHMMSSnnnnnnnnn``.

    Parameters
    ----------
    ns_since_midnight : numpy.ndarray
        Nanoseconds since ET midnight on the trade date (int64).

    Returns
    -------
    list of str
        One 15-digit string per input, leading zeros kept (``040000048494774``).
    """
    t = np.asarray(ns_since_midnight, dtype=np.int64)
    seconds, ns = np.divmod(t, NS_PER_S)
    hours, rest = np.divmod(seconds, 3600)
    minutes, secs = np.divmod(rest, 60)
    # HHMMSS and the nanoseconds packed into one integer (at most 2.4e14, far below int64's
    # limit) so that each row needs a single format call.
    packed = (hours * 10_000 + minutes * 100 + secs) * NS_PER_S + ns
    return [f"{x:015d}" for x in packed.tolist()]


def taq_price(units: int) -> str:
    """Format a price in 1/10,000 dollar the way TAQ prints it.

    Parameters
    ----------
    units : int
        Price times 10,000; 0 stands for a missing quote side.

    Returns
    -------
    str
        No trailing zeros and no trailing dot: ``48.05``, ``30``, ``65.9799``, ``0``.
    """
    whole, frac = divmod(int(units), PRICE_UNITS)
    if frac == 0:
        return str(whole)
    return f"{whole}.{frac:04d}".rstrip("0")


def trailer(date: dt.date, count: int, header: str) -> str:
    """The ``END|YYYYMMDD|<count>|||…`` line, padded with pipes to the header's column count."""
    n_cols = header.count("|") + 1
    return f"END|{date:%Y%m%d}|{count}" + "|" * (n_cols - 3)


def write_taq_file(path: Path, header: str, chunks: Iterable[list[str]], date: dt.date, use_gzip: bool) -> Path:
    """Write one TAQ file: header line, rows, ``END`` trailer; LF line endings.

    Parameters
    ----------
    path : Path
        Target path without ``.gz``; ``.gz`` is appended when ``use_gzip``.
    header : str
        The header line (also fixes the trailer's column count).
    chunks : iterable of list of str
        Rows, already formatted and in file order, in as many lists as convenient.
    date : datetime.date
        Trade date written into the trailer.
    use_gzip : bool
        Compress as NYSE distributes the files.

    Returns
    -------
    Path
        The path written.
    """
    target = path.with_name(path.name + ".gz") if use_gzip else path
    count = 0
    with target.open("wb") as raw:
        # mtime=0 and no embedded file name keep gzip output byte-identical across runs.
        sink: IO[bytes] = raw
        if use_gzip:
            sink = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
        sink.write((header + "\n").encode("ascii"))
        for rows in chunks:
            if rows:
                sink.write(("\n".join(rows) + "\n").encode("ascii"))
                count += len(rows)
        sink.write((trailer(date, count, header) + "\n").encode("ascii"))
        if use_gzip:
            sink.close()  # flushes the gzip member; the raw file closes with the block
    return target
