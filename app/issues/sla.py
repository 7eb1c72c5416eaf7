"""SLA arithmetic in business time: pure, `now` always passed in.

Working time is the office's daily window (default 09:00–18:00, Asia/Shanghai) on working
days: Monday–Friday, minus Chinese public holidays, plus the weekend make-up working days
(调休), as the `holidays` package publishes them each year. Time spent waiting on the customer
(pauses) does not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# (first response, resolution) in working hours
DEFAULT_TARGETS: dict[str, tuple[float, float]] = {
    "urgent": (1, 9),
    "high": (2, 18),
    "normal": (4, 45),
    "low": (9, 90),
}

Pause = tuple[datetime, datetime | None]


@lru_cache(maxsize=64)
def _calendar_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(weekdays that are off, weekend days that are working) for one year in China."""
    cn = holidays.country_holidays("CN", years=year)
    off: set[date] = set()
    on: set[date] = set()
    day = date(year, 1, 1)
    while day.year == year:
        working = cn.is_working_day(day)
        if day.weekday() < 5 and not working:
            off.add(day)
        elif day.weekday() >= 5 and working:
            on.add(day)
        day += timedelta(days=1)
    return frozenset(off), frozenset(on)


def is_working_day(day: date) -> bool:
    off, on = _calendar_year(day.year)
    if day.weekday() >= 5:
        return day in on
    return day not in off


def _aware(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: SLA arithmetic needs time-zone-aware datetimes")
    return dt


@dataclass(frozen=True)
class WorkingCalendar:
    tz: str = "Asia/Shanghai"
    start: time = time(9, 0)
    end: time = time(18, 0)

    @classmethod
    def from_office(cls, tz: str, work_start: str, work_end: str) -> WorkingCalendar:
        return cls(tz, time.fromisoformat(work_start), time.fromisoformat(work_end))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def minutes_per_day(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    def window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.start, tzinfo=self.zone),
            datetime.combine(day, self.end, tzinfo=self.zone),
        )


def _next_working_start(cal: WorkingCalendar, day: date) -> datetime:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return cal.window(day)[0]


def add_working_minutes(cal: WorkingCalendar, start: datetime, minutes: float) -> datetime:
    """The moment `minutes` of working time after `start` (start outside hours rolls forward)."""
    current = _aware(start).astimezone(cal.zone)
    remaining = float(minutes)
    if remaining < 0:
        raise ValueError("minutes must not be negative")
    while True:
        day = current.date()
        open_at, close_at = cal.window(day)
        if not is_working_day(day) or current >= close_at:
            current = _next_working_start(cal, day)
            continue
        current = max(current, open_at)
        available = (close_at - current).total_seconds() / 60
        if remaining <= available:
            return current + timedelta(minutes=remaining)
        remaining -= available
        current = _next_working_start(cal, day)


def working_minutes_between(cal: WorkingCalendar, start: datetime, end: datetime) -> float:
    """Working minutes in [start, end); 0 when end <= start."""
    start = _aware(start).astimezone(cal.zone)
    end = _aware(end).astimezone(cal.zone)
    if end <= start:
        return 0.0
    total = 0.0
    day = start.date()
    while day <= end.date():
        if is_working_day(day):
            open_at, close_at = cal.window(day)
            lo, hi = max(open_at, start), min(close_at, end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 60
        day += timedelta(days=1)
    return total


def paused_minutes(
    cal: WorkingCalendar, start: datetime, end: datetime, pauses: Sequence[Pause]
) -> float:
    """Working minutes inside pauses, clipped to [start, end). An open pause runs to `end`."""
    total = 0.0
    for p_start, p_end in pauses:
        lo = max(_aware(p_start), start)
        hi = min(_aware(p_end) if p_end is not None else end, end)
        total += working_minutes_between(cal, lo, hi)
    return total


def working_minutes_between_excluding(
    cal: WorkingCalendar, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> float:
    return working_minutes_between(cal, start, end) - paused_minutes(cal, start, end, pauses)


def due_at(
    cal: WorkingCalendar, start: datetime, target_minutes: float, pauses: Sequence[Pause] = ()
) -> datetime:
    """The deadline: `target_minutes` of working time after `start`, not counting pauses.

    Extending the deadline by the paused time can take in further pauses, so iterate until the
    deadline stops moving (at most once per pause). An open pause pushes the deadline only as
    far as the time already paused; the caller recomputes when the pause ends.
    """
    deadline = add_working_minutes(cal, start, target_minutes)
    for _ in range(len(pauses) + 1):
        closed = [(s, e if e is not None else min(deadline, s)) for s, e in pauses]
        extra = paused_minutes(cal, _aware(start), deadline, closed)
        moved = add_working_minutes(cal, start, target_minutes + extra)
        if moved == deadline:
            break
        deadline = moved
    return deadline


def elapsed_fraction(
    cal: WorkingCalendar,
    start: datetime,
    target_minutes: float,
    now: datetime,
    pauses: Sequence[Pause] = (),
) -> float:
    """How much of a target is used up at `now` (1.0 = due now, 1.5 = overrun by half)."""
    if target_minutes <= 0:
        return 0.0
    used = working_minutes_between_excluding(cal, start, now, pauses)
    return used / target_minutes
