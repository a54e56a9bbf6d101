"""Exchange wall-clock times (US/Eastern) to UTC nanoseconds, DST-aware."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ET = ZoneInfo("America/New_York")


def et_to_utc_ns(date: dt.date, hhmm: str) -> int:
    """UTC epoch nanoseconds of an ``HH:MM[:SS]`` US/Eastern wall-clock time on ``date``."""
    parts = [int(p) for p in hhmm.split(":")]
    t = dt.time(parts[0], parts[1], parts[2] if len(parts) > 2 else 0)
    local = dt.datetime.combine(date, t, tzinfo=ET)
    # Integer arithmetic from the epoch: never route nanoseconds through float.
    return int(local.timestamp()) * 1_000_000_000


def day_bounds_utc_ns(date: dt.date) -> tuple[int, int]:
    """[00:00, 24:00) of the ET calendar day, in UTC ns (TAQ covers 04:00-20:00 ET within it)."""
    start = et_to_utc_ns(date, "00:00")
    end = int(dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=ET).timestamp()) * 1_000_000_000
    return start, end
