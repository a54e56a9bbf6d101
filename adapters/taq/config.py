"""Configuration of a TAQ ingest."""

from __future__ import annotations

from typing import Annotated

import msgspec

from adapters.taq.constants import DEFAULT_CORRECTIONS_KEPT, DEFAULT_QUOTE_KEEP, DEFAULT_TRADE_EXCLUDE


class TaqIngestConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Rules and limits of ``ingest_taq``.

    Parameters
    ----------
    trade_exclude_conditions : str
        A trade whose sale-condition set contains any of these characters is dropped.
    trade_corrections_kept : tuple of str
        Trade Correction Indicator values that are kept (others are cancels/corrections).
    quote_keep_conditions : str
        Quote_Condition values that make a usable quote; other quotes withdraw the venue's quote.
    default_round_lot : int
        Round lot for symbols missing from the master file (a warning is recorded).
    default_tick : str
        Tick size for symbols missing from the master file.
    block_size : int
        Bytes per CSV block read (bounds memory together with one symbol's rows).
    chunk_objects : int
        Nautilus objects per catalog file chunk (split only at timestamp changes).
    max_examples : int
        Malformed-row examples kept in the report (all are counted).
    """

    trade_exclude_conditions: str = DEFAULT_TRADE_EXCLUDE
    trade_corrections_kept: tuple[str, ...] = DEFAULT_CORRECTIONS_KEPT
    quote_keep_conditions: str = DEFAULT_QUOTE_KEEP
    default_round_lot: Annotated[int, msgspec.Meta(gt=0)] = 100
    default_tick: str = "0.01"
    block_size: Annotated[int, msgspec.Meta(ge=1 << 10)] = 16 << 20
    chunk_objects: Annotated[int, msgspec.Meta(gt=0)] = 1_000_000
    max_examples: Annotated[int, msgspec.Meta(ge=0)] = 20
