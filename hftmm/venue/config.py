"""Configuration of the ``hftmm venue`` process (msgspec struct; errors name the field).

A file (JSON, TOML or YAML, see ``hftmm.config.loader.read_config_file``) holds any of the fields;
command-line options override the file. Example (JSON)::

    {"catalog": "catalog", "date": "2024-03-11", "instruments": ["ACME.XNYS"], "port": 9878,
     "participants": ["HFTMM"], "drop_copy_comp_id": "DROPCOPY", "speed": 1.0, "start": "09:30",
     "state_dir": "runs/venue"}
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any

import msgspec

from hftmm.config.errors import ConfigError
from hftmm.config.loader import read_config_file, validation_error

_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?")
_INSTRUMENT = re.compile(r"[^.\s]+\.[A-Z0-9]+")
_COMP_ID = re.compile(r"[A-Za-z0-9_\-]+")


class VenueConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Everything ``hftmm venue`` needs.

    Parameters
    ----------
    catalog : str
        Root of the ``ParquetDataCatalog`` holding the day (the feed server's catalog).
    date : date
        The US/Eastern trading day replayed.
    instruments : list of str
        ``SYMBOL.MIC`` ids traded; 55 Symbol and 207 SecurityExchange on the wire.
    host, port : str, int
        Where the FIX acceptor listens.
    venue_comp_id : str
        The venue's SenderCompID (the participants' TargetCompID).
    participants : list of str
        SenderCompIDs of the participants allowed to log on (one FIX session each).
    drop_copy_comp_id : str or None
        SenderCompID of the drop-copy initiator; ``None``: no drop copy session.
    speed : float
        Replay speed: catalog seconds per wall second (> 0).
    start : str or None
        ``HH:MM[:SS]`` Eastern time on ``date`` that ``clock_origin`` corresponds to; ``None``: the
        first market event of the day.
    clock_origin : float or None
        Unix seconds (wall) at which the catalog time is ``start``; ``None``: the moment the venue
        starts (or the origin saved in the state directory, when continuing).
    state_dir : str
        FIX stores, engine snapshot, the venue's record.
    heartbeat_interval : int
        Seconds; the acceptor answers with the initiator's HeartBtInt, this is the default.
    snapshot_interval_s : float
        How often the engine snapshot is written (also at shutdown).
    store_sync : bool
        fsync every sent FIX message before it goes out.
    check_latency : bool, max_latency_s : float
        Refuse messages whose SendingTime is far from the venue's clock (the FIX session check).
    """

    catalog: str
    date: dt.date
    instruments: Annotated[list[str], msgspec.Meta(min_length=1)]
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 9878
    venue_comp_id: str = "HFTMMVENUE"
    participants: Annotated[list[str], msgspec.Meta(min_length=1)] = msgspec.field(default_factory=lambda: ["HFTMM"])
    drop_copy_comp_id: str | None = "DROPCOPY"
    speed: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    start: str | None = None
    clock_origin: float | None = None
    state_dir: str = "runs/venue"
    heartbeat_interval: Annotated[int, msgspec.Meta(ge=1)] = 5
    snapshot_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    store_sync: bool = True
    check_latency: bool = True
    max_latency_s: Annotated[float, msgspec.Meta(gt=0)] = 120.0

    def __post_init__(self) -> None:
        for i, iid in enumerate(self.instruments):
            if not _INSTRUMENT.fullmatch(iid):
                raise ConfigError(f"instruments[{i}]", f"must be SYMBOL.MIC (e.g. ACME.XNYS), got {iid!r}")
        if len(set(self.instruments)) != len(self.instruments):
            raise ConfigError("instruments", "lists an instrument twice")
        symbols = [iid.rsplit(".", 1)[0] for iid in self.instruments]
        if len(set(symbols)) != len(symbols):
            raise ConfigError("instruments", "two instruments share a symbol (55 alone must name the book)")
        if self.start is not None and not _HHMM.fullmatch(self.start):
            raise ConfigError("start", f"must be HH:MM or HH:MM:SS (Eastern), got {self.start!r}")
        names = [("venue_comp_id", self.venue_comp_id)] + [(f"participants[{i}]", p) for i, p in enumerate(self.participants)]
        if self.drop_copy_comp_id is not None:
            names.append(("drop_copy_comp_id", self.drop_copy_comp_id))
        seen: set[str] = set()
        for path, name in names:
            if not _COMP_ID.fullmatch(name):
                raise ConfigError(path, f"must be letters, digits, '_' or '-', got {name!r}")
            if name in seen:
                raise ConfigError(path, f"CompID {name!r} is used twice")
            seen.add(name)
        if self.clock_origin is not None and self.clock_origin <= 0:
            raise ConfigError("clock_origin", f"must be Unix seconds > 0, got {self.clock_origin}")

    @property
    def symbols(self) -> dict[str, str]:
        """Symbol -> MIC of every instrument."""
        return dict(iid.rsplit(".", 1) for iid in self.instruments)  # type: ignore[misc]


def parse_venue_config(raw: dict[str, Any], source: str | None = None) -> VenueConfig:
    """A ``VenueConfig`` from builtins.

    Raises
    ------
    ConfigError
        Naming the offending field.
    """
    try:
        return msgspec.convert(raw, VenueConfig, strict=False)
    except msgspec.ValidationError as exc:
        raise validation_error(exc, raw, source=source) from None
    except ConfigError as exc:
        if source and exc.source is None:
            raise ConfigError(exc.path, exc.reason, source) from None
        raise


def load_venue_config(path: Path | str | None, overrides: dict[str, Any] | None = None) -> VenueConfig:
    """The file at ``path`` (optional) with ``overrides`` (the command-line options that were given)."""
    raw: dict[str, Any] = dict(read_config_file(Path(path))) if path is not None else {}
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return parse_venue_config(raw, str(path) if path is not None else None)
