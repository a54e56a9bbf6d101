"""Daily session windows (start/end local time, e.g. Eastern Time for US equities)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from adapters.fix.config import ScheduleConfig


class SessionSchedule:
    """When a session may be logged on.

    Parameters
    ----------
    config : ScheduleConfig
    """

    def __init__(self, config: ScheduleConfig) -> None:
        self.zone = ZoneInfo(config.timezone)
        self.start = time.fromisoformat(config.start_time)
        self.end = time.fromisoformat(config.end_time)
        self.weekdays = frozenset(config.weekdays)
        self.spans_midnight = self.end <= self.start

    def window_start(self, moment: datetime) -> datetime | None:
        """Start (UTC) of the window containing ``moment``, or ``None`` outside every window."""
        local = moment.astimezone(self.zone)
        for days_back in (0, 1) if self.spans_midnight else (0,):
            day = (local - timedelta(days=days_back)).date()
            if day.weekday() not in self.weekdays:
                continue
            start = datetime.combine(day, self.start, self.zone)
            end_day = day + timedelta(days=1) if self.spans_midnight else day
            end = datetime.combine(end_day, self.end, self.zone)
            if start <= local < end:
                return start.astimezone(UTC)
        return None

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` is inside a window."""
        return self.window_start(moment) is not None

    def same_window(self, first: datetime, second: datetime) -> bool:
        """Whether both moments fall in the same window (a store created in an earlier window is
        stale: the new window starts with fresh sequence numbers)."""
        start = self.window_start(first)
        return start is not None and start == self.window_start(second)
