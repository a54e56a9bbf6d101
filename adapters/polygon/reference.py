"""Reference data: condition eligibility from ``update_rules``, exchange ids to venues (no Nautilus).

Polygon condition ids are unique only per data type (market-data-formats.md §2.7), so the table is
keyed by (data type, id). Which trades are kept is derived from the records, never from a
hard-coded list: a trade is a regular print for the fill tape when every one of its conditions has
``update_rules.consolidated.updates_high_low`` (it may set the last price), and odd-lot prints are
kept as well because they are real fills inside the spread (the TAQ ingest keeps ``I`` too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from adapters.polygon.errors import PolygonFormatError
from adapters.taq.constants import listing_mic

OFF_EXCHANGE_ID = 4  # every TRF and the ADF share exchange id 4 (use trf_id to tell them apart)
ODD_LOT_NAME = "odd lot trade"


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition record: its rules for consolidated bars and its SIP codes."""

    id: int
    type: str
    name: str
    data_types: tuple[str, ...]
    updates_high_low: bool
    updates_open_close: bool
    updates_volume: bool
    sip_mapping: tuple[tuple[str, str], ...]


class ConditionTable:
    """Conditions by (data type, id), and the trade-keeping rule built on them.

    Parameters
    ----------
    records : iterable of dict
        ``results`` of ``/v3/reference/conditions`` (any number of pages, concatenated).
    """

    def __init__(self, records: Iterable[dict]) -> None:
        self.by_key: dict[tuple[str, int], Condition] = {}
        for n, r in enumerate(records):
            try:
                rules = (r.get("update_rules") or {}).get("consolidated") or {}
                cond = Condition(
                    id=int(r["id"]),
                    type=str(r.get("type", "")),
                    name=str(r.get("name", "")),
                    data_types=tuple(r.get("data_types") or ()),
                    updates_high_low=bool(rules.get("updates_high_low", False)),
                    updates_open_close=bool(rules.get("updates_open_close", False)),
                    updates_volume=bool(rules.get("updates_volume", False)),
                    sip_mapping=tuple(sorted((r.get("sip_mapping") or {}).items())),
                )
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                raise PolygonFormatError("conditions", f"results[{n}]", f"not a condition record: {e!r}") from None
            for data_type in cond.data_types or ("trade",):
                self.by_key[(data_type, cond.id)] = cond
        self._verdicts: dict[tuple[int, ...], str] = {}

    def __len__(self) -> int:
        return len(self.by_key)

    def trade(self, cid: int) -> Condition | None:
        """The trade condition with id ``cid``."""
        return self.by_key.get(("trade", cid))

    def trade_reason(self, conditions: Sequence[int] | None) -> str:
        """Why a trade with these conditions is not a regular print ("" when it is).

        Reasons: ``unknown condition N`` (an id the table lacks: new ids must be looked at, not
        guessed), ``condition N`` (a condition that may not set the last price and is not an odd
        lot). Results are cached per condition tuple: a day has few distinct sets.
        """
        key = tuple(conditions) if conditions else ()
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = ""
            for cid in key:
                cond = self.trade(cid)
                if cond is None:
                    verdict = f"unknown condition {cid}"
                    break
                if not cond.updates_high_low and cond.name.lower() != ODD_LOT_NAME:
                    verdict = f"condition {cid}"
                    break
            self._verdicts[key] = verdict
        return verdict

    def is_odd_lot(self, conditions: Sequence[int] | None) -> bool:
        """Whether one of the conditions is the odd-lot condition."""
        return any((c := self.trade(cid)) is not None and c.name.lower() == ODD_LOT_NAME for cid in conditions or ())


@dataclass(frozen=True, slots=True)
class Exchange:
    """One venue record of ``/v3/reference/exchanges``."""

    id: int
    mic: str | None
    participant_id: str | None
    name: str
    type: str


class ExchangeTable:
    """Polygon exchange id -> venue.

    Parameters
    ----------
    records : iterable of dict
        ``results`` of ``/v3/reference/exchanges``. Id 4 appears once per TRF (and the ADF): the
        first record wins for the participant letter, which is ``D`` for all of them.
    """

    def __init__(self, records: Iterable[dict]) -> None:
        self.by_id: dict[int, Exchange] = {}
        self.by_mic: dict[str, Exchange] = {}
        for n, r in enumerate(records):
            try:
                ex = Exchange(int(r["id"]), r.get("mic"), r.get("participant_id"), str(r.get("name", "")), str(r.get("type", "")))
            except (KeyError, TypeError, ValueError) as e:
                raise PolygonFormatError("exchanges", f"results[{n}]", f"not an exchange record: {e!r}") from None
            self.by_id.setdefault(ex.id, ex)
            if ex.mic:
                self.by_mic.setdefault(ex.mic, ex)

    def letter(self, exchange_id: int) -> str:
        """The TAQ participant letter of an exchange id ("" when unknown)."""
        ex = self.by_id.get(exchange_id)
        return ex.participant_id or "" if ex else ""

    def mic(self, exchange_id: int) -> str:
        """The MIC of an exchange id, through the TAQ letter so that both adapters name venues alike
        (``T``/``Q`` -> XNAS); unknown ids get the stable placeholder ``POLY<id>``."""
        letter = self.letter(exchange_id)
        if letter:
            return listing_mic(letter)
        ex = self.by_id.get(exchange_id)
        return ex.mic if ex and ex.mic else f"POLY{exchange_id}"

    def id_of_mic(self, mic: str) -> int:
        """The exchange id of a MIC (0 when unknown): the feed server stamps ``x`` with it."""
        ex = self.by_mic.get(mic)
        return ex.id if ex else 0
