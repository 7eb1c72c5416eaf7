"""SLA arithmetic in business time: pure, `now` always passed in, never the clock.

Working time is the office's daily window (default 09:00–18:00 Asia/Shanghai, optionally with
a lunch break) on working days: the days outside the weekend, minus the Chinese public
holidays, plus the weekend make-up working days (调休). Both come from the `holidays`
package: `holidays.country_holidays("CN")` lists the days off of each year's State Council
notice (the weekday substitutes included), and its `weekend_workdays` the make-up Saturdays
and Sundays (what `HolidayBase.is_working_day` uses). A year's notice is published in
November; for later years the package has statutory holidays only, without 调休, so keep the
package up to date.

Time spent waiting on the customer (pauses) does not count. Working hours are wall-clock
hours in the calendar's time zone. Results are datetimes in that zone; inputs may be in any
zone but must be aware (a naive datetime raises ValueError). Minutes are counted exactly
(to the microsecond) and reported as whole minutes, rounded down.

Cost: a computation jumps over whole days with a bisect in a per-year table of working days
(built once per year and calendar), so a 90-working-hour target costs the same as a 1-hour one.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

# (first response, resolution) in working hours, by priority
DEFAULT_TARGETS: dict[str, tuple[int, int]] = {
    "urgent": (1, 9),
    "high": (2, 18),
    "normal": (4, 45),
    "low": (9, 90),
}

# A period waiting on the customer: (started, ended); ended None = still waiting.
Pause = tuple[datetime, datetime | None]

SATURDAY, SUNDAY = 5, 6
_US_PER_MINUTE = 60_000_000
_US_PER_SECOND = 1_000_000


def _us_of_day(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US_PER_SECOND + t.microsecond


def _time_of(us: int) -> time:
    seconds, micro = divmod(us, _US_PER_SECOND)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return time(hour, minute, second, micro)


@dataclass(frozen=True)
class WorkingCalendar:
    """An office's working time. Hashable, so it can key caches.

    `weekend` holds weekday numbers (Monday 0 … Sunday 6). `country` names the public-holiday
    calendar of the `holidays` package (its days off are off, its make-up working days are
    on); None means no public holidays at all. The package describes a Monday–Friday week: with
    another weekend, its days off and make-up days apply as listed, and the weekend days inside
    a holiday block (Saturday 21 February 2026) are not inferred.
    """

    tz: str = "Asia/Shanghai"
    start: time = time(9, 0)
    end: time = time(18, 0)
    lunch: tuple[time, time] | None = None
    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})
    country: str | None = "CN"
    # derived in __post_init__: the zone, the day's working segments in microseconds from
    # midnight (wall clock), and their total length
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _segments: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    _day_us: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc
        times = [self.start, self.end, *(self.lunch or ())]
        if any(t.tzinfo is not None for t in times):
            raise ValueError("working hours are wall-clock times: no tzinfo")
        bounds = [self.start, *(self.lunch or ()), self.end]
        if any(a >= b for a, b in pairwise(bounds)):
            raise ValueError(
                "working hours must satisfy start < lunch start < lunch end < end: "
                + " / ".join(t.isoformat() for t in bounds)
            )
        weekend = frozenset(self.weekend)
        if not weekend <= set(range(7)) or len(weekend) == 7:
            raise ValueError("weekend must be weekday numbers 0–6 and leave a working day")
        edges = [_us_of_day(t) for t in bounds]
        segments = tuple(zip(edges[::2], edges[1::2], strict=True))
        object.__setattr__(self, "weekend", weekend)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_segments", segments)
        object.__setattr__(self, "_day_us", sum(hi - lo for lo, hi in segments))

    @classmethod
    def from_office(
        cls,
        tz: str,
        work_start: str,
        work_end: str,
        *,
        lunch: tuple[str, str] | None = None,
        weekend: Iterable[int] = (SATURDAY, SUNDAY),
        country: str | None = "CN",
    ) -> WorkingCalendar:
        """From an office's settings: "Asia/Shanghai", "09:00", "18:00"."""
        return cls(
            tz,
            time.fromisoformat(work_start),
            time.fromisoformat(work_end),
            (time.fromisoformat(lunch[0]), time.fromisoformat(lunch[1])) if lunch else None,
            frozenset(weekend),
            country,
        )

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    @property
    def minutes_per_day(self) -> int:
        """Working minutes in a working day (540 for 09:00–18:00 without a break)."""
        return self._day_us // _US_PER_MINUTE

    def is_working_day(self, day: date) -> bool:
        return day.toordinal() in _working_days(self.weekend, self.country, day.year)[1]


DEFAULT_CALENDAR = WorkingCalendar()


def is_working_day(day: date, cal: WorkingCalendar = DEFAULT_CALENDAR) -> bool:
    """Whether `day` is a working day (by default: Mon–Fri, Chinese holidays off, 调休 on)."""
    return cal.is_working_day(day)


# --- working days, one table per year -------------------------------------------------------


@lru_cache(maxsize=64)
def _public_calendar(country: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, weekend days worked) for `year`, from the `holidays` package.

    The neighbouring years are loaded too: a notice can move a working day into the year
    before (2002's New Year made Saturday 29 December 2001 a working day).
    """
    cal = holidays.country_holidays(country, years=range(year - 1, year + 2))
    off = frozenset(d for d in cal if d.year == year)
    worked = frozenset(d for d in cal.weekend_workdays if d.year == year)
    return off, worked


@lru_cache(maxsize=256)
def _working_days(
    weekend: frozenset[int], country: str | None, year: int
) -> tuple[tuple[int, ...], frozenset[int]]:
    """The working days of `year` as sorted ordinals, and as a set for lookups."""
    off, worked = _public_calendar(country, year) if country else (frozenset(), frozenset())
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    days = tuple(
        n
        for n in range(first, last + 1)
        if (d := date.fromordinal(n)) in worked or (d.weekday() not in weekend and d not in off)
    )
    return days, frozenset(days)


def warm_up(year: int, cal: WorkingCalendar = DEFAULT_CALENDAR) -> None:
    """Build the working-day tables of `year` and the next now, as a server starts, instead of
    in its first request: the first use of a country's holidays imports the `holidays`
    package's country data, about half a second of CPU."""
    for y in (year, year + 1):
        _working_days(cal.weekend, cal.country, y)


def _days_of(cal: WorkingCalendar, year: int) -> tuple[int, ...]:
    return _working_days(cal.weekend, cal.country, year)[0]


def _is_working(cal: WorkingCalendar, ordinal: int) -> bool:
    return ordinal in _working_days(cal.weekend, cal.country, date.fromordinal(ordinal).year)[1]


def _nth_working_day_after(cal: WorkingCalendar, ordinal: int, n: int) -> int:
    """The n-th working day (n ≥ 1) strictly after the day `ordinal`."""
    year = date.fromordinal(ordinal).year
    days = _days_of(cal, year)
    i = bisect_right(days, ordinal)
    while n > len(days) - i:
        n -= len(days) - i
        year += 1
        days, i = _days_of(cal, year), 0
    return days[i + n - 1]


def _count_working_days(cal: WorkingCalendar, first: int, stop: int) -> int:
    """Working days with first ≤ ordinal < stop."""
    if stop <= first:
        return 0
    count = 0
    for year in range(date.fromordinal(first).year, date.fromordinal(stop - 1).year + 1):
        days = _days_of(cal, year)
        count += bisect_left(days, stop) - bisect_left(days, first)
    return count


# --- within a day ----------------------------------------------------------------------------


def _done_by(cal: WorkingCalendar, us: int) -> int:
    """Working microseconds of a working day done by the wall-clock offset `us`."""
    done = 0
    for lo, hi in cal._segments:
        if us <= lo:
            break
        done += min(us, hi) - lo
    return done


def _offset_at(cal: WorkingCalendar, done: int, *, finishing: bool) -> int:
    """The wall-clock offset at which `done` working microseconds of the day are done.

    finishing: the earliest such offset, which may be a segment's end (0 < done ≤ day).
    Otherwise the next working moment, always inside a segment (0 ≤ done < day).
    """
    for lo, hi in cal._segments:
        if done < hi - lo or (finishing and done == hi - lo):
            return lo + done
        done -= hi - lo
    raise AssertionError("offset beyond the working day")  # pragma: no cover


def _local_check(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: SLA arithmetic needs aware ones")


def _local(cal: WorkingCalendar, moment: datetime) -> tuple[int, int]:
    """(day ordinal, microseconds since midnight) of `moment` on the calendar's wall clock."""
    _local_check(moment)
    local = moment.astimezone(cal._zone)
    return local.toordinal(), _us_of_day(local.time())


def _moment(cal: WorkingCalendar, ordinal: int, us: int) -> datetime:
    return datetime.combine(date.fromordinal(ordinal), _time_of(us), tzinfo=cal._zone)


def _to_us(minutes: float) -> int:
    if not math.isfinite(minutes) or minutes < 0:
        raise ValueError(f"minutes must be finite and not negative, not {minutes}")
    return round(minutes * _US_PER_MINUTE)


# --- the arithmetic, in microseconds ---------------------------------------------------------


def _add_us(cal: WorkingCalendar, start: datetime, amount: int) -> datetime:
    day, us = _local(cal, start)
    per_day = cal._day_us
    if _is_working(cal, day):
        done = _done_by(cal, us)
        if done < per_day and amount == 0:
            return _moment(cal, day, _offset_at(cal, done, finishing=False))
        if 0 < amount <= per_day - done:
            return _moment(cal, day, _offset_at(cal, done + amount, finishing=True))
        amount -= per_day - done
    if amount == 0:  # at or after the day's end: the next working morning
        return _moment(cal, _nth_working_day_after(cal, day, 1), cal._segments[0][0])
    full_days, rest = divmod(amount, per_day)
    if rest == 0:  # ends exactly at the close of a working day
        full_days, rest = full_days - 1, per_day
    target = _nth_working_day_after(cal, day, full_days + 1)
    return _moment(cal, target, _offset_at(cal, rest, finishing=True))


def _between_us(cal: WorkingCalendar, start: datetime, end: datetime) -> int:
    first, first_us = _local(cal, start)
    last, last_us = _local(cal, end)
    if end <= start:
        return 0
    if first == last:
        if not _is_working(cal, first):
            return 0
        return max(0, _done_by(cal, last_us) - _done_by(cal, first_us))
    head = cal._day_us - _done_by(cal, first_us) if _is_working(cal, first) else 0
    tail = _done_by(cal, last_us) if _is_working(cal, last) else 0
    return head + tail + cal._day_us * _count_working_days(cal, first + 1, last)


def _merged(
    pauses: Sequence[Pause], start: datetime, open_until: datetime | None, end: datetime | None
) -> list[tuple[datetime, datetime]]:
    """The pauses clipped to [start, end] (end None: not clipped), open ones ending at
    `open_until` (None: dropped), sorted and merged, so overlaps count once."""
    spans: list[tuple[datetime, datetime]] = []
    for p_start, p_end in pauses:
        _local_check(p_start)
        if p_end is None:
            if open_until is None:
                continue
            p_end = open_until
        else:
            _local_check(p_end)
        lo = max(p_start, start)
        hi = p_end if end is None else min(p_end, end)
        if hi > lo:
            spans.append((lo, hi))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def _excluding_us(
    cal: WorkingCalendar,
    start: datetime,
    end: datetime,
    pauses: Sequence[Pause],
    open_until: datetime | None,
) -> int:
    total = _between_us(cal, start, end)
    if total == 0:
        return 0
    return total - sum(
        _between_us(cal, lo, hi) for lo, hi in _merged(pauses, start, open_until, end)
    )


# --- public API ------------------------------------------------------------------------------


def add_working_minutes(cal: WorkingCalendar, start: datetime, minutes: float) -> datetime:
    """The earliest moment `minutes` of working time after `start`.

    A start outside working hours counts from the next working moment (so 0 minutes from a
    Saturday is Monday 09:00). A target that uses up a day ends at its close (18:00), not at
    the next morning. Fractional minutes are allowed (an 80 % warning of 45 min is 36 min).
    """
    return _add_us(cal, start, _to_us(minutes))


def working_minutes_between(cal: WorkingCalendar, start: datetime, end: datetime) -> int:
    """Whole working minutes in [start, end); 0 when end ≤ start."""
    return _between_us(cal, start, end) // _US_PER_MINUTE


def working_minutes_between_excluding(
    cal: WorkingCalendar, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> int:
    """Whole working minutes in [start, end) outside the pauses.

    A pause still open (end None) runs up to `end`. Overlapping pauses count once; pauses
    outside [start, end) do not count.
    """
    return _excluding_us(cal, start, end, pauses, end) // _US_PER_MINUTE


def due_at(
    cal: WorkingCalendar,
    start: datetime,
    target_minutes: float,
    pauses: Sequence[Pause] = (),
    *,
    now: datetime | None = None,
) -> datetime:
    """The deadline: `target_minutes` of working time after `start`, not counting pauses.

    A pause still open runs up to `now` when given: the deadline if the customer answered
    now. Without `now` it does not count yet; the caller recomputes when the pause ends.
    While an issue waits the clock is stopped, so a deadline moves on until the pause ends.
    """
    remaining = _to_us(target_minutes)
    position = start
    for lo, hi in _merged(pauses, start, now, None):
        deadline = _add_us(cal, position, remaining)
        if deadline <= lo:
            return deadline
        remaining -= _between_us(cal, position, lo)
        position = hi
    return _add_us(cal, position, remaining)


def elapsed_fraction(
    cal: WorkingCalendar,
    start: datetime,
    due: datetime | float,
    now: datetime,
    pauses: Sequence[Pause] = (),
) -> float:
    """How much of a target is used up at `now`: 0.8 = warn, 1.0 = due now, 1.5 = overrun by
    half, 2.0 = overrun by as much again.

    `due` is the target in working minutes, or the deadline as `due_at` gives it for the same
    start and pauses (without `now`, so an open pause is not part of it). Time paused does not
    count as used, an open pause up to `now`. A target of no working time gives 0.0.
    """
    used = _excluding_us(cal, start, now, pauses, now)
    if isinstance(due, datetime):
        target = _excluding_us(cal, start, due, pauses, None)
    else:
        target = _to_us(due)
    if target <= 0:
        return 0.0
    return used / target


@dataclass(frozen=True)
class TimeLeft:
    """What a list shows of an open issue's next target: the working time left before its
    deadline, or by how much it is overdue.

    `minutes` is never negative: with `overdue` it is the working time since the deadline. A
    deadline passed outside working hours (Friday 18:00, seen on Saturday) is overdue by 0
    minutes: late, though no working time was lost yet. While `paused` the values are those
    at the moment the pause began, because the clock stands still until the customer answers.
    """

    target: str  # "response" or "resolution"
    due_at: datetime
    minutes: int
    overdue: bool
    paused: bool


def time_left(
    cal: WorkingCalendar,
    target: str,
    due: datetime,
    now: datetime,
    *,
    paused_since: datetime | None = None,
) -> TimeLeft:
    """Working minutes from `now` (or from the start of a pause still open) to `due`.

    `due` must be the deadline as stored after every ended pause was counted in (what
    `due_at` gives for the ended pauses): the working time left is then the working time
    between the clock's stand and the deadline, so no pause rows need reading.
    """
    stand = now if paused_since is None else min(now, paused_since)
    paused = paused_since is not None
    if stand > due:
        return TimeLeft(target, due, working_minutes_between(cal, due, stand), True, paused)
    return TimeLeft(target, due, working_minutes_between(cal, stand, due), False, paused)
