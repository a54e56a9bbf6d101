"""Instruments from the TAQ master file (``EQY_US_ALL_REF_MASTER_*``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Price, Quantity

from adapters.taq.constants import TICK_PILOT_TEST_GROUPS, listing_mic
from adapters.taq.errors import TaqFormatError
from adapters.taq.reader import LINE, TaqReader
from adapters.taq.report import FileReport
from adapters.taq.times import ET

# Every instrument carries 4 decimals: off-exchange prints are sub-penny, and Nautilus requires each
# tick's precision to equal its instrument's.
PRICE_PRECISION = 4


@dataclass(frozen=True)
class MasterRecord:
    """The fields of a master-file row that hftmm uses."""

    symbol: str  # TAQ spelling, e.g. "BRK B"
    listed_exchange: str
    tape: str
    round_lot: int
    tick: str
    cusip: str
    description: str
    in_master: bool = True
    source: str = ""  # where the record came from, when not the TAQ master file (e.g. "polygon-reference")


def nautilus_symbol(taq_symbol: str) -> str:
    """TAQ ``BRK B`` -> ``BRK.B`` (root and suffix joined by a dot)."""
    return ".".join(taq_symbol.split())


def taq_symbol(symbol: str) -> str:
    """A user's symbol in TAQ spelling: ``BRK.B``, ``brk b`` -> ``BRK B``."""
    return " ".join(symbol.replace(".", " ").split()).upper()


def read_master(
    path: Path,
    symbols: Iterable[str] | None = None,
    report: FileReport | None = None,
    bad: Callable[[int | None, str, str], None] | None = None,
    test_symbols: set[str] | None = None,
) -> dict[str, MasterRecord]:
    """Master rows by TAQ symbol, test symbols dropped.

    Parameters
    ----------
    path : Path
        ``EQY_US_ALL_REF_MASTER_*`` (plain or gzip); columns are found by name.
    symbols : iterable of str, optional
        Only these symbols (TAQ or dotted spelling).
    report : FileReport, optional
        Updated with rows read, kept and dropped.
    bad : callable, optional
        ``bad(line, field, reason)`` for a malformed row, which is then skipped; by default a
        malformed row raises ``TaqFormatError``.
    test_symbols : set of str, optional
        Filled with the symbols flagged ``Test_Symbol_Flag=Y`` (their data should be dropped too).

    Returns
    -------
    dict[str, MasterRecord]
        By TAQ symbol (``BRK B``).
    """
    report = report or FileReport(str(path), "master")
    if symbols is not None:
        symbols = {taq_symbol(s) for s in symbols}
    reader = TaqReader(
        path,
        columns={"symbol": (), "listed_exchange": (), "round_lot": (), "tape": ()},
        optional={"test_symbol_flag": (), "tick_pilot_indicator": (), "cusip": (), "security_description": ()},
        report=report,
        symbols=set(symbols) if symbols is not None else None,
    )
    records: dict[str, MasterRecord] = {}
    for symbol, table in reader.groups():
        rows = table.to_pylist()
        row = rows[-1]
        if row.get("test_symbol_flag", "N").strip() == "Y":
            report.drop("test symbol", len(rows))
            if test_symbols is not None:
                test_symbols.add(symbol)
            continue
        try:
            round_lot = int(row["round_lot"])
            if round_lot <= 0:
                raise ValueError
        except ValueError:
            field, reason = reader.column_name("round_lot"), f"not a positive integer: {row['round_lot']!r}"
            if bad is None:
                raise TaqFormatError(path, row[LINE], field, reason) from None
            bad(row[LINE], field, reason)
            report.drop("malformed", len(rows))
            continue
        pilot = row.get("tick_pilot_indicator", "").strip()
        records[symbol] = MasterRecord(
            symbol=symbol,
            listed_exchange=row["listed_exchange"].strip(),
            tape=row["tape"].strip(),
            round_lot=round_lot,
            tick="0.05" if pilot in TICK_PILOT_TEST_GROUPS else "0.01",
            cusip=row.get("cusip", ""),
            description=row.get("security_description", ""),
        )
        report.rows_kept += len(rows)
    return records


def make_equity(record: MasterRecord, ts: int) -> Equity:
    """A Nautilus ``Equity`` on the listing exchange's MIC."""
    symbol = nautilus_symbol(record.symbol)
    tick = Decimal(record.tick).quantize(Decimal(1).scaleb(-PRICE_PRECISION))
    return Equity(
        instrument_id=InstrumentId(Symbol(symbol), Venue(listing_mic(record.listed_exchange))),
        raw_symbol=Symbol(symbol),
        currency=USD,
        price_precision=PRICE_PRECISION,
        price_increment=Price.from_str(str(tick)),
        lot_size=Quantity.from_int(record.round_lot),
        ts_event=ts,
        ts_init=ts,
        info={
            "source": record.source or ("taq-master" if record.in_master else "default (not in master file)"),
            "taq_symbol": record.symbol,
            "listed_exchange": record.listed_exchange,
            "tape": record.tape,
            "round_lot": record.round_lot,
            "cusip": record.cusip,
            "description": record.description,
        },
    )


def day_start_ns(date: dt.date) -> int:
    """UTC ns of US/Eastern midnight starting ``date`` (instruments are stamped there)."""
    return int(dt.datetime.combine(date, dt.time(0), tzinfo=ET).timestamp()) * 1_000_000_000


def load_instruments(master: Path, date: dt.date, symbols: Iterable[str] | None = None) -> list[Equity]:
    """Equities of the master file, stamped at ET midnight of ``date``.

    Parameters
    ----------
    master : Path
        ``EQY_US_ALL_REF_MASTER_*`` (plain or gzip).
    date : date
        The trade date the instruments are for.
    symbols : iterable of str, optional
        Only these symbols (``BRK.B`` or ``BRK B``); test symbols are always dropped.

    Returns
    -------
    list[Equity]
        One per kept master row, ``<SYMBOL>.<MIC of Listed_Exchange>``, 4 price decimals.
    """
    ts = day_start_ns(date)
    return [make_equity(r, ts) for r in read_master(master, symbols).values()]


def instruments_table(records: Iterable[MasterRecord], date: dt.date) -> pa.Table:
    """The canonical instruments table: the master fields hftmm uses, one row per instrument."""
    rows = list(records)
    return pa.table(
        {
            "date": pa.array([date] * len(rows), pa.date32()),
            "instrument_id": [f"{nautilus_symbol(r.symbol)}.{listing_mic(r.listed_exchange)}" for r in rows],
            "taq_symbol": [r.symbol for r in rows],
            "listed_exchange": [r.listed_exchange for r in rows],
            "tape": [r.tape for r in rows],
            "round_lot": pa.array([r.round_lot for r in rows], pa.int64()),
            "tick": [r.tick for r in rows],
            "cusip": [r.cusip for r in rows],
            "description": [r.description for r in rows],
            "in_master": pa.array([r.in_master for r in rows], pa.bool_()),
        },
    )
