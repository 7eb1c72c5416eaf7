"""The per-process cache of categories and SLA targets: an admin's change is used by the very
next intake, in this process and in any other (a second app instance stands for another
gunicorn worker or host: its own cache, the same database)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app
from app.config import TestConfig
from app.core import versions
from app.extensions import db
from app.issues import services
from app.issues.models import Category, SlaTarget
from app.issues.reference import STAMP
from app.issues.settings_services import save_category, save_sla_target
from tests.conftest import IsolatedClient

pytestmark = pytest.mark.committing

BODY = {
    "title": "设备无法开机",
    "description": "",
    "channel": "hotline",
    "category": "product_quality",
    "priority": "high",
    "received_at": "2026-03-02T09:00:00+08:00",  # a Monday morning in Shanghai
}


@pytest.fixture
def other_process(app: Flask) -> Iterator[Flask]:
    """A second app instance on the same database, with its own reference cache."""
    other = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY="test-secret-key",
        SERVER_NAME=None,
    )
    other.test_client_class = IsolatedClient
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def intake(on: Flask, world: Any, **body: Any) -> Any:
    response = on.test_client().post(
        "/api/v1/issues",
        json={"customer_id": world.customer.id, **BODY, **body},
        headers=world.h["agent"],
    )
    return response


def statements_of(on: Flask) -> tuple[list[str], Any]:
    with on.app_context():
        engine = db.engine
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    return seen, lambda: sa.event.remove(engine, "before_cursor_execute", listen)


def test_a_warm_cache_reads_no_category_or_target(other_process, world):
    assert intake(other_process, world).status_code == 201  # loads the cache
    seen, stop = statements_of(other_process)
    try:
        assert intake(other_process, world).status_code == 201
    finally:
        stop()
    read = " ".join(seen)
    assert "FROM categories" not in read and "FROM sla_targets" not in read
    assert "FROM version_stamps" in read  # but it always asks whether the cache is current


def test_a_target_saved_in_one_process_is_used_by_the_next_intake_in_another(
    other_process, world, make_user
):
    first = intake(other_process, world).get_json()
    assert first["resolve_due_at"].startswith("2026-03-03T10:00:00")  # high: 18 working hours
    save_sla_target(actor=make_user("admin"), priority="high", response_hours=1, resolve_hours=3)
    db.session.commit()
    second = intake(other_process, world).get_json()
    assert second["response_due_at"].startswith("2026-03-02T02:00:00")  # 10:00 +08
    assert second["resolve_due_at"].startswith("2026-03-02T04:00:00")  # 12:00 +08
    # and this process, whose cache was warm too, agrees
    assert services.targets_for("high", None, "B") == (60, 180)


def test_a_specific_target_added_elsewhere_wins_at_once(other_process, world, make_user):
    assert intake(other_process, world).status_code == 201
    save_sla_target(
        actor=make_user("admin"),
        priority="high",
        response_hours=0.5,
        resolve_hours=2,
        category_code="product_quality",
        tier="B",  # the customer's tier
    )
    db.session.commit()
    issue = intake(other_process, world).get_json()
    assert issue["resolve_due_at"].startswith("2026-03-02T03:00:00")  # 11:00 +08


def test_a_category_deactivated_elsewhere_is_refused_at_once(other_process, world, make_user):
    assert intake(other_process, world).status_code == 201
    save_category(
        actor=make_user("admin"),
        code="product_quality",
        name_zh="产品质量",
        name_en="Product quality",
        dimension="product",
        active=False,
    )
    db.session.commit()
    refused = intake(other_process, world)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"category": "unknown category"}


def test_a_category_added_elsewhere_can_be_used_at_once(other_process, world, make_user):
    assert intake(other_process, world).status_code == 201
    save_category(
        actor=make_user("admin"),
        code="warranty",
        name_zh="保修",
        name_en="Warranty",
        dimension="service",
    )
    db.session.commit()
    issue = intake(other_process, world, category="warranty")
    assert issue.status_code == 201, issue.get_data(as_text=True)
    assert issue.get_json()["category"] == "warranty"


def test_a_rolled_back_edit_leaves_cache_and_stamp_alone(other_process, world, make_user):
    admin = make_user("admin")
    assert intake(other_process, world).status_code == 201
    stamp = versions.read(STAMP)
    save_sla_target(actor=admin, priority="high", response_hours=1, resolve_hours=3)
    assert services.targets_for("high", None, "B") == (60, 180)  # seen in its own transaction
    db.session.rollback()
    assert versions.read(STAMP) == stamp
    assert services.targets_for("high", None, "B") == (120, 1080)
    issue = intake(other_process, world).get_json()
    assert issue["resolve_due_at"].startswith("2026-03-03T10:00:00")


def test_a_change_not_yet_flushed_is_seen_by_the_same_session(world):
    assert services.targets_for("high", None, "B") == (120, 1080)  # cache warm
    target = db.session.scalars(
        sa.select(SlaTarget).where(SlaTarget.priority == "high", SlaTarget.category_id.is_(None))
    ).one()
    target.resolve_hours = 20  # pending: the stamp read autoflushes it
    assert services.targets_for("high", None, "B") == (120, 1200)


def test_a_bulk_update_through_the_session_gets_a_new_stamp(world):
    stamp = versions.read(STAMP)
    assert services.targets_for("low", None, "B") == (540, 5400)
    db.session.execute(
        sa.update(SlaTarget).where(SlaTarget.priority == "low").values(resolve_hours=100)
    )
    assert versions.read(STAMP) != stamp
    assert services.targets_for("low", None, "B") == (540, 6000)


def test_without_a_stamp_nothing_is_cached(world):
    """Tables emptied or edited by hand, outside any session: no stamp, so no cache."""
    assert services.targets_for("urgent", None, "B") == (60, 540)
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(sa.delete(versions.VersionStamp.__table__))
        conn.execute(
            sa.update(SlaTarget.__table__)
            .where(SlaTarget.__table__.c.priority == "urgent")
            .values(resolve_hours=10)
        )
    assert versions.read(STAMP) is None
    assert services.targets_for("urgent", None, "B") == (60, 600)


def test_the_category_of_an_intake_is_the_sessions_own_object(world):
    """A cached category joins the session as if loaded; one the session already holds is
    used as it is, pending changes and all."""
    held = db.session.scalars(sa.select(Category).where(Category.code == "billing")).one()
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="账单",
        description="",
        channel="hotline",
        category="billing",
        priority="normal",
    )
    assert issue.category is held
    other = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="质量",
        description="",
        channel="hotline",
        category="product_quality",
        priority="normal",
    )
    db.session.commit()
    assert other.category in db.session and not db.session.is_modified(other.category)
    assert db.session.get(Category, other.category_id).code == "product_quality"
