"""Clock helpers. Code that decides things takes `now` as an argument; only boundaries call
now_utc(). Period keys name what a scheduled run covers, in the office time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.db import utcnow

__all__ = [
    "day_key",
    "floor_minutes",
    "iso_week_key",
    "local",
    "minute_key",
    "month_key",
    "now_utc",
    "parse_iso_week",
    "parse_month",
    "previous_week",
    "utcnow",
    "week_bounds",
]


def now_utc() -> datetime:
    return utcnow()


def local(dt: datetime, tz: str) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime refused; pass an aware datetime")
    return dt.astimezone(ZoneInfo(tz))


def floor_minutes(dt: datetime, n: int) -> datetime:
    """Start of the n-minute slot holding `dt` (n divides 60, so slots align to the hour)."""
    return dt.replace(minute=dt.minute - dt.minute % n, second=0, microsecond=0)


def minute_key(now: datetime, tz: str) -> str:
    return local(now, tz).strftime("%Y-%m-%dT%H:%M")


def day_key(now: datetime, tz: str) -> str:
    return local(now, tz).date().isoformat()


def iso_week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_iso_week(key: str) -> date:
    """'2026-W47' → the Monday of that ISO week; ValueError when malformed."""
    year_text, sep, week_text = key.partition("-W")
    if not sep or len(year_text) != 4 or len(week_text) != 2:
        raise ValueError(f"not an ISO week key: {key!r}")
    return date.fromisocalendar(int(year_text), int(week_text), 1)


def parse_month(key: str) -> date:
    """'2026-11' → 2026-11-01; ValueError when malformed."""
    year_text, sep, month_text = key.partition("-")
    if not sep or len(year_text) != 4 or len(month_text) != 2:
        raise ValueError(f"not a month key: {key!r}")
    return date(int(year_text), int(month_text), 1)


def previous_week(key: str) -> str:
    return iso_week_key(parse_iso_week(key) - timedelta(days=7))


def week_bounds(key: str, tz: str) -> tuple[datetime, datetime]:
    """The ISO week `key` as a half-open UTC interval [Monday 00:00, next Monday 00:00) in `tz`."""
    monday = parse_iso_week(key)
    zone = ZoneInfo(tz)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
    end_day = monday + timedelta(days=7)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
