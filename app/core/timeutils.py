"""Clock helpers. Code that decides things takes `now` as an argument; only boundaries call
utcnow(). Period keys name what a scheduled run covers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.db import utcnow

__all__ = ["iso_week_key", "local", "minute_key", "month_key", "parse_iso_week", "utcnow"]


def local(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz))


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
    year_text, _, week_text = key.partition("-W")
    monday = date.fromisocalendar(int(year_text), int(week_text), 1)
    return monday


def previous_week(key: str) -> str:
    return iso_week_key(parse_iso_week(key) - timedelta(days=7))
