from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.auth.passwords import verify_password
from app.auth.roles import Role
from app.customers.models import Customer, CustomerPhone
from app.extensions import db
from app.seed.org import DEMO_PASSWORD


def snapshot():
    customers = db.session.execute(
        sa.select(Customer.name, Customer.company, CustomerPhone.number)
        .join(CustomerPhone)
        .order_by(Customer.id)
    ).all()
    return [tuple(row) for row in customers]


def test_seed_demo_is_idempotent_and_deterministic(runner):
    first = runner.invoke(args=["seed-demo", "--customers", "60", "--issues", "80"])
    assert first.exit_code == 0, first.output
    assert "demo-password-2026" in first.output
    before = snapshot()
    assert len(before) == 60
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
    from app.core.audit import AuditEvent
    from app.issues.models import Issue, IssueCounter
    from app.surveys.models import Response

    result = runner.invoke(args=["seed-demo", "--customers", "40", "--issues", "300"])
    assert result.exit_code == 0, result.output
    issues = db.session.scalars(sa.select(Issue)).all()
    # the demo issues, and those the demo surveys' dissatisfied answers raised
    raised = db.session.scalar(
        sa.select(sa.func.count()).select_from(Response).where(Response.issue_id.is_not(None))
    )
    assert raised > 0 and len(issues) == 300 + raised
    assert {i.status for i in issues} >= {"closed", "handling"}
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
