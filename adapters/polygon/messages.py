"""Polygon stocks WebSocket messages: msgspec schemas and a tolerant frame decoder (no Nautilus).

Every frame is a JSON array of events dispatched on ``ev`` (market-data-formats.md §2.8). The fast
path decodes a whole frame into tagged structs in one msgspec call. If that fails (an unknown ``ev``
or one bad message), the frame is decoded again element by element so that every good message
still gets through and each bad one is reported with the field msgspec names.

Keys collide between event types (``i`` is a trade id in ``T`` but indicators in ``Q``; ``c`` is a
condition list in ``T`` and one int in ``Q``), which the per-type structs make explicit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import msgspec


class Trade(msgspec.Struct, tag_field="ev", tag="T", kw_only=True, frozen=True, gc=False):
    """``T``: one trade. ``t`` is SIP time in Unix **ms**; ``c`` may be absent."""

    sym: str
    p: float
    s: float
    t: int
    x: int = 0
    i: str = ""
    c: list[int] | None = None
    q: int = 0
    z: int = 0
    trfi: int | None = None
    trft: int | None = None
    ds: str | None = None
    pt: int | None = None


class Quote(msgspec.Struct, tag_field="ev", tag="Q", kw_only=True, frozen=True, gc=False):
    """``Q``: one NBBO update. A missing side has price and size 0; ``c`` is a single condition."""

    sym: str
    t: int
    bp: float = 0.0
    bs: float = 0.0
    ap: float = 0.0
    as_: float = msgspec.field(name="as", default=0.0)
    bx: int = 0
    ax: int = 0
    c: int | None = None
    i: list[int] | None = None
    q: int = 0
    z: int = 0


class Status(msgspec.Struct, tag_field="ev", tag="status", kw_only=True, frozen=True):
    """``status``: connection, auth and subscription news (``auth_success``, ``max_connections`` ...)."""

    status: str
    message: str = ""


# Event types of the stocks cluster that hftmm does not use: decoded to nothing and counted, so that
# a subscription to them (or a server that sends them anyway) stays on the fast path.
class SecondAggregate(msgspec.Struct, tag_field="ev", tag="A", frozen=True):
    """``A``: per-second aggregate (ignored)."""


class MinuteAggregate(msgspec.Struct, tag_field="ev", tag="AM", frozen=True):
    """``AM``: per-minute aggregate (ignored)."""


class LimitUpLimitDown(msgspec.Struct, tag_field="ev", tag="LULD", frozen=True):
    """``LULD``: limit-up/limit-down bands (ignored)."""


class Imbalance(msgspec.Struct, tag_field="ev", tag="NOI", frozen=True):
    """``NOI``: auction imbalance (ignored)."""


class FairMarketValue(msgspec.Struct, tag_field="ev", tag="FMV", frozen=True):
    """``FMV``: fair market value (ignored)."""


Message = Union[Trade, Quote, Status, SecondAggregate, MinuteAggregate, LimitUpLimitDown, Imbalance, FairMarketValue]  # noqa: UP007
IGNORED_TYPES = (SecondAggregate, MinuteAggregate, LimitUpLimitDown, Imbalance, FairMarketValue)
KNOWN_EVENTS = frozenset({"T", "Q", "status", "A", "AM", "LULD", "NOI", "FMV"})

_FRAME = msgspec.json.Decoder(list[Message])
_RAW_FRAME = msgspec.json.Decoder(list[msgspec.Raw])
_ONE = msgspec.json.Decoder(Message)
_ANY = msgspec.json.Decoder()


@dataclass(slots=True)
class Problem:
    """One message (or whole frame) that could not be used."""

    kind: str  # "malformed" or "unknown"
    index: int | None  # position in the frame, None for the whole frame
    event: str | None  # its ``ev``, when readable
    reason: str


@dataclass(slots=True)
class DecodedFrame:
    """The usable messages of one frame in frame order, and what was wrong with the others."""

    messages: list[Message]
    problems: list[Problem] = field(default_factory=list)


def decode_frame(frame: bytes | str) -> DecodedFrame:
    """Decode one WebSocket frame; never raises on bad input.

    Parameters
    ----------
    frame : bytes or str
        The frame's text.

    Returns
    -------
    DecodedFrame
        Messages that decoded, in order; a problem per message that did not (``unknown`` for an
        ``ev`` this decoder does not know, ``malformed`` otherwise, naming the field).
    """
    try:
        return DecodedFrame(_FRAME.decode(frame))
    except msgspec.DecodeError:
        pass
    try:
        raws = _RAW_FRAME.decode(frame)
    except msgspec.DecodeError as e:
        return DecodedFrame([], [Problem("malformed", None, None, f"frame is not a JSON array: {e}")])
    messages: list[Message] = []
    problems: list[Problem] = []
    for index, raw in enumerate(raws):
        try:
            messages.append(_ONE.decode(raw))
            continue
        except msgspec.DecodeError as e:
            error = str(e)
        try:
            obj = _ANY.decode(raw)
        except msgspec.DecodeError:
            obj = None
        event = obj.get("ev") if isinstance(obj, dict) else None
        if not isinstance(obj, dict):
            problems.append(Problem("malformed", index, None, "message is not a JSON object"))
        elif event not in KNOWN_EVENTS:
            problems.append(Problem("unknown", index, str(event) if event is not None else None,
                                    "no 'ev' field" if event is None else f"unknown event type {event!r}"))
        else:
            problems.append(Problem("malformed", index, event, error))
    return DecodedFrame(messages, problems)


def ms_to_ns(t: int) -> tuple[int, str]:
    """A WebSocket ``t`` in ns, and the unit it was read in.

    The spec says ms for every stocks channel, yet its own examples carry µs and ns values, so the
    unit is inferred from the magnitude (a ms epoch has at most 13 digits until the year 2286).
    """
    if t < 100_000_000_000_000:
        return t * 1_000_000, "ms"
    if t < 100_000_000_000_000_000:
        return t * 1_000, "us"
    return t, "ns"


def encode_frame(messages: list[dict]) -> bytes:
    """A frame as the server sends it (used by the feed server and tests)."""
    return msgspec.json.encode(messages)
