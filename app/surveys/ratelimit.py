"""Rate limit of the public survey pages, per client, in fixed windows counted in the database
(so it holds across workers and hosts), apart from the login throttle.

Every request counts towards `all:<ip>`; a link that leads nowhere also counts towards
`bad:<ip>`, with a much lower limit, so guessing tokens stops after a few dozen tries while a
customer who opens, reloads and submits is never in the way. The count is committed before the
link is looked at, like the login throttle, so parallel requests cannot slip past the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.surveys.models import PublicRateCounter

WINDOW = timedelta(minutes=10)


def window_of(now: datetime) -> datetime:
    seconds = int(WINDOW.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


def _upsert(dialect: str) -> Any:
    return sqlite_insert if dialect == "sqlite" else pg_insert


@contextmanager
def writing() -> Iterator[None]:
    """The counter's own short transaction takes SQLite's write lock at BEGIN (a read
    transaction cannot be upgraded once another connection has written), whatever the rest of
    the request does; PostgreSQL ignores this."""
    from app import sqlite_begin

    token = sqlite_begin.set("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        sqlite_begin.reset(token)


def _increment(key: str, start: datetime) -> int:
    """Add one to the counter and return it: one upsert, committed at once, so parallel
    requests cannot slip past the limit."""
    stmt = (
        _upsert(db.engine.dialect.name)(PublicRateCounter)
        .values(key=key, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=[PublicRateCounter.key, PublicRateCounter.window_start],
            set_={"count": PublicRateCounter.count + 1},
        )
        .returning(PublicRateCounter.count)
    )
    count = db.session.execute(stmt, execution_options={"synchronize_session": False}).scalar()
    db.session.commit()
    return int(count or 0)


def _limit(kind: str) -> int:
    configured = int(current_app.config.get(f"SURVEY_RATE_LIMIT_{kind.upper()}", 0) or 0)
    return configured or (120 if kind == "all" else 20)


def _key(kind: str, client: str | None) -> str:
    return f"{kind}:{(client or 'unknown')[:64]}"


def hit(kind: str, client: str | None, now: datetime) -> bool:
    """Count one request of `kind` ("all" or "bad"); False once the client is over the limit."""
    return _increment(_key(kind, client), window_of(now)) <= _limit(kind)


def over(kind: str, client: str | None, now: datetime) -> bool:
    """Whether the client has already used up `kind` in this window (counts nothing)."""
    count = db.session.scalar(
        sa.select(PublicRateCounter.count).where(
            PublicRateCounter.key == _key(kind, client),
            PublicRateCounter.window_start == window_of(now),
        )
    )
    return int(count or 0) >= _limit(kind)


def purge(older_than: datetime) -> int:
    result = db.session.execute(
        sa.delete(PublicRateCounter).where(PublicRateCounter.window_start < older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
