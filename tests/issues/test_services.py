"""Issue services with an explicit clock: intake, SLA deadlines in Chinese business time,
waiting, escalation, resolution, close-and-rate, reopen, edits, roles, scope and audit."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.errors import Conflict, Forbidden, InvalidTransitionError, NotFound, ValidationFailed
from app.core.outbox import OutboxMessage
from app.core.scoping import Scope
from app.extensions import db
from app.issues import queries, services
from app.issues.models import (
    Category,
    Escalation,
    Issue,
    IssueCounter,
    IssuePause,
    Setting,
    SlaTarget,
)

CN = ZoneInfo("Asia/Shanghai")


def at(month, day, hh, mm=0):
    return datetime(2026, month, day, hh, mm, tzinfo=CN)


MON = at(3, 2, 9)  # Monday 2 March 2026, 09:00 in Shanghai: an ordinary working week


def accept(world, now=MON, **kw):
    args = {
        "actor": world.agent,
        "customer_id": world.customer.id,
        "title": "设备无法开机",
        "description": "客户来电",
        "channel": "hotline",
        "category": "product_quality",
        "priority": "normal",
        "received_at": now,
        "now": now,
        **kw,
    }
    issue = services.accept_issue(**args)
    db.session.commit()
    return issue


def commit(issue):
    db.session.commit()
    return issue


def history(issue):
    return db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "issue", AuditEvent.entity_id == issue.id)
        .order_by(AuditEvent.id)
    ).all()


def actions(issue):
    return [e.action for e in history(issue)]


def recipients():
    return sorted(db.session.scalars(sa.select(OutboxMessage.recipient)))


def snapshot(issue_id):
    db.session.expire_all()
    issue = db.session.get(Issue, issue_id)
    return (
        issue.status,
        issue.version,
        issue.escalation_level,
        issue.closed_at,
        issue.resolved_at,
        issue.rating,
        len(history(issue)),
    )


# --- accept -----------------------------------------------------------------------------------


def test_accept_numbers_and_deadlines_from_received_at(world):
    issue = accept(world, priority="high", now=MON + timedelta(hours=3), received_at=MON)
    assert issue.number == "SH-2026-000001"
    assert issue.status == "accepted" and issue.version == 1 and issue.office_id == world.sh.id
    # high: respond in 2 working hours, resolve in 18 (two 9-hour days), counted from the call
    assert (issue.response_target_minutes, issue.resolve_target_minutes) == (120, 1080)
    assert issue.response_due_at == at(3, 2, 11)
    assert issue.resolve_due_at == at(3, 3, 18)
    assert issue.resolve_warn_at == at(3, 3, 14, 24)  # 80 % of 1080 min = 864 min
    assert accept(world).number == "SH-2026-000002"
    event = history(issue)[0]
    assert event.action == "accept" and event.actor_id == world.agent.id
    assert event.changes["status"] == [None, "accepted"]
    assert event.at == MON + timedelta(hours=3)  # when it was typed in, not when called


def test_deadlines_skip_nights_weekends_and_the_national_day_holiday(world):
    evening = at(9, 30, 17)  # Wednesday 30 September; 1 October–7 October are off
    issue = accept(world, priority="high", now=evening)
    assert issue.response_due_at == at(10, 8, 10)  # 1 h that evening, 1 h on 8 October
    friday = at(3, 6, 17, 30)
    assert accept(world, priority="urgent", now=friday).response_due_at == at(3, 9, 9, 30)


def test_office_calendar_comes_from_the_office(world, make_office):
    office = make_office("LDN", region=world.east)
    office.timezone, office.work_start, office.work_end = "Europe/London", "08:00", "16:00"
    db.session.commit()
    london = ZoneInfo("Europe/London")
    received = datetime(2026, 3, 2, 15, 0, tzinfo=london)
    issue = accept(world, actor=world.qa, office_code="ldn", priority="urgent", now=received)
    assert issue.number == "LDN-2026-000001"
    # 1 h response: 15:00–16:00 London
    assert issue.response_due_at == datetime(2026, 3, 2, 16, 0, tzinfo=london)
    # 9 h resolution: 1 h that day, 8 h (a whole day) on Tuesday
    assert issue.resolve_due_at == datetime(2026, 3, 3, 16, 0, tzinfo=london)


def test_the_most_specific_sla_target_wins(world):
    billing = db.session.scalars(sa.select(Category).where(Category.code == "billing")).one()
    delivery = db.session.scalars(sa.select(Category).where(Category.code == "delivery")).one()
    generic = db.session.scalars(
        sa.select(SlaTarget).where(
            SlaTarget.priority == "normal",
            SlaTarget.category_id.is_(None),
            SlaTarget.tier.is_(None),
        )
    ).one()  # from the reference data
    generic.response_hours, generic.resolve_hours = 3, 30
    db.session.add_all(
        [
            SlaTarget(priority="normal", tier="B", response_hours=2, resolve_hours=20),
            SlaTarget(
                priority="normal", category_id=billing.id, response_hours=1.5, resolve_hours=15
            ),
            SlaTarget(
                priority="normal",
                category_id=billing.id,
                tier="B",
                response_hours=0.5,
                resolve_hours=5,
            ),
            SlaTarget(priority="high", tier="B", response_hours=0.25, resolve_hours=1),
        ]
    )
    db.session.commit()
    assert services.targets_for("normal", billing.id, "B") == (30, 300)
    assert services.targets_for("normal", billing.id, "A") == (90, 900)
    assert services.targets_for("normal", delivery.id, "B") == (120, 1200)
    assert services.targets_for("normal", delivery.id, "A") == (180, 1800)
    assert services.targets_for("normal", None, None) == (180, 1800)
    assert services.targets_for("high", delivery.id, "C") == (120, 1080)  # reference default
    assert accept(world, category="billing").response_target_minutes == 30  # world is tier B


def test_targets_fall_back_to_defaults_without_rows(world):
    db.session.execute(sa.delete(SlaTarget))
    db.session.commit()
    assert services.targets_for("urgent", None, None) == (60, 540)
    assert services.targets_for("low", None, "A") == (540, 5400)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"description": "d" * 20_001}, "description"),
        ({"priority": "critical"}, "priority"),
        ({"category": "nope"}, "category"),
        ({"channel": "fax"}, "channel"),
        ({"office_code": "GZ"}, "office"),  # not the agent's office
        ({"received_at": datetime(2026, 3, 2, 9, 0)}, "received_at"),  # noqa: DTZ001 (naive on purpose)
        ({"commitment_text": "c" * 20_001}, "commitment_text"),
    ],
)
def test_accept_refuses_bad_input_and_writes_nothing(world, change, field):
    with pytest.raises(ValidationFailed) as caught:
        accept(world, **change)
    assert field in caught.value.fields
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Issue)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssueCounter)) == 0


def test_accept_refuses_a_customer_of_another_office_as_unknown(world):
    with pytest.raises(ValidationFailed) as caught:
        accept(world, customer_id=world.customer_gz.id)
    assert caught.value.fields == {"customer_id": "unknown customer"}


def test_accept_refuses_an_inactive_category_and_a_foreign_owner(world):
    db.session.execute(sa.update(Category).where(Category.code == "training").values(active=False))
    db.session.commit()
    with pytest.raises(ValidationFailed) as caught:
        accept(world, category="training")
    assert "category" in caught.value.fields
    db.session.rollback()
    for owner in (world.agent, world.agent_gz):  # an agent does not own issues; GZ is elsewhere
        with pytest.raises(ValidationFailed) as caught:
            accept(world, owner_id=owner.id)
        assert "owner_id" in caught.value.fields
        db.session.rollback()


def test_accept_with_owner_and_commitment(world):
    due = at(3, 3, 12)
    issue = accept(
        world, owner_id=world.handler.id, commitment_text="明天中午前回复", commitment_due_at=due
    )
    assert issue.owner_id == world.handler.id and issue.version == 1
    assert (issue.commitment_text, issue.commitment_due_at) == ("明天中午前回复", due)
    assert history(issue)[0].changes["owner_id"] == [None, world.handler.id]


def test_html_is_stored_as_typed(world):
    issue = accept(world, title="<b>x</b> & <script>1</script>")
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).title == "<b>x</b> & <script>1</script>"


# --- handle, wait, resume ---------------------------------------------------------------------


def test_first_handle_records_the_response_time(world):
    issue = accept(world)
    commit(services.handle_issue(actor=world.handler, issue_id=issue.id, now=at(3, 2, 10, 30)))
    assert issue.status == "handling" and issue.owner_id == world.handler.id
    assert issue.first_response_at == at(3, 2, 10, 30) and issue.response_minutes == 90
    event = history(issue)[-1]
    assert event.changes["status"] == ["accepted", "handling"]
    assert event.changes["owner_id"] == [None, world.handler.id]
    # a second handle (reassign) does not move the response time
    commit(
        services.handle_issue(
            actor=world.om, issue_id=issue.id, owner_id=world.handler2.id, now=at(3, 2, 15)
        )
    )
    assert issue.owner_id == world.handler2.id and issue.response_minutes == 90


def test_first_outbound_contact_is_the_response(world):
    issue = accept(world)
    services.log_contact(
        actor=world.agent,
        issue_id=issue.id,
        direction="in",
        channel="phone",
        text="客户又打来",
        now=at(3, 2, 9, 20),
    )
    assert issue.first_response_at is None
    services.log_contact(
        actor=world.agent,
        issue_id=issue.id,
        direction="out",
        channel="phone",
        text="回电确认",
        at=at(3, 2, 9, 45),
        now=at(3, 2, 10),
    )
    db.session.commit()
    assert issue.first_response_at == at(3, 2, 9, 45) and issue.response_minutes == 45


def test_manager_handling_keeps_the_owner_and_unowned_goes_to_least_busy(world):
    busy = accept(world)
    commit(services.handle_issue(actor=world.handler, issue_id=busy.id, now=MON))
    fresh = accept(world)
    commit(services.handle_issue(actor=world.om, issue_id=fresh.id, now=MON))
    assert fresh.owner_id == world.handler2.id  # handler already has one open issue
    services.wait_issue(actor=world.handler, issue_id=busy.id, reason="等回复", now=MON)
    commit(services.handle_issue(actor=world.om, issue_id=busy.id, now=MON))
    assert busy.owner_id == world.handler.id


def test_waiting_pauses_and_resume_pushes_the_deadline_out(world):
    issue = accept(world)  # normal: resolve in 45 working hours → Friday 18:00
    assert issue.resolve_due_at == at(3, 6, 18)
    commit(services.handle_issue(actor=world.handler, issue_id=issue.id, now=at(3, 2, 10)))
    commit(
        services.wait_issue(
            actor=world.handler, issue_id=issue.id, reason="等序列号", now=at(3, 2, 14)
        )
    )
    assert issue.status == "waiting" and issue.waiting_since == at(3, 2, 14)
    pause = db.session.scalars(sa.select(IssuePause)).one()
    assert (pause.started_at, pause.ended_at, pause.reason) == (at(3, 2, 14), None, "等序列号")
    # resumed Tuesday 11:00: paused 4 h Monday + 2 h Tuesday = 6 working hours
    commit(services.handle_issue(actor=world.handler, issue_id=issue.id, now=at(3, 3, 11)))
    assert issue.status == "handling" and issue.waiting_since is None
    assert db.session.scalars(sa.select(IssuePause)).one().ended_at == at(3, 3, 11)
    assert issue.resolve_due_at == at(3, 9, 15)  # Friday 18:00 + 6 h → Monday 15:00
    event = history(issue)[-1]
    assert event.action == "resume"
    assert event.changes["resolve_due_at"][1] == at(3, 9, 15).isoformat()
    resolved = services.resolve_issue(
        actor=world.handler,
        issue_id=issue.id,
        resolution="更换主板",
        root_cause="manufacturing",
        responsible="生产部",
        now=at(3, 3, 12),
    )
    commit(resolved)
    # 9:00 Mon → 12:00 Tue is 12 working hours, 6 of them waiting
    assert resolved.resolve_minutes == 6 * 60


def test_resolving_while_waiting_closes_the_pause(world):
    issue = accept(world)
    services.wait_issue(actor=world.handler, issue_id=issue.id, reason="等客户", now=at(3, 2, 10))
    commit(
        services.resolve_issue(
            actor=world.handler,
            issue_id=issue.id,
            resolution="客户自行解决",
            root_cause="customer_side",
            responsible="客户",
            now=at(3, 2, 16),
        )
    )
    assert db.session.scalars(sa.select(IssuePause)).one().ended_at == at(3, 2, 16)
    assert issue.resolve_minutes == 60 and issue.resolved_at == at(3, 2, 16)
    assert issue.owner_id == world.handler.id


# --- escalate ---------------------------------------------------------------------------------


def test_escalation_levels_rows_and_notifications(world, make_user):
    other_om = make_user("office_manager", office=world.gz, email="om@gz.example.com")
    south_rm = make_user("regional_manager", region=world.south, email="rm@south.example.com")
    issue = accept(world)
    for level, who in ((1, world.agent), (2, world.om), (3, world.rm)):
        services.escalate_issue(
            actor=who, issue_id=issue.id, reason=f"升级 {level}", now=at(3, 2, 9 + level)
        )
        db.session.commit()
        assert issue.escalation_level == level and issue.status == "escalated"
    rows = db.session.scalars(sa.select(Escalation).order_by(Escalation.level)).all()
    assert [(r.level, r.actor_id, r.automatic) for r in rows] == [
        (1, world.agent.id, False),
        (2, world.om.id, False),
        (3, world.rm.id, False),
    ]
    assert recipients() == ["om@sh.example.com", "qa@example.com", "rm@east.example.com"]
    assert other_om.email not in recipients() and south_rm.email not in recipients()
    keys = sorted(db.session.scalars(sa.select(OutboxMessage.idempotency_key)))
    assert keys[0].startswith(f"escalation:{issue.id}:1")
    before = snapshot(issue.id)
    with pytest.raises(InvalidTransitionError):
        services.escalate_issue(actor=world.rm, issue_id=issue.id, reason="再升", now=at(3, 2, 14))
    db.session.rollback()
    assert snapshot(issue.id) == before


def test_automatic_escalation_from_waiting_ends_the_pause(world):
    issue = accept(world)
    commit(
        services.wait_issue(actor=world.handler, issue_id=issue.id, reason="等", now=at(3, 2, 10))
    )
    commit(
        services.escalate_issue(
            actor=None, issue_id=issue.id, reason="超时", automatic=True, now=at(3, 2, 12)
        )
    )
    assert issue.status == "escalated" and issue.waiting_since is None
    assert db.session.scalars(sa.select(IssuePause)).one().ended_at == at(3, 2, 12)
    row = db.session.scalars(sa.select(Escalation)).one()
    assert row.automatic and row.actor_id is None
    assert history(issue)[-1].actor_id is None and history(issue)[-1].changes["automatic"]


# --- close, rate, reopen ---------------------------------------------------------------------


def resolved(world, **kw):
    issue = accept(world, **kw)
    services.resolve_issue(
        actor=world.handler,
        issue_id=issue.id,
        resolution="已处理",
        root_cause="process",
        responsible="服务部",
        now=at(3, 2, 11),
    )
    db.session.commit()
    return issue


@pytest.mark.parametrize("rating", [0, 6, True, "5", None, 4.5])
def test_rating_must_be_one_to_five(world, rating):
    issue = resolved(world)
    with pytest.raises(ValidationFailed) as caught:
        services.close_issue(actor=world.agent, issue_id=issue.id, rating=rating)
    assert "rating" in caught.value.fields


def test_close_and_rate(world):
    issue = resolved(world)
    commit(
        services.close_issue(
            actor=world.agent,
            issue_id=issue.id,
            rating=5,
            comment="满意",
            callback=True,
            now=at(3, 3, 10),
        )
    )
    assert (issue.status, issue.rating, issue.callback_done) == ("closed", 5, True)
    assert issue.closed_at == at(3, 3, 10) and recipients() == []
    assert history(issue)[-1].changes["rating"] == [None, 5]


def test_low_rating_reopens_and_tells_the_office_manager(world):
    issue = resolved(world)
    commit(
        services.close_issue(
            actor=world.agent, issue_id=issue.id, rating=1, comment="没解决", now=at(3, 3, 10)
        )
    )
    assert issue.status == "reopened" and issue.reopen_count == 1 and issue.rating == 1
    assert issue.closed_at is None and issue.resolved_at is None
    # a fresh 45-hour resolution clock from the reopen: Tuesday 10:00 → next Tuesday 10:00
    assert issue.resolve_due_at == at(3, 10, 10)
    assert actions(issue)[-2:] == ["close", "reopen"]
    assert history(issue)[-1].changes["policy"] == "reopen"
    assert recipients() == ["om@sh.example.com"]
    # rated again later: the audit keeps the first rating as "from"
    services.resolve_issue(
        actor=world.handler,
        issue_id=issue.id,
        resolution="二次处理",
        root_cause="design",
        responsible="研发",
        now=at(3, 4, 10),
    )
    commit(services.close_issue(actor=world.agent, issue_id=issue.id, rating=4, now=at(3, 4, 11)))
    assert issue.status == "closed" and history(issue)[-1].changes["rating"] == [1, 4]
    assert history(issue)[-2].changes["root_cause"] == ["process", "design"]


def test_low_rating_policy_escalate(world):
    db.session.add(Setting(key="low_rating_policy", value="escalate"))
    db.session.commit()
    issue = resolved(world)
    commit(services.close_issue(actor=world.agent, issue_id=issue.id, rating=2, now=at(3, 3, 10)))
    assert issue.status == "escalated" and issue.escalation_level == 1 and issue.reopen_count == 1
    assert actions(issue)[-3:] == ["close", "reopen", "escalate"]
    # the office manager hears twice: about the rating, and as level-1 escalation manager
    assert recipients() == ["om@sh.example.com", "om@sh.example.com"]


def test_low_rating_policy_close_keeps_it_closed_but_tells(world):
    db.session.add(Setting(key="low_rating_policy", value="close"))
    db.session.commit()
    issue = resolved(world)
    commit(services.close_issue(actor=world.agent, issue_id=issue.id, rating=2, now=at(3, 3, 10)))
    assert issue.status == "closed" and issue.reopen_count == 0
    assert recipients() == ["om@sh.example.com"]


def test_an_unknown_policy_value_means_reopen(world):
    db.session.add(Setting(key="low_rating_policy", value="shrug"))
    db.session.commit()
    assert services.low_rating_policy() == "reopen"


def test_reopen_counts_and_waiting_after_reopen_keeps_the_new_clock(world):
    issue = resolved(world)
    commit(
        services.reopen_issue(
            actor=world.agent, issue_id=issue.id, reason="客户说还有问题", now=at(3, 4, 9)
        )
    )
    assert issue.status == "reopened" and issue.reopen_count == 1
    assert issue.resolve_due_at == at(3, 10, 18)  # 45 h from Wednesday 09:00
    services.wait_issue(actor=world.handler, issue_id=issue.id, reason="等", now=at(3, 4, 10))
    commit(services.handle_issue(actor=world.handler, issue_id=issue.id, now=at(3, 4, 12)))
    assert issue.resolve_due_at == at(3, 11, 11)  # pushed by the 2 h waited, not reset
    commit(
        services.resolve_issue(
            actor=world.handler,
            issue_id=issue.id,
            resolution="好了",
            root_cause="process",
            responsible="服务部",
            now=at(3, 4, 14),
        )
    )
    assert issue.resolve_minutes == 3 * 60  # since the reopen, the wait excluded


# --- edits, versions, roles, transitions, scope -----------------------------------------------


def test_update_edits_and_audits_from_to(world):
    issue = accept(world)
    commit(
        services.update_issue(
            actor=world.agent,
            issue_id=issue.id,
            version=1,
            changes={"title": "新标题", "priority": "urgent", "category": "billing"},
            now=at(3, 2, 10),
        )
    )
    assert (issue.title, issue.priority, issue.category.code, issue.version) == (
        "新标题",
        "urgent",
        "billing",
        2,
    )
    assert issue.resolve_target_minutes == 540 and issue.resolve_due_at == at(3, 2, 18)
    changes = history(issue)[-1].changes
    assert changes["title"] == ["设备无法开机", "新标题"]
    assert changes["priority"] == ["normal", "urgent"]
    assert changes["category"] == ["product_quality", "billing"]
    assert changes["resolve_due_at"][1] == at(3, 2, 18).isoformat()


def test_update_without_a_change_writes_nothing(world):
    issue = accept(world)
    services.update_issue(
        actor=world.agent, issue_id=issue.id, version=1, changes={"title": issue.title}
    )
    db.session.commit()
    assert issue.version == 1 and actions(issue) == ["accept"]


def test_update_refuses_lifecycle_fields_and_stale_versions(world):
    issue = accept(world)
    with pytest.raises(ValidationFailed) as caught:
        services.update_issue(
            actor=world.agent,
            issue_id=issue.id,
            version=1,
            changes={"status": "closed", "escalation_level": 3, "office": "GZ", "title": "x"},
        )
    assert caught.value.fields == {
        "status": "not editable",
        "escalation_level": "not editable",
        "office": "not editable",
    }
    db.session.rollback()
    with pytest.raises(Conflict):
        services.update_issue(actor=world.agent, issue_id=issue.id, version=7, changes={})
    db.session.rollback()
    assert snapshot(issue.id)[:2] == ("accepted", 1)


def test_stale_version_on_an_action_changes_nothing(world):
    issue = accept(world)
    before = snapshot(issue.id)
    with pytest.raises(Conflict):
        services.handle_issue(actor=world.handler, issue_id=issue.id, version=2)
    db.session.rollback()
    assert snapshot(issue.id) == before


@pytest.mark.parametrize(
    ("action", "kwargs"),
    [
        (services.close_issue, {"rating": 4}),
        (services.reopen_issue, {"reason": "x"}),
        (services.resolve_issue, None),
    ],
)
def test_invalid_transitions_change_nothing(world, action, kwargs):
    issue = accept(world)
    if kwargs is None:  # resolve a closed issue
        issue = resolved(world)
        commit(services.close_issue(actor=world.agent, issue_id=issue.id, rating=5))
        kwargs = {"resolution": "x", "root_cause": "design", "responsible": "x"}
    before = snapshot(issue.id)
    with pytest.raises(InvalidTransitionError):
        action(actor=world.om, issue_id=issue.id, **kwargs)
    db.session.rollback()
    assert snapshot(issue.id) == before


def test_roles_come_from_the_workflow(world):
    issue = accept(world)
    with pytest.raises(Forbidden):
        services.handle_issue(actor=world.agent, issue_id=issue.id)
    db.session.rollback()
    with pytest.raises(Forbidden):
        services.resolve_issue(
            actor=world.agent,
            issue_id=issue.id,
            resolution="x",
            root_cause="design",
            responsible="x",
        )
    db.session.rollback()
    assert snapshot(issue.id)[:2] == ("accepted", 1)


@pytest.mark.parametrize(
    ("fn", "kwargs"),
    [
        (services.update_issue, {"version": 1, "changes": {"title": "x"}}),
        (services.handle_issue, {}),
        (services.wait_issue, {"reason": "x"}),
        (services.escalate_issue, {"reason": "x"}),
        (services.resolve_issue, {"resolution": "x", "root_cause": "design", "responsible": "x"}),
        (services.close_issue, {"rating": 3}),
        (services.reopen_issue, {"reason": "x"}),
        (services.add_note, {"text": "x"}),
        (services.log_contact, {"direction": "in", "channel": "phone", "text": "x"}),
    ],
)
def test_another_office_gets_not_found(world, make_user, fn, kwargs):
    issue = accept(world)
    gz_manager = make_user("office_manager", office=world.gz)
    south = make_user("regional_manager", region=world.south)
    for outsider in (gz_manager, south):
        with pytest.raises(NotFound):
            fn(actor=outsider, issue_id=issue.id, **kwargs)
        db.session.rollback()
    with pytest.raises(NotFound):
        queries.get_issue(Scope.for_user(gz_manager), issue.id)
    assert snapshot(issue.id)[:2] == ("accepted", 1)


# --- notes and contacts -----------------------------------------------------------------------


def test_notes_and_contacts_are_audited(world):
    issue = accept(world)
    note = services.add_note(
        actor=world.handler, issue_id=issue.id, text="<i>内部</i>", internal=True, now=MON
    )
    contact = services.log_contact(
        actor=world.handler,
        issue_id=issue.id,
        direction="in",
        channel="email",
        text="客户来信",
        now=MON,
    )
    db.session.commit()
    assert note.text == "<i>内部</i>" and note.author_id == world.handler.id
    assert contact.at == MON and contact.channel == "email"
    assert actions(issue) == ["accept", "note", "contact"]
    assert issue.version == 1  # a note is not an edit of the issue


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"channel": "pigeon"}, "channel"),
        ({"text": ""}, "text"),
        ({"at": datetime(2026, 3, 2, 10, 0)}, "at"),  # noqa: DTZ001 (naive on purpose)
        ({"at": at(3, 2, 12)}, "at"),  # after `now`
        ({"at": at(3, 1, 12)}, "at"),  # before the call was received
    ],
)
def test_contact_validation(world, kwargs, field):
    issue = accept(world)
    args = {"direction": "out", "channel": "phone", "text": "回电", **kwargs}
    with pytest.raises(ValidationFailed) as caught:
        services.log_contact(actor=world.handler, issue_id=issue.id, now=at(3, 2, 10), **args)
    assert field in caught.value.fields


def test_no_contacts_on_a_closed_issue(world):
    issue = resolved(world)
    commit(services.close_issue(actor=world.agent, issue_id=issue.id, rating=5))
    with pytest.raises(InvalidTransitionError):
        services.log_contact(
            actor=world.agent, issue_id=issue.id, direction="in", channel="phone", text="x"
        )
    with pytest.raises(ValidationFailed):
        services.add_note(actor=world.agent, issue_id=issue.id, text=" ")
