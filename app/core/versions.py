"""Version stamps for data that each process caches (reference data such as categories and
SLA targets): a cache holds what it loaded together with the stamp it read first, and a
reader compares that stamp with the database's, one primary-key read, before trusting it.

Any change to a watched model made through an ORM session — an object added, changed or
deleted, or a bulk UPDATE/DELETE statement run through the session — writes a new random
stamp in the same transaction, so the new data and the new stamp become visible together,
to every process and host. A rolled-back change leaves the old stamp; a stamp is random, so
it never comes back after a truncation or a restore (no ABA). Changes made outside a session
(a data migration, SQL typed by hand) must call `bump()` too, or restart the workers.

No stamp row (a fresh database before its first change, or tables emptied by hand) reads as
None, which callers must treat as "do not cache".
"""

from __future__ import annotations

import uuid
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.extensions import db


class VersionStamp(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "version_stamps"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    stamp: Mapped[str] = mapped_column(sa.String(32))


_table: sa.Table = VersionStamp.__table__
_READ = sa.select(_table.c.stamp).where(_table.c.name == sa.bindparam("name"))

# watched model class -> stamp name
_WATCHED: dict[type, str] = {}


def watch(name: str, *models: type) -> None:
    """Give `name` a new stamp whenever any of `models` changes through a session."""
    for model in models:
        _WATCHED[model] = name


def read(name: str) -> str | None:
    """The current stamp of `name` as this transaction sees it; None when there is none.

    It runs on every intake, so through Core rather than the ORM; it flushes first as an ORM
    query would, so that a change pending in this very session gets its new stamp before the
    read and the caller reloads."""
    session = db.session()
    if session.autoflush:
        session.flush()  # nothing to do, and almost free, when nothing is pending
    stamp: str | None = session.connection().execute(_READ, {"name": name}).scalar()
    return stamp


def stamp_column(name: str) -> sa.ScalarSelect[Any]:
    """The stamp of `name` as a column of another query: a caller that reads a stamp on every
    request can take it with the query it runs anyway, one round trip less than read(). The
    caller flushes first, as read() does."""
    return sa.select(_table.c.stamp).where(_table.c.name == name).scalar_subquery()


def bump(name: str, session: Session | None = None) -> str:
    """A new stamp for `name`, written in the session's current transaction (an upsert, so
    a missing row is created and two writers never collide)."""
    session = session if session is not None else db.session()
    stamp = uuid.uuid4().hex
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(_table)
        .values(name=name, stamp=stamp)
        .on_conflict_do_update(index_elements=[_table.c.name], set_={"stamp": stamp})
    )
    session.connection().execute(stmt)
    return stamp


def _changed_names(session: Session) -> set[str]:
    names: set[str] = set()
    for obj in chain(session.new, session.deleted):
        name = _WATCHED.get(type(obj))
        if name is not None:
            names.add(name)
    for obj in session.dirty:
        name = _WATCHED.get(type(obj))
        if name is not None and session.is_modified(obj, include_collections=False):
            names.add(name)
    return names


@event.listens_for(Session, "before_flush")
def _bump_on_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not _WATCHED:
        return
    for name in sorted(_changed_names(session)):
        bump(name, session)


@event.listens_for(Session, "do_orm_execute")
def _bump_on_bulk(state: Any) -> None:
    if not (state.is_update or state.is_delete or state.is_insert) or not _WATCHED:
        return
    mapper = state.bind_mapper
    name = _WATCHED.get(mapper.class_) if mapper is not None else None
    if name is not None:
        bump(name, state.session)
