"""Writers of small TAQ files for the tests (headers as in market-data-formats.md §1.3-§1.6)."""

from __future__ import annotations

import gzip
from pathlib import Path

from adapters.taq.layouts import MASTER_HEADER, QUOTE_HEADER, TRADE_HEADER
from adapters.taq.layouts import NBBO_HEADER as _NBBO_V3

# The real-file spelling quirk of field 15 ("Best Bid Quote Condition" with spaces) is kept on purpose.
NBBO_HEADER = _NBBO_V3.replace("Best_Bid_Quote_Condition", "Best Bid Quote Condition")
assert (TRADE_HEADER.count("|"), QUOTE_HEADER.count("|"), NBBO_HEADER.count("|"), MASTER_HEADER.count("|")) == (
    14, 22, 29, 35,
)


def master_row(
    symbol: str, listed: str = "N", tape: str = "A", round_lot: int = 100, test: str = "N", pilot: str = "",
) -> str:
    """One master row (36 fields)."""
    head = [symbol, f"{symbol} Inc", "000000001", "A", symbol, "", test, listed, tape, "1", str(round_lot)]
    fields = head + ["", "1", "", "", "", "", ""] + ["1"] * 16 + [pilot, "20100101"]
    return "|".join(fields)


def quote_row(
    t: str, x: str, bid: str, bs: str, ask: str, asz: str, sym: str = "ACME", cond: str = "R",
    seq: int = 1, ind: str = "0", source: str = "C", cancel: str = "",
) -> str:
    """One participant quote row (23 fields)."""
    fields = [t, x, sym, bid, bs, ask, asz, cond, str(seq), ind, "", "", cancel, source, "", "", "", "", "", t, "", "", " "]
    return "|".join(fields)


def nbbo_row(
    t: str, sym: str, bid: str, bs: str, ask: str, asz: str, seq: int = 1, x: str = "N",
) -> str:
    """One NBBO-file row (30 fields): the triggering quote is the same as the new NBBO here."""
    fields = [t, x, sym, bid, bs, ask, asz, "R", str(seq), "2", "", "", "", "C",
              "R", x, bid, bs, "", "R", x, ask, asz, "", "", "", "", t, "", " "]
    return "|".join(fields)


def trade_row(
    t: str, px: str, size: str = "100", cond: str = "    ", corr: str = "00", x: str = "N", sym: str = "ACME",
    seq: int = 1,
) -> str:
    """One trade row (15 fields)."""
    fields = [t, x, sym, cond, size, px, "N", corr, str(seq), str(seq), "C", "", t, "", "0"]
    return "|".join(fields)


def write(path: Path, header: str, rows: list[str], trailer: int | None = None, gz: bool = False,
          pad_trailer: bool = True) -> Path:
    """Write a TAQ file (optionally gzip, ``.gz`` appended) with an optional END trailer."""
    text = "\n".join([header, *rows]) + "\n"
    if trailer is not None:
        pad = "|" * (header.count("|") - 2) if pad_trailer else ""
        text += f"END|{path.name[-8:]}|{trailer}{pad}\n"
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path
