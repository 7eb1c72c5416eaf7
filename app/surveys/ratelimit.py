"""Rate limit of the public survey pages, per client, in fixed windows counted in the database
(so it holds across workers and hosts), apart from the login throttle.

Every request counts towards `all:<ip>`; a link that leads nowhere also counts towards
`bad:<ip>`, with a much lower limit, so guessing tokens stops after a few dozen tries while a
customer who opens, reloads and submits is never in the way. The count is committed before the
link is looked at, like the login throttle, so parallel requests cannot slip past the limit.

Leases. Writing the counter on every request made it the slowest part of the page, and it
serialised every request of one address (all customers behind one NAT, or a benchmark) on one
row. So a process takes a *lease* of LEASE = limit/16 requests at once (one upsert adding
LEASE, committed before the request goes on) and spends it from memory; it asks again when it
is used up. What holds:
- never more than `limit` requests of a client in a window, summed over every process and host:
  a lease is only granted out of what the database row still has;
- a client may be refused a little early, by the unused leases other processes hold (at most
  (processes - 1) x (LEASE - 1): 6 requests of 120 with two workers);
- once the database refuses a client, the process remembers it until the window ends (a fixed
  window never gives back);
- "bad" links have a limit of 20, so LEASE is 1: every bad link is counted in the database at
  once, exactly as before. When a client has used up its bad links, its "all" row is filled
  up as well, so no process grants it a new lease; only what other processes already hold can
  still be spent (the page then still says "invalid" for a bad link, which is counted anew).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.surveys.models import PublicRateCounter

WINDOW = timedelta(minutes=10)
LEASE_SHARE = 16  # a lease is 1/16 of the limit
MAX_REMEMBERED = 50_000  # clients remembered per process (a window's worth, then forgotten)


@dataclass
class _Lease:
    remaining: int  # requests this process may still let through without asking
    refused: bool  # the database said this client is over its limit for this window


_leases: dict[tuple[str, datetime], _Lease] = {}
_leases_lock = threading.Lock()


def forget() -> None:
    """Drop this process's leases (tests, whose database is emptied between them)."""
    with _leases_lock:
        _leases.clear()


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


@cache
def _increment_statement(dialect: str) -> Any:
    """The counter's upsert, built once per dialect: a new client's first request on a worker
    takes a lease, and building the statement (through the ORM) cost more than running it."""
    table = PublicRateCounter.__table__
    insert = _upsert(dialect)(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c.key, table.c.window_start],
        set_={"count": table.c.count + insert.excluded.count},
    ).returning(table.c.count)


def _increment(key: str, start: datetime, by: int = 1) -> int:
    """Add `by` to the counter and return it: one upsert, committed at once, so parallel
    requests cannot slip past the limit."""
    count = (
        db.session.connection()
        .execute(
            _increment_statement(db.engine.dialect.name),
            {"key": key, "window_start": start, "count": by},
        )
        .scalar()
    )
    db.session.commit()
    return int(count or 0)


def _limit(kind: str) -> int:
    configured = int(current_app.config.get(f"SURVEY_RATE_LIMIT_{kind.upper()}", 0) or 0)
    return configured or (120 if kind == "all" else 20)


def _key(kind: str, client: str | None) -> str:
    return f"{kind}:{(client or 'unknown')[:64]}"


def _lease_size(limit: int) -> int:
    return max(1, limit // LEASE_SHARE)


def _remember(key: str, start: datetime, lease: _Lease) -> None:
    with _leases_lock:
        if len(_leases) >= MAX_REMEMBERED:
            for old in [k for k in _leases if k[1] < start]:
                del _leases[old]
            if len(_leases) >= MAX_REMEMBERED:
                _leases.clear()  # only costs asking the database again
        _leases[(key, start)] = lease


def hit(kind: str, client: str | None, now: datetime) -> bool:
    """Count one request of `kind` ("all" or "bad"); False once the client is over the limit.
    Spends this process's lease when it has one, else takes one from the database."""
    key, start, limit = _key(kind, client), window_of(now), _limit(kind)
    size = _lease_size(limit)
    with _leases_lock:
        lease = _leases.get((key, start))
        if lease is not None and lease.remaining > 0:
            lease.remaining -= 1
            return True
        if lease is not None and lease.refused:
            return False
    count = _increment(key, start, size)
    granted = min(size, limit - (count - size))
    if size > 1 or granted <= 0:
        _remember(key, start, _Lease(remaining=max(granted - 1, 0), refused=granted <= 0))
    if granted <= 0 and kind == "bad":
        _fill_up(_key("all", client), start, _limit("all"))
    return granted > 0


def _fill_up(key: str, start: datetime, limit: int) -> None:
    """Use up a client's "all" allowance for the window: no process grants it a new lease."""
    stmt = (
        _upsert(db.engine.dialect.name)(PublicRateCounter)
        .values(key=key, window_start=start, count=limit)
        .on_conflict_do_update(
            index_elements=[PublicRateCounter.key, PublicRateCounter.window_start],
            set_={
                "count": sa.case(
                    (PublicRateCounter.count < limit, limit), else_=PublicRateCounter.count
                )
            },
        )
    )
    db.session.execute(stmt, execution_options={"synchronize_session": False})
    db.session.commit()
    _remember(key, start, _Lease(remaining=0, refused=True))


def over(kind: str, client: str | None, now: datetime) -> bool:
    """Whether the client has already used up `kind` in this window, as far as this process
    knows without asking the database (it knows every refusal it has seen; a refusal seen by
    another process has filled up the client's "all" row, which refuses its next lease)."""
    with _leases_lock:
        lease = _leases.get((_key(kind, client), window_of(now)))
    return lease is not None and lease.refused


def purge(older_than: datetime) -> int:
    result = db.session.execute(
        sa.delete(PublicRateCounter).where(PublicRateCounter.window_start < older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
