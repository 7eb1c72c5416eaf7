"""Admin-edited issue settings: SLA targets, categories, root causes, the low-rating policy."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from app.auth.models import User
from app.core import audit
from app.core.errors import NotFound, ValidationFailed
from app.customers.models import TIERS
from app.extensions import db
from app.issues.models import DIMENSIONS, PRIORITIES, Category, RootCause, Setting, SlaTarget
from app.issues.services import LOW_RATING_POLICIES

CODE_RE = re.compile(r"^[a-z0-9_]{1,40}$")


def _record(
    actor: User, entity: str, entity_id: int, action: str, changes: Mapping[str, Any]
) -> None:
    audit.record(
        actor_id=actor.id, entity_type=entity, entity_id=entity_id, action=action, changes=changes
    )


def save_sla_target(
    *,
    actor: User,
    priority: str,
    response_hours: float,
    resolve_hours: float,
    category_code: str | None = None,
    tier: str | None = None,
) -> SlaTarget:
    """Create or change the target for (priority, category, tier); blanks mean 'any'."""
    errors: dict[str, str] = {}
    if priority not in PRIORITIES:
        errors["priority"] = "unknown priority"
    if not 0 < response_hours <= 2000:
        errors["response_hours"] = "between 0 and 2000 working hours"
    if not 0 < resolve_hours <= 5000:
        errors["resolve_hours"] = "between 0 and 5000 working hours"
    elif response_hours > resolve_hours:
        errors["response_hours"] = "cannot be longer than the resolution target"
    if tier and tier not in TIERS:
        errors["tier"] = "one of A, B, C, D"
    category_id = None
    if category_code:
        category_id = db.session.scalar(
            sa.select(Category.id).where(Category.code == category_code)
        )
        if category_id is None:
            errors["category"] = "unknown category"
    if errors:
        raise ValidationFailed(fields=errors)
    target = db.session.scalars(
        sa.select(SlaTarget).where(
            SlaTarget.priority == priority,
            SlaTarget.category_id.is_(None)
            if category_id is None
            else SlaTarget.category_id == category_id,
            SlaTarget.tier.is_(None) if not tier else SlaTarget.tier == tier,
        )
    ).first()
    before = (target.response_hours, target.resolve_hours) if target else (None, None)
    if target is None:
        target = SlaTarget(
            priority=priority,
            category_id=category_id,
            tier=tier or None,
            response_hours=response_hours,
            resolve_hours=resolve_hours,
        )
        db.session.add(target)
    else:
        target.response_hours, target.resolve_hours = response_hours, resolve_hours
    db.session.flush()
    _record(
        actor,
        "sla_target",
        target.id,
        "save",
        {
            "priority": priority,
            "category": category_code,
            "tier": tier or None,
            "response_hours": [before[0], response_hours],
            "resolve_hours": [before[1], resolve_hours],
        },
    )
    return target


def delete_sla_target(*, actor: User, target_id: int) -> None:
    target = db.session.get(SlaTarget, target_id)
    if target is None:
        raise NotFound()
    if target.category_id is None and target.tier is None:
        raise ValidationFailed(fields={"target": "the default target of a priority stays"})
    _record(actor, "sla_target", target.id, "delete", {"priority": target.priority})
    db.session.delete(target)
    db.session.flush()


def save_category(
    *, actor: User, code: str, name_zh: str, name_en: str, dimension: str, active: bool = True
) -> Category:
    errors: dict[str, str] = {}
    code = (code or "").strip().lower()
    if not CODE_RE.match(code):
        errors["code"] = "1 to 40 lower-case letters, digits or _"
    if dimension not in DIMENSIONS:
        errors["dimension"] = "product, service or brand"
    for field, value in (("name_zh", name_zh), ("name_en", name_en)):
        if not 1 <= len((value or "").strip()) <= 120:
            errors[field] = "1 to 120 characters"
    if errors:
        raise ValidationFailed(fields=errors)
    category = db.session.scalars(sa.select(Category).where(Category.code == code)).first()
    if category is None:
        position = (db.session.scalar(sa.select(sa.func.max(Category.position))) or 0) + 1
        category = Category(code=code, position=position, name_zh="", name_en="", dimension="")
        db.session.add(category)
    before = {
        "name_zh": category.name_zh,
        "name_en": category.name_en,
        "dimension": category.dimension,
        "active": category.active,
    }
    after: dict[str, Any] = {
        "name_zh": name_zh.strip(),
        "name_en": name_en.strip(),
        "dimension": dimension,
        "active": active,
    }
    for key, value in after.items():
        setattr(category, key, value)
    db.session.flush()
    _record(actor, "category", category.id, "save", audit.diff(before, after))
    return category


def save_root_cause(
    *, actor: User, code: str, name_zh: str, name_en: str, active: bool = True
) -> RootCause:
    errors: dict[str, str] = {}
    code = (code or "").strip().lower()
    if not CODE_RE.match(code):
        errors["code"] = "1 to 40 lower-case letters, digits or _"
    for field, value in (("name_zh", name_zh), ("name_en", name_en)):
        if not 1 <= len((value or "").strip()) <= 120:
            errors[field] = "1 to 120 characters"
    if errors:
        raise ValidationFailed(fields=errors)
    cause = db.session.scalars(sa.select(RootCause).where(RootCause.code == code)).first()
    if cause is None:
        position = (db.session.scalar(sa.select(sa.func.max(RootCause.position))) or 0) + 1
        cause = RootCause(code=code, position=position, name_zh="", name_en="")
        db.session.add(cause)
    before = {"name_zh": cause.name_zh, "name_en": cause.name_en, "active": cause.active}
    after: dict[str, Any] = {
        "name_zh": name_zh.strip(),
        "name_en": name_en.strip(),
        "active": active,
    }
    for key, value in after.items():
        setattr(cause, key, value)
    db.session.flush()
    _record(actor, "root_cause", cause.id, "save", audit.diff(before, after))
    return cause


def set_low_rating_policy(*, actor: User, policy: str) -> None:
    if policy not in LOW_RATING_POLICIES:
        raise ValidationFailed(fields={"policy": "reopen, escalate or close"})
    setting = db.session.get(Setting, "low_rating_policy")
    before = setting.value if setting else "reopen"
    if setting is None:
        db.session.add(Setting(key="low_rating_policy", value=policy))
    else:
        setting.value = policy
    db.session.flush()
    _record(actor, "setting", 0, "low_rating_policy", {"policy": [before, policy]})
