"""Keyset (cursor) pagination: stable under inserts, and page 1,000 costs what page 1 costs."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from app.core.errors import DomainError
from app.db import UTCDateTime
from app.extensions import db

T = TypeVar("T")


class BadCursor(DomainError):
    status = 400
    code = "bad_cursor"
    default_message = "The cursor is not valid; start again from the first page."


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor() from exc
    if not isinstance(values, list) or len(values) != arity:
        raise BadCursor()
    return values


def _bind(column: Any, value: Any) -> Any:
    """Bind a cursor value with its column's type, so datetimes compare as datetimes."""
    if isinstance(getattr(column, "type", None), UTCDateTime) and isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise BadCursor() from exc
    return sa.literal(value, type_=getattr(column, "type", None))


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def keyset_page(
    stmt: sa.Select[Any],
    *,
    order: Sequence[Any],
    key: Any,
    limit: int,
    cursor: str | None,
    descending: bool = True,
) -> Page[Any]:
    """Page a SELECT ordered by `order` columns (the last must be unique, e.g. id).

    `key(obj)` returns the values of the `order` columns for an item, for the next cursor.
    """
    if cursor:
        values = decode_cursor(cursor, len(order))
        tuple_cols = sa.tuple_(*order)
        tuple_vals = sa.tuple_(*[_bind(col, v) for col, v in zip(order, values, strict=True)])
        stmt = stmt.where(tuple_cols < tuple_vals if descending else tuple_cols > tuple_vals)
    ordering = [c.desc() if descending else c.asc() for c in order]
    rows = list(db.session.scalars(stmt.order_by(*ordering).limit(limit + 1)))
    next_cursor = encode_cursor(key(rows[limit - 1])) if len(rows) > limit else None
    return Page(items=rows[:limit], next_cursor=next_cursor)
