"""Designing surveys: create, edit (a new version unless it is still a draft), activate,
retire. Quality admins and admins design; managers read. Services flush; the caller commits."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.auth.models import User
from app.auth.roles import MANAGER_ROLES, Role
from app.core import audit
from app.core.errors import Forbidden, InvalidTransitionError, NotFound, ValidationFailed
from app.core.pagination import Page, keyset_page
from app.customers.queries import check_id_cursor
from app.db import utcnow
from app.extensions import db
from app.surveys.design import Design, check_design
from app.surveys.models import Indicator, Question, Survey

DESIGN_ROLES = frozenset({Role.QUALITY_ADMIN, Role.ADMIN})
READ_ROLES = MANAGER_ROLES


def can_design(user: Any) -> bool:
    return getattr(user, "role", None) in DESIGN_ROLES


def can_read(user: Any) -> bool:
    return getattr(user, "role", None) in READ_ROLES


def _designer(actor: User) -> None:
    if not can_design(actor):
        raise Forbidden("Only quality admins and administrators design surveys.")


def _record(actor: User, survey: Survey, action: str, changes: dict[str, Any]) -> None:
    audit.record(
        actor_id=actor.id,
        entity_type="survey",
        entity_id=survey.id,
        action=action,
        changes=changes,
    )


def _design(data: dict[str, Any]) -> Design:
    design, errors = check_design(data)
    if design is None:
        message = errors.get("weights") or "Some fields are not valid."
        raise ValidationFailed(message, fields=errors)
    return design


def _fill(survey: Survey, design: Design) -> None:
    """Give `survey` exactly the design's indicators and questions (replacing any it had)."""
    survey.title = design.title
    survey.kind = design.kind
    survey.questions = []
    survey.indicators = []
    db.session.flush()
    by_key: dict[str, Indicator] = {}
    for pos, ind in enumerate(design.indicators):
        by_key[ind.key] = Indicator(
            key=ind.key, name_zh=ind.name_zh, name_en=ind.name_en, weight=ind.weight, position=pos
        )
        survey.indicators.append(by_key[ind.key])
    for pos, q in enumerate(design.questions):
        survey.questions.append(
            Question(
                key=q.key,
                type=q.type,
                text_zh=q.text_zh,
                text_en=q.text_en,
                indicator=by_key[q.indicator] if q.indicator else None,
                options=q.options,
                required=q.required,
                position=pos,
            )
        )
    db.session.flush()


def _summary(design: Design) -> dict[str, Any]:
    return {
        "title": design.title,
        "questions": len(design.questions),
        "weights": {i.key: i.weight for i in design.indicators},
    }


def create_survey(*, actor: User, data: dict[str, Any]) -> Survey:
    _designer(actor)
    design = _design(data)
    survey = Survey(title=design.title, kind=design.kind, version=1, created_by_id=actor.id)
    db.session.add(survey)
    db.session.flush()
    survey.family_id = survey.id
    _fill(survey, design)
    _record(actor, survey, "create", {k: [None, v] for k, v in _summary(design).items()})
    return survey


def update_survey(*, actor: User, survey_id: int, data: dict[str, Any]) -> Survey:
    """A draft changes in place; an active or retired survey (which may have answers) is never
    edited: the change becomes the family's next version, a draft. Returns the survey that
    holds the change."""
    _designer(actor)
    survey = get_survey(actor, survey_id, for_update=True)
    design = _design(data)
    if survey.status == "draft":
        before = {"title": survey.title, "questions": len(survey.questions)}
        _fill(survey, design)
        survey.updated_at = utcnow()
        _record(actor, survey, "update", audit.diff(before, _summary(design)))
        return survey
    family = survey.family_id or survey.id
    latest = db.session.scalar(
        sa.select(sa.func.max(Survey.version)).where(Survey.family_id == family)
    )
    draft = db.session.scalars(
        sa.select(Survey).where(Survey.family_id == family, Survey.status == "draft")
    ).first()
    if draft is not None:
        raise InvalidTransitionError(
            f"Version {draft.version} of this survey is already a draft: edit that one."
        )
    new = Survey(
        family_id=family,
        version=(latest or 0) + 1,
        title=design.title,
        kind=design.kind,
        created_by_id=actor.id,
    )
    db.session.add(new)
    db.session.flush()
    _fill(new, design)
    changes = {"version": [survey.version, new.version], "from_survey": [None, survey.id]}
    _record(actor, new, "new_version", changes)
    return new


def activate_survey(*, actor: User, survey_id: int) -> Survey:
    """A draft goes live; the family's previously active version is retired."""
    _designer(actor)
    survey = get_survey(actor, survey_id, for_update=True)
    if survey.status != "draft":
        raise InvalidTransitionError("Only a draft can be activated.")
    for other in db.session.scalars(
        sa.select(Survey).where(
            Survey.family_id == survey.family_id, Survey.status == "active", Survey.id != survey.id
        )
    ):
        other.status = "retired"
        _record(actor, other, "retire", {"status": ["active", "retired"]})
    survey.status = "active"
    _record(actor, survey, "activate", {"status": ["draft", "active"]})
    db.session.flush()
    return survey


def retire_survey(*, actor: User, survey_id: int) -> Survey:
    _designer(actor)
    survey = get_survey(actor, survey_id, for_update=True)
    if survey.status != "active":
        raise InvalidTransitionError("Only an active survey can be retired.")
    survey.status = "retired"
    _record(actor, survey, "retire", {"status": ["active", "retired"]})
    db.session.flush()
    return survey


def get_survey(actor: User, survey_id: int, *, for_update: bool = False) -> Survey:
    """Surveys are the company's: managers and quality staff read them, others get 403."""
    if not can_read(actor):
        raise Forbidden("Surveys are for managers and quality staff.")
    stmt = sa.select(Survey).where(Survey.id == survey_id)
    if for_update:
        stmt = stmt.with_for_update(of=Survey)
    survey = db.session.scalars(stmt).first()
    if survey is None:
        raise NotFound()
    if for_update:
        db.session.refresh(survey)
    return survey


def list_surveys(actor: User, *, limit: int, cursor: str | None) -> Page[Survey]:
    """Newest first, keyset on id."""
    if not can_read(actor):
        raise Forbidden("Surveys are for managers and quality staff.")
    check_id_cursor(cursor)
    page: Page[Survey] = keyset_page(
        sa.select(Survey), order=[Survey.id], key=lambda s: [s.id], limit=limit, cursor=cursor
    )
    return page
