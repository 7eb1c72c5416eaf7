"""Cell values as people write them in Chinese and English spreadsheets: dates, dimensions,
sentiments and category names. Pure functions, no database."""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo
from typing import Any

# 2026-11-23, 2026/11/23, 2026.11.23, 2026年11月23日, each optionally with 14:05 or 14:05:09
# (also 14时05分, and a full-width colon); the separators must agree with each other
_DATE = re.compile(
    r"^(?P<y>\d{4})(?:(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})|年(?P<m2>\d{1,2})月"
    r"(?P<d2>\d{1,2})[日号]?)"
    r"(?:(?:\s+|T|\s*)(?P<H>\d{1,2})[:：时](?P<M>\d{2})(?:[:：分](?P<S>\d{2})(?:\.\d+)?秒?|分)?)?$"
)

DATE_HINT = "not a date; write e.g. 2026-11-23 14:05, 2026/11/23, 2026.11.23 or 2026年11月23日"

DIMENSION_WORDS = {
    "product": "product",
    "产品": "product",
    "service": "service",
    "服务": "service",
    "brand": "brand",
    "品牌": "brand",
}
SENTIMENT_WORDS = {
    "negative": "negative",
    "负面": "negative",
    "消极": "negative",
    "neutral": "neutral",
    "中性": "neutral",
    "positive": "positive",
    "正面": "positive",
    "积极": "positive",
}


def parse_occurred_at(value: Any, tz: tzinfo) -> datetime:
    """An aware datetime from a cell; naive values (and Excel date cells) are in `tz`.
    Raises ValueError with a message for a person."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=tz)
    if not isinstance(value, str):
        raise ValueError(DATE_HINT)
    text = value.strip()
    match = _DATE.match(text)
    if match:
        try:
            return datetime(
                int(match["y"]),
                int(match["m"] or match["m2"]),
                int(match["d"] or match["d2"]),
                int(match["H"] or 0),
                int(match["M"] or 0),
                int(match["S"] or 0),
                tzinfo=tz,
            )
        except ValueError as exc:
            raise ValueError("not a real date or time") from exc
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(DATE_HINT) from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def word(value: str | None, words: dict[str, str]) -> str | None:
    """A code from its code or its Chinese/English word; unknown text passes through unchanged
    so that validation names it."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    return words.get(text.lower(), text)


def normalise_text(text: str) -> str:
    """For the content hash: the same words with other spacing are the same voice."""
    return " ".join(text.split())
