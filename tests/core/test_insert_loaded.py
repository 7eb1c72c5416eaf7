"""insert_loaded: one INSERT, and an object in the session exactly as its row reads back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.db import insert_loaded
from app.extensions import db
from app.issues import services
from app.issues.models import Issue
from app.org.models import Office

pytestmark = pytest.mark.committing


def columns_of(obj):
    return {c.key: getattr(obj, c.key) for c in sa.inspect(type(obj)).columns}


def test_an_accepted_issue_is_in_the_session_as_its_row_reads(world, count_queries):
    with count_queries() as statements:
        issue = services.accept_issue(
            actor=world.agent,
            customer_id=world.customer.id,
            title="设备无法开机",
            description="",
            channel="hotline",
            category="product_quality",
            priority="high",
        )
        in_session = columns_of(issue)
        # its relationships come from the session, without SQL
        assert (issue.office.code, issue.customer.name, issue.category.code) == (
            "SH",
            "张伟",
            "product_quality",
        )
    writes = [s.split("(")[0].strip() for s in statements if s.lstrip().startswith("INSERT")]
    # the office's first number of the year creates its counter row
    assert writes == [
        "INSERT INTO issue_counters",
        "INSERT INTO issues",
        "INSERT INTO audit_events",
    ]
    assert issue in db.session and not db.session.is_modified(issue)
    assert not sa.inspect(issue).unloaded & set(in_session)  # no column left to load later
    assert in_session["version"] == 1 and in_session["created_at"] is not None
    db.session.commit()
    db.session.expire_all()
    assert columns_of(db.session.get(Issue, issue.id)) == in_session
    audit = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "issue", AuditEvent.entity_id == issue.id
        )
    ).one()
    assert (audit.action, audit.actor_id, audit.office_id) == (
        "accept",
        world.agent.id,
        world.sh.id,
    )


def test_the_version_counter_goes_on_from_the_inserted_row(world):
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="旧标题",
        description="",
        channel="hotline",
        category="billing",
        priority="normal",
    )
    updated = services.update_issue(
        actor=world.agent, issue_id=issue.id, version=1, changes={"title": "新标题"}
    )
    db.session.commit()
    assert (updated.version, updated.title) == (2, "新标题")


def test_a_server_default_is_left_to_the_database_and_read_back(make_region):
    region = make_region("WEST")
    office = Office(code="CD", name="成都", region_id=region.id)
    insert_loaded(db.session(), office)
    assert office.id is not None
    # work_start has a server default: left to the database, read when asked for
    assert "work_start" in sa.inspect(office).unloaded
    assert office.work_start == "09:00"
    db.session.commit()
    assert db.session.scalars(sa.select(Office.code).where(Office.id == office.id)).one() == "CD"


def test_it_takes_only_new_objects(make_region):
    region = make_region("NORTH")
    with pytest.raises(ValueError, match="new object"):
        insert_loaded(db.session(), region)
