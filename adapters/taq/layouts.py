"""The NYSE Daily TAQ v3.x file layouts: the header lines of the trade, participant-quote, NBBO and
master files (market-data-formats.md §1.3-§1.6; trade, quote and master copied from NYSE's 2018
samples). The reader matches columns by name, loosely, so other versions read too; these are the
layouts hftmm writes (the sample generator) and tests against.
"""

from __future__ import annotations

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

NBBO_HEADER = (
    "Time|Exchange|Symbol|Bid_Price|Bid_Size|Offer_Price|Offer_Size|Quote_Condition|Sequence_Number|"
    "National_BBO_Ind|FINRA_BBO_Indicator|FINRA_ADF_MPID_Indicator|Quote_Cancel_Correction|Source_Of_Quote|"
    "Best_Bid_Quote_Condition|Best_Bid_Exchange|Best_Bid_Price|Best_Bid_Size|Best_Bid_FINRA_Market_Maker_ID|"
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
