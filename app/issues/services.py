"""Issue operations: accept, handle, wait, escalate, resolve, close and rate, reopen, notes,
contacts. Each takes an explicit actor (None = the system, for jobs), checks role, scope,
version and the state machine, writes audit rows, queues notifications, and flushes; the
caller's boundary commits once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.auth.models import User
from app.core import audit
from app.core.errors import Conflict, Forbidden, InvalidTransitionError, ValidationFailed
from app.core.fields import clean_text
from app.core.scoping import Scope, get_scoped
from app.db import utcnow
from app.extensions import db
from app.issues import notifications, workflow
from app.issues.inputs import (
    MAX_TEXT,
    MAX_TITLE,
    OWNER_ROLES,
    active_category,
    aware_time,
    valid_owner,
)
from app.issues.intake import accept_issue
from app.issues.models import (
    CONTACT_DIRECTIONS,
    PRIORITIES,
    Category,
    Escalation,
    Issue,
    IssueContact,
    IssueNote,
    IssuePause,
    RootCause,
    Setting,
)
from app.issues.signals import issue_reopened
from app.issues.sla_policy import (
    recompute_deadlines,
    resolution_minutes,
    response_minutes,
    set_deadlines,
    sla_calendar_for,
    targets_for,
)
from app.issues.workflow import Action, Status

# accept_issue lives in intake, the limits and owner roles in inputs, sla_calendar_for and
# targets_for in sla_policy; the contract (and jobs, seed, views and settings) name them here
__all__ = [
    "CONTACT_CHANNELS",
    "EDITABLE",
    "LOW_RATING_POLICIES",
    "MAX_TEXT",
    "MAX_TITLE",
    "OWNER_ROLES",
    "accept_issue",
    "add_note",
    "close_issue",
    "escalate_issue",
    "escalate_to_level",
    "handle_issue",
    "log_contact",
    "low_rating_policy",
    "reopen_issue",
    "resolve_issue",
    "round_robin_owner",
    "sla_calendar_for",
    "targets_for",
    "update_issue",
    "wait_issue",
]

CONTACT_CHANNELS = ("phone", "email", "sms", "visit", "chat", "other")
LOW_RATING_POLICIES = ("reopen", "escalate", "close")


# --- helpers ---------------------------------------------------------------------------------


def _record(
    issue: Issue, actor: User | None, action: str, changes: Mapping[str, Any], at: datetime
) -> None:
    audit.record(
        actor_id=actor.id if actor else None,
        entity_type="issue",
        entity_id=issue.id,
        action=action,
        changes=changes,
        office_id=issue.office_id,
        at=at,
    )


def _load(
    actor: User | None, issue_id: int, version: int | None, action: Action | None = None
) -> Issue:
    """The issue, locked for this change: out of scope → 404, role → 403, stale → 409."""
    scope = Scope.for_user(actor) if actor is not None else Scope("company")
    issue = get_scoped(Issue, issue_id, scope, for_update=True)
    db.session.refresh(issue)  # the lock may have waited on another change: read its result
    if action is not None and actor is not None and not workflow.can(actor.role, action):
        raise Forbidden(f"A {actor.role} may not {action.value} issues.")
    if version is not None and version != issue.version:
        raise Conflict()
    return issue


def _next(issue: Issue, action: Action) -> Status:
    """The status `action` leads to; asked before anything is touched, so a refused move
    leaves the issue exactly as it was."""
    try:
        return workflow.next_status(issue.status, action, escalation_level=issue.escalation_level)
    except workflow.InvalidTransition as exc:
        raise InvalidTransitionError(exc.message) from exc


def _move(issue: Issue, new: Status) -> tuple[str, str]:
    old = issue.status
    issue.status = new.value
    return old, new.value


def _end_pause(issue: Issue, now: datetime) -> bool:
    """Close an open wait and push the deadlines out by the working time it took."""
    open_pauses = db.session.scalars(
        sa.select(IssuePause).where(IssuePause.issue_id == issue.id, IssuePause.ended_at.is_(None))
    ).all()
    for pause in open_pauses:
        pause.ended_at = now
    issue.waiting_since = None
    if open_pauses:
        db.session.flush()
        recompute_deadlines(issue)
    return bool(open_pauses)


def _first_response(issue: Issue, at: datetime) -> dict[str, Any]:
    if issue.first_response_at is not None:
        return {}
    issue.first_response_at = at
    issue.response_minutes = response_minutes(issue, at)
    return {"first_response_at": [None, at.isoformat()]}


def _owner(issue: Issue, owner_id: int | None, actor: User | None) -> User | None:
    """Assign when asked; a handler who handles takes it; otherwise the owner stays, and an
    issue without one goes to the office's least busy handler."""
    if owner_id is not None:
        return valid_owner(issue.office_id, owner_id)
    if actor is not None and actor.role == "handler":
        return actor
    if issue.owner_id is not None:
        return None
    return round_robin_owner(issue.office_id)


def round_robin_owner(office_id: int) -> User | None:
    """The office's active handler with the fewest open issues (ties: the lowest id), so new
    work goes round the handlers by load: one back from leave or quick to resolve takes more,
    where a strict rotation would pile issues on whoever is slowest."""
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


# --- edit --------------------------------------------------------------------------------------

EDITABLE = ("title", "description", "category", "priority", "commitment_text", "commitment_due_at")


def _clean_edit(
    issue: Issue, changes: dict[str, Any], errors: dict[str, str]
) -> tuple[dict[str, Any], Category]:
    after: dict[str, Any] = {}
    if "title" in changes:
        after["title"] = clean_text(
            changes["title"], "title", errors, limit=MAX_TITLE, required=True
        )
    if "description" in changes:
        after["description"] = clean_text(
            changes["description"], "description", errors, limit=MAX_TEXT, required=False
        )
    if "commitment_text" in changes:
        text = clean_text(
            changes["commitment_text"], "commitment_text", errors, limit=MAX_TEXT, required=False
        )
        after["commitment_text"] = text or None
    if "commitment_due_at" in changes:
        after["commitment_due_at"] = aware_time(
            changes["commitment_due_at"], "commitment_due_at", errors
        )
    if "priority" in changes:
        if changes["priority"] in PRIORITIES:
            after["priority"] = changes["priority"]
        else:
            errors["priority"] = "one of " + ", ".join(PRIORITIES)
    category: Category = issue.category
    if "category" in changes and changes["category"] != issue.category.code:
        found = active_category(changes["category"])
        if found is None:
            errors["category"] = "unknown category"
        else:
            category = found
            after["category"] = found.code
    return after, category


def update_issue(
    *,
    actor: User,
    issue_id: int,
    version: int,
    changes: dict[str, Any],
    now: datetime | None = None,
) -> Issue:
    """Edit the descriptive fields. Status, escalation level, rating, owner and office change
    only through their actions: naming them here is a 422 that names each one."""
    issue = _load(actor, issue_id, version)
    refused = {name: "not editable" for name in changes if name not in EDITABLE}
    if refused:
        raise ValidationFailed(
            "Status, escalation level, rating and office change only through their actions.",
            fields=refused,
        )
    with db.session.no_autoflush:  # one version bump for one edit
        return _apply_edit(issue, actor, changes, now or utcnow())


def _apply_edit(issue: Issue, actor: User, changes: dict[str, Any], now: datetime) -> Issue:
    errors: dict[str, str] = {}
    after, category = _clean_edit(issue, changes, errors)
    if errors:
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
        if field in diff:
            setattr(issue, field, after[field])
    if "category" in diff:
        issue.category = category
    if "priority" in diff or "category" in diff:
        # new targets, counted from the same clock starts (pauses still excluded)
        issue.response_target_minutes, issue.resolve_target_minutes = targets_for(
            issue.priority, category.id, issue.customer.tier
        )
        old_due = issue.resolve_due_at
        recompute_deadlines(issue)
        diff["resolve_due_at"] = [old_due.isoformat(), issue.resolve_due_at.isoformat()]
    issue.updated_at = now
    _record(issue, actor, "update", diff, now)
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
    """Take, assign (owner_id) or resume after waiting on the customer."""
    now = now or utcnow()
    issue = _load(actor, issue_id, version, Action.HANDLE)
    new = _next(issue, Action.HANDLE)
    owner = _owner(issue, owner_id, actor)
    old_owner, old_due = issue.owner_id, issue.resolve_due_at
    old, _ = _move(issue, new)
    resumed = _end_pause(issue, now)
    if owner is not None:
        issue.owner_id = owner.id
    changes: dict[str, Any] = {"status": [old, new.value]}
    if issue.owner_id != old_owner:
        changes["owner_id"] = [old_owner, issue.owner_id]
    if resumed:
        changes["resolve_due_at"] = [old_due.isoformat(), issue.resolve_due_at.isoformat()]
    changes.update(_first_response(issue, now))
    _record(issue, actor, "resume" if old == Status.WAITING else "handle", changes, now)
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
    """Waiting on the customer: the SLA clocks pause until `handle` resumes."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    reason = clean_text(reason, "reason", errors, limit=2000, required=True)
    if errors:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, version, Action.WAIT)
    old, new = _move(issue, _next(issue, Action.WAIT))
    db.session.add(IssuePause(issue_id=issue.id, started_at=now, reason=reason))
    issue.waiting_since = now
    changes: dict[str, Any] = {"status": [old, new], "reason": reason}
    changes.update(_first_response(issue, now))  # asking the customer is a response
    _record(issue, actor, "wait", changes, now)
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
    """One level up (1 office, 2 region, 3 company) and tell that level's managers."""
    now = now or utcnow()
    reason = _escalation_reason(reason)
    issue = _load(actor, issue_id, version, Action.ESCALATE)
    _escalate_once(issue, actor, reason, automatic=automatic, now=now)
    return issue


def escalate_to_level(
    *, issue_id: int, level: int, reason: str, now: datetime | None = None
) -> int:
    """The automatic path: raise the issue to `level`, the level its SLA clocks call for,
    one level at a time (each with its row, audit and notice, so a run after downtime
    catches up on every level it missed). Decided on the locked row: an issue that another
    change has meanwhile escalated to `level` or beyond, resolved, or parked waiting on the
    customer is left as it is, so a manual escalation or an overlapping run between the
    job's scan and this lock never pushes it past what the clocks call for. Returns the
    number of levels added."""
    if not 1 <= level <= workflow.MAX_ESCALATION_LEVEL:
        raise ValueError(f"no escalation level {level}")
    now = now or utcnow()
    reason = _escalation_reason(reason)
    issue = _load(None, issue_id, None)
    if issue.status not in {s.value for s in workflow.RUNNING_STATUSES}:
        return 0
    added = 0
    while issue.escalation_level < level:
        _escalate_once(issue, None, reason, automatic=True, now=now)
        added += 1
    return added


def _escalation_reason(reason: str) -> str:
    errors: dict[str, str] = {}
    reason = clean_text(reason, "reason", errors, limit=2000, required=True)
    if errors:
        raise ValidationFailed(fields=errors)
    return reason


def _escalate_once(
    issue: Issue, actor: User | None, reason: str, *, automatic: bool, now: datetime
) -> None:
    """The next level on a locked issue: status, level, history row, audit, notice."""
    old, new = _move(issue, _next(issue, Action.ESCALATE))
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
        now,
    )
    db.session.flush()
    notifications.notify_escalation(issue, level, reason)


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
    """Resolved, with who is responsible and why (分清责任)."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    resolution = clean_text(resolution, "resolution", errors, limit=MAX_TEXT, required=True)
    responsible = clean_text(responsible, "responsible", errors, limit=120, required=True)
    cause = db.session.scalars(
        sa.select(RootCause).where(RootCause.code == root_cause, RootCause.active.is_(True))
    ).first()
    if cause is None:
        errors["root_cause"] = "unknown root cause"
    if errors or cause is None:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, version, Action.RESOLVE)
    new = _next(issue, Action.RESOLVE)
    _end_pause(issue, now)
    issue.resolved_at = now  # before the status: the database insists resolved has a time
    old, _ = _move(issue, new)
    changes: dict[str, Any] = {
        "status": [old, new.value],
        "root_cause": [issue.root_cause.code if issue.root_cause else None, cause.code],
        "responsible": [issue.responsible, responsible],
    }
    changes.update(_first_response(issue, now))
    issue.resolution = resolution
    issue.root_cause = cause
    issue.responsible = responsible
    issue.resolve_minutes = resolution_minutes(issue, now)
    if issue.owner_id is None and actor.role in OWNER_ROLES:
        issue.owner_id = actor.id
        changes["owner_id"] = [None, actor.id]
    _record(issue, actor, "resolve", changes, now)
    db.session.flush()
    return issue


def low_rating_policy() -> str:
    """What a rating of 2 or less does: "reopen" (default), "escalate" or "close"."""
    setting = db.session.get(Setting, "low_rating_policy")
    value = setting.value if setting is not None else "reopen"
    return value if value in LOW_RATING_POLICIES else "reopen"


def close_issue(
    *,
    actor: User | None,
    issue_id: int,
    rating: int,
    comment: str | None = None,
    callback: bool = False,
    version: int | None = None,
    now: datetime | None = None,
) -> Issue:
    """Close and rate. A rating of 2 or less tells the office manager and then follows
    low_rating_policy(): reopen, reopen and escalate, or stay closed. actor None: the
    customer rated through their link (the system acts for them)."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = "a whole number from 1 to 5"
    comment = clean_text(comment, "comment", errors, limit=MAX_TEXT, required=False)
    if errors:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, version, Action.CLOSE)
    new = _next(issue, Action.CLOSE)
    # a reopened issue is rated again: the audit keeps the earlier rating as "from"
    changes = {
        "status": [issue.status, new.value],
        "rating": [issue.rating, rating],
        "callback": [issue.callback_done, bool(callback)],
        "comment": [issue.rating_comment, comment or None],
    }
    issue.closed_at = now  # before the status: the database insists closed has a time
    _move(issue, new)
    issue.rating = rating
    issue.rating_comment = comment or None
    issue.callback_done = bool(callback)
    _record(issue, actor, "close", changes, now)
    if rating <= 2:
        _low_rating(issue, actor, rating, comment, now)
    db.session.flush()
    return issue


def _low_rating(
    issue: Issue, actor: User | None, rating: int, comment: str | None, now: datetime
) -> None:
    policy = low_rating_policy()
    notifications.notify_low_rating(issue, rating, comment)
    reason = f"low rating ({rating}/5)"
    if policy == "close":
        return
    _reopen(issue, actor, reason, now, policy=policy)
    if policy == "escalate" and issue.escalation_level < workflow.MAX_ESCALATION_LEVEL:
        db.session.flush()
        escalate_issue(actor=None, issue_id=issue.id, reason=reason, automatic=True, now=now)


def _reopen(
    issue: Issue, actor: User | None, reason: str, now: datetime, *, policy: str | None = None
) -> None:
    new = _next(issue, Action.REOPEN)
    old, _ = _move(issue, new)
    issue.reopen_count += 1
    issue.resolved_at = None
    issue.closed_at = None
    # the customer was not satisfied: a fresh resolution clock from now
    old_due = issue.resolve_due_at
    set_deadlines(issue, sla_calendar_for(issue.office), resolve_from=now)
    changes: dict[str, Any] = {
        "status": [old, new.value],
        "reopen_count": [issue.reopen_count - 1, issue.reopen_count],
        "reason": reason,
        "resolve_due_at": [old_due.isoformat(), issue.resolve_due_at.isoformat()],
    }
    if policy is not None:
        changes["policy"] = policy
    _record(issue, actor, "reopen", changes, now)
    issue_reopened.send(issue, now=now)


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
    reason = clean_text(reason, "reason", errors, limit=2000, required=True)
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
    now = now or utcnow()
    errors: dict[str, str] = {}
    text = clean_text(text, "text", errors, limit=MAX_TEXT, required=True)
    if errors:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, None)
    note = IssueNote(
        issue_id=issue.id, author_id=actor.id, text=text, internal=bool(internal), created_at=now
    )
    db.session.add(note)
    db.session.flush()
    _record(issue, actor, "note", {"note_id": note.id, "internal": bool(internal)}, now)
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
    """One exchange with the customer; the first outbound one is the first response."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    if direction not in CONTACT_DIRECTIONS:
        errors["direction"] = "in or out"
    if channel not in CONTACT_CHANNELS:
        errors["channel"] = "one of " + ", ".join(CONTACT_CHANNELS)
    text = clean_text(text, "text", errors, limit=MAX_TEXT, required=True)
    at = aware_time(at, "at", errors) or now
    if at > now + timedelta(minutes=5):
        errors["at"] = "cannot be in the future"
    if errors:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, None)
    if at < issue.received_at:
        raise ValidationFailed(fields={"at": "before the customer's call was received"})
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
    _record(issue, actor, "contact", changes, now)
    return contact
