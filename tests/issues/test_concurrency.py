"""Real concurrency on the configured engine: threads with their own app context, session and
connection, committing for real (SQLite queues writers on BEGIN IMMEDIATE; PostgreSQL locks
the counter and issue rows)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.core.audit import AuditEvent
from app.core.errors import Conflict, InvalidTransitionError
from app.core.outbox import OutboxMessage
from app.extensions import db
from app.issues import services
from app.issues.models import Escalation, Issue, IssueCounter

pytestmark = pytest.mark.committing

CN = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 3, 2, 9, 0, tzinfo=CN)


def run_together(app, work: list[Callable[[], Any]]) -> tuple[list[Any], list[Exception]]:
    """Start every callable at once, each in its own thread and app context (so its own
    session); each commits its own work. Returns (results, errors)."""
    db.session.commit()  # what the test set up is visible, and the test holds no transaction
    barrier = threading.Barrier(len(work))
    results: list[Any] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def run(fn: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait()
                value = fn()
                db.session.commit()
                with lock:
                    results.append(value)
            except Exception as exc:
                db.session.rollback()
                with lock:
                    errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    db.session.expire_all()
    return results, errors


def intake(agent_id: int, customer_id: int, received_at: datetime = MON) -> Callable[[], str]:
    def accept() -> str:
        issue = services.accept_issue(
            actor=db.session.get(User, agent_id),
            customer_id=customer_id,
            title="并发受理",
            description="",
            channel="hotline",
            category="billing",
            priority="normal",
            received_at=received_at,
            now=received_at,
        )
        return issue.number

    return accept


def test_ten_concurrent_intakes_get_ten_consecutive_numbers(app, world):
    work = [intake(world.agent.id, world.customer.id) for _ in range(10)]
    numbers, errors = run_together(app, work)
    assert errors == []
    assert sorted(numbers) == [f"SH-2026-{n:06d}" for n in range(1, 11)]
    # the counter row existed from the first of them on: the next ten continue the sequence
    numbers, errors = run_together(app, work)
    assert errors == []
    assert sorted(numbers) == [f"SH-2026-{n:06d}" for n in range(11, 21)]
    counter = db.session.scalars(sa.select(IssueCounter)).one()
    assert (counter.year, counter.last_number) == (2026, 20)


def test_offices_and_years_count_separately_in_parallel(app, world):
    last_year = datetime(2025, 12, 31, 17, 0, tzinfo=CN)
    work = (
        [intake(world.agent.id, world.customer.id) for _ in range(4)]
        + [intake(world.agent.id, world.customer.id, last_year) for _ in range(3)]
        + [intake(world.agent_gz.id, world.customer_gz.id) for _ in range(3)]
    )
    numbers, errors = run_together(app, work)
    assert errors == []
    assert sorted(numbers) == [
        "GZ-2026-000001",
        "GZ-2026-000002",
        "GZ-2026-000003",
        "SH-2025-000001",
        "SH-2025-000002",
        "SH-2025-000003",
        "SH-2026-000001",
        "SH-2026-000002",
        "SH-2026-000003",
        "SH-2026-000004",
    ]


def test_a_rolled_back_intake_gives_its_number_back(app, world):
    numbers, _ = run_together(app, [intake(world.agent.id, world.customer.id)])
    abandoned = intake(world.agent.id, world.customer.id)()
    assert abandoned == "SH-2026-000002"
    db.session.rollback()  # e.g. the request failed after the number was drawn
    numbers += run_together(app, [intake(world.agent.id, world.customer.id)])[0]
    assert numbers == ["SH-2026-000001", "SH-2026-000002"]


def _resolved(world) -> Issue:
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="并发关闭",
        description="",
        channel="hotline",
        category="billing",
        priority="normal",
        now=MON,
        received_at=MON,
    )
    services.resolve_issue(
        actor=world.handler,
        issue_id=issue.id,
        resolution="ok",
        root_cause="process",
        responsible="服务部",
        now=MON,
    )
    db.session.commit()
    return issue


def _count(model: Any, *where: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def test_two_concurrent_low_ratings_one_wins_and_notifies_once(app, world):
    issue = _resolved(world)
    issue_id, version, agent_id = issue.id, issue.version, world.agent.id

    def close() -> str:
        closed = services.close_issue(
            actor=db.session.get(User, agent_id), issue_id=issue_id, rating=1, version=version
        )
        return closed.status

    results, errors = run_together(app, [close, close])
    assert results == ["reopened"]
    assert len(errors) == 1 and isinstance(errors[0], Conflict)
    audited = sa.and_(AuditEvent.entity_type == "issue", AuditEvent.entity_id == issue_id)
    assert _count(AuditEvent, audited, AuditEvent.action == "close") == 1
    assert _count(AuditEvent, audited, AuditEvent.action == "reopen") == 1
    assert _count(OutboxMessage) == 1
    assert db.session.get(Issue, issue_id).reopen_count == 1


def test_two_concurrent_escalations_of_the_same_version_one_wins(app, world):
    issue = _resolved(world)
    services.reopen_issue(actor=world.agent, issue_id=issue.id, reason="x", now=MON)
    db.session.commit()
    issue_id, version, om_id = issue.id, issue.version, world.om.id

    def escalate() -> int:
        actor = db.session.get(User, om_id)
        done = services.escalate_issue(actor=actor, issue_id=issue_id, reason="急", version=version)
        return done.escalation_level

    results, errors = run_together(app, [escalate, escalate])
    assert results == [1]
    assert len(errors) == 1 and isinstance(errors[0], Conflict)
    assert _count(Escalation) == 1 and _count(OutboxMessage) == 1
    assert _count(AuditEvent, AuditEvent.action == "escalate") == 1


def test_without_a_version_concurrent_escalations_queue_up_one_level_each(app, world):
    """No version sent: the second escalation sees the first one's result (row lock / write
    lock) and goes one level further, never twice to the same level."""
    issue = _resolved(world)
    services.reopen_issue(actor=world.agent, issue_id=issue.id, reason="x", now=MON)
    db.session.commit()
    issue_id, om_id = issue.id, world.om.id

    def escalate() -> int:
        actor = db.session.get(User, om_id)
        return services.escalate_issue(actor=actor, issue_id=issue_id, reason="急").escalation_level

    results, errors = run_together(app, [escalate] * 4)
    assert sorted(results) == [1, 2, 3]
    assert len(errors) == 1 and isinstance(errors[0], InvalidTransitionError)  # at the top
    levels = db.session.scalars(sa.select(Escalation.level).order_by(Escalation.level)).all()
    assert levels == [1, 2, 3]


def test_two_overlapping_escalate_runs_escalate_each_level_once(app, world):
    """Both runs find the urgent issue past its first-response target (level 1). Whichever
    locks the row second finds level 1 there and adds nothing: no level 2 on top, no error."""
    from app.issues.jobs import escalate

    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="生产线停机",
        description="",
        channel="hotline",
        category="product_quality",
        priority="urgent",
        received_at=MON,
        now=MON,
    )
    db.session.commit()
    issue_id = issue.id
    now = MON.replace(hour=10, minute=30)

    results, errors = run_together(app, [lambda: escalate(now), lambda: escalate(now)])
    assert errors == []
    assert sorted(r["escalations"] for r in results) == [0, 1]
    assert [r["errors"] for r in results] == [0, 0]
    assert db.session.get(Issue, issue_id).escalation_level == 1
    assert db.session.scalars(sa.select(Escalation.level)).all() == [1]
    assert _count(OutboxMessage) == 1  # the office manager, once
