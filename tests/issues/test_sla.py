"""Business-time arithmetic, without an app: weekends, Chinese holidays, 调休, pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.issues import sla

CN = ZoneInfo("Asia/Shanghai")
CAL = sla.WorkingCalendar()


def at(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=CN)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 14), True),  # Saturday made a working day (调休)
        (date(2026, 2, 16), False),  # New Year's Eve, a Monday
        (date(2026, 2, 20), False),  # substituted day off
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday made a working day (调休)
        (date(2026, 3, 1), False),  # plain Sunday
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 1, 4), True),  # Sunday made a working day
    ],
)
def test_chinese_working_days(day, working):
    assert sla.is_working_day(day) is working


def test_across_the_spring_festival():
    start = at(2026, 2, 13, 17)  # one working hour left on Friday
    assert sla.add_working_minutes(CAL, start, 120) == at(2026, 2, 14, 10)
    assert sla.add_working_minutes(CAL, start, 600) == at(2026, 2, 14, 18)
    assert sla.add_working_minutes(CAL, start, 601) == at(2026, 2, 24, 9, 1)
    # the resolution target for 'normal' (45 working hours) from that Friday afternoon
    due = sla.add_working_minutes(CAL, start, 45 * 60)  # 1 + 9 (Sat 14th) + 4 x 9 + 8
    assert due == at(2026, 2, 27, 17)
    assert sla.working_minutes_between(CAL, start, due) == 45 * 60
    # one more working hour lands on the make-up Saturday, not on Monday
    assert sla.add_working_minutes(CAL, start, 47 * 60) == at(2026, 2, 28, 10)


def test_start_outside_hours_rolls_forward():
    assert sla.add_working_minutes(CAL, at(2026, 3, 2, 7), 30) == at(2026, 3, 2, 9, 30)
    assert sla.add_working_minutes(CAL, at(2026, 3, 2, 19), 30) == at(2026, 3, 3, 9, 30)
    assert sla.add_working_minutes(CAL, at(2026, 3, 7, 12), 60) == at(2026, 3, 9, 10)  # Sat
    assert sla.add_working_minutes(CAL, at(2026, 3, 2, 9), 0) == at(2026, 3, 2, 9)


def test_exact_boundaries():
    assert sla.add_working_minutes(CAL, at(2026, 3, 2, 9), 540) == at(2026, 3, 2, 18)
    assert sla.add_working_minutes(CAL, at(2026, 3, 2, 9), 541) == at(2026, 3, 3, 9, 1)
    assert sla.working_minutes_between(CAL, at(2026, 3, 2, 18), at(2026, 3, 3, 9)) == 0


def test_utc_inputs_are_read_in_office_time():
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert sla.add_working_minutes(CAL, start, 60) == at(2026, 3, 2, 10)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        sla.add_working_minutes(CAL, datetime(2026, 3, 2, 9), 10)  # noqa: DTZ001


@pytest.mark.parametrize("minutes", [0, 1, 59, 540, 541, 1000, 2700, 5400, 12345])
def test_round_trip(minutes):
    for start in (at(2026, 2, 12, 15, 17), at(2026, 9, 30, 17, 59), at(2026, 12, 31, 8)):
        end = sla.add_working_minutes(CAL, start, minutes)
        assert sla.working_minutes_between(CAL, start, end) == pytest.approx(minutes)


def test_pauses_push_the_deadline_out():
    start = at(2026, 3, 2, 9)
    pause = (at(2026, 3, 2, 10), at(2026, 3, 2, 12))  # two working hours waiting
    assert sla.due_at(CAL, start, 240) == at(2026, 3, 2, 13)
    assert sla.due_at(CAL, start, 240, [pause]) == at(2026, 3, 2, 15)
    overnight = (at(2026, 3, 2, 17), at(2026, 3, 3, 10))  # 1h + 1h of working time
    assert sla.due_at(CAL, start, 540, [overnight]) == at(2026, 3, 3, 11)


def test_pause_after_the_deadline_does_not_count():
    start = at(2026, 3, 2, 9)
    late = (at(2026, 3, 2, 15), at(2026, 3, 2, 16))
    assert sla.due_at(CAL, start, 240, [late]) == at(2026, 3, 2, 13)


def test_open_pause_counts_up_to_now():
    start = at(2026, 3, 2, 9)
    now = at(2026, 3, 2, 12)
    open_pause = (at(2026, 3, 2, 10), None)
    assert sla.working_minutes_between_excluding(CAL, start, now, [open_pause]) == 60
    assert sla.elapsed_fraction(CAL, start, 240, now, [open_pause]) == pytest.approx(0.25)


def test_elapsed_fraction_for_warnings_and_escalation():
    start = at(2026, 3, 2, 9)
    assert sla.elapsed_fraction(CAL, start, 240, at(2026, 3, 2, 12, 12)) == pytest.approx(0.8)
    assert sla.elapsed_fraction(CAL, start, 240, at(2026, 3, 2, 15)) == pytest.approx(1.5)


def test_office_calendar_from_settings():
    cal = sla.WorkingCalendar.from_office("Europe/Berlin", "08:30", "17:00")
    assert cal.start == time(8, 30) and cal.minutes_per_day == 510
    monday = datetime(2026, 3, 2, 8, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert sla.add_working_minutes(cal, monday, 510 + 30) == monday + timedelta(days=1, minutes=30)


def test_fast_enough_for_bulk_use():
    import time as clock

    start = at(2026, 2, 10, 11)
    began = clock.perf_counter()
    for _ in range(2000):
        sla.add_working_minutes(CAL, start, 90 * 60)
    assert (clock.perf_counter() - began) / 2000 < 0.002  # well under 2 ms a call
