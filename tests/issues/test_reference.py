"""Default reference data and `flask issues init-reference`: complete, idempotent, and it
never overwrites what admins changed."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.issues.models import DIMENSIONS, Category, RootCause, SlaTarget
from app.issues.reference import ensure_reference_data
from app.issues.sla import DEFAULT_TARGETS

REQUIRED_CATEGORIES = {
    "billing",
    "delivery",
    "installation",
    "product_quality",
    "service_attitude",
    "documentation",
    "spare_parts",
    "training",
    "brand_image",
    "other",
}


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_cli_adds_the_defaults_once(runner):
    first = runner.invoke(args=["issues", "init-reference"])
    assert first.exit_code == 0, first.output
    categories = db.session.scalars(sa.select(Category)).all()
    assert {c.code for c in categories} >= REQUIRED_CATEGORIES
    assert all(c.name_zh and c.name_en and c.dimension in DIMENSIONS for c in categories)
    causes = set(db.session.scalars(sa.select(RootCause.code)))
    assert {"design", "manufacturing", "logistics", "process", "customer_side"} <= causes
    targets = {
        t.priority: (t.response_hours, t.resolve_hours)
        for t in db.session.scalars(sa.select(SlaTarget))
    }
    assert targets == DEFAULT_TARGETS
    assert f"{len(categories)} categories" in first.output
    second = runner.invoke(args=["issues", "init-reference"])
    assert second.exit_code == 0
    assert "0 categories, 0 root causes, 0 SLA targets added" in second.output
    assert count(Category) == len(categories) and count(SlaTarget) == len(DEFAULT_TARGETS)


def test_what_admins_changed_is_kept(app):
    ensure_reference_data()
    db.session.commit()
    billing = db.session.scalars(sa.select(Category).where(Category.code == "billing")).one()
    billing.name_en, billing.active = "Invoices", False
    urgent = db.session.scalars(sa.select(SlaTarget).where(SlaTarget.priority == "urgent")).one()
    urgent.response_hours = 0.5
    db.session.delete(
        db.session.scalars(sa.select(RootCause).where(RootCause.code == "design")).one()
    )
    db.session.commit()
    added = ensure_reference_data()
    db.session.commit()
    assert added == {"categories": 0, "root_causes": 1, "sla_targets": 0}
    db.session.expire_all()
    billing = db.session.scalars(sa.select(Category).where(Category.code == "billing")).one()
    assert (billing.name_en, billing.active) == ("Invoices", False)
    assert (
        db.session.scalars(
            sa.select(SlaTarget.response_hours).where(SlaTarget.priority == "urgent")
        ).one()
        == 0.5
    )
