"""Recording and moving improvement actions. Services take an explicit actor, validate, write
an audit row with each change, flush, and never commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from app.actions.models import (
    DIMENSIONS,
    METRICS,
    STATUSES,
    ActionLink,
    ImprovementAction,
)
from app.actions.queries import get_action
from app.auth.models import User
from app.auth.permissions import has_role
from app.auth.roles import MANAGER_ROLES
from app.core import audit
from app.core.errors import Conflict, Forbidden, ValidationFailed
from app.core.scoping import Scope
from app.db import utcnow
from app.extensions import db
from app.issues.models import Category, Issue
from app.org.models import Office, Region
from app.surveys.models import Campaign, Response, Survey
from app.voice.models import Voice

MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_LINKS = 200
# planned → in_progress → done → verified; any step back is allowed before verified
# (an effect check that fails sends the action back to work)
TRANSITIONS = {
    "planned": {"in_progress", "done"},
    "in_progress": {"planned", "done"},
    "done": {"in_progress", "verified"},
    "verified": {"in_progress"},
}


def _require_manager(actor: User) -> Scope:
    if not has_role(actor, *MANAGER_ROLES):
        raise Forbidden("Improvement actions are recorded by managers and quality staff.")
    return Scope.for_user(actor)


def _place(
    scope: Scope, office: str | None, region: str | None, errors: dict[str, str]
) -> tuple[int | None, int | None]:
    """(office_id, region_id) of the place asked for, inside the actor's scope. No place: the
    actor's own (their office, their region, or the company)."""
    if office and region:
        errors["office"] = "an office or a region, not both"
        return None, None
    if office:
        row = db.session.scalars(sa.select(Office).where(Office.code == office.strip().upper()))
        found = row.first()
        if found is None or not scope.covers_office(found):
            errors["office"] = "unknown office"
            return None, None
        return found.id, None
    if region:
        found_region = db.session.scalars(
            sa.select(Region).where(Region.code == region.strip().upper())
        ).first()
        if found_region is None or not (
            scope.is_company or (scope.kind == "region" and scope.region_id == found_region.id)
        ):
            errors["region"] = "unknown region"
            return None, None
        return None, found_region.id
    if scope.kind == "office":
        return scope.office_id, None
    if scope.kind == "region":
        return None, scope.region_id
    return None, None


def _owner(scope: Scope, owner_id: Any, errors: dict[str, str]) -> int | None:
    try:
        wanted = int(owner_id)
    except (TypeError, ValueError):
        errors["owner_id"] = "required"
        return None
    user = db.session.get(User, wanted)
    if user is None or not user.active or not _user_in_scope(scope, user):
        errors["owner_id"] = "unknown user"
        return None
    return wanted


def _user_in_scope(scope: Scope, user: User) -> bool:
    if scope.is_company:
        return True
    if scope.kind == "region":
        if user.region_id == scope.region_id:
            return True
        return user.office is not None and user.office.region_id == scope.region_id
    return scope.kind == "office" and user.office_id == scope.office_id


def owner_choices(actor: User) -> list[tuple[str, str]]:
    """Active people the actor may make owner: everyone in the actor's scope."""
    scope = Scope.for_user(actor)
    stmt = sa.select(User).where(User.active.is_(True)).order_by(User.name, User.id)
    if scope.kind == "region":
        offices = sa.select(Office.id).where(Office.region_id == scope.region_id)
        stmt = stmt.where(sa.or_(User.region_id == scope.region_id, User.office_id.in_(offices)))
    elif scope.kind == "office":
        stmt = stmt.where(User.office_id == scope.office_id)
    elif not scope.is_company:
        return []
    return [(str(u.id), f"{u.name} <{u.email}>") for u in db.session.scalars(stmt)]


def _ids(values: Iterable[Any] | None, field: str, errors: dict[str, str]) -> list[int]:
    out: list[int] = []
    for value in values or []:
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            errors[field] = "ids are integers"
            return []
    if len(out) > MAX_LINKS:
        errors[field] = f"at most {MAX_LINKS}"
    return sorted(set(out))


def _check_links(
    scope: Scope, issue_ids: list[int], voice_ids: list[int], errors: dict[str, str]
) -> None:
    found = set(
        db.session.scalars(
            sa.select(Issue.id).where(Issue.id.in_(issue_ids), scope.office_filter(Issue.office_id))
        )
    )
    if set(issue_ids) - found:
        errors["issues"] = "unknown issue: " + ", ".join(map(str, sorted(set(issue_ids) - found)))
    found = set(
        db.session.scalars(
            sa.select(Voice.id).where(Voice.id.in_(voice_ids), scope.office_filter(Voice.office_id))
        )
    )
    if set(voice_ids) - found:
        errors["voices"] = "unknown voice: " + ", ".join(map(str, sorted(set(voice_ids) - found)))


def _survey_links(
    scope: Scope,
    campaigns: Iterable[Any] | None,
    response_ids: Iterable[Any] | None,
    errors: dict[str, str],
) -> tuple[list[tuple[int, str | None]], list[int]]:
    """Campaigns ({id, indicator?} or ids) and responses inside the actor's scope: a campaign
    about an office in scope or company-wide, a response from an office in scope; an indicator
    must belong to the campaign's questionnaire."""
    wanted: dict[int, str | None] = {}
    for item in campaigns or []:
        raw_id: Any = item.get("id") if isinstance(item, dict) else item
        indicator: Any = item.get("indicator") if isinstance(item, dict) else None
        try:
            wanted[int(raw_id)] = (str(indicator).strip() or None) if indicator else None
        except (TypeError, ValueError):
            errors["campaigns"] = "ids are integers"
            return [], []
    responses = _ids(response_ids, "responses", errors)
    if len(wanted) > MAX_LINKS:
        errors["campaigns"] = f"at most {MAX_LINKS}"
    if errors:
        return [], []
    found = {
        c.id: c
        for c in db.session.scalars(
            sa.select(Campaign).where(
                Campaign.id.in_(list(wanted)),
                sa.or_(Campaign.office_id.is_(None), scope.office_filter(Campaign.office_id)),
            )
        )
    }
    missing = sorted(set(wanted) - set(found))
    if missing:
        errors["campaigns"] = "unknown campaign: " + ", ".join(map(str, missing))
    for campaign_id, indicator in wanted.items():
        campaign = found.get(campaign_id)
        if campaign is not None and indicator and indicator not in campaign.survey.weights():
            errors["campaigns"] = f"campaign {campaign_id} has no indicator {indicator}"
    known = set(
        db.session.scalars(
            sa.select(Response.id).where(
                Response.id.in_(responses), scope.office_filter(Response.office_id)
            )
        )
    )
    if set(responses) - known:
        errors["responses"] = "unknown response: " + ", ".join(
            map(str, sorted(set(responses) - known))
        )
    return sorted(wanted.items()), responses


def _indicator_metric(
    survey_id: Any, indicator: str | None, metric: str, errors: dict[str, str]
) -> tuple[int | None, str | None]:
    """The questionnaire family and indicator key an indicator-score effect is measured on."""
    if metric != "indicator_score":
        return None, None
    try:
        survey = db.session.get(Survey, int(survey_id))
    except (TypeError, ValueError):
        survey = None
    if survey is None or survey.kind != "project":
        errors["metric_survey"] = "a project survey is needed for an indicator's score"
        return None, None
    key = (indicator or "").strip()
    if key not in survey.weights():
        errors["metric_indicator"] = "one of " + ", ".join(survey.weights())
        return None, None
    return survey.family_id or survey.id, key


def _category(code: str | None, metric: str, errors: dict[str, str]) -> int | None:
    if metric != "category_volume":
        return None
    category_id = db.session.scalar(sa.select(Category.id).where(Category.code == (code or "")))
    if category_id is None:
        errors["metric_category"] = "a category is needed for its volume"
    return category_id


def create_action(
    *,
    actor: User,
    title: str,
    description: str = "",
    dimension: str,
    owner_id: Any,
    due_on: date | None,
    metric: str,
    metric_category: str | None = None,
    office: str | None = None,
    region: str | None = None,
    issue_ids: Iterable[Any] | None = None,
    voice_ids: Iterable[Any] | None = None,
    campaigns: Iterable[Any] | None = None,
    response_ids: Iterable[Any] | None = None,
    metric_survey: Any = None,
    metric_indicator: str | None = None,
    now: datetime | None = None,
) -> ImprovementAction:
    now = now or utcnow()
    scope = _require_manager(actor)
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "required"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"at most {MAX_TITLE} characters"
    description = (description or "").strip()
    if len(description) > MAX_TEXT:
        errors["description"] = f"at most {MAX_TEXT} characters"
    if dimension not in DIMENSIONS:
        errors["dimension"] = "one of " + ", ".join(DIMENSIONS)
    if metric not in METRICS:
        errors["metric"] = "one of " + ", ".join(METRICS)
    if due_on is None:
        errors["due_on"] = "required"
    owner = _owner(scope, owner_id, errors)
    office_id, region_id = _place(scope, office, region, errors)
    category_id = _category(metric_category, metric, errors)
    survey_id, indicator = _indicator_metric(metric_survey, metric_indicator, metric, errors)
    issues = _ids(issue_ids, "issues", errors)
    voices = _ids(voice_ids, "voices", errors)
    survey_campaigns: list[tuple[int, str | None]] = []
    responses: list[int] = []
    if not errors:
        _check_links(scope, issues, voices, errors)
        survey_campaigns, responses = _survey_links(scope, campaigns, response_ids, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    action = ImprovementAction(
        title=title,
        description=description,
        dimension=dimension,
        owner_id=owner,
        due_on=due_on,
        status="planned",
        office_id=office_id,
        region_id=region_id,
        metric=metric,
        metric_category_id=category_id,
        metric_survey_id=survey_id,
        metric_indicator=indicator,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(action)
    db.session.flush()
    db.session.add_all(
        ActionLink(action_id=action.id, target_type="issue", target_id=i) for i in issues
    )
    db.session.add_all(
        ActionLink(action_id=action.id, target_type="voice", target_id=v) for v in voices
    )
    db.session.add_all(
        ActionLink(action_id=action.id, target_type="campaign", target_id=c, indicator=k)
        for c, k in survey_campaigns
    )
    db.session.add_all(
        ActionLink(action_id=action.id, target_type="response", target_id=r) for r in responses
    )
    audit.record(
        actor_id=actor.id,
        entity_type="improvement_action",
        entity_id=action.id,
        action="create",
        changes={
            "title": [None, title],
            "dimension": [None, dimension],
            "owner_id": [None, owner],
            "due_on": [None, due_on.isoformat() if due_on else None],
            "metric": [None, metric],
            "issues": [None, issues],
            "voices": [None, voices],
            "campaigns": [None, [[c, k] for c, k in survey_campaigns]],
            "responses": [None, responses],
            "metric_survey_id": [None, survey_id],
            "metric_indicator": [None, indicator],
        },
        office_id=office_id,
        at=now,
    )
    db.session.flush()
    return action


def _validated_changes(
    scope: Scope, action: ImprovementAction, changes: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    new: dict[str, Any] = {}
    if "title" in changes:
        title = (changes["title"] or "").strip()
        if not title or len(title) > MAX_TITLE:
            errors["title"] = f"1 to {MAX_TITLE} characters"
        new["title"] = title
    if "description" in changes:
        new["description"] = (changes["description"] or "").strip()[:MAX_TEXT]
    if "owner_id" in changes:
        new["owner_id"] = _owner(scope, changes["owner_id"], errors)
    if "due_on" in changes:
        if changes["due_on"] is None:
            errors["due_on"] = "required"
        new["due_on"] = changes["due_on"]
    if "status" in changes and changes["status"] != action.status:
        status = changes["status"]
        if status not in STATUSES:
            errors["status"] = "one of " + ", ".join(STATUSES)
        elif status not in TRANSITIONS[action.status]:
            errors["status"] = f"not possible from {action.status}"
        new["status"] = status
    return new


def update_action(
    *,
    actor: User,
    action_id: int,
    version: int | None,
    changes: dict[str, Any],
    now: datetime | None = None,
) -> ImprovementAction:
    """Edit title, description, owner, due date or status. `version` must match (409)."""
    now = now or utcnow()
    scope = _require_manager(actor)
    action = get_action(scope, action_id)
    if version is not None and version != action.version:
        raise Conflict()
    errors: dict[str, str] = {}
    new = _validated_changes(scope, action, changes, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    old = {key: getattr(action, key) for key in new}
    diff = audit.diff(old, new)
    if not diff:
        return action
    for key, value in new.items():
        setattr(action, key, value)
    if new.get("status") == "done" and old.get("status") != "done":
        action.done_at = now
        diff["done_at"] = [None, now.isoformat()]
    elif new.get("status") in ("planned", "in_progress"):
        action.done_at = None
    action.updated_at = now
    audit.record(
        actor_id=actor.id,
        entity_type="improvement_action",
        entity_id=action.id,
        action="update",
        changes=diff,
        office_id=action.office_id,
        at=now,
    )
    db.session.flush()
    return action
