"""The replay clock's mapping between wall time and catalog time."""

from __future__ import annotations

import datetime as dt

import pytest

from hftmm.engine.session import et_to_utc_ns
from hftmm.venue.clock import ReplayClock, origin_catalog_ns

DAY = dt.date(2024, 3, 11)


def test_mapping_both_ways_at_speed() -> None:
    origin = et_to_utc_ns(DAY, "09:30")
    wall = [1_000.0]
    clock = ReplayClock(origin, 1_000.0, 60.0, wall=lambda: wall[0])
    assert clock.now_ns() == origin
    wall[0] = 1_001.0  # one wall second at 60x: one catalog minute
    assert clock.now_ns() == et_to_utc_ns(DAY, "09:31")
    assert clock.wall_at(et_to_utc_ns(DAY, "10:30")) == pytest.approx(1_060.0)
    assert clock.seconds_until(et_to_utc_ns(DAY, "09:32")) == pytest.approx(1.0)
    # before the origin: the catalog time is earlier (events there are the opening book)
    assert clock.catalog_ns_at(999.0) == et_to_utc_ns(DAY, "09:29")


def test_two_clocks_with_the_same_origin_agree() -> None:
    origin = origin_catalog_ns(DAY, "09:30", None)
    a = ReplayClock(origin, 5_000.0, 2.5)
    b = ReplayClock(origin, 5_000.0, 2.5)
    assert all(a.catalog_ns_at(w) == b.catalog_ns_at(w) for w in (4_000.0, 5_000.0, 5_123.456))


def test_origin_choices_and_bad_input() -> None:
    assert origin_catalog_ns(DAY, None, 123) == 123
    assert origin_catalog_ns(DAY, None, None) == et_to_utc_ns(DAY, "09:30")
    with pytest.raises(ValueError, match="start"):
        origin_catalog_ns(DAY, "soon", None)
    with pytest.raises(ValueError, match="speed"):
        ReplayClock(0, 0.0, 0.0)
