"""Issue operations: accept, handle, wait, escalate, resolve, close and rate, reopen, notes,
contacts. Each takes an explicit actor (None = the system, for jobs), checks role, scope,
version and the state machine, writes audit rows, queues notifications, and flushes; the
caller's boundary commits once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

import sqlalchemy as sa

from app.auth.models import User
from app.core import audit
from app.core.audit import AuditEvent
from app.core.errors import Conflict, Forbidden, InvalidTransitionError, ValidationFailed
from app.core.scoping import KINDS, Placed, Scope, get_scoped
from app.customers.models import Customer
from app.db import utcnow
from app.extensions import db
from app.issues import notifications, workflow
from app.issues.models import (
    CHANNELS,
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
from app.issues.numbering import counter_cte, ensure_counter, next_number, number_prefix
from app.issues.reference import reference_data
from app.issues.sla_policy import (
    clock_deadlines,
    recompute_deadlines,
    resolution_minutes,
    response_minutes,
    set_deadlines,
    sla_calendar_for,
    targets_for,
)
from app.issues.workflow import Action, Status
from app.org.models import Office

# sla_calendar_for and targets_for live in sla_policy; the contract (and jobs, seed, views and
# settings) name them here
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

MAX_TITLE = 200
MAX_TEXT = 20_000
CONTACT_CHANNELS = ("phone", "email", "sms", "visit", "chat", "other")
LOW_RATING_POLICIES = ("reopen", "escalate", "close")
OWNER_ROLES = ("handler", "office_manager")


class Actor(Placed, Protocol):
    """Who acts: a User, or the API's authenticated principal (app.api.auth)."""

    @property
    def id(self) -> int: ...


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


def _valid_owner(office_id: int, owner_id: int) -> User:
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.active or owner.office_id != office_id:
        raise ValidationFailed(fields={"owner_id": "not a staff member of this office"})
    if owner.role not in OWNER_ROLES:
        raise ValidationFailed(fields={"owner_id": "only handlers and office managers own issues"})
    return owner


def _owner(issue: Issue, owner_id: int | None, actor: User | None) -> User | None:
    """Assign when asked; a handler who handles takes it; otherwise the owner stays, and an
    issue without one goes to the office's least busy handler."""
    if owner_id is not None:
        return _valid_owner(issue.office_id, owner_id)
    if actor is not None and actor.role == "handler":
        return actor
    if issue.owner_id is not None:
        return None
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


# Intake is the hot path (bench/README.md, "Issue intake over HTTP"): it reads and writes
# through Core statements built once, with bound parameters, and never loads an ORM object
# unless the caller asks for one (accept_issue does; the API answers from the values).
_customers = Customer.__table__.c
_offices = Office.__table__.c
_OFFICE_COLUMNS = (
    _offices.id,
    _offices.code,
    _offices.region_id,
    _offices.timezone,
    _offices.work_start,
    _offices.work_end,
)
_INTAKE_CUSTOMER = {
    kind: sa.select(_customers.id, _customers.name, _customers.tier, *_OFFICE_COLUMNS)
    .join_from(Customer.__table__, Office.__table__, _customers.office_id == _offices.id)
    .where(
        _customers.id == sa.bindparam("customer_id"),
        Scope.bound_office_filter(kind, _customers.office_id),
    )
    for kind in KINDS
}
_OFFICE_BY_CODE = sa.select(*_OFFICE_COLUMNS).where(_offices.code == sa.bindparam("office_code"))
_issues = Issue.__table__
_audit_events = AuditEvent.__table__
_INSERT_ISSUE = sa.insert(_issues).returning(_issues.c.id)
_INSERT_AUDIT = sa.insert(_audit_events)


def _typed(name: str, type_: Any) -> Any:
    """A parameter with its column's type spelled out in the SQL: in a SELECT list it has no
    type of its own (the psycopg dialect adds a cast for most types, not for BOOLEAN)."""
    return sa.cast(sa.bindparam(name, type_=type_), type_)


@cache  # built at first use: the mappers have given every foreign key column its type by then
def _accept_in_one_statement() -> sa.Select[Any]:
    """PostgreSQL: the counter bump, the issue and its audit row as one statement, the last
    before the commit, so the office's counter row stays locked for one round trip and the
    commit instead of four. The values are bound parameters named `v_<column>` (with
    `number_prefix`, `category_code`, the audit row's `audit_at` and `actor_id`, and the
    counter's key); it answers (id, number), or no row when the office has no counter for
    the year yet."""
    counter = counter_cte()
    digits = sa.cast(counter.c.last_number, sa.Text)
    number = sa.bindparam("number_prefix", type_=sa.Text) + sa.func.lpad(
        digits, sa.func.greatest(6, sa.func.length(digits)), "0"
    )
    columns = [c for c in _issues.c if c.key != "id"]
    issue = (
        sa.insert(_issues)
        .from_select(
            [c.key for c in columns],
            sa.select(
                *[number if c.key == "number" else _typed(f"v_{c.key}", c.type) for c in columns]
            ).select_from(counter),
        )
        .returning(_issues.c.id, _issues.c.number, _issues.c.office_id)
        .cte("issue")
    )

    def change(name: str, param: str, type_: Any) -> list[Any]:
        return [sa.literal(name), sa.func.json_build_array(None, _typed(param, type_))]

    a = _audit_events.c
    audit = (
        sa.insert(_audit_events)
        .from_select(
            [a.at, a.actor_id, a.entity_type, a.entity_id, a.action, a.changes, a.office_id],
            sa.select(
                _typed("audit_at", a.at.type),
                _typed("actor_id", a.actor_id.type),
                sa.literal("issue"),
                issue.c.id,
                sa.literal("accept"),
                # the same keys in the same order as the other engines' row (json keeps order)
                sa.func.json_build_object(
                    *change("status", "v_status", _issues.c.status.type),
                    sa.literal("number"),
                    sa.func.json_build_array(None, issue.c.number),
                    *change("priority", "v_priority", _issues.c.priority.type),
                    *change("category", "category_code", sa.String()),
                    *change("owner_id", "v_owner_id", _issues.c.owner_id.type),
                ),
                issue.c.office_id,
            ).select_from(issue),
        )
        .cte("audit")
    )
    return sa.select(issue.c.id, issue.c.number).add_cte(audit)


@dataclass(frozen=True)
class IntakeOffice:
    """The columns of an office that intake needs (scope check, SLA calendar, number)."""

    id: int
    code: str
    region_id: int
    timezone: str
    work_start: str
    work_end: str


@dataclass
class Intake:
    """An issue checked and computed, ready to be written: the row's values without its id
    and number, and the names the answer shows beside the ids."""

    values: dict[str, Any]
    office: IntakeOffice
    year: int
    actor_id: int | None
    category_code: str
    customer_name: str


@dataclass(frozen=True)
class AcceptedIssue:
    """What intake wrote: every column of the issue row (id and number included), the
    category and office codes and the customer's name."""

    values: Mapping[str, Any]
    category_code: str
    office_code: str
    customer_name: str

    @property
    def id(self) -> int:
        return int(self.values["id"])

    @property
    def number(self) -> str:
        return str(self.values["number"])


def _intake_place(
    scope: Scope, customer_id: Any, office_code: str | None, errors: dict[str, str]
) -> tuple[Any, IntakeOffice | None]:
    """The customer (in the actor's scope; another office's customer is "unknown", 422) and
    the office: the one named, else the customer's."""
    connection = db.session.connection()
    customer = connection.execute(
        _INTAKE_CUSTOMER[scope.kind], {"customer_id": customer_id, **scope.params()}
    ).first()
    office = None
    if customer is None:
        errors["customer_id"] = "unknown customer"
    else:
        office = IntakeOffice(*customer[3:])
    if office_code:
        row = connection.execute(
            _OFFICE_BY_CODE, {"office_code": office_code.strip().upper()}
        ).first()
        office = IntakeOffice(*row) if row is not None else None
        if office is None or not scope.covers_office(office):  # type: ignore[arg-type]
            errors["office"] = "unknown office"
    return customer, office


def _active_category(code: Any) -> Category | None:
    return reference_data().active_category(code)


def prepare_intake(
    *,
    actor: Actor | None,
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
) -> Intake:
    """受理, first half: everything checked (422 with `fields`) and computed — office, SLA
    targets and deadlines — by reads only; write_intake() then numbers and writes it.

    The two halves run in one transaction (accept_issue), or, for the API on SQLite, in a
    read transaction and then the write transaction, so that the database's single write
    lock covers only the writes. Either way each read sees committed data, as PostgreSQL's
    READ COMMITTED reads do inside one transaction."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    title = _text(title, "title", errors, limit=MAX_TITLE, required=True)
    description = _text(description, "description", errors, limit=MAX_TEXT, required=False)
    commitment = _text(commitment_text, "commitment_text", errors, limit=MAX_TEXT, required=False)
    if channel not in CHANNELS:
        errors["channel"] = "unknown channel"
    if priority not in PRIORITIES:
        errors["priority"] = "one of " + ", ".join(PRIORITIES)
    reference = reference_data()  # flushes what the session holds first, as a query would
    category_row = reference.categories.get(category) if isinstance(category, str) else None
    if category_row is None or not category_row.active:
        errors["category"] = "unknown category"
    scope = Scope.for_user(actor) if actor is not None else Scope("company")  # None: the system
    customer, office = _intake_place(scope, customer_id, office_code, errors)
    received_at = _aware(received_at, "received_at", errors) or now
    if received_at > now + timedelta(minutes=5):
        errors["received_at"] = "cannot be in the future"
    commitment_due_at = _aware(commitment_due_at, "commitment_due_at", errors)
    if errors or office is None or customer is None or category_row is None:
        raise ValidationFailed(fields=errors)
    owner = _valid_owner(office.id, owner_id) if owner_id is not None else None

    cal = sla_calendar_for(office)  # type: ignore[arg-type]
    response, resolve = reference.targets_for(priority, category_row.id, customer.tier)
    response_due, response_warn = clock_deadlines(cal, received_at, response)
    resolve_due, resolve_warn = clock_deadlines(cal, received_at, resolve)
    values: dict[str, Any] = dict.fromkeys(_issues.c.keys())
    values.update(
        office_id=office.id,
        customer_id=customer.id,
        title=title,
        description=description,
        channel=channel,
        category_id=category_row.id,
        priority=priority,
        status=Status.ACCEPTED.value,
        escalation_level=0,
        owner_id=owner.id if owner is not None else None,
        created_by_id=actor.id if actor is not None else None,
        received_at=received_at,
        response_due_at=response_due,
        resolve_due_at=resolve_due,
        response_warn_at=response_warn,
        resolve_warn_at=resolve_warn,
        response_target_minutes=response,
        resolve_target_minutes=resolve,
        commitment_text=commitment or None,
        commitment_due_at=commitment_due_at,
        reopen_count=0,
        voice_id=voice_id,
        version=1,
        created_at=now,
        updated_at=now,
    )
    del values["id"], values["number"]
    return Intake(
        values=values,
        office=office,
        year=received_at.astimezone(cal.zone).year,
        actor_id=actor.id if actor is not None else None,
        category_code=category_row.code,
        customer_name=customer.name,
    )


def write_intake(intake: Intake) -> AcceptedIssue:
    """受理, second half: the number, the issue row and its audit row, in the caller's
    transaction. Drawing the number locks the office's counter (PostgreSQL) until the
    commit, so every other intake of the office waits from there on: only writes follow,
    and on PostgreSQL all three are one statement."""
    connection = db.session.connection()
    values = dict(intake.values)
    if connection.dialect.name == "postgresql":
        params = {
            # prefixed: the counter's UPDATE would take a parameter named as one of its
            # columns (office_id) for a value to SET
            **{f"v_{key}": value for key, value in values.items()},
            "counter_office": intake.office.id,
            "counter_year": intake.year,
            "number_prefix": number_prefix(intake.office.code, intake.year),
            "audit_at": values["created_at"],
            "actor_id": intake.actor_id,
            "category_code": intake.category_code,
        }
        row = connection.execute(_accept_in_one_statement(), params).first()
        if row is None:  # the office's first issue of the year
            ensure_counter(intake.office.id, intake.year)
            row = connection.execute(_accept_in_one_statement(), params).one()
        values["id"], values["number"] = row
        return AcceptedIssue(values, intake.category_code, intake.office.code, intake.customer_name)
    number = next_number(intake.office.id, intake.office.code, intake.year)
    values["number"] = number
    values["id"] = connection.execute(_INSERT_ISSUE, values).scalar_one()
    connection.execute(
        _INSERT_AUDIT,
        {
            "at": values["created_at"],
            "actor_id": intake.actor_id,
            "entity_type": "issue",
            "entity_id": values["id"],
            "action": "accept",
            "changes": {
                "status": [None, values["status"]],
                "number": [None, number],
                "priority": [None, values["priority"]],
                "category": [None, intake.category_code],
                "owner_id": [None, values["owner_id"]],
            },
            "office_id": values["office_id"],
        },
    )
    return AcceptedIssue(values, intake.category_code, intake.office.code, intake.customer_name)


def accept_issue(
    *,
    actor: User | None,
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
    """受理: a numbered issue with its SLA deadlines counted from `received_at` (when the
    customer called; default now), in the caller's transaction."""
    intake = prepare_intake(
        actor=actor,
        customer_id=customer_id,
        title=title,
        description=description,
        channel=channel,
        category=category,
        priority=priority,
        office_code=office_code,
        received_at=received_at,
        commitment_text=commitment_text,
        commitment_due_at=commitment_due_at,
        voice_id=voice_id,
        owner_id=owner_id,
        now=now,
    )
    accepted = write_intake(intake)
    # written just above in this transaction, so found; the UI and jobs go on with the object
    return db.session.get_one(Issue, accepted.id)


# --- edit --------------------------------------------------------------------------------------

EDITABLE = ("title", "description", "category", "priority", "commitment_text", "commitment_due_at")


def _clean_edit(
    issue: Issue, changes: dict[str, Any], errors: dict[str, str]
) -> tuple[dict[str, Any], Category]:
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
    category: Category = issue.category
    if "category" in changes and changes["category"] != issue.category.code:
        found = _active_category(changes["category"])
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
    reason = _text(reason, "reason", errors, limit=2000, required=True)
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
    errors: dict[str, str] = {}
    reason = _text(reason, "reason", errors, limit=2000, required=True)
    if errors:
        raise ValidationFailed(fields=errors)
    issue = _load(actor, issue_id, version, Action.ESCALATE)
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
    """Resolved, with who is responsible and why (分清责任)."""
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
    comment = _text(comment, "comment", errors, limit=MAX_TEXT, required=False)
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
    now = now or utcnow()
    errors: dict[str, str] = {}
    text = _text(text, "text", errors, limit=MAX_TEXT, required=True)
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
    text = _text(text, "text", errors, limit=MAX_TEXT, required=True)
    at = _aware(at, "at", errors) or now
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
