"""Admins edit SLA targets, categories, root causes and the low-rating policy."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.issues import services
from app.issues.models import Category, SlaTarget


def test_only_admins(client, world, login_as):
    login_as(world.om)
    assert client.get("/issues/settings").status_code == 403


def test_specific_target_wins_and_changes_deadlines(client, world, make_user, login_as, post_form):
    login_as(make_user("admin"))
    response = post_form(
        "/issues/settings",
        {
            "form": "target",
            "target-priority": "normal",
            "target-category": "billing",
            "target-tier": "B",
            "target-response_hours": "1",
            "target-resolve_hours": "3",
        },
    )
    assert response.status_code == 302
    assert services.targets_for(
        "normal", db.session.scalar(sa.select(Category.id).where(Category.code == "billing")), "B"
    ) == (60, 180)
    assert services.targets_for("normal", None, "C") == (240, 2700)  # the default still holds
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,  # tier B
        title="账单",
        description="",
        channel="hotline",
        category="billing",
        priority="normal",
    )
    assert issue.resolve_target_minutes == 180


def test_bad_target_is_refused(client, world, make_user, login_as, post_form):
    login_as(make_user("admin"))
    before = db.session.scalar(sa.select(sa.func.count()).select_from(SlaTarget))
    response = post_form(
        "/issues/settings",
        {
            "form": "target",
            "target-priority": "normal",
            "target-category": "",
            "target-tier": "",
            "target-response_hours": "50",
            "target-resolve_hours": "10",
        },
    )
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaTarget)) == before
    assert (
        db.session.scalars(
            sa.select(SlaTarget).where(
                SlaTarget.priority == "normal", SlaTarget.category_id.is_(None)
            )
        )
        .one()
        .resolve_hours
        == 45
    )


def test_categories_causes_and_policy(client, world, make_user, login_as, post_form):
    login_as(make_user("admin"))
    post_form(
        "/issues/settings",
        {
            "form": "category",
            "category-code": "warranty",
            "category-name_zh": "保修",
            "category-name_en": "Warranty",
            "category-dimension": "service",
            "category-active": "y",
        },
    )
    assert db.session.scalars(sa.select(Category).where(Category.code == "warranty")).one()
    post_form(
        "/issues/settings",
        {
            "form": "cause",
            "cause-code": "supplier",
            "cause-name_zh": "供应商",
            "cause-name_en": "Supplier",
            "cause-active": "y",
        },
    )
    post_form("/issues/settings", {"form": "policy", "policy-policy": "escalate"})
    assert services.low_rating_policy() == "escalate"
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="x",
        description="",
        channel="hotline",
        category="warranty",
        priority="normal",
    )
    services.resolve_issue(
        actor=world.handler,
        issue_id=issue.id,
        resolution="done",
        root_cause="supplier",
        responsible="采购部",
    )
    services.close_issue(actor=world.agent, issue_id=issue.id, rating=1)
    db.session.commit()
    assert issue.status == "escalated" and issue.escalation_level == 1
