"""Core statements on the driver's cursor: the same answers as SQLAlchemy's execution, its
errors, its listeners, and a refusal of what only its execution path can run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.driver_sql import DriverStatement
from app.extensions import db
from app.org.models import Office

_audit = AuditEvent.__table__
_offices = Office.__table__


def _events_since() -> sa.Select:
    return (
        sa.select(_audit.c.id, _audit.c.at, _audit.c.action, _audit.c.changes, sa.literal(7))
        .where(_audit.c.at >= sa.bindparam("since", type_=_audit.c.at.type))
        .order_by(_audit.c.id)
        .limit(1)
    )


def _audit_row(at: datetime) -> None:
    db.session.execute(
        sa.insert(_audit).values(
            at=at, entity_type="issue", entity_id=1, action="accept", changes={"a": [None, 1]}
        )
    )


def test_answers_as_sqlalchemy_does_with_the_types_processing(make_office):
    at = datetime(2026, 2, 16, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    _audit_row(at)
    since = datetime(2026, 2, 16, 1, 0, tzinfo=UTC)
    expected = db.session.execute(_events_since(), {"since": since}).one()
    got = DriverStatement(_events_since).first({"since": since})
    assert tuple(got) == tuple(expected)
    assert got.at == at and got.at.tzinfo is not None  # UTCDateTime's result processing
    assert got.changes == {"a": [None, 1]}
    assert (got.id, got.action) == (expected.id, "accept")


def test_no_row_is_none_and_the_binds_processing_applies():
    statement = DriverStatement(_events_since)
    assert statement.first({"since": datetime(2030, 1, 1, tzinfo=UTC)}) is None
    with pytest.raises(ValueError, match="naive"):  # UTCDateTime refuses naive times
        statement.first({"since": datetime(2030, 1, 1)})  # noqa: DTZ001


def test_a_missing_parameter_is_an_error_not_a_null():
    with pytest.raises(KeyError, match="since"):
        DriverStatement(_events_since).first({})


def test_a_repeated_column_key_names_its_first_column(make_office):
    office = make_office("SH")
    both = DriverStatement(
        lambda: (
            sa.select(_offices.c.id, _offices.c.code, _audit.c.id)
            .select_from(_offices)
            .outerjoin(_audit, sa.false())
            .where(_offices.c.id == sa.bindparam("office"))
        )
    )
    row = both.first({"office": office.id})
    assert (row.id, row.code, row[2]) == (office.id, "SH", None)


def test_driver_errors_are_sqlalchemys_and_the_session_goes_on_after_a_rollback():
    missing = DriverStatement(
        lambda: sa.select(sa.column("x")).select_from(sa.table("no_such_table"))
    )
    with pytest.raises(sa.exc.DBAPIError, match="no_such_table"):
        missing.first({})
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.literal(1))) == 1


def test_listeners_of_the_engine_see_the_statement():
    seen = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        DriverStatement(_events_since).first({"since": datetime(2030, 1, 1, tzinfo=UTC)})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    assert len([s for s in seen if "audit_events" in s]) == 1


def test_what_needs_sqlalchemys_execution_path_is_refused():
    expanding = DriverStatement(
        lambda: sa.select(_audit.c.id).where(_audit.c.id.in_(sa.bindparam("ids", expanding=True)))
    )
    with pytest.raises(ValueError, match="ids"):
        expanding.first({"ids": [1, 2]})
    with pytest.raises(TypeError):
        DriverStatement(lambda: sa.delete(_audit)).first({})  # type: ignore[arg-type,return-value]


def test_writes_answer_what_they_return_or_none(make_office):
    office = make_office("SH")
    at = datetime(2026, 2, 16, 1, 0, tzinfo=UTC)
    insert = DriverStatement(
        lambda: sa.insert(_audit).values(
            at=sa.bindparam("a_at", type_=_audit.c.at.type),
            entity_type="issue",
            entity_id=1,
            action="accept",
            changes=sa.bindparam("a_changes", type_=_audit.c.changes.type),
            office_id=sa.bindparam("a_office", type_=sa.Integer),
        )
    )
    assert insert.first({"a_at": at, "a_changes": {"x": [1, 2]}, "a_office": office.id}) is None
    stored = db.session.execute(sa.select(_audit.c.at, _audit.c.changes)).one()
    assert (stored.at, stored.changes) == (at, {"x": [1, 2]})  # the JSON type's processing
    rename = DriverStatement(
        lambda: (
            sa.update(_audit)
            .where(_audit.c.office_id == sa.bindparam("office"))
            .values(action=sa.bindparam("new_action"))
            .returning(_audit.c.office_id, _audit.c.action, _audit.c.at)
        )
    )
    row = rename.first({"office": office.id, "new_action": "reopen"})
    assert (row.office_id, row.action, row.at) == (office.id, "reopen", at)
    # offices.updated_at has onupdate=utcnow, which only SQLAlchemy's execution fills in
    with pytest.raises(ValueError, match="default"):
        DriverStatement(lambda: sa.update(_offices).values(name="x")).first({})


def test_a_write_relying_on_python_side_defaults_is_refused():
    # offices.created_at has default=utcnow, which only SQLAlchemy's execution fills in
    partial = DriverStatement(
        lambda: sa.insert(_offices).values(code=sa.bindparam("c"), name="x", region_id=1)
    )
    with pytest.raises(ValueError, match="default"):
        partial.first({"c": "X"})
