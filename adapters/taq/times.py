"""TAQ times (15-digit US/Eastern wall clock, date from the file name) to UTC nanoseconds.

Pure integer arithmetic on the digits: a nanosecond timestamp never passes through float64.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ET = ZoneInfo("America/New_York")
NS = 1_000_000_000


def _hour_offsets_ns(date: dt.date) -> np.ndarray:
    """UTC offset (ns, negative west of UTC) in force at each local hour 0..23 of ``date``.

    DST changes at 02:00 local, so the offset is constant within an hour; on the day itself the
    hours after the change get the new offset. (Times in the skipped or repeated hour do not occur
    in TAQ, which starts at 04:00.)
    """
    return np.array(
        [int(dt.datetime.combine(date, dt.time(h), tzinfo=ET).utcoffset().total_seconds()) * NS for h in range(24)],
        dtype=np.int64,
    )


def valid_time_mask(times: pa.Array) -> np.ndarray:
    """True where a time string is exactly 15 digits with hours < 24, minutes and seconds < 60."""
    ok = pc.match_substring_regex(times, r"^([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9][0-9]{9}$")
    return np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)


def et_times_to_utc_ns(times: pa.Array, date: dt.date) -> np.ndarray:
    """Convert valid ``HHMMSSnnnnnnnnn`` strings (check with ``valid_time_mask`` first) to UTC ns."""
    if len(times) == 0:
        return np.zeros(0, dtype=np.int64)
    raw = np.frombuffer(
        pc.binary_join_element_wise(times, "").cast(pa.binary()).buffers()[2], dtype=np.uint8,
    )[: 15 * len(times)].reshape(-1, 15).astype(np.int64) - ord("0")
    # Positional digits -> integers, without any float step.
    hh = raw[:, 0] * 10 + raw[:, 1]
    mm = raw[:, 2] * 10 + raw[:, 3]
    ss = raw[:, 4] * 10 + raw[:, 5]
    frac = np.zeros(len(times), dtype=np.int64)
    for k in range(6, 15):
        frac = frac * 10 + raw[:, k]
    local_ns = ((hh * 60 + mm) * 60 + ss) * NS + frac
    midnight_utc_local = int(dt.datetime.combine(date, dt.time(0), tzinfo=dt.UTC).timestamp()) * NS
    return midnight_utc_local + local_ns - _hour_offsets_ns(date)[hh]
