"""@statement_at_a_time (app.core.uow): on PostgreSQL issue intake runs each statement in a
transaction of its own, with no BEGIN and COMMIT around them; its connection goes back to the
pool with the engine's own isolation level; every path of more than one write leaves the
mode first. On SQLite nothing changes."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, has_request_context

from app.core import uow
from app.core.audit import AuditEvent
from app.extensions import db
from app.issues.models import Issue, IssueCounter


def _on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def _driver_commands(app: Flask) -> tuple[list[str], object]:
    """What the session's connections tell the driver to begin and commit: psycopg sends
    BEGIN itself at a transaction's first statement, so the transaction status seen before
    each statement says whether one was begun."""
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        dbapi = conn.connection.dbapi_connection
        if has_request_context():  # the request's statements, not the test's own reads
            seen.append("autocommit" if getattr(dbapi, "autocommit", False) else "transaction")

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    return seen, listen


def test_intake_runs_statement_at_a_time_on_postgresql_only(app, client, world, new_issue):
    new_issue()  # the office's counter exists; the token's use is recorded
    seen, listen = _driver_commands(app)
    try:
        issue = new_issue(title="第二个")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    expected = "autocommit" if _on_postgresql() else "transaction"
    assert seen and set(seen) == {expected}
    row = db.session.get(Issue, issue["id"])
    assert row.number.endswith("000002")
    audit = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "issue", AuditEvent.entity_id == issue["id"]
        )
    ).all()
    assert [a.action for a in audit] == ["accept"]


def test_the_connection_goes_back_to_the_pool_transactional(app, client, world, new_issue):
    new_issue()
    new_issue()
    # the same pooled connection (one thread, one at a time) serves the test's session now
    with db.engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert not getattr(dbapi, "autocommit", False)
        conn.execute(sa.update(IssueCounter).values(last_number=IssueCounter.last_number + 100))
        conn.rollback()
    assert db.session.scalar(sa.select(IssueCounter.last_number)) == 2


def test_first_issue_of_the_year_leaves_the_mode_for_the_counter(app, client, world, new_issue):
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssueCounter)) == 0
    seen, listen = _driver_commands(app)
    try:
        issue = new_issue()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    assert issue["number"].endswith("000001")
    if _on_postgresql():
        # reads and the first (empty) write one at a time; the counter and the write again in
        # one transaction (ensure_counter takes a savepoint, which needs a transaction)
        assert seen[0] == "autocommit" and seen[-1] == "transaction"


def test_refused_intake_writes_nothing(app, client, world, new_issue):
    new_issue()
    response = client.post(
        "/api/v1/issues",
        json={
            "customer_id": world.customer.id,
            "title": "",
            "channel": "hotline",
            "category": "product_quality",
        },
        headers=world.h["agent"],
    )
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Issue)) == 1
    assert db.session.scalar(sa.select(IssueCounter.last_number)) == 1


def test_unmarked_views_and_sqlite_keep_their_transaction(app):
    def view() -> None: ...

    with app.test_request_context("/"):
        uow.begin_statement_at_a_time(view)
        assert not db.session().in_transaction()
        marked = uow.statement_at_a_time(view)
        uow.begin_statement_at_a_time(marked)
        options = db.session.connection().get_execution_options()
        assert (options.get("isolation_level") == "AUTOCOMMIT") == _on_postgresql()
        uow.transaction_from_here()
        assert db.session.connection().get_execution_options().get("isolation_level") != (
            "AUTOCOMMIT"
        )
        db.session.rollback()
