"""Business-time arithmetic, without an app: weekends, Chinese holidays, 调休, pauses.

The 2026 calendar is checked against the State Council notice (国办发明电〔2025〕7号):
  元旦 1/1–1/3 off, Sun 1/4 worked; 春节 2/15–2/23 off, Sat 2/14 and Sat 2/28 worked;
  清明 4/4–4/6 off; 劳动节 5/1–5/5 off, Sat 5/9 worked; 端午 6/19–6/21 off;
  中秋 9/25–9/27 off; 国庆 10/1–10/7 off, Sun 9/20 and Sat 10/10 worked.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from app.issues import sla
from app.issues.sla import (
    DEFAULT_TARGETS,
    WorkingCalendar,
    add_working_minutes,
    due_at,
    elapsed_fraction,
    working_minutes_between,
    working_minutes_between_excluding,
)

CN = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()


def at(m, d, hh=9, mm=0, ss=0, *, y=2026, tz=CN):
    return datetime(y, m, d, hh, mm, ss, tzinfo=tz)


def days(first: date, last: date):
    while first <= last:
        yield first
        first += timedelta(days=1)


# --- the calendar -----------------------------------------------------------------------------

OFF_2026 = {
    *days(date(2026, 1, 1), date(2026, 1, 3)),
    *days(date(2026, 2, 15), date(2026, 2, 23)),
    *days(date(2026, 4, 4), date(2026, 4, 6)),
    *days(date(2026, 5, 1), date(2026, 5, 5)),
    *days(date(2026, 6, 19), date(2026, 6, 21)),
    *days(date(2026, 9, 25), date(2026, 9, 27)),
    *days(date(2026, 10, 1), date(2026, 10, 7)),
}
MAKE_UP_2026 = {
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
}


def test_2026_matches_the_state_council_notice():
    assert all(d.weekday() >= 5 for d in MAKE_UP_2026)
    for day in days(date(2026, 1, 1), date(2026, 12, 31)):
        expected = day in MAKE_UP_2026 or (day.weekday() < 5 and day not in OFF_2026)
        assert sla.is_working_day(day) is expected, day
    working = sum(sla.is_working_day(d) for d in days(date(2026, 1, 1), date(2026, 12, 31)))
    assert working == 248


def test_the_holidays_package_knows_the_make_up_days():
    """The data comes from `holidays`: days off as holidays, 调休 as weekend_workdays."""
    cn = holidays.country_holidays("CN", years=2026)
    assert {d for d in cn.weekend_workdays if d.year == 2026} == MAKE_UP_2026
    assert {date(2026, 2, 20), date(2026, 2, 23)} <= set(cn)  # the substituted weekdays


def test_every_day_agrees_with_the_package():
    cn = holidays.country_holidays("CN", years=range(2001, 2028))
    for day in days(date(2001, 1, 1), date(2027, 12, 31)):
        assert sla.is_working_day(day) is cn.is_working_day(day), day


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 14), True),  # Saturday made a working day (调休)
        (date(2026, 2, 15), False),  # Sunday, first day off
        (date(2026, 2, 16), False),  # New Year's Eve, a Monday
        (date(2026, 2, 20), False),  # Friday off in exchange for 2/14
        (date(2026, 2, 23), False),  # Monday off in exchange for 2/28
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday made a working day (调休)
        (date(2026, 3, 1), False),  # a plain Sunday
        (date(2026, 3, 2), True),  # a plain Monday
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 1, 4), True),  # Sunday made a working day
        (date(2001, 12, 29), True),  # a Saturday worked for the 2002 New Year (year before)
        (date(2027, 1, 1), False),  # statutory; 2027's 调休 is not published yet
    ],
)
def test_chinese_working_days(day, working):
    assert sla.is_working_day(day) is working
    assert CAL.is_working_day(day) is working


def test_calendar_without_public_holidays_or_with_a_six_day_week():
    plain = WorkingCalendar(country=None)
    assert plain.is_working_day(date(2026, 2, 16)) and not plain.is_working_day(date(2026, 2, 14))
    six_days = WorkingCalendar(weekend=frozenset({6}))
    assert six_days.is_working_day(date(2026, 3, 7))  # a Saturday
    assert not six_days.is_working_day(date(2026, 3, 8))  # Sunday
    assert not six_days.is_working_day(date(2026, 2, 16))  # New Year's Eve
    assert six_days.is_working_day(date(2026, 2, 28))  # 调休 Saturday, worked anyway
    # Friday 17:00 + 2 h: Saturday 10:00 in a six-day week, Monday 10:00 otherwise
    assert add_working_minutes(six_days, at(3, 6, 17), 120) == at(3, 7, 10)
    assert add_working_minutes(CAL, at(3, 6, 17), 120) == at(3, 9, 10)


# --- adding working time ----------------------------------------------------------------------


def test_across_the_spring_festival():
    start = at(2, 13, 17)  # Friday, one working hour left
    assert add_working_minutes(CAL, start, 60) == at(2, 13, 18)
    assert add_working_minutes(CAL, start, 120) == at(2, 14, 10)  # the 调休 Saturday
    assert add_working_minutes(CAL, start, 600) == at(2, 14, 18)
    assert add_working_minutes(CAL, start, 601) == at(2, 24, 9, 1)  # nine days later
    # 'normal' resolution (45 working hours): 1 + 9 (Sat 14th) + 4 × 9 (24th–27th) − 1
    due = add_working_minutes(CAL, start, 45 * 60)
    assert due == at(2, 27, 17)
    assert working_minutes_between(CAL, start, due) == 45 * 60
    # two more working hours land on the make-up Saturday 28th, not on Monday
    assert add_working_minutes(CAL, start, 47 * 60) == at(2, 28, 10)
    # 'low' resolution (90 working hours) from the same Friday: 55 h by Saturday 28th, then
    # Monday 2 March to Wednesday 4 March (82 h) and 8 h on Thursday
    assert add_working_minutes(CAL, start, 90 * 60) == at(3, 5, 17)


def test_starting_inside_the_holiday():
    assert add_working_minutes(CAL, at(2, 18, 11), 0) == at(2, 24, 9)
    assert add_working_minutes(CAL, at(2, 18, 11), 60) == at(2, 24, 10)
    assert add_working_minutes(CAL, at(2, 15, 10), 9 * 60) == at(2, 24, 18)
    assert working_minutes_between(CAL, at(2, 14, 17), at(2, 24, 10)) == 120
    assert working_minutes_between(CAL, at(2, 15, 0), at(2, 23, 23, 59)) == 0


def test_national_day_with_its_sunday_and_saturday():
    # Friday 18 Sep 17:00 + 2 h: Sunday 20 Sep is worked
    assert add_working_minutes(CAL, at(9, 18, 17), 120) == at(9, 20, 10)
    # Wednesday 30 Sep 17:00 + 2 h: 1–7 Oct off, Thursday 8 Oct
    assert add_working_minutes(CAL, at(9, 30, 17), 120) == at(10, 8, 10)
    # Friday 9 Oct 17:00 + 2 h: Saturday 10 Oct is worked
    assert add_working_minutes(CAL, at(10, 9, 17), 120) == at(10, 10, 10)


def test_weekends():
    assert add_working_minutes(CAL, at(3, 6, 17), 60) == at(3, 6, 18)
    assert add_working_minutes(CAL, at(3, 6, 17), 61) == at(3, 9, 9, 1)
    assert add_working_minutes(CAL, at(3, 7, 12), 60) == at(3, 9, 10)  # from a Saturday
    assert add_working_minutes(CAL, at(3, 8, 23, 59), 0) == at(3, 9, 9)  # Sunday night
    assert working_minutes_between(CAL, at(3, 6, 17), at(3, 9, 10)) == 120
    assert working_minutes_between(CAL, at(3, 7, 9), at(3, 8, 18)) == 0
    # a whole week is five days of nine hours
    assert working_minutes_between(CAL, at(3, 2, 0), at(3, 9, 0)) == 5 * 540


def test_start_outside_hours_rolls_forward():
    assert add_working_minutes(CAL, at(3, 2, 7), 30) == at(3, 2, 9, 30)
    assert add_working_minutes(CAL, at(3, 2, 7), 0) == at(3, 2, 9)
    assert add_working_minutes(CAL, at(3, 2, 0, 0), 540) == at(3, 2, 18)
    assert add_working_minutes(CAL, at(3, 2, 19), 30) == at(3, 3, 9, 30)
    assert add_working_minutes(CAL, at(3, 2, 23, 59, 59), 1) == at(3, 3, 9, 1)
    assert working_minutes_between(CAL, at(3, 2, 6), at(3, 2, 10)) == 60
    assert working_minutes_between(CAL, at(3, 2, 17), at(3, 2, 22)) == 60


def test_exact_boundaries():
    assert add_working_minutes(CAL, at(3, 2, 9), 0) == at(3, 2, 9)
    assert add_working_minutes(CAL, at(3, 2, 9), 540) == at(3, 2, 18)  # the close, not 9:00
    assert add_working_minutes(CAL, at(3, 2, 9), 541) == at(3, 3, 9, 1)
    assert add_working_minutes(CAL, at(3, 2, 9), 1080) == at(3, 3, 18)
    assert add_working_minutes(CAL, at(3, 2, 18), 0) == at(3, 3, 9)  # the close rolls on
    assert add_working_minutes(CAL, at(3, 2, 18), 1) == at(3, 3, 9, 1)
    assert add_working_minutes(CAL, at(3, 2, 17, 59), 1) == at(3, 2, 18)
    assert working_minutes_between(CAL, at(3, 2, 18), at(3, 3, 9)) == 0
    assert working_minutes_between(CAL, at(3, 2, 9), at(3, 2, 18)) == 540
    assert working_minutes_between(CAL, at(3, 2, 9), at(3, 2, 9)) == 0
    assert working_minutes_between(CAL, at(3, 2, 12), at(3, 2, 10)) == 0  # end before start


def test_nine_working_hours_are_one_working_day():
    assert CAL.minutes_per_day == 540
    assert DEFAULT_TARGETS == {
        "urgent": (1, 9),
        "high": (2, 18),
        "normal": (4, 45),
        "low": (9, 90),
    }
    urgent_resolution = DEFAULT_TARGETS["urgent"][1] * 60
    assert add_working_minutes(CAL, at(3, 2, 14), urgent_resolution) == at(3, 3, 14)


def test_whole_minutes_rounded_down_and_seconds_kept():
    start = at(3, 2, 9, 0, 30)
    assert working_minutes_between(CAL, start, at(3, 2, 10)) == 59
    assert add_working_minutes(CAL, start, 60) == at(3, 2, 10, 0, 30)
    assert add_working_minutes(CAL, start, 540) == at(3, 3, 9, 0, 30)
    assert add_working_minutes(CAL, at(3, 2, 9), 0.5) == at(3, 2, 9, 0, 30)
    assert add_working_minutes(CAL, at(3, 2, 9), 45 * 0.8) == at(3, 2, 9, 36)  # an 80 % warning


@pytest.mark.parametrize("minutes", [-1, -0.5, float("nan"), float("inf")])
def test_impossible_amounts_are_refused(minutes):
    with pytest.raises(ValueError, match="minutes"):
        add_working_minutes(CAL, at(3, 2, 9), minutes)
    with pytest.raises(ValueError, match="minutes"):
        due_at(CAL, at(3, 2, 9), minutes)


def test_a_year_boundary_and_the_next_years_statutory_holidays():
    # Thursday 31 Dec 2026 17:00 + 2 h: 1 Jan 2027 is New Year's Day, Saturday/Sunday off
    assert add_working_minutes(CAL, at(12, 31, 17), 120) == at(1, 4, 10, y=2027)
    assert working_minutes_between(CAL, at(12, 31, 17), at(1, 4, 10, y=2027)) == 120
    # ten years of working days in one call
    start, end = at(1, 5), at(1, 5, y=2036)  # Monday 2026 to Saturday 2036
    total = working_minutes_between(CAL, start, end)
    assert total == reference_minutes(CAL, start, end)
    assert add_working_minutes(CAL, start, total) == at(1, 4, 18, y=2036)  # Friday's close


# --- time zones -------------------------------------------------------------------------------


def test_other_zones_are_read_in_office_time_and_results_are_in_office_time():
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    due = add_working_minutes(CAL, start, 60)
    assert due == at(3, 2, 10) and due.tzinfo == CN and due.hour == 10
    new_york = ZoneInfo("America/New_York")
    sunday_evening = datetime(2026, 3, 1, 21, 0, tzinfo=new_york)  # Monday 10:00 in Shanghai
    assert add_working_minutes(CAL, sunday_evening, 60) == at(3, 2, 11)
    assert working_minutes_between(CAL, sunday_evening, at(3, 2, 12)) == 120


def test_shanghai_has_no_dst_so_every_working_day_is_nine_hours():
    for month in range(1, 13):
        monday = next(
            d for d in days(date(2026, month, 1), date(2026, month, 7)) if d.weekday() == 0
        )
        if not sla.is_working_day(monday):
            continue
        start = datetime.combine(monday, time(9), tzinfo=CN)
        assert add_working_minutes(CAL, start, 540) - start == timedelta(hours=9)


def test_an_office_with_dst_counts_wall_clock_hours():
    berlin = ZoneInfo("Europe/Berlin")
    cal = WorkingCalendar.from_office("Europe/Berlin", "08:30", "17:00", country=None)
    assert cal.start == time(8, 30) and cal.minutes_per_day == 510
    # clocks go forward on Sunday 29 March 2026: Friday 16:00 CET + 2 h = Monday 09:30 CEST
    friday = datetime(2026, 3, 27, 16, 0, tzinfo=berlin)
    monday = add_working_minutes(cal, friday, 120)
    assert monday == datetime(2026, 3, 30, 9, 30, tzinfo=berlin)
    assert monday.utcoffset() == timedelta(hours=2)
    assert working_minutes_between(cal, friday, monday) == 120


# --- naive datetimes --------------------------------------------------------------------------

NAIVE = datetime(2026, 3, 2, 9)  # noqa: DTZ001 — on purpose


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_working_minutes(CAL, NAIVE, 10),
        lambda: working_minutes_between(CAL, NAIVE, at(3, 2, 10)),
        lambda: working_minutes_between(CAL, at(3, 2, 8), NAIVE),
        lambda: working_minutes_between_excluding(CAL, at(3, 2, 8), at(3, 2, 12), [(NAIVE, None)]),
        lambda: working_minutes_between_excluding(
            CAL, at(3, 2, 8), at(3, 2, 12), [(at(3, 2, 8), NAIVE)]
        ),
        lambda: due_at(CAL, NAIVE, 60),
        lambda: due_at(CAL, at(3, 2, 8), 60, [(NAIVE, at(3, 2, 10))]),
        lambda: elapsed_fraction(CAL, at(3, 2, 8), 60, NAIVE),
        lambda: elapsed_fraction(CAL, at(3, 2, 8), NAIVE, at(3, 2, 10)),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="naive"):
        call()


# --- round trips and a reference implementation -----------------------------------------------


def reference_minutes(cal, start, end):
    """Day by day with plain datetimes, using the package's own is_working_day."""
    cn = holidays.country_holidays("CN")
    start, end = start.astimezone(cal.zone), end.astimezone(cal.zone)
    total = timedelta()
    for day in days(start.date(), end.date()):
        if cn.is_working_day(day):
            lo = max(start, datetime.combine(day, cal.start, tzinfo=cal.zone))
            hi = min(end, datetime.combine(day, cal.end, tzinfo=cal.zone))
            total += max(hi - lo, timedelta())
    return total // timedelta(minutes=1)


STARTS = [
    at(2, 12, 15, 17),  # before the Spring Festival
    at(2, 14, 8, 59, 59),  # the 调休 Saturday, before opening
    at(2, 17, 12),  # inside the holiday
    at(9, 30, 17, 59),  # the eve of National Day
    at(12, 31, 8),  # across the year
    at(3, 7, 12, 30, 15),  # a Saturday
    at(3, 2, 18),  # exactly at the close
]


@pytest.mark.parametrize("minutes", [0, 1, 59, 60, 539, 540, 541, 1000, 1080, 2700, 5400, 12345])
@pytest.mark.parametrize("start", STARTS, ids=[s.isoformat() for s in STARTS])
def test_round_trip(start, minutes):
    end = add_working_minutes(CAL, start, minutes)
    assert end >= start
    assert working_minutes_between(CAL, start, end) == minutes
    assert reference_minutes(CAL, start, end) == minutes
    if minutes:  # the earliest such moment: a minute earlier is a minute short
        assert working_minutes_between(CAL, start, end - timedelta(minutes=1)) == minutes - 1


def test_random_spans_agree_with_the_reference():
    rng = random.Random(2026)
    origin = at(1, 1, 0)
    for _ in range(300):
        start = origin + timedelta(minutes=rng.randrange(365 * 24 * 60))
        end = start + timedelta(minutes=rng.randrange(40 * 24 * 60))
        minutes = working_minutes_between(CAL, start, end)
        assert minutes == reference_minutes(CAL, start, end), (start, end)
        # the span's working time, added back, ends no later than `end`
        if minutes:
            assert add_working_minutes(CAL, start, minutes) <= end


# --- lunch break ------------------------------------------------------------------------------


def test_a_lunch_break():
    cal = WorkingCalendar.from_office("Asia/Shanghai", "08:30", "17:30", lunch=("12:00", "13:00"))
    assert cal.minutes_per_day == 480
    assert add_working_minutes(cal, at(3, 2, 8, 30), 210) == at(3, 2, 12)  # ends at lunch
    assert add_working_minutes(cal, at(3, 2, 8, 30), 211) == at(3, 2, 13, 1)
    assert add_working_minutes(cal, at(3, 2, 12, 15), 0) == at(3, 2, 13)  # rolls past lunch
    assert add_working_minutes(cal, at(3, 2, 12, 15), 30) == at(3, 2, 13, 30)
    assert add_working_minutes(cal, at(3, 2, 8, 30), 480) == at(3, 2, 17, 30)
    assert add_working_minutes(cal, at(3, 2, 11), 480) == at(3, 3, 11)
    assert working_minutes_between(cal, at(3, 2, 11), at(3, 2, 14)) == 120
    assert working_minutes_between(cal, at(3, 2, 12, 10), at(3, 2, 12, 50)) == 0
    for minutes in (0, 1, 89, 90, 91, 480, 481, 5000):
        start = at(2, 13, 11, 30)
        end = add_working_minutes(cal, start, minutes)
        assert working_minutes_between(cal, start, end) == minutes


# --- pauses -----------------------------------------------------------------------------------


def test_pauses_push_the_deadline_out():
    start = at(3, 2, 9)
    pause = (at(3, 2, 10), at(3, 2, 12))  # two working hours waiting
    assert due_at(CAL, start, 240) == at(3, 2, 13)
    assert due_at(CAL, start, 240, [pause]) == at(3, 2, 15)
    overnight = (at(3, 2, 17), at(3, 3, 10))  # 1 h + 1 h of working time
    assert due_at(CAL, start, 540, [overnight]) == at(3, 3, 11)
    assert working_minutes_between_excluding(CAL, start, at(3, 3, 11), [overnight]) == 540


def test_pauses_across_the_spring_festival():
    start = at(2, 13, 9)  # Friday
    # waiting from Friday 16:00 to Tuesday 24th 10:00: 2 h Fri + 9 h Sat 14th + 1 h Tue = 12 h
    pause = (at(2, 13, 16), at(2, 24, 10))
    assert working_minutes_between_excluding(CAL, start, at(2, 24, 12), [pause]) == 7 * 60 + 120
    # 'high' resolution: 18 working hours → 7 h Friday before the pause, 11 h from Tue 10:00
    assert due_at(CAL, start, 18 * 60, [pause]) == at(2, 25, 12)


def test_a_pause_after_the_deadline_or_before_the_start_does_not_count():
    start = at(3, 2, 9)
    late = (at(3, 2, 15), at(3, 2, 16))
    early = (at(2, 27, 10), at(3, 2, 8))
    assert due_at(CAL, start, 240, [late, early]) == at(3, 2, 13)
    assert due_at(CAL, start, 240, [(at(3, 2, 13), at(3, 2, 14))]) == at(3, 2, 13)  # touching
    assert working_minutes_between_excluding(CAL, start, at(3, 2, 13), [late, early]) == 240


def test_a_pause_straddling_the_start_counts_from_the_start():
    start = at(3, 2, 10)
    pause = (at(3, 2, 9), at(3, 2, 11))
    assert due_at(CAL, start, 60, [pause]) == at(3, 2, 12)
    assert working_minutes_between_excluding(CAL, start, at(3, 2, 12), [pause]) == 60


def test_overlapping_and_unsorted_pauses_count_once():
    start = at(3, 2, 9)
    pauses = [
        (at(3, 2, 11), at(3, 2, 13)),
        (at(3, 2, 10), at(3, 2, 12)),
        (at(3, 2, 12), at(3, 2, 12, 30)),
    ]
    assert working_minutes_between_excluding(CAL, start, at(3, 2, 15), pauses) == 6 * 60 - 180
    assert due_at(CAL, start, 240, pauses) == at(3, 2, 16)
    nested = [(at(3, 2, 10), at(3, 2, 14)), (at(3, 2, 11), at(3, 2, 12))]
    assert due_at(CAL, start, 240, nested) == at(3, 2, 17)


def test_several_pauses_in_a_row():
    start = at(3, 2, 9)
    pauses = [
        (at(3, 2, 10), at(3, 2, 11)),
        (at(3, 2, 12), at(3, 2, 13)),
        (at(3, 3, 9), at(3, 4, 9)),
    ]
    # 1 h, pause, 1 h, pause, 5 h to Monday's close, Tuesday paused, 2 h on Wednesday
    assert due_at(CAL, start, 9 * 60, pauses) == at(3, 4, 11)
    due = due_at(CAL, start, 9 * 60, pauses)
    assert working_minutes_between_excluding(CAL, start, due, pauses) == 9 * 60


def test_an_open_pause_counts_up_to_now():
    start = at(3, 2, 9)
    now = at(3, 2, 12)
    open_pause = (at(3, 2, 10), None)
    assert working_minutes_between_excluding(CAL, start, now, [open_pause]) == 60
    assert working_minutes_between_excluding(CAL, start, at(3, 3, 12), [open_pause]) == 60
    assert elapsed_fraction(CAL, start, 240, now, [open_pause]) == pytest.approx(0.25)
    # still waiting days later: the clock has not moved
    assert elapsed_fraction(CAL, start, 240, at(3, 9, 12), [open_pause]) == pytest.approx(0.25)


def test_due_at_with_an_open_pause():
    start = at(3, 2, 9)
    open_pause = (at(3, 2, 10), None)
    # without `now` the open pause is not counted yet (recomputed when the pause ends)
    assert due_at(CAL, start, 240, [open_pause]) == at(3, 2, 13)
    # with `now`: the deadline if the customer answered now
    assert due_at(CAL, start, 240, [open_pause], now=at(3, 2, 12)) == at(3, 2, 15)
    assert due_at(CAL, start, 240, [open_pause], now=at(3, 3, 10)) == at(3, 3, 13)
    # and once it is closed at that moment, the same deadline
    closed = (at(3, 2, 10), at(3, 3, 10))
    assert due_at(CAL, start, 240, [closed]) == at(3, 3, 13)


@pytest.mark.parametrize("target", [0, 30, 240, 540, 2700])
def test_due_at_round_trip_with_pauses(target):
    rng = random.Random(target)
    for _ in range(40):
        start = at(2, 1, 0) + timedelta(minutes=rng.randrange(60 * 24 * 40))
        pauses = []
        for _ in range(rng.randrange(4)):
            p0 = start + timedelta(minutes=rng.randrange(-600, 60 * 24 * 6))
            pauses.append((p0, p0 + timedelta(minutes=rng.randrange(1, 60 * 24 * 3))))
        due = due_at(CAL, start, target, pauses)
        assert working_minutes_between_excluding(CAL, start, due, pauses) == target
        if target:
            before = due - timedelta(minutes=1)
            assert working_minutes_between_excluding(CAL, start, before, pauses) < target


# --- elapsed fraction -------------------------------------------------------------------------


def test_elapsed_fraction_for_warnings_and_escalation():
    start = at(3, 2, 9)
    assert elapsed_fraction(CAL, start, 240, at(3, 2, 9)) == 0.0
    assert elapsed_fraction(CAL, start, 240, at(3, 2, 12, 12)) == pytest.approx(0.8)
    assert elapsed_fraction(CAL, start, 240, at(3, 2, 13)) == pytest.approx(1.0)
    assert elapsed_fraction(CAL, start, 240, at(3, 2, 15)) == pytest.approx(1.5)
    assert elapsed_fraction(CAL, start, 240, at(3, 2, 17)) == pytest.approx(2.0)
    # the night does not count: from Monday's close to Tuesday 9:00 it stays at 9 h / 4 h
    assert elapsed_fraction(CAL, start, 240, at(3, 2, 18)) == pytest.approx(2.25)
    assert elapsed_fraction(CAL, start, 240, at(3, 3, 9)) == pytest.approx(2.25)
    assert elapsed_fraction(CAL, start, 240, at(2, 27, 9)) == 0.0  # before the start


def test_elapsed_fraction_with_a_deadline_or_a_target_agree():
    start = at(2, 13, 10)
    pauses = [(at(2, 13, 15), at(2, 24, 11))]
    due = due_at(CAL, start, 45 * 60, pauses)
    for now in (at(2, 13, 12), at(2, 14, 10), at(2, 26, 16), due, at(3, 9, 10)):
        by_target = elapsed_fraction(CAL, start, 45 * 60, now, pauses)
        assert elapsed_fraction(CAL, start, due, now, pauses) == pytest.approx(by_target)
    assert elapsed_fraction(CAL, start, due, due, pauses) == pytest.approx(1.0)


def test_elapsed_fraction_of_no_target_is_zero():
    assert elapsed_fraction(CAL, at(3, 2, 9), 0, at(3, 2, 12)) == 0.0
    assert elapsed_fraction(CAL, at(3, 2, 9), at(3, 2, 9), at(3, 2, 12)) == 0.0


# --- time left, as the lists show it -----------------------------------------------------------


def test_time_left_counts_working_minutes_not_the_clock():
    due = at(3, 9, 12)  # Monday noon
    friday = sla.time_left(CAL, "response", due, at(3, 6, 17))
    assert (friday.minutes, friday.overdue, friday.paused) == (60 + 180, False, False)
    assert friday.target == "response" and friday.due_at == due
    # the weekend does not count down: Saturday shows what Monday morning will show
    assert sla.time_left(CAL, "response", due, at(3, 7, 12)).minutes == 180
    assert sla.time_left(CAL, "response", due, at(3, 9, 9)).minutes == 180
    assert sla.time_left(CAL, "response", due, due).minutes == 0


def test_time_left_across_the_spring_festival_and_its_make_up_saturday():
    due = at(2, 27, 17)  # 'normal' resolution of a call on Friday 13 February, 17:00
    assert sla.time_left(CAL, "resolution", due, at(2, 13, 17)).minutes == 45 * 60
    assert sla.time_left(CAL, "resolution", due, at(2, 14, 10)).minutes == 45 * 60 - 60 - 60
    # nine days off: the same working time left on the 15th, the 18th and the 23rd
    holiday = {sla.time_left(CAL, "resolution", due, at(2, d, 11)).minutes for d in (15, 18, 23)}
    assert holiday == {4 * 540 - 60}


def test_time_left_overdue_counts_working_time_since_the_deadline():
    friday_close = at(3, 6, 18)
    saturday = sla.time_left(CAL, "resolution", friday_close, at(3, 7, 12))
    assert saturday.overdue and saturday.minutes == 0  # late, though no working time lost yet
    monday = sla.time_left(CAL, "resolution", friday_close, at(3, 9, 10, 30))
    assert monday.overdue and monday.minutes == 90
    # before the Spring Festival, seen in the middle of it
    late = sla.time_left(CAL, "resolution", at(2, 13, 17), at(2, 20, 10))
    assert late.overdue and late.minutes == 60 + 540


def test_time_left_while_paused_stands_at_the_start_of_the_pause():
    due = at(2, 27, 17)
    for now in (at(2, 14, 10), at(2, 26, 12), at(3, 20, 15)):
        left = sla.time_left(CAL, "resolution", due, now, paused_since=at(2, 13, 17))
        assert (left.minutes, left.overdue, left.paused) == (45 * 60, False, True)
    late = sla.time_left(CAL, "resolution", at(3, 6, 18), at(3, 20), paused_since=at(3, 9, 10))
    assert (late.minutes, late.overdue, late.paused) == (60, True, True)
    # a pause that starts after `now` (a clock skew) counts from now
    ahead = sla.time_left(CAL, "resolution", due, at(2, 26, 17), paused_since=at(2, 27, 9))
    assert ahead.minutes == 540


# --- the calendar object ----------------------------------------------------------------------


def test_calendars_are_values():
    assert WorkingCalendar() == WorkingCalendar.from_office("Asia/Shanghai", "09:00", "18:00")
    assert hash(WorkingCalendar()) == hash(CAL)
    assert WorkingCalendar(weekend={5, 6}) == CAL  # a plain set is frozen
    assert len({CAL, WorkingCalendar(country=None), WorkingCalendar()}) == 2
    assert CAL.zone == CN
    with pytest.raises(AttributeError):
        CAL.tz = "UTC"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tz": "Mars/Olympus_Mons"},
        {"start": time(18), "end": time(9)},
        {"start": time(9), "end": time(9)},
        {"lunch": (time(13), time(12))},
        {"lunch": (time(8), time(10))},
        {"lunch": (time(12), time(19))},
        {"weekend": frozenset(range(7))},
        {"weekend": frozenset({7})},
        {"start": time(9, tzinfo=UTC)},
    ],
)
def test_impossible_calendars_are_refused(kwargs):
    with pytest.raises(ValueError):
        WorkingCalendar(**kwargs)


# --- speed ------------------------------------------------------------------------------------


def test_bulk_use_reads_the_calendar_from_the_per_year_cache():
    """What keeps the arithmetic cheap (a few µs a call, bench/README.md) is that the working
    days of a year are built once: repeated calls must not rebuild them. A count, not a timing,
    so a loaded machine cannot make it fail."""
    start = at(2, 10, 11)
    due = add_working_minutes(CAL, start, 90 * 60)  # warm the per-year cache
    pauses = [(at(2, 11, 10), at(2, 12, 10)), (at(2, 26, 10), None)]
    calls = [
        lambda: add_working_minutes(CAL, start, 90 * 60),
        lambda: working_minutes_between(CAL, start, due),
        lambda: due_at(CAL, start, 90 * 60, pauses),
        lambda: elapsed_fraction(CAL, start, 90 * 60, at(3, 2, 10), pauses),
    ]
    for call in calls:
        call()
    built = sla._working_days.cache_info().misses
    for call in calls:
        for _ in range(200):
            call()
    assert sla._working_days.cache_info().misses == built


def test_warm_up_builds_the_year_and_the_next_ahead_of_use():
    sla._working_days.cache_clear()
    sla.warm_up(2026)
    assert sla._working_days.cache_info().currsize == 2
    misses = sla._working_days.cache_info().misses
    assert sla.is_working_day(date(2026, 10, 7)) is False  # National Day holiday, no new table
    assert sla.is_working_day(date(2027, 1, 4)) is True
    assert sla._working_days.cache_info().misses == misses
