from __future__ import annotations

from collections import defaultdict

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.auth.passwords import verify_password
from app.auth.roles import Role
from app.core.audit import AuditEvent
from app.customers.models import Customer, CustomerPhone
from app.extensions import db
from app.issues import sla, workflow
from app.issues.models import Escalation, Issue, IssueContact, IssuePause
from app.issues.sla_policy import sla_calendar_for
from app.seed.issues import END
from app.seed.org import DEMO_PASSWORD


def snapshot():
    customers = db.session.execute(
        sa.select(Customer.name, Customer.company, CustomerPhone.number)
        .join(CustomerPhone)
        .order_by(Customer.id)
    ).all()
    issues = db.session.execute(
        sa.select(
            Issue.number,
            Issue.status,
            Issue.escalation_level,
            Issue.rating,
            Issue.resolve_due_at,
            sa.select(sa.func.count(AuditEvent.id))
            .where(AuditEvent.entity_type == "issue", AuditEvent.entity_id == Issue.id)
            .scalar_subquery(),
        )
        .where(Issue.channel != "survey")
        .order_by(Issue.number)
    ).all()
    return [tuple(row) for row in customers], [tuple(row) for row in issues]


def test_seed_demo_is_idempotent_and_deterministic(runner):
    first = runner.invoke(args=["seed-demo", "--customers", "60", "--issues", "80"])
    assert first.exit_code == 0, first.output
    assert "demo-password-2026" in first.output
    before = snapshot()
    assert len(before[0]) == 60 and len(before[1]) == 80
    again = runner.invoke(args=["seed-demo", "--customers", "60", "--issues", "80"])
    assert again.exit_code == 0 and "already loaded" in again.output
    assert snapshot() == before
    forced = runner.invoke(args=["seed-demo", "--customers", "60", "--issues", "80", "--force"])
    assert forced.exit_code == 0
    assert snapshot() == before


def test_seed_demo_people_cover_every_role(runner):
    runner.invoke(args=["seed-demo", "--customers", "5"])
    roles = set(db.session.scalars(sa.select(User.role)))
    assert roles == {r.value for r in Role}
    staff = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    assert 35 <= staff <= 45
    admin = db.session.scalars(sa.select(User).where(User.email == "admin@demo.local")).one()
    assert verify_password(admin.password_hash, DEMO_PASSWORD)
    phones = list(db.session.scalars(sa.select(CustomerPhone.number)))
    assert all(len(p) == 11 and p.startswith("1") for p in phones)


def test_seed_demo_issues_are_consistent(runner):
    from app.issues.models import IssueCounter
    from app.surveys.models import Response

    result = runner.invoke(args=["seed-demo", "--customers", "40", "--issues", "300"])
    assert result.exit_code == 0, result.output
    issues = db.session.scalars(sa.select(Issue)).all()
    # the demo issues, and those the demo surveys' dissatisfied answers raised
    raised = db.session.scalar(
        sa.select(sa.func.count()).select_from(Response).where(Response.issue_id.is_not(None))
    )
    assert raised > 0 and len(issues) == 300 + raised
    # statuses follow from each issue's history (test below); at 300 issues a year, the
    # last few days, where issues are still in hand, hold few of them
    assert {i.status for i in issues} >= {"closed", "resolved", "escalated"}
    for issue in issues:
        assert issue.response_due_at <= issue.resolve_due_at
        assert (issue.status == "closed") == (issue.closed_at is not None)
    accepted = db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "accept")
    )
    assert accepted == 300 + raised
    numbers = [i.number for i in issues]
    assert len(set(numbers)) == 300 + raised
    total = db.session.scalar(sa.select(sa.func.sum(IssueCounter.last_number)))
    assert total == 300 + raised


def _by_issue(rows, key=lambda row: row.issue_id):
    grouped = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped


def _check_history(issue, history):
    """In time order, each move starting where the last one ended, through the workflow."""
    assert [e.at for e in history] == sorted(e.at for e in history), issue.number
    status = None
    for event in history:
        if "status" not in event.changes:
            continue
        before, after = event.changes["status"]
        assert before == status, (issue.number, event.action, before, status)
        if before is not None:
            action = "handle" if event.action == "resume" else event.action
            assert workflow.next_status(before, action, escalation_level=0) == after
        status = after
    assert status == issue.status, issue.number


def _check_clocks(issue, history, spans):
    """Deadlines and minutes as sla_policy computes them: pushed out by the ended waits, the
    resolution clock restarted by the last reopen."""
    cal = sla_calendar_for(issue.office)
    reopens = [e.at for e in history if e.action == "reopen"]
    start = reopens[-1] if reopens else issue.received_at
    assert issue.resolve_due_at == sla.due_at(cal, start, issue.resolve_target_minutes, spans)
    assert issue.response_due_at == sla.due_at(
        cal, issue.received_at, issue.response_target_minutes, spans
    )
    if issue.first_response_at is not None:
        assert issue.response_minutes == sla.working_minutes_between_excluding(
            cal, issue.received_at, issue.first_response_at, spans
        )
    if issue.resolved_at is not None:
        assert issue.resolve_minutes == sla.working_minutes_between_excluding(
            cal, start, issue.resolved_at, spans
        )


def test_seed_demo_issue_histories_are_what_the_services_write(runner):
    result = runner.invoke(args=["seed-demo", "--customers", "40", "--issues", "300"])
    assert result.exit_code == 0, result.output
    issues = {i.id: i for i in db.session.scalars(sa.select(Issue))}
    events = _by_issue(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.entity_type == "issue").order_by(AuditEvent.id)
        ),
        key=lambda e: e.entity_id,
    )
    pauses = _by_issue(db.session.scalars(sa.select(IssuePause).order_by(IssuePause.id)))
    escalations = _by_issue(
        db.session.scalars(sa.select(Escalation).order_by(Escalation.issue_id, Escalation.level))
    )
    contacts = {c.id: c for c in db.session.scalars(sa.select(IssueContact))}
    for issue in issues.values():
        history = events[issue.id]
        _check_history(issue, history)
        spans = [(p.started_at, p.ended_at) for p in pauses[issue.id]]
        _check_clocks(issue, history, spans)
        # escalations: a row and an audit row per level, levels 1, 2, 3 in turn
        levels = [x.level for x in escalations[issue.id]]
        assert levels == list(range(1, issue.escalation_level + 1))
        escalate = [e for e in history if e.action == "escalate"]
        assert [e.changes["escalation_level"] for e in escalate] == [[n - 1, n] for n in levels]
        assert [e.at for e in escalate] == [x.at for x in escalations[issue.id]]
        # waits: a pause row each, ended by the resume; one open only while waiting
        assert len([e for e in history if e.action == "wait"]) == len(pauses[issue.id])
        assert len([e for e in history if e.action == "resume"]) == len(
            [p for p in pauses[issue.id] if p.ended_at is not None]
        )
        still = [p.started_at for p in pauses[issue.id] if p.ended_at is None]
        assert still == ([issue.waiting_since] if issue.status == "waiting" else [])
        # a rating of 2 or less reopened the issue at once (the default policy)
        reopens = [k for k, e in enumerate(history) if e.action == "reopen"]
        assert len(reopens) == issue.reopen_count
        for k in reopens:
            close = history[k - 1]
            assert close.action == "close" and close.at == history[k].at
            assert close.changes["rating"][1] <= 2
            assert history[k].changes["reason"] == f"low rating ({close.changes['rating'][1]}/5)"
        if issue.status == "closed":
            assert issue.rating >= 3 and issue.closed_at is not None
        for e in history:
            if e.action == "contact":
                assert contacts[e.changes["contact_id"]].issue_id == issue.id

    seeded = [i for i in issues.values() if i.channel != "survey"]  # not the closed loop's
    running = {"accepted", "handling", "escalated", "reopened"}
    for issue in seeded:
        # overdue and running at the demo's "today": the escalate job would have escalated it
        if issue.status in running and issue.resolve_due_at < END:
            assert issue.escalation_level >= 1, issue.number
        spans = [(p.started_at, p.ended_at) for p in pauses[issue.id]]
        cal = sla_calendar_for(issue.office)
        for x in escalations[issue.id]:
            if not x.automatic:
                continue
            # at the instant the job's verdict calls for: 100 %, 150 %, 200 % of the target
            if x.reason.startswith("resolution target at "):
                used = sla.elapsed_fraction(
                    cal, issue.received_at, issue.resolve_target_minutes, x.at, spans
                )
                assert used == pytest.approx(int(x.reason[21:-1]) / 100, abs=1e-6)
            else:
                used = sla.elapsed_fraction(
                    cal, issue.received_at, issue.response_target_minutes, x.at, spans
                )
                assert used == pytest.approx(1.0, abs=1e-6)
                assert issue.first_response_at is None or issue.first_response_at > x.at

    # what the reports and queues read is there: escalations by the job and by hand,
    # ratings, overdue issues, reopens (audit rows), waits (pause rows), contacts
    assert {x.level for xs in escalations.values() for x in xs} == {1, 2, 3}
    assert {x.automatic for xs in escalations.values() for x in xs} == {True, False}
    assert {i.rating for i in seeded if i.rating} == {1, 2, 3, 4, 5}
    assert any(i.status in running and i.resolve_due_at < END for i in seeded)
    assert sum(i.reopen_count for i in seeded) > 0
    assert any(i.status == "waiting" for i in seeded)
    assert any(p.ended_at is not None for ps in pauses.values() for p in ps)
    assert {c.direction for c in contacts.values()} == {"in", "out"}


def test_seed_demo_fills_the_watch_list_without_e_mail(runner):
    from app.core.outbox import OutboxMessage
    from app.warnings.models import CustomerWarning

    before = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    result = runner.invoke(args=["seed-demo", "--customers", "200", "--issues", "600"])
    assert result.exit_code == 0, result.output
    reasons = set(db.session.scalars(sa.select(CustomerWarning.reason)))
    assert "contract_expiring" in reasons and len(reasons) >= 2, reasons
    digests = db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(
            OutboxMessage.idempotency_key.like("early-warning:%")
        )
    )
    assert digests == 0 and before is not None
