"""The escalate job: levels by SLA overrun, 80 % warnings, idempotent, catches up."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.core.outbox import OutboxMessage
from app.extensions import db
from app.issues import services
from app.issues.escalation import judge
from app.issues.jobs import escalate
from app.issues.models import Escalation, Issue

CN = ZoneInfo("Asia/Shanghai")


def at(d, hh, mm=0):
    return datetime(2026, 3, d, hh, mm, tzinfo=CN)


@pytest.fixture
def urgent(world):
    """Urgent: respond within 1 working hour, resolve within 9 (due Monday 18:00)."""
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="生产线停机",
        description="",
        channel="hotline",
        category="product_quality",
        priority="urgent",
        received_at=at(2, 9),
        owner_id=world.handler.id,
        now=at(2, 9),
    )
    db.session.commit()
    return issue


def run(now):
    result = escalate(now)
    db.session.commit()
    return result


def recipients():
    return sorted(db.session.scalars(sa.select(OutboxMessage.recipient)))


def test_policy_levels():
    assert judge(None, 0.5).level == 0
    assert judge(0.85, 0.1).warn == ("response",)
    assert judge(1.2, 0.2).level == 1
    assert judge(None, 1.0).level == 1
    assert judge(None, 1.5).level == 2
    assert judge(None, 2.0).level == 3
    assert judge(None, 0.8).warn == ("resolution",)


def test_warns_owner_at_80_percent_once(world, urgent):
    run(at(2, 9, 50))
    run(at(2, 9, 55))
    assert recipients() == ["handler@sh.example.com"]
    assert db.session.get(Issue, urgent.id).escalation_level == 0


def test_missed_response_escalates_to_office_manager(world, urgent):
    result = run(at(2, 10, 30))
    assert result["escalations"] == 1
    issue = db.session.get(Issue, urgent.id)
    assert issue.status == "escalated" and issue.escalation_level == 1
    assert "om@sh.example.com" in recipients()


def test_levels_follow_the_resolution_overrun(world, urgent):
    services.handle_issue(actor=world.handler, issue_id=urgent.id, now=at(2, 9, 10))
    db.session.commit()
    run(at(2, 17))  # 89 %: warning only
    assert db.session.get(Issue, urgent.id).escalation_level == 0
    run(at(2, 18, 1))  # missed: level 1
    run(at(3, 13, 31))  # 150 %: level 2
    assert db.session.get(Issue, urgent.id).escalation_level == 2
    run(at(3, 18, 1))  # 200 %: level 3
    levels = list(db.session.scalars(sa.select(Escalation.level).order_by(Escalation.level)))
    assert levels == [1, 2, 3]
    assert set(recipients()) >= {"om@sh.example.com", "rm@east.example.com", "qa@example.com"}


def test_run_twice_changes_nothing(world, urgent):
    run(at(4, 9))
    before = (
        db.session.scalar(sa.select(sa.func.count()).select_from(Escalation)),
        db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)),
    )
    again = run(at(4, 9))
    assert again["escalations"] == 0 and again["warnings"] == 0
    after = (
        db.session.scalar(sa.select(sa.func.count()).select_from(Escalation)),
        db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)),
    )
    assert before == after == (3, 3)


def test_after_a_day_of_downtime_it_catches_up_level_by_level(world, urgent):
    result = run(at(4, 9))  # the scheduler was down since Monday morning
    assert result["escalations"] == 3
    assert db.session.get(Issue, urgent.id).escalation_level == 3
    history = db.session.scalars(sa.select(Escalation).order_by(Escalation.level)).all()
    assert all(e.automatic for e in history)


def test_waiting_on_the_customer_stops_the_clock(world, urgent):
    services.handle_issue(actor=world.handler, issue_id=urgent.id, now=at(2, 9, 10))
    services.wait_issue(
        actor=world.handler, issue_id=urgent.id, reason="等待客户现场确认", now=at(2, 10)
    )
    db.session.commit()
    result = run(at(3, 18))  # a whole working day later, still waiting
    assert result["escalations"] == 0
    assert db.session.get(Issue, urgent.id).escalation_level == 0


def test_resolved_issues_are_left_alone(world, urgent):
    services.resolve_issue(
        actor=world.handler,
        issue_id=urgent.id,
        resolution="已修复",
        root_cause="design",
        responsible="研发",
        now=at(2, 9, 30),
    )
    db.session.commit()
    assert run(at(5, 9))["checked"] == 0


@pytest.fixture
def reopened(world, urgent):
    """The urgent issue, resolved and closed on Monday 2 March, reopened a week later
    (Monday 9 March 09:00): a fresh 9-working-hour resolution target, due that day 18:00."""
    services.resolve_issue(
        actor=world.handler,
        issue_id=urgent.id,
        resolution="已修复",
        root_cause="design",
        responsible="研发",
        now=at(2, 9, 30),
    )
    services.close_issue(actor=world.agent, issue_id=urgent.id, rating=5, now=at(2, 10))
    services.reopen_issue(actor=world.agent, issue_id=urgent.id, reason="问题复现", now=at(9, 9))
    db.session.commit()
    issue = db.session.get(Issue, urgent.id)
    assert issue.resolve_due_at == at(9, 18)
    return issue


def test_a_reopened_issue_past_its_new_target_goes_to_level_1_only(world, reopened):
    result = run(at(9, 18, 1))
    assert result["escalations"] == 1
    issue = db.session.get(Issue, reopened.id)
    assert issue.escalation_level == 1
    assert "resolution target at 100%" in db.session.scalars(sa.select(Escalation.reason)).one()
    assert "rm@east.example.com" not in recipients()
    assert "qa@example.com" not in recipients()


def test_reopened_issue_levels_count_from_the_reopen(world, reopened):
    run(at(9, 17))  # 89 % of the new target: not yet
    assert db.session.get(Issue, reopened.id).escalation_level == 0
    run(at(9, 18, 1))  # missed: level 1
    assert db.session.get(Issue, reopened.id).escalation_level == 1
    run(at(10, 13, 29))  # 149 %
    assert db.session.get(Issue, reopened.id).escalation_level == 1
    run(at(10, 13, 31))  # 150 %: level 2
    assert db.session.get(Issue, reopened.id).escalation_level == 2
    run(at(10, 17, 59))  # 199 %
    assert db.session.get(Issue, reopened.id).escalation_level == 2
    run(at(10, 18, 1))  # 200 %: level 3
    levels = list(db.session.scalars(sa.select(Escalation.level).order_by(Escalation.level)))
    assert levels == [1, 2, 3]


# --- the automatic path decides on the locked row ---------------------------------------------


def escalation_levels():
    return list(
        db.session.execute(
            sa.select(Escalation.level, Escalation.automatic).order_by(Escalation.level)
        )
    )


def test_a_manual_escalation_between_the_scan_and_the_lock_is_not_topped_up(
    world, urgent, monkeypatch
):
    """The office manager escalates by hand after the job has read the issue (level 0) and
    before it locks the row: the clocks call for level 1, which the locked row already has,
    so the job adds nothing (it used to add one more level on top: level 2)."""
    real_get_scoped = services.get_scoped
    between = {"done": False}

    def manual_escalation_then_lock(model, object_id, scope, **kw):
        if kw.get("for_update") and not between["done"]:
            between["done"] = True  # the manual escalation's own lock passes straight through
            services.escalate_issue(actor=world.om, issue_id=urgent.id, reason="客户投诉到经理")
        return real_get_scoped(model, object_id, scope, **kw)

    monkeypatch.setattr(services, "get_scoped", manual_escalation_then_lock)
    result = run(at(2, 10, 30))  # first response missed: level 1
    assert between["done"]
    assert result["escalations"] == 0 and result["errors"] == 0
    assert db.session.get(Issue, urgent.id).escalation_level == 1
    assert escalation_levels() == [(1, False)]
    assert "rm@east.example.com" not in recipients()


def test_escalate_to_a_level_the_locked_row_already_has_changes_nothing(world, urgent):
    services.escalate_issue(actor=world.om, issue_id=urgent.id, reason="手动升级", now=at(2, 10))
    db.session.commit()
    version = db.session.get(Issue, urgent.id).version
    outbox = len(recipients())
    # the job's verdict was level 1, taken from a read before the manual escalation
    added = services.escalate_to_level(
        issue_id=urgent.id, level=1, reason="no first response", now=at(2, 10, 30)
    )
    db.session.commit()
    assert added == 0
    issue = db.session.get(Issue, urgent.id)
    assert (issue.escalation_level, issue.version) == (1, version)
    assert escalation_levels() == [(1, False)]
    assert len(recipients()) == outbox


def test_escalate_to_a_higher_level_adds_only_the_missing_levels(world, urgent):
    services.escalate_issue(actor=world.om, issue_id=urgent.id, reason="手动升级", now=at(2, 10))
    db.session.commit()
    added = services.escalate_to_level(
        issue_id=urgent.id, level=2, reason="resolution target at 150%", now=at(3, 13, 31)
    )
    db.session.commit()
    assert added == 1
    assert db.session.get(Issue, urgent.id).escalation_level == 2
    assert escalation_levels() == [(1, False), (2, True)]
    assert "rm@east.example.com" in recipients() and "qa@example.com" not in recipients()


@pytest.mark.parametrize("change", ["resolve", "wait"])
def test_escalate_to_level_leaves_an_issue_no_longer_running_alone(world, urgent, change):
    """Resolved, or parked waiting on the customer, after the job's scan: its clock has
    stopped, so the job's verdict no longer applies (and is no error either)."""
    if change == "resolve":
        services.resolve_issue(
            actor=world.handler,
            issue_id=urgent.id,
            resolution="已修复",
            root_cause="design",
            responsible="研发",
            now=at(2, 10, 29),
        )
    else:
        services.wait_issue(
            actor=world.handler, issue_id=urgent.id, reason="等客户确认", now=at(2, 10, 29)
        )
    db.session.commit()
    added = services.escalate_to_level(
        issue_id=urgent.id, level=1, reason="no first response", now=at(2, 10, 30)
    )
    assert added == 0
    assert db.session.get(Issue, urgent.id).escalation_level == 0
    assert escalation_levels() == []


def test_escalate_to_level_refuses_a_level_that_does_not_exist(world, urgent):
    for level in (0, 4):
        with pytest.raises(ValueError, match="no escalation level"):
            services.escalate_to_level(issue_id=urgent.id, level=level, reason="x")
