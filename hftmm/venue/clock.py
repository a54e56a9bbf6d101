"""The replay clock: which catalog instant the venue's market is at, for a given wall time.

One linear mapping, the feed server's (``adapters/polygon/feed_server.py`` paces its day as
``wall = wall0 + (t - market0) / speed``)::

    wall(t)    = origin_wall + (t - origin_catalog) / speed        # seconds, t in catalog UTC ns
    catalog(w) = origin_catalog + (w - origin_wall) * speed

``origin_catalog`` is ``--start HH:MM`` (Eastern) on the day, or the day's first market event;
``origin_wall`` is ``--clock-origin`` (Unix seconds), or when the venue started. Two processes given
the same day, ``--start``, ``--speed`` and ``--clock-origin`` agree on the market's state at every
wall instant, whenever each of them started. Market events before ``origin_catalog`` describe the
book the venue opens with and are applied at once.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from hftmm.engine.session import et_to_utc_ns

NS = 1_000_000_000


class ReplayClock:
    """Maps wall time (Unix seconds) to catalog time (UTC ns) and back.

    Parameters
    ----------
    origin_catalog_ns : int
        Catalog time at ``origin_wall``.
    origin_wall : float
        Unix seconds.
    speed : float
        Catalog seconds per wall second (> 0).
    wall : callable, optional
        The wall clock (``time.time``; tests may pass their own).
    """

    def __init__(self, origin_catalog_ns: int, origin_wall: float, speed: float,
                 wall: Callable[[], float] = time.time) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, was {speed}")
        self.origin_catalog_ns = origin_catalog_ns
        self.origin_wall = origin_wall
        self.speed = speed
        self._wall = wall

    def catalog_ns_at(self, wall_s: float) -> int:
        """Catalog time (UTC ns) at wall time ``wall_s``."""
        return self.origin_catalog_ns + int(round((wall_s - self.origin_wall) * self.speed * NS))

    def wall_at(self, catalog_ns: int) -> float:
        """Wall time (Unix seconds) at which the market reaches ``catalog_ns``."""
        return self.origin_wall + (catalog_ns - self.origin_catalog_ns) / NS / self.speed

    def now_ns(self) -> int:
        """The market's catalog time now."""
        return self.catalog_ns_at(self._wall())

    def seconds_until(self, catalog_ns: int) -> float:
        """Wall seconds until the market reaches ``catalog_ns`` (<= 0: already there)."""
        return self.wall_at(catalog_ns) - self._wall()


def origin_catalog_ns(date: dt.date, start: str | None, first_event_ns: int | None) -> int:
    """``start`` (``HH:MM[:SS]`` Eastern on ``date``), else the first event, else 09:30 ET.

    Raises
    ------
    ValueError
        If ``start`` is not a time.
    """
    if start is not None:
        try:
            return et_to_utc_ns(date, start)
        except (ValueError, IndexError) as exc:
            raise ValueError(f"start {start!r} is not HH:MM[:SS]") from exc
    if first_event_ns is not None:
        return first_event_ns
    return et_to_utc_ns(date, "09:30")
