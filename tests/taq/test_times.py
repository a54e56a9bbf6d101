"""TAQ wall-clock times to UTC ns across DST changes, without floats."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest

from adapters.taq.reader import date_from_name
from adapters.taq.times import et_times_to_utc_ns, valid_time_mask

ET = ZoneInfo("America/New_York")


def reference(date: dt.date, t: str) -> int:
    """Independent conversion: datetime for whole seconds, nanosecond digits added as an int."""
    local = dt.datetime(date.year, date.month, date.day, int(t[:2]), int(t[2:4]), int(t[4:6]), tzinfo=ET)
    return int(local.timestamp()) * 1_000_000_000 + int(t[6:])


@pytest.mark.parametrize(
    ("date", "hours_behind_utc"),
    [
        (dt.date(2018, 3, 9), 5),  # Friday before the spring change: EST
        (dt.date(2018, 3, 11), 4),  # the change day itself (02:00 -> 03:00), TAQ hours are after it
        (dt.date(2018, 3, 12), 4),  # Monday after: EDT
        (dt.date(2018, 7, 30), 4),  # the samples' day
        (dt.date(2018, 11, 2), 4),  # Friday before the autumn change: EDT
        (dt.date(2018, 11, 4), 5),  # the change day itself (02:00 -> 01:00)
        (dt.date(2018, 11, 5), 5),  # Monday after: EST
    ],
)
def test_dst_offsets(date: dt.date, hours_behind_utc: int) -> None:
    times = ["040000048494774", "093000000000001", "155959999999999", "200000000000000"]
    got = et_times_to_utc_ns(pa.array(times), date)
    assert got.dtype == np.int64
    assert got.tolist() == [reference(date, t) for t in times]
    midnight_utc = int(dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC).timestamp()) * 10**9
    # 04:00:00.048494774 ET -> (4 + offset) h UTC, the ns digits intact (a float64 would lose them).
    assert got[0] == midnight_utc + (4 + hours_behind_utc) * 3600 * 10**9 + 48_494_774


def test_hour_of_the_change_is_per_row() -> None:
    # On 2018-03-11 the clock jumps at 02:00 ET: 01:30 is EST (UTC-5), 03:30 is EDT (UTC-4).
    spring = et_times_to_utc_ns(pa.array(["013000000000000", "033000000000000"]), dt.date(2018, 3, 11))
    assert (spring[1] - spring[0]) == 1 * 3600 * 10**9
    # On 2018-11-04 it falls back at 02:00 EDT: 00:30 is EDT, 03:30 is EST, 3 h + 1 h apart.
    autumn = et_times_to_utc_ns(pa.array(["003000000000000", "033000000000000"]), dt.date(2018, 11, 4))
    assert (autumn[1] - autumn[0]) == 4 * 3600 * 10**9


def test_large_ns_exact_and_sliced_input() -> None:
    date = dt.date(2018, 7, 30)
    times = pa.array(["x", "235959999999999", "000000000000001"]).slice(1)
    got = et_times_to_utc_ns(times, date)
    assert got.tolist() == [reference(date, "235959999999999"), reference(date, "000000000000001")]


def test_valid_time_mask() -> None:
    values = ["040000048494774", "40000048494774", "0400000484947740", "246000000000000", "126000000000000",
              "120060000000000", "12000000000000a", ""]
    assert valid_time_mask(pa.array(values)).tolist() == [True] + [False] * 7


def test_date_from_name() -> None:
    from pathlib import Path

    assert date_from_name(Path("EQY_US_ALL_TRADE_20180312.gz")) == dt.date(2018, 3, 12)
    assert date_from_name(Path("small_SPLITS_US_ALL_BBO_Z_20180730")) == dt.date(2018, 7, 30)
    assert date_from_name(Path("trades.txt")) is None
