"""Request rate limits for public pages, shared by every worker and host through the database.

A sliding-window counter per key (e.g. "feedback-post:ip:203.0.113.7"): one row per key and
fixed window, incremented atomically with INSERT … ON CONFLICT DO UPDATE … RETURNING (SQLite
and PostgreSQL alike), and the estimate `current + previous × (share of the previous window
still inside the sliding window)`, so a client cannot double its quota at a window boundary.

Storage stays bounded: a flood from one client is one row per window, not a row per request,
and every new row first deletes the rows that have expired (an indexed delete), so the table
only ever holds the keys seen in the last two windows.

The login throttle (app.auth.throttle) is separate on purpose: it counts failures per account
and must stay exact under concurrent guesses; these counters only count requests.

Each hit runs and commits on its own connection at the start of the request, before the
request's unit of work touches anything, so a refused request still counts and an accepted
one does not hold the counter row while it works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db


class RateCounter(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    slot: Mapped[int] = mapped_column(sa.BigInteger(), primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(default=0)
    # the end of the next window: until then this row still weighs on the sliding estimate
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: float  # the sliding estimate, this request included
    retry_after: int  # seconds until the estimate has room again (0 when allowed)


def _upsert(dialect: str) -> type[sa.Insert]:
    if dialect == "postgresql":
        return postgresql.insert  # type: ignore[return-value]
    return sqlite.insert  # type: ignore[return-value]


def hit(key: str, *, limit: int, window_seconds: int, now: datetime | None = None) -> Decision:
    """Count one request under `key` and say whether it is within `limit` per window."""
    from app import sqlite_begin

    now = now or utcnow()
    epoch = now.timestamp()
    current = int(epoch // window_seconds)
    elapsed = (epoch - current * window_seconds) / window_seconds
    expires = datetime.fromtimestamp((current + 2) * window_seconds, tz=now.tzinfo)
    key = key[:200]
    insert = _upsert(db.engine.dialect.name)
    stmt = insert(RateCounter).values(key=key, slot=current, count=1, expires_at=expires)
    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[RateCounter.key, RateCounter.slot],
        set_={"count": RateCounter.count + 1},
    ).returning(RateCounter.count)
    token = sqlite_begin.set("BEGIN IMMEDIATE")  # a writer: queue on the lock, never fail
    try:
        with db.engine.begin() as conn:
            count = int(conn.execute(stmt).scalar_one())
            if count == 1:  # a new row: clear the expired ones first seen long ago
                conn.execute(sa.delete(RateCounter).where(RateCounter.expires_at < now))
            previous = conn.execute(
                sa.select(RateCounter.count).where(
                    RateCounter.key == key, RateCounter.slot == current - 1
                )
            ).scalar_one_or_none()
    finally:
        sqlite_begin.reset(token)
    estimate = (previous or 0) * (1 - elapsed) + count
    if estimate <= limit:
        return Decision(True, estimate, 0)
    return Decision(
        False, estimate, _retry_after(previous or 0, count, limit, elapsed, window_seconds)
    )


def _retry_after(previous: int, count: int, limit: int, elapsed: float, window: int) -> int:
    """Seconds until `previous × (1 - t) + count ≤ limit` (or the window turns over)."""
    remaining = (1 - elapsed) * window
    if previous and count <= limit:
        # the previous window's share shrinks linearly to zero at the end of this window
        needed = (previous * (1 - elapsed) + count - limit) / previous * window
        return max(1, math.ceil(min(needed, remaining)))
    # this window alone is over the limit: wait for it to end (the next starts with count as
    # its "previous", which may still refuse for a while; Retry-After is a hint, not a promise)
    return max(1, math.ceil(remaining))


def purge(older_than: datetime) -> int:
    """Delete expired counters (hits do this already; for a housekeeping job or a shell)."""
    result = db.session.execute(sa.delete(RateCounter).where(RateCounter.expires_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
