"""Writers of small TAQ files for the tests (headers as in market-data-formats.md §1.3-§1.6)."""

from __future__ import annotations

import gzip
from pathlib import Path

TRADE_HEADER = (
    "Time|Exchange|Symbol|Sale Condition|Trade Volume|Trade Price|Trade Stop Stock Indicator|"
    "Trade Correction Indicator|Sequence Number|Trade Id|Source of Trade|Trade Reporting Facility|"
    "Participant Timestamp|Trade Reporting Facility TRF Timestamp|Trade Through Exempt Indicator"
)
QUOTE_HEADER = (
    "Time|Exchange|Symbol|Bid_Price|Bid_Size|Offer_Price|Offer_Size|Quote_Condition|Sequence_Number|"
    "National_BBO_Ind|FINRA_BBO_Indicator|FINRA_ADF_MPID_Indicator|Quote_Cancel_Correction|Source_Of_Quote|"
    "Retail_Interest_Indicator|Short_Sale_Restriction_Indicator|LULD_BBO_Indicator|"
    "SIP_Generated_Message_Identifier|National_BBO_LULD_Indicator|Participant_Timestamp|FINRA_ADF_Timestamp|"
    "FINRA_ADF_Market_Participant_Quote_Indicator|Security_Status_Indicator"
)
# The real-file spelling quirk of field 15 ("Best Bid Quote Condition" with spaces) is kept on purpose.
NBBO_HEADER = (
    "Time|Exchange|Symbol|Bid_Price|Bid_Size|Offer_Price|Offer_Size|Quote_Condition|Sequence_Number|"
    "National_BBO_Ind|FINRA_BBO_Indicator|FINRA_ADF_MPID_Indicator|Quote_Cancel_Correction|Source_Of_Quote|"
    "Best Bid Quote Condition|Best_Bid_Exchange|Best_Bid_Price|Best_Bid_Size|Best_Bid_FINRA_Market_Maker_ID|"
    "Best_Offer_Quote_Condition|Best_Offer_Exchange|Best_Offer_Price|Best_Offer_Size|"
    "Best_Offer_FINRA_Market_Maker_ID|LULD_Indicator|LULD_NBBO_Indicator|SIP_Generated_Message_Identifier|"
    "Participant_Timestamp|FINRA_ADF_Timestamp|Security_Status_Indicator"
)
MASTER_HEADER = (
    "Symbol|Security_Description|CUSIP|Security_Type|SIP_Symbol|Old_Symbol|Test_Symbol_Flag|Listed_Exchange|"
    "Tape|Unit_Of_Trade|Round_Lot|NYSE_Industry_Code|Shares_Outstanding|Halt_Delay_Reason|"
    "Specialist_Clearing_Agent|Specialist_Clearing_Number|Specialist_Post_Number|Specialist_Panel|"
    "TradedOnNYSEMKT|TradedOnNASDAQBX|TradedOnNSX|TradedOnFINRA|TradedOnISE|TradedOnEdgeA|TradedOnEdgeX|"
    "TradedOnCHX|TradedOnNYSE|TradedOnArca|TradedOnNasdaq|TradedOnCBOE|TradedOnPSX|TradedOnBATSY|TradedOnBATS|"
    "TradedOnIEX|Tick_Pilot_Indicator|Effective_Date"
)
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
