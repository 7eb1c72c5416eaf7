"""One transaction per unit of work: commit once on success, roll back on error, and only then
run what must wait for the commit (a notice to another process, a cache refresh).

    with unit_of_work():
        issue = services.escalate(actor, issue_id, now=now)
        after_commit(lambda: log.info("escalated %s", issue.id))

Services flush and never commit; the boundary (a view, the API, the CLI, the job runner) opens
the unit of work. A nested `unit_of_work()` is a savepoint: its failure undoes only its own
changes and drops its callbacks, and the outermost one commits. Callbacks run after the
outermost commit, in order; one that fails is logged and does not undo the committed work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from app import sqlite_begin
from app.extensions import db

log = logging.getLogger(__name__)

_STACK_KEY = "unit_of_work_stack"  # kept in the session's info, so one per session and context


@dataclass
class UnitOfWork:
    callbacks: list[Callable[[], object]] = field(default_factory=list)


def _stack() -> list[UnitOfWork]:
    stack: list[UnitOfWork] = db.session.info.setdefault(_STACK_KEY, [])
    return stack


def in_unit_of_work() -> bool:
    return bool(_stack())


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` once the enclosing unit of work has committed; never if it rolls back."""
    stack = _stack()
    if not stack:
        raise RuntimeError("after_commit() needs an enclosing unit_of_work()")
    stack[-1].callbacks.append(callback)


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    stack = _stack()
    uow = UnitOfWork()
    if stack:
        outer = stack[-1]
        stack.append(uow)
        try:
            with db.session.begin_nested():
                yield uow
        finally:
            stack.pop()
        outer.callbacks.extend(uow.callbacks)
        return

    stack.append(uow)
    try:
        yield uow
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        stack.pop()
    _dispatch(uow.callbacks)


def _dispatch(callbacks: list[Callable[[], object]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            # the data is committed; a failed follow-up must not turn success into an error
            log.exception("after-commit callback %r failed", callback)


@contextmanager
def reads_apart() -> Iterator[None]:
    """On SQLite, run the block in a read transaction of its own, ended with the block, so
    that the write transaction that follows (BEGIN IMMEDIATE: the database's single write
    lock) covers only the writes and other writers wait that much less. Elsewhere it changes
    nothing: the reads stay in the request's transaction, which PostgreSQL does not lock.

    For a request that has no transaction open yet and whose block only reads: each read
    then sees committed data, as PostgreSQL's READ COMMITTED reads within one transaction."""
    if sqlite_begin.get() != "BEGIN IMMEDIATE" or db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    mode = sqlite_begin.set("BEGIN")
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    else:
        db.session.commit()
    finally:
        sqlite_begin.reset(mode)


# A view marked with @statement_at_a_time: see statement_at_a_time().
_STATEMENT_AT_A_TIME = "_statement_at_a_time"
F = TypeVar("F", bound=Callable[..., object])


def statement_at_a_time(view: F) -> F:
    """Mark an API view whose work, on PostgreSQL, is reads and then one write statement that
    holds everything the request changes (issue intake: the number, the issue and its audit
    row in one statement). Its request runs each statement in a transaction of its own, so
    the database is not asked for a BEGIN and a COMMIT around them: two round trips of the
    six an intake took. A statement is atomic by itself, and PostgreSQL's READ COMMITTED
    reads see the same committed data inside a transaction or out of one.

    The view leaves that mode with transaction_from_here() before any work of more than one
    write statement. On SQLite nothing changes (its reads and writes are ordered by BEGIN
    modes, see reads_apart)."""
    setattr(view, _STATEMENT_AT_A_TIME, True)
    return view


def begin_statement_at_a_time(view: Callable[..., object] | None) -> None:
    """At the start of a request for `view` (before its first statement): the mode of
    @statement_at_a_time when the view is marked and the database is PostgreSQL."""
    if not getattr(view, _STATEMENT_AT_A_TIME, False) or db.session().in_transaction():
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def transaction_from_here() -> None:
    """Leave the statement-at-a-time mode: the session's next statement begins a transaction,
    on a connection with the engine's own isolation level (SQLAlchemy restores it when the
    connection goes back to the pool). Nothing has been written when this is called, or what
    was written is committed already; elsewhere it changes nothing."""
    if not db.session().in_transaction():
        return
    options = db.session.connection().get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        db.session.commit()
