"""Codes of NYSE Daily TAQ: participants, conditions, indicators (market-data-formats.md §1)."""

from __future__ import annotations

# Listing-exchange participant letter -> ISO MIC used as the Nautilus venue. Unknown letters pass
# through as "TAQ<letter>" so that a new venue never stops an ingest.
PARTICIPANT_MIC: dict[str, str] = {
    "A": "XASE",  # NYSE American
    "B": "XBOS",  # Nasdaq BX
    "C": "XCIS",  # NYSE National
    "D": "FINR",  # FINRA ADF / TRFs (off-exchange)
    "H": "EPRL",  # MIAX Pearl
    "I": "XISE",  # Nasdaq ISE
    "J": "EDGA",  # Cboe EDGA
    "K": "EDGX",  # Cboe EDGX
    "L": "LTSE",  # Long-Term Stock Exchange
    "M": "XCHI",  # NYSE Chicago / Texas
    "N": "XNYS",  # NYSE
    "P": "ARCX",  # NYSE Arca
    "Q": "XNAS",  # Nasdaq (tape C)
    "T": "XNAS",  # Nasdaq (tapes A/B)
    "U": "MEMX",  # MEMX
    "V": "IEXG",  # IEX
    "W": "CBSX",  # Cboe CBSX (defunct)
    "X": "XPHL",  # Nasdaq PSX
    "Y": "BATY",  # Cboe BYX
    "Z": "BATS",  # Cboe BZX
}


def listing_mic(letter: str) -> str:
    """MIC of a listing-exchange letter (data-driven; unknown letters get a stable placeholder)."""
    return PARTICIPANT_MIC.get(letter, f"TAQ{letter}")


# Sale-condition characters that make a trade unusable for the fill and price-formation tape
# (market-data-formats.md §1.8.2): settlement variants, average-price and bunched prints, official
# open/close markers, extended-hours and out-of-sequence reports, derivatively priced, QCT, 611
# placeholders, corrected closes.
DEFAULT_TRADE_EXCLUDE = "BCGHMNPQRTUVWZ4789L"
ODD_LOT_CONDITION = "I"
AUCTION_CONDITIONS = "O56"
ISO_CONDITION = "F"
OFF_EXCHANGE = "D"
# Quote conditions that make a firm, usable participant quote (§1.8.4).
DEFAULT_QUOTE_KEEP = "ABHORW"
QUOTE_CANCEL = "B"
DEFAULT_CORRECTIONS_KEPT = ("00",)
# National_BBO_Ind values meaning "this quote is itself the NBBO" (no appendage), by source (§1.5).
QUOTE_IS_NBBO = {"C": "1", "N": "4"}
TICK_PILOT_TEST_GROUPS = {"G1", "G2", "G3"}
