"""Core statements run straight on the driver's cursor, for the few hot paths where
SQLAlchemy's work per execution cost more than the database's (bench/README.md, issue intake:
the one-statement write alone spent 0.3 ms of CPU per intake in the execution context, the
parameter processing and the result set-up).

The statement is still built with Core and compiled by the session's dialect, once per
dialect; what each execution skips is only SQLAlchemy's machinery around the driver call.
Parameters go through the same bind processors the dialect would apply (UTCDateTime's check
and conversion, for one), and the columns answered through the same result processors, all
looked up once through the types' public dialect_impl, bind_processor and result_processor.
Statements that SQLAlchemy would expand per execution (`IN` lists with `expanding`
parameters) are refused when compiled, and so are literal values rendered at execution time
and writes that leave a column to a Python-side default or onupdate: all need the full
execution path.

It runs on the session's own connection, inside the session's transaction, so the session's
begin/commit and the SQLite BEGIN mode apply as to any other statement. Listeners of the
engine's `before_cursor_execute` see the statement (without an execution context), and a
driver error is raised as SQLAlchemy raises it (sqlalchemy.exc.IntegrityError, ...), with a
lost connection invalidated.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from app.extensions import db

Processor = Callable[[Any], Any]
Runnable = sa.Select[Any] | sa.Insert | sa.Update


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # parameter order for qmark/numeric dialects
    defaults: Mapping[str, Any]  # values the statement carries itself (LIMIT 1, + 1, ...)
    binds: Mapping[str, Processor]
    required: frozenset[str]
    results: Sequence[Processor | None]
    answers: bool  # False: a write without RETURNING of its own answers None on every engine
    returns_rows: bool  # the driver has a row to fetch (a SELECT, or any RETURNING)
    row: Any  # a named tuple class of the columns' keys, as SQLAlchemy's rows


class DriverStatement:
    """A Core SELECT, INSERT or UPDATE built once (by `build`, at first use, when the mappers
    have given every column its type) and run on the driver's cursor of the session's
    connection. An INSERT names a parameter for every column with a Python-side default."""

    def __init__(self, build: Callable[[], Runnable]) -> None:
        self._build = build
        self._statement: Runnable | None = None
        self._by_dialect: dict[tuple[str, str], _Compiled] = {}

    def statement(self) -> Runnable:
        if self._statement is None:
            self._statement = self._build()
        return self._statement

    def _compiled(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver)  # the driver decides the parameter style
        found = self._by_dialect.get(key)
        if found is None:
            found = self._by_dialect[key] = _compile(self.statement(), dialect)
        return found

    def first(self, params: Mapping[str, Any]) -> Any:
        """The first row (the statement's own processing applied) as a named tuple, or None
        (a write without RETURNING answers None).
        A parameter the statement needs and `params` lacks is a KeyError, never a NULL."""
        connection = db.session.connection()
        compiled = self._compiled(connection.dialect)
        if not compiled.required <= params.keys():
            raise KeyError(f"missing parameters: {sorted(compiled.required - params.keys())}")
        values = {**compiled.defaults, **params}
        for name, process in compiled.binds.items():
            values[name] = process(values[name])
        args = (
            values if compiled.positional is None else tuple(values[k] for k in compiled.positional)
        )
        dbapi = connection.connection.dbapi_connection
        cursor = dbapi.cursor()  # type: ignore[union-attr]
        try:
            if connection.dispatch.before_cursor_execute:  # whoever listens sees it (tests)
                connection.dispatch.before_cursor_execute(
                    connection, cursor, compiled.sql, args, None, False
                )
            cursor.execute(compiled.sql, args)
            # known from the statement: psycopg builds `description` afresh on every access
            row = cursor.fetchone() if compiled.returns_rows else None
        except connection.dialect.loaded_dbapi.Error as exc:
            # as SQLAlchemy would: a lost connection leaves the pool, the error is its own
            lost = connection.dialect.is_disconnect(exc, dbapi, cursor)
            if lost:
                connection.invalidate(exc)
            raise sa.exc.DBAPIError.instance(
                compiled.sql,
                args,
                exc,
                connection.dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=connection.dialect,
            ) from exc
        finally:
            cursor.close()
        if row is None or not compiled.answers:
            return None
        return compiled.row._make(
            v if p is None else p(v) for v, p in zip(row, compiled.results, strict=True)
        )


def _compile(statement: Runnable, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    binds: dict[str, Processor] = {}
    for name, bind in compiled.binds.items():
        if bind.expanding or getattr(bind, "literal_execute", False):
            raise ValueError(f"{name}: needs SQLAlchemy's execution path")
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds[name] = process
    positional = tuple(compiled.positiontup or ()) if compiled.positional else None
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        raise ValueError("a column's Python-side default needs SQLAlchemy's execution path")
    answers = returns_rows = True
    if isinstance(statement, sa.Select):
        names = list(statement.selected_columns.keys())
        types = [c.type for c in statement.selected_columns]
    elif isinstance(statement, sa.Insert | sa.Update):
        # what it RETURNs, if anything: asked for, or added by the dialect (the primary key
        # of a PostgreSQL INSERT)
        returning = compiled.effective_returning or ()
        names = [str(c.key) for c in returning]
        types = [c.type for c in returning]
        answers = bool(statement.returning_column_descriptions)
        returns_rows = bool(returning)
    else:
        raise TypeError("a SELECT, INSERT or UPDATE")
    results = [t.dialect_impl(dialect).result_processor(dialect, None) for t in types]
    # a repeated key (two tables' `id`) names its first column, as on SQLAlchemy's rows
    row = namedtuple("Row", names, rename=True)  # type: ignore[misc]
    defaults = {name: b.effective_value for name, b in compiled.binds.items() if not b.required}
    required = frozenset(name for name, b in compiled.binds.items() if b.required)
    return _Compiled(
        str(compiled), positional, defaults, binds, required, results, answers, returns_rows, row
    )
