"""Issue operations: accept, handle, wait, escalate, resolve, close and rate, reopen, notes,
contacts. Each takes an explicit actor (None = the system, for jobs), checks role, scope,
version and the state machine, writes audit rows, queues notifications, and flushes; the
caller's boundary commits once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload

from app.auth.models import User
from app.core import audit
from app.core.errors import Conflict, Forbidden, InvalidTransitionError, NotFound, ValidationFailed
from app.core.scoping import Scope, get_scoped
from app.customers.models import Customer
from app.db import utcnow
from app.extensions import db
from app.issues import notifications, sla, workflow
from app.issues.escalation import WARN_AT
from app.issues.models import (
    CHANNELS,
    PRIORITIES,
    Category,
    Escalation,
    Issue,
    IssueContact,
    IssueNote,
    IssuePause,
    RootCause,
    Setting,
    SlaTarget,
)
from app.issues.numbering import next_number
from app.issues.workflow import Action, Status
from app.org.models import Office

MAX_TITLE = 200
MAX_TEXT = 20_000
CONTACT_CHANNELS = ("phone", "email", "sms", "visit", "chat", "other")
LOW_RATING_POLICIES = ("reopen", "escalate", "close")
OWNER_ROLES = ("handler", "office_manager")


# --- helpers ---------------------------------------------------------------------------------


def _text(value: Any, field: str, errors: dict[str, str], *, limit: int, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        errors[field] = "required"
    elif len(text) > limit:
        errors[field] = f"at most {limit} characters"
    return text


def _aware(value: datetime | None, field: str, errors: dict[str, str]) -> datetime | None:
    if value is not None and value.tzinfo is None:
        errors[field] = "needs a time-zone offset, e.g. 2026-11-23T14:00:00+08:00"
        return None
    return value


def _record(issue: Issue, actor: User | None, action: str, changes: Mapping[str, Any]) -> None:
    audit.record(
        actor_id=actor.id if actor else None,
        entity_type="issue",
        entity_id=issue.id,
        action=action,
        changes=changes,
        office_id=issue.office_id,
    )


def sla_calendar_for(office: Office) -> sla.WorkingCalendar:
    return sla.WorkingCalendar.from_office(office.timezone, office.work_start, office.work_end)


def targets_for(priority: str, category_id: int | None, tier: str | None) -> tuple[int, int]:
    """(response, resolution) in working minutes; the most specific target row wins."""
    rows = db.session.scalars(
        sa.select(SlaTarget).where(
            SlaTarget.priority == priority,
            sa.or_(SlaTarget.category_id.is_(None), SlaTarget.category_id == category_id),
            sa.or_(SlaTarget.tier.is_(None), SlaTarget.tier == tier),
        )
    ).all()
    if rows:
        best = max(rows, key=lambda r: (r.category_id is not None) * 2 + (r.tier is not None))
        hours = (best.response_hours, best.resolve_hours)
    else:
        hours = sla.DEFAULT_TARGETS[priority]
    return round(hours[0] * 60), round(hours[1] * 60)


def _pauses(issue: Issue) -> list[sla.Pause]:
    rows = db.session.scalars(
        sa.select(IssuePause).where(IssuePause.issue_id == issue.id).order_by(IssuePause.id)
    )
    return [(p.started_at, p.ended_at) for p in rows]


def _recompute_due(issue: Issue, *, clock_start: datetime | None = None) -> None:
    cal = sla_calendar_for(issue.office)
    start = clock_start or issue.received_at
    pauses = _pauses(issue)
    issue.response_due_at = sla.due_at(
        cal, issue.received_at, issue.response_target_minutes, pauses
    )
    issue.resolve_due_at = sla.due_at(cal, start, issue.resolve_target_minutes, pauses)
    issue.response_warn_at = sla.due_at(
        cal, issue.received_at, issue.response_target_minutes * WARN_AT, pauses
    )
    issue.resolve_warn_at = sla.due_at(cal, start, issue.resolve_target_minutes * WARN_AT, pauses)


def _load(
    actor: User | None, issue_id: int, version: int | None, action: Action | None = None
) -> Issue:
    scope = Scope.for_user(actor) if actor is not None else Scope("company")
    issue = get_scoped(Issue, issue_id, scope, for_update=True)
    db.session.refresh(issue)  # the lock may have waited on another change: read its result
    if action is not None and actor is not None and not workflow.can(actor.role, action):
        raise Forbidden(f"A {actor.role} may not {action.value} issues.")
    if version is not None and version != issue.version:
        raise Conflict()
    return issue


def _move(issue: Issue, action: Action) -> tuple[str, str]:
    try:
        new = workflow.next_status(issue.status, action, escalation_level=issue.escalation_level)
    except workflow.InvalidTransition as exc:
        raise InvalidTransitionError(exc.message) from exc
    old = issue.status
    issue.status = new.value
    return old, new.value


def _end_pause(issue: Issue, now: datetime) -> bool:
    open_pauses = db.session.scalars(
        sa.select(IssuePause).where(IssuePause.issue_id == issue.id, IssuePause.ended_at.is_(None))
    ).all()
    for pause in open_pauses:
        pause.ended_at = now
    issue.waiting_since = None
    if open_pauses:
        db.session.flush()
        _recompute_due(issue)
    return bool(open_pauses)


def _first_response(issue: Issue, now: datetime) -> dict[str, Any]:
    if issue.first_response_at is not None:
        return {}
    cal = sla_calendar_for(issue.office)
    issue.first_response_at = now
    issue.response_minutes = round(sla.working_minutes_between(cal, issue.received_at, now))
    return {"first_response_at": [None, now.isoformat()]}


def _owner(issue: Issue, owner_id: int | None, actor: User | None) -> User | None:
    if owner_id is not None:
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.active or owner.office_id != issue.office_id:
            raise ValidationFailed(fields={"owner_id": "not a staff member of this office"})
        if owner.role not in OWNER_ROLES:
            raise ValidationFailed(
                fields={"owner_id": "only handlers and office managers own issues"}
            )
        return owner
    if actor is not None and actor.role == "handler":
        return actor
    return round_robin_owner(issue.office_id)


def round_robin_owner(office_id: int) -> User | None:
    """The office's active handler with the fewest open issues (ties: longest unassigned)."""
    open_count = (
        sa.select(sa.func.count())
        .where(
            Issue.owner_id == User.id, Issue.status.in_([s.value for s in workflow.OPEN_STATUSES])
        )
        .correlate(User)
        .scalar_subquery()
    )
    return db.session.scalars(
        sa.select(User)
        .where(User.office_id == office_id, User.role == "handler", User.active.is_(True))
        .order_by(open_count, User.id)
        .limit(1)
    ).first()


# --- accept --------------------------------------------------------------------------------------


def accept_issue(
    *,
    actor: User,
    customer_id: int,
    title: str,
    description: str,
    channel: str,
    category: str,
    priority: str,
    office_code: str | None = None,
    received_at: datetime | None = None,
    commitment_text: str | None = None,
    commitment_due_at: datetime | None = None,
    voice_id: int | None = None,
    owner_id: int | None = None,
    now: datetime | None = None,
) -> Issue:
    now = now or utcnow()
    scope = Scope.for_user(actor)
    errors: dict[str, str] = {}
    title = _text(title, "title", errors, limit=MAX_TITLE, required=True)
    description = _text(description, "description", errors, limit=MAX_TEXT, required=False)
    commitment = _text(commitment_text, "commitment_text", errors, limit=MAX_TEXT, required=False)
    if channel not in CHANNELS:
        errors["channel"] = "unknown channel"
    if priority not in PRIORITIES:
        errors["priority"] = "one of " + ", ".join(PRIORITIES)
    category_row = db.session.scalars(
        sa.select(Category).where(Category.code == category, Category.active.is_(True))
    ).first()
    if category_row is None:
        errors["category"] = "unknown category"
    customer = db.session.scalars(
        sa.select(Customer)
        .where(Customer.id == customer_id, scope.office_filter(Customer.office_id))
        .options(joinedload(Customer.office), lazyload(Customer.phones))
    ).first()
    if customer is None:
        errors["customer_id"] = "unknown customer"
    received_at = _aware(received_at, "received_at", errors) or now
    if received_at > now + timedelta(minutes=5):
        errors["received_at"] = "cannot be in the future"
    commitment_due_at = _aware(commitment_due_at, "commitment_due_at", errors)
    office = customer.office if customer is not None else None
    if office_code:
        office = db.session.scalars(
            sa.select(Office).where(Office.code == office_code.strip().upper())
        ).first()
        if office is None or not scope.covers_office(office):
            errors["office"] = "unknown office"
    if errors or office is None or customer is None or category_row is None:
        raise ValidationFailed(fields=errors)

    response_minutes, resolve_minutes = targets_for(priority, category_row.id, customer.tier)
    cal = sla_calendar_for(office)
    issue = Issue(
        number=next_number(office.id, office.code, received_at.astimezone(cal.zone).year),
        office=office,
        customer=customer,
        title=title,
        description=description,
        channel=channel,
        category=category_row,
        priority=priority,
        status=Status.ACCEPTED.value,
        created_by_id=actor.id,
        received_at=received_at,
        response_target_minutes=response_minutes,
        resolve_target_minutes=resolve_minutes,
        response_due_at=sla.add_working_minutes(cal, received_at, response_minutes),
        resolve_due_at=sla.add_working_minutes(cal, received_at, resolve_minutes),
        response_warn_at=sla.add_working_minutes(cal, received_at, response_minutes * WARN_AT),
        resolve_warn_at=sla.add_working_minutes(cal, received_at, resolve_minutes * WARN_AT),
        commitment_text=commitment or None,
        commitment_due_at=commitment_due_at,
        voice_id=voice_id,
    )
    db.session.add(issue)
    db.session.flush()
    if owner_id is not None:
        issue.owner_id = _owner(issue, owner_id, actor).id  # type: ignore[union-attr]
    _record(
        issue,
        actor,
        "accept",
        {
            "status": [None, issue.status],
            "number": [None, issue.number],
            "priority": [None, priority],
            "category": [None, category],
            "owner_id": [None, issue.owner_id],
        },
    )
    return issue


# --- edit --------------------------------------------------------------------------------------

EDITABLE = ("title", "description", "category", "priority", "commitment_text", "commitment_due_at")


def _clean_edit(
    issue: Issue, changes: dict[str, Any], errors: dict[str, str]
) -> tuple[dict[str, Any], Category | None]:
    after: dict[str, Any] = {}
    if "title" in changes:
        after["title"] = _text(changes["title"], "title", errors, limit=MAX_TITLE, required=True)
    if "description" in changes:
        after["description"] = _text(
            changes["description"], "description", errors, limit=MAX_TEXT, required=False
        )
    if "commitment_text" in changes:
        text = _text(
            changes["commitment_text"], "commitment_text", errors, limit=MAX_TEXT, required=False
        )
        after["commitment_text"] = text or None
    if "commitment_due_at" in changes:
        after["commitment_due_at"] = _aware(
            changes["commitment_due_at"], "commitment_due_at", errors
        )
    if "priority" in changes:
        if changes["priority"] in PRIORITIES:
            after["priority"] = changes["priority"]
        else:
            errors["priority"] = "one of " + ", ".join(PRIORITIES)
    category: Category | None = issue.category
    if "category" in changes and changes["category"] != issue.category.code:
        category = db.session.scalars(
            sa.select(Category).where(
                Category.code == changes["category"], Category.active.is_(True)
            )
        ).first()
        if category is None:
            errors["category"] = "unknown category"
        else:
            after["category"] = category.code
    return after, category


def update_issue(
    *,
    actor: User,
    issue_id: int,
    version: int,
    changes: dict[str, Any],
    now: datetime | None = None,
) -> Issue:
    issue = _load(actor, issue_id, version)
    refused = {name: "not editable" for name in changes if name not in EDITABLE}
    if refused:
        raise ValidationFailed(
            "Status, escalation level, rating and office change only through their actions.",
            fields=refused,
        )
    errors: dict[str, str] = {}
    with db.session.no_autoflush:  # one version bump for one edit
        return _apply_edit(issue, actor, changes, errors, now)


def _apply_edit(
    issue: Issue,
    actor: User,
    changes: dict[str, Any],
    errors: dict[str, str],
    now: datetime | None,
) -> Issue:
    after, category = _clean_edit(issue, changes, errors)
    if errors or category is None:
        raise ValidationFailed(fields=errors)
    before: dict[str, Any] = {
        "title": issue.title,
        "description": issue.description,
        "category": issue.category.code,
        "priority": issue.priority,
        "commitment_text": issue.commitment_text,
        "commitment_due_at": issue.commitment_due_at,
    }
    diff = audit.diff(before, {**before, **after})
    if not diff:
        return issue
    for field in ("title", "description", "commitment_text", "commitment_due_at", "priority"):
        if field in after:
            setattr(issue, field, after[field])
    issue.category = category
    if "priority" in diff or "category" in diff:
        issue.response_target_minutes, issue.resolve_target_minutes = targets_for(
            issue.priority, category.id, issue.customer.tier
        )
        old_due = issue.resolve_due_at
        _recompute_due(issue)
        diff["resolve_due_at"] = [old_due.isoformat(), issue.resolve_due_at.isoformat()]
    issue.updated_at = now or utcnow()
    _record(issue, actor, "update", diff)
    db.session.flush()
    return issue


# --- the lifecycle -----------------------------------------------------------------------------


def handle_issue(
    *,
    actor: User,
    issue_id: int,
    version: int | None = None,
    owner_id: int | None = None,
    now: datetime | None = None,
) -> Issue:
    now = now or utcnow()
    issue = _load(actor, issue_id, version, Action.HANDLE)
    old_owner = issue.owner_id
    old, new = _move(issue, Action.HANDLE)
    resumed = _end_pause(issue, now)
    owner = _owner(issue, owner_id, actor)
    issue.owner_id = owner.id if owner else issue.owner_id
    changes: dict[str, Any] = {"status": [old, new]}
    if issue.owner_id != old_owner:
        changes["owner_id"] = [old_owner, issue.owner_id]
    if resumed:
        changes["resolve_due_at"] = [None, issue.resolve_due_at.isoformat()]
    changes.update(_first_response(issue, now))
    _record(issue, actor, "resume" if old == Status.WAITING else "handle", changes)
    db.session.flush()
    return issue


def wait_issue(
    *,
    actor: User,
    issue_id: int,
    reason: str,
    version: int | None = None,
    now: datetime | None = None,
) -> Issue:
    now = now or utcnow()
    errors: dict[str, str] = {}
    reason = _text(reason, "reason", errors, limit=2000, required=True)
    if errors:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, version, Action.WAIT)
    old, new = _move(issue, Action.WAIT)
    db.session.add(IssuePause(issue_id=issue.id, started_at=now, reason=reason))
    issue.waiting_since = now
    changes: dict[str, Any] = {"status": [old, new], "reason": reason}
    changes.update(_first_response(issue, now))
    _record(issue, actor, "wait", changes)
    db.session.flush()
    return issue


def escalate_issue(
    *,
    actor: User | None,
    issue_id: int,
    reason: str,
    version: int | None = None,
    automatic: bool = False,
    now: datetime | None = None,
) -> Issue:
    now = now or utcnow()
    errors: dict[str, str] = {}
    reason = _text(reason, "reason", errors, limit=2000, required=True)
    if errors:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, version, Action.ESCALATE)
    old, new = _move(issue, Action.ESCALATE)
    _end_pause(issue, now)
    level = issue.escalation_level + 1
    issue.escalation_level = level
    db.session.add(
        Escalation(
            issue_id=issue.id,
            level=level,
            reason=reason,
            automatic=automatic,
            actor_id=actor.id if actor else None,
            at=now,
        )
    )
    _record(
        issue,
        actor,
        "escalate",
        {
            "status": [old, new],
            "escalation_level": [level - 1, level],
            "reason": reason,
            "automatic": automatic,
        },
    )
    db.session.flush()
    notifications.notify_escalation(issue, level, reason)
    return issue


def resolve_issue(
    *,
    actor: User,
    issue_id: int,
    resolution: str,
    root_cause: str,
    responsible: str,
    version: int | None = None,
    now: datetime | None = None,
) -> Issue:
    now = now or utcnow()
    errors: dict[str, str] = {}
    resolution = _text(resolution, "resolution", errors, limit=MAX_TEXT, required=True)
    responsible = _text(responsible, "responsible", errors, limit=120, required=True)
    cause = db.session.scalars(
        sa.select(RootCause).where(RootCause.code == root_cause, RootCause.active.is_(True))
    ).first()
    if cause is None:
        errors["root_cause"] = "unknown root cause"
    if errors or cause is None:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, version, Action.RESOLVE)
    workflow_check = workflow.next_status  # validate before touching pauses
    try:
        workflow_check(issue.status, Action.RESOLVE, escalation_level=issue.escalation_level)
    except workflow.InvalidTransition as exc:
        raise InvalidTransitionError(exc.message) from exc
    _end_pause(issue, now)
    pauses = _pauses(issue)
    issue.resolved_at = now  # before the status: the database insists resolved has a time
    old, new = _move(issue, Action.RESOLVE)
    changes: dict[str, Any] = {
        "status": [old, new],
        "root_cause": cause.code,
        "responsible": responsible,
    }
    changes.update(_first_response(issue, now))
    cal = sla_calendar_for(issue.office)
    issue.resolution = resolution
    issue.root_cause = cause
    issue.responsible = responsible
    issue.resolve_minutes = round(
        sla.working_minutes_between_excluding(cal, issue.received_at, now, pauses)
    )
    if issue.owner_id is None and actor.role in OWNER_ROLES:
        issue.owner_id = actor.id
    _record(issue, actor, "resolve", changes)
    db.session.flush()
    return issue


def low_rating_policy() -> str:
    setting = db.session.get(Setting, "low_rating_policy")
    value = setting.value if setting is not None else "reopen"
    return value if value in LOW_RATING_POLICIES else "reopen"


def close_issue(
    *,
    actor: User,
    issue_id: int,
    rating: int,
    comment: str | None = None,
    callback: bool = False,
    version: int | None = None,
    now: datetime | None = None,
) -> Issue:
    """Close and rate. A rating of 2 or less does not close quietly (see low_rating_policy)."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = "a whole number from 1 to 5"
    comment = _text(comment, "comment", errors, limit=MAX_TEXT, required=False)
    if errors:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, version, Action.CLOSE)
    issue.closed_at = now  # before the status: the database insists closed has a time
    old, new = _move(issue, Action.CLOSE)
    issue.rating = rating
    issue.rating_comment = comment or None
    issue.callback_done = bool(callback)
    _record(
        issue,
        actor,
        "close",
        {
            "status": [old, new],
            "rating": rating,
            "callback": bool(callback),
            "comment": comment or None,
        },
    )
    if rating <= 2:
        policy = low_rating_policy()
        notifications.notify_low_rating(issue, rating, comment)
        if policy in ("reopen", "escalate"):
            _reopen(issue, actor, f"low rating ({rating}/5)", now)
        if policy == "escalate" and issue.escalation_level < workflow.MAX_ESCALATION_LEVEL:
            db.session.flush()
            escalate_issue(
                actor=None,
                issue_id=issue.id,
                reason=f"low rating ({rating}/5)",
                automatic=True,
                now=now,
            )
    db.session.flush()
    return issue


def _reopen(issue: Issue, actor: User | None, reason: str, now: datetime) -> None:
    old, new = _move(issue, Action.REOPEN)
    issue.reopen_count += 1
    issue.resolved_at = None
    issue.closed_at = None
    # a reopened issue gets a fresh resolution clock from now
    old_due = issue.resolve_due_at
    cal = sla_calendar_for(issue.office)
    issue.resolve_due_at = sla.add_working_minutes(cal, now, issue.resolve_target_minutes)
    issue.resolve_warn_at = sla.add_working_minutes(
        cal, now, issue.resolve_target_minutes * WARN_AT
    )
    _record(
        issue,
        actor,
        "reopen",
        {
            "status": [old, new],
            "reason": reason,
            "resolve_due_at": [old_due.isoformat(), issue.resolve_due_at.isoformat()],
        },
    )


def reopen_issue(
    *,
    actor: User,
    issue_id: int,
    reason: str,
    version: int | None = None,
    now: datetime | None = None,
) -> Issue:
    now = now or utcnow()
    errors: dict[str, str] = {}
    reason = _text(reason, "reason", errors, limit=2000, required=True)
    if errors:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, version, Action.REOPEN)
    _reopen(issue, actor, reason, now)
    db.session.flush()
    return issue


# --- notes and contacts ---------------------------------------------------------------------


def add_note(
    *, actor: User, issue_id: int, text: str, internal: bool = True, now: datetime | None = None
) -> IssueNote:
    errors: dict[str, str] = {}
    text = _text(text, "text", errors, limit=MAX_TEXT, required=True)
    if errors:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, None)
    note = IssueNote(
        issue_id=issue.id,
        author_id=actor.id,
        text=text,
        internal=bool(internal),
        created_at=now or utcnow(),
    )
    db.session.add(note)
    db.session.flush()
    _record(issue, actor, "note", {"note_id": note.id, "internal": bool(internal)})
    return note


def log_contact(
    *,
    actor: User,
    issue_id: int,
    direction: str,
    channel: str,
    text: str,
    at: datetime | None = None,
    now: datetime | None = None,
) -> IssueContact:
    now = now or utcnow()
    errors: dict[str, str] = {}
    if direction not in ("in", "out"):
        errors["direction"] = "in or out"
    if channel not in CONTACT_CHANNELS:
        errors["channel"] = "one of " + ", ".join(CONTACT_CHANNELS)
    text = _text(text, "text", errors, limit=MAX_TEXT, required=True)
    at = _aware(at, "at", errors) or now
    if at > now + timedelta(minutes=5):
        errors["at"] = "cannot be in the future"
    if errors:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, None)
    if issue.status == Status.CLOSED:
        raise InvalidTransitionError("The issue is closed; reopen it to log contacts.")
    contact = IssueContact(
        issue_id=issue.id,
        author_id=actor.id,
        direction=direction,
        channel=channel,
        text=text,
        at=at,
    )
    db.session.add(contact)
    db.session.flush()
    changes: dict[str, Any] = {"contact_id": contact.id, "direction": direction}
    if direction == "out":
        changes.update(_first_response(issue, at))
    _record(issue, actor, "contact", changes)
    return contact


def get_for_actor(actor: User, issue_id: int) -> Issue:
    """Load an issue the actor may see (404 otherwise)."""
    issue = _load(actor, issue_id, None)
    if issue is None:  # pragma: no cover - _load raises
        raise NotFound()
    return issue
