"""Offices: working hours set at creation and edited later, validated, audited, and followed
by the SLA deadlines set from then on."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.errors import Conflict, ValidationFailed
from app.extensions import db
from app.issues import services as issue_services
from app.org import services
from app.org.models import Office

CN = ZoneInfo("Asia/Shanghai")
MON_8 = datetime(2026, 3, 2, 8, 0, tzinfo=CN)  # a working Monday


def office_audit(office_id):
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == "office", AuditEvent.entity_id == office_id)
            .order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def admin(make_user):
    return make_user("admin")


def test_an_office_is_created_with_its_zone_and_hours_audited(make_region, admin):
    make_region("WEST")
    office = services.create_office(
        code="urc",
        name="乌鲁木齐代表处",
        region_code="WEST",
        timezone="Asia/Urumqi",
        work_start="10:00",
        work_end="19:30",
        actor=admin,
    )
    db.session.commit()
    assert (office.timezone, office.work_start, office.work_end) == (
        "Asia/Urumqi",
        "10:00",
        "19:30",
    )
    (created,) = office_audit(office.id)
    assert created.action == "create" and created.actor_id == admin.id
    assert created.changes["work_start"] == [None, "10:00"]
    assert created.changes["work_end"] == [None, "19:30"]
    assert created.changes["timezone"] == [None, "Asia/Urumqi"]


def test_an_office_gets_the_default_hours_when_none_are_given(make_region, admin):
    make_region("WEST")
    office = services.create_office(code="CD", name="成都", region_code="WEST", actor=admin)
    assert (office.timezone, office.work_start, office.work_end) == (
        "Asia/Shanghai",
        "09:00",
        "18:00",
    )


BAD_HOURS = [
    ({"work_start": "9:00"}, "work_start"),
    ({"work_start": "09:60"}, "work_start"),
    ({"work_end": "24:00"}, "work_end"),
    ({"work_end": "1800"}, "work_end"),
    ({"work_start": "09:00:00"}, "work_start"),
    ({"work_start": ""}, "work_start"),
    ({"work_start": None}, "work_start"),
    ({"work_end": 18}, "work_end"),
    ({"work_start": "18:00", "work_end": "09:00"}, "work_end"),
    ({"work_start": "09:00", "work_end": "09:00"}, "work_end"),
    ({"work_start": "22:00", "work_end": "06:00"}, "work_end"),  # over midnight
    ({"timezone": "Mars/Olympus"}, "timezone"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_HOURS)
def test_creating_an_office_with_bad_hours_is_refused(make_region, admin, bad, field):
    make_region("WEST")
    hours = {"timezone": "Asia/Shanghai", "work_start": "09:00", "work_end": "18:00", **bad}
    with pytest.raises(ValidationFailed) as refused:
        services.create_office(code="CD", name="成都", region_code="WEST", actor=admin, **hours)
    assert set(refused.value.fields) == {field}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Office)) == 0


@pytest.mark.parametrize(("bad", "field"), BAD_HOURS)
def test_editing_an_office_with_bad_hours_changes_nothing(make_office, admin, bad, field):
    office = make_office("SH")
    with pytest.raises(ValidationFailed) as refused:
        services.update_office(actor=admin, office_id=office.id, version=office.version, **bad)
    assert set(refused.value.fields) == {field}
    db.session.rollback()
    db.session.refresh(office)
    assert (office.work_start, office.work_end, office.version) == ("09:00", "18:00", 1)
    assert office_audit(office.id) == []


def test_the_new_start_is_checked_against_the_hours_kept(make_office, admin):
    office = make_office("SH")  # 09:00-18:00
    with pytest.raises(ValidationFailed) as refused:
        services.update_office(actor=admin, office_id=office.id, version=1, work_start="18:30")
    assert refused.value.fields == {"work_end": "must be after the start of work"}


def test_editing_the_hours_is_audited_from_and_to(make_office, admin):
    office = make_office("SH")
    services.update_office(
        actor=admin,
        office_id=office.id,
        version=office.version,
        name=office.name,  # unchanged: not in the audit row
        work_start="08:30",
        work_end="17:30",
    )
    db.session.commit()
    assert (office.work_start, office.work_end, office.version) == ("08:30", "17:30", 2)
    (updated,) = office_audit(office.id)
    assert updated.action == "update" and updated.actor_id == admin.id
    assert updated.office_id == office.id
    assert updated.changes == {"work_start": ["09:00", "08:30"], "work_end": ["18:00", "17:30"]}


def test_an_edit_that_changes_nothing_writes_nothing(make_office, admin):
    office = make_office("SH")
    services.update_office(actor=admin, office_id=office.id, version=1, work_start="09:00")
    db.session.commit()
    assert office.version == 1 and office_audit(office.id) == []


def test_a_stale_edit_is_a_conflict_and_changes_nothing(make_office, admin):
    office = make_office("SH")
    services.update_office(actor=admin, office_id=office.id, version=1, work_start="08:00")
    db.session.commit()
    with pytest.raises(Conflict):
        services.update_office(actor=admin, office_id=office.id, version=1, work_end="20:00")
    db.session.rollback()
    db.session.refresh(office)
    assert (office.work_start, office.work_end, office.version) == ("08:00", "18:00", 2)


@pytest.mark.parametrize("field", ["code", "region", "region_id", "id"])
def test_code_and_region_are_not_editable(make_office, admin, field):
    office = make_office("SH")
    with pytest.raises(ValidationFailed) as refused:
        services.update_office(actor=admin, office_id=office.id, version=1, **{field: "X"})
    assert refused.value.fields == {field: "not editable"}


def _urgent(world, received):
    return issue_services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="生产线停机",
        description="",
        channel="hotline",
        category="product_quality",
        priority="urgent",  # 1 working hour to respond, 9 to resolve
        received_at=received,
        now=received,
    )


def test_new_deadlines_follow_the_edited_hours(world, make_user):
    before = _urgent(world, MON_8)  # 08:00 is before work (09:00-18:00): counted from 09:00
    db.session.commit()
    assert before.response_due_at == datetime(2026, 3, 2, 10, 0, tzinfo=CN)
    assert before.resolve_due_at == datetime(2026, 3, 2, 18, 0, tzinfo=CN)

    services.update_office(
        actor=make_user("admin"),
        office_id=world.sh.id,
        version=world.sh.version,
        work_start="08:00",
        work_end="12:00",
    )
    db.session.commit()

    after = _urgent(world, MON_8)
    db.session.commit()
    assert after.response_due_at == datetime(2026, 3, 2, 9, 0, tzinfo=CN)
    # 4 working hours a day: Monday 08-12, Tuesday 08-12, then one hour on Wednesday
    assert after.resolve_due_at == datetime(2026, 3, 4, 9, 0, tzinfo=CN)
    # deadlines already set stay as they were promised
    db.session.refresh(before)
    assert before.resolve_due_at == datetime(2026, 3, 2, 18, 0, tzinfo=CN)


def test_a_reopen_after_the_edit_counts_in_the_new_hours(world, make_user):
    issue = _urgent(world, MON_8)
    issue_services.resolve_issue(
        actor=world.handler,
        issue_id=issue.id,
        resolution="已处理",
        root_cause="process",
        responsible="服务部",
        now=datetime(2026, 3, 2, 11, 0, tzinfo=CN),
    )
    db.session.commit()
    services.update_office(
        actor=make_user("admin"), office_id=world.sh.id, version=1, work_end="12:00"
    )
    db.session.commit()
    issue_services.reopen_issue(
        actor=world.agent,
        issue_id=issue.id,
        reason="问题复现",
        now=datetime(2026, 3, 3, 9, 0, tzinfo=CN),
    )
    db.session.commit()
    # 09:00-12:00, 3 hours a day: Tuesday 3, Wednesday 3, Thursday 09:00-12:00
    assert issue.resolve_due_at == datetime(2026, 3, 5, 12, 0, tzinfo=CN)
