"""Issue reads: scoped, filtered, keyset-paginated, with related rows loaded in bulk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload

from app.auth.models import User
from app.core.audit import AuditEvent
from app.core.outbox_service import CLAIM_NOTE, messages_for
from app.core.pagination import Page, keyset_page
from app.core.scoping import Scope, get_scoped
from app.customers.models import Customer
from app.customers.queries import escape_like, prefix_range
from app.db import utcnow
from app.extensions import db
from app.issues import notifications, sla, workflow
from app.issues.inputs import OWNER_ROLES
from app.issues.models import Category, Escalation, Issue, IssueContact, IssueNote
from app.issues.sla_policy import (
    pauses_of,
    resolve_clock_start,
    sla_calendar_for,
    time_left_of,
)
from app.org.models import Office, Region

OPEN = [s.value for s in workflow.OPEN_STATUSES]


@dataclass
class IssueFilters:
    status: list[str] | None = None
    office_code: str | None = None
    region_code: str | None = None
    owner_id: int | None = None
    priority: str | None = None
    category: str | None = None
    channel: str | None = None
    overdue: bool = False
    due_soon: bool = False
    escalated: bool = False
    q: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    customer_id: int | None = None
    tz: str = "Asia/Shanghai"


def get_issue(scope: Scope, issue_id: int) -> Issue:
    return get_scoped(Issue, issue_id, scope)


def _day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz))


def _search(stmt: sa.Select[Any], q: str) -> sa.Select[Any]:
    """Number by prefix (a range on the unique index: "SH-2026-0001" finds 000100–000199),
    title, description and customer name by substring, wildcards typed by the user escaped."""
    q = q.strip()[:100]
    if not q:
        return stmt
    pattern = f"%{escape_like(q)}%"
    customers = sa.select(Customer.id).where(Customer.name.like(pattern, escape="\\"))
    return stmt.where(
        sa.or_(
            prefix_range(Issue.number, q.upper()),
            Issue.title.like(pattern, escape="\\"),
            Issue.description.like(pattern, escape="\\"),
            Issue.customer_id.in_(customers),
        )
    )


def _field_clauses(f: IssueFilters) -> list[Any]:
    clauses: list[Any] = []
    if f.status:
        clauses.append(Issue.status.in_(f.status))
    if f.office_code:
        office = sa.select(Office.id).where(Office.code == f.office_code.upper())
        clauses.append(Issue.office_id == office.scalar_subquery())
    if f.region_code:
        offices = sa.select(Office.id).join(Region).where(Region.code == f.region_code.upper())
        clauses.append(Issue.office_id.in_(offices))
    if f.owner_id is not None:
        clauses.append(Issue.owner_id == f.owner_id)
    if f.priority:
        clauses.append(Issue.priority == f.priority)
    if f.category:
        category = sa.select(Category.id).where(Category.code == f.category)
        clauses.append(Issue.category_id == category.scalar_subquery())
    if f.channel:
        clauses.append(Issue.channel == f.channel)
    if f.customer_id is not None:
        clauses.append(Issue.customer_id == f.customer_id)
    return clauses


def _time_clauses(f: IssueFilters, now: datetime) -> list[Any]:
    clauses: list[Any] = []
    if f.overdue:
        clauses += [Issue.status.in_(OPEN), Issue.resolve_due_at < now]
    if f.due_soon:
        clauses += [
            Issue.status.in_(OPEN),
            Issue.resolve_due_at >= now,
            Issue.resolve_due_at < now + timedelta(hours=24),
        ]
    if f.escalated:
        clauses.append(Issue.status == workflow.Status.ESCALATED.value)
    if f.created_from:
        clauses.append(Issue.received_at >= _day_start(f.created_from, f.tz))
    if f.created_to:
        clauses.append(Issue.received_at < _day_start(f.created_to + timedelta(days=1), f.tz))
    return clauses


def filtered(scope: Scope, f: IssueFilters, now: datetime) -> sa.Select[Any]:
    stmt = sa.select(Issue).where(
        scope.office_filter(Issue.office_id), *_field_clauses(f), *_time_clauses(f, now)
    )
    return _search(stmt, f.q) if f.q else stmt


def list_issues(
    scope: Scope,
    f: IssueFilters,
    *,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> Page[Issue]:
    """Newest first (keyset on id): one query for the page, with customer, category, owner
    and office joined in, whatever the page size."""
    stmt = filtered(scope, f, now or utcnow()).options(
        joinedload(Issue.customer).options(lazyload(Customer.phones)),
        joinedload(Issue.category),
        joinedload(Issue.owner),
        joinedload(Issue.office),
    )
    return keyset_page(stmt, order=[Issue.id], key=lambda i: [i.id], limit=limit, cursor=cursor)


@dataclass(frozen=True)
class Owner:
    id: int
    name: str
    office_code: str
    active: bool


def list_owners(scope: Scope) -> list[Owner]:
    """The people who can own issues (handlers, office managers) in the offices of `scope`,
    by office and name; deactivated ones too, since their issues still wait for someone."""
    rows = db.session.execute(
        sa.select(User.id, User.name, Office.code, User.active)
        .join(Office, Office.id == User.office_id)
        .where(User.role.in_(OWNER_ROLES), scope.office_filter(User.office_id))
        .order_by(Office.code, User.name, User.id)
    )
    return [Owner(*row) for row in rows]


# --- one issue: its history, notes, contacts, escalations --------------------------------------


def issue_history(issue: Issue) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == "issue", AuditEvent.entity_id == issue.id)
            .order_by(AuditEvent.id)
        )
    )


def issue_notes(issue: Issue) -> list[IssueNote]:
    return list(
        db.session.scalars(
            sa.select(IssueNote).where(IssueNote.issue_id == issue.id).order_by(IssueNote.id)
        )
    )


def issue_contacts(issue: Issue) -> list[IssueContact]:
    return list(
        db.session.scalars(
            sa.select(IssueContact)
            .where(IssueContact.issue_id == issue.id)
            .order_by(IssueContact.at, IssueContact.id)
        )
    )


def issue_escalations(issue: Issue) -> list[Escalation]:
    return list(
        db.session.scalars(
            sa.select(Escalation).where(Escalation.issue_id == issue.id).order_by(Escalation.level)
        )
    )


@dataclass(frozen=True)
class IssueNotification:
    """One e-mail the issue caused, as the outbox knows it, for "failures visible" on the issue
    page. No body: a rating link's body holds the customer's link to rate the issue."""

    kind: notifications.Kind
    recipient: str
    subject: str
    # pending (queued, or retrying after a failed attempt), sending (claimed by a sender right
    # now), sent, failed (the outbox gave up), bounced (sent, then reported undeliverable)
    state: str
    attempts: int
    # why the last attempt failed or why it bounced; on a sent one the sender's note, if any
    # (e.g. only logged, no MAIL_SERVER configured)
    detail: str | None
    queued_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None  # a retry's time, after a failed attempt


def _notification_state(status: str, bounced: bool, last_error: str | None) -> str:
    if status == "sent":
        return "bounced" if bounced else "sent"
    if status == "pending" and last_error == CLAIM_NOTE:
        return "sending"
    return status


def issue_notifications(issue: Issue) -> list[IssueNotification]:
    """The e-mail the issue caused (escalations, low ratings, SLA warnings, the customer's
    rating link), newest first, each with its delivery state."""
    rows = []
    for m in messages_for("issue", issue.id):
        bounced = m.bounced_at is not None
        state = _notification_state(m.status, bounced, m.last_error)
        if state == "bounced":
            detail = " ".join(filter(None, (m.bounce_status, m.bounce_detail))) or None
        elif state == "sending":
            detail = None  # the claim's placeholder, not an error
        else:
            detail = m.last_error
        rows.append(
            IssueNotification(
                kind=notifications.kind_of(m.idempotency_key),
                recipient=m.recipient,
                subject=m.subject,
                state=state,
                attempts=m.attempts,
                detail=detail,
                queued_at=m.created_at,
                sent_at=m.sent_at,
                # a message never tried goes with the send-outbox job's next run
                next_attempt_at=m.next_attempt_at if state == "pending" and m.attempts else None,
            )
        )
    return rows


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # audit | note | contact | escalation
    actor: str | None  # the person's name; None for the system (jobs)
    data: dict[str, Any] = field(default_factory=dict)


# these audit rows only say that a note, contact or escalation row exists: the timeline shows
# that row itself instead (with its text)
_SHOWN_AS_ROWS = frozenset({"note", "contact", "escalate"})
_KIND_ORDER = {"audit": 0, "escalation": 1, "contact": 2, "note": 3}


def issue_timeline(issue: Issue) -> list[TimelineEntry]:
    """Everything that happened to the issue, oldest first: changes (from → to), notes,
    contacts with the customer and escalations, with who did it."""
    events = [e for e in issue_history(issue) if e.action not in _SHOWN_AS_ROWS]
    notes, contacts, escalations = (
        issue_notes(issue),
        issue_contacts(issue),
        issue_escalations(issue),
    )
    actor_ids = {e.actor_id for e in events} | {n.author_id for n in notes}
    actor_ids |= {c.author_id for c in contacts} | {x.actor_id for x in escalations}
    names: dict[int | None, str] = dict(
        db.session.execute(  # type: ignore[arg-type]
            sa.select(User.id, User.name).where(User.id.in_({i for i in actor_ids if i}))
        ).all()
    )
    entries = [
        TimelineEntry(e.at, "audit", names.get(e.actor_id), {"action": e.action, **e.changes})
        for e in events
    ]
    entries += [
        TimelineEntry(
            n.created_at, "note", names.get(n.author_id), {"text": n.text, "internal": n.internal}
        )
        for n in notes
    ]
    entries += [
        TimelineEntry(
            c.at,
            "contact",
            names.get(c.author_id),
            {"direction": c.direction, "channel": c.channel, "text": c.text},
        )
        for c in contacts
    ]
    entries += [
        TimelineEntry(
            x.at,
            "escalation",
            names.get(x.actor_id),
            {"level": x.level, "reason": x.reason, "automatic": x.automatic},
        )
        for x in escalations
    ]
    return sorted(entries, key=lambda t: (t.at, _KIND_ORDER[t.kind]))


# --- SLA clocks ------------------------------------------------------------------------------


@dataclass
class TargetClock:
    target: str  # response | resolution
    due_at: datetime
    met_at: datetime | None
    minutes_left: int  # working minutes of the target still unused; negative when overdue
    paused: bool  # waiting on the customer and not yet met: the clock stands still

    @property
    def overdue(self) -> bool:
        return self.minutes_left < 0


@dataclass
class SlaClock:
    response: TargetClock
    resolution: TargetClock
    paused: bool

    @property
    def overdue(self) -> bool:
        return self.response.overdue or self.resolution.overdue


def sla_clock(issue: Issue, now: datetime) -> SlaClock:
    """Working minutes left (or overdue) on both targets at `now`, pauses excluded: used time
    is counted from each clock's start (received_at; the last reopen for resolution) to the
    moment the target was met, or to `now`."""
    cal = sla_calendar_for(issue.office)
    pauses = pauses_of(issue)
    paused = issue.status == workflow.Status.WAITING.value

    def clock(
        target: str, start: datetime, minutes: int, due: datetime, met: datetime | None
    ) -> TargetClock:
        used = sla.working_minutes_between_excluding(cal, start, met or now, pauses)
        return TargetClock(target, due, met, round(minutes - used), paused and met is None)

    response = clock(
        "response",
        issue.received_at,
        issue.response_target_minutes,
        issue.response_due_at,
        issue.first_response_at,
    )
    resolution = clock(
        "resolution",
        resolve_clock_start(issue),
        issue.resolve_target_minutes,
        issue.resolve_due_at,
        issue.resolved_at,
    )
    return SlaClock(response, resolution, paused)


def sla_clocks(issue: Issue, now: datetime) -> list[TargetClock]:
    """The two clocks as a list, for pages that show one box per target."""
    clock = sla_clock(issue, now)
    return [clock.response, clock.resolution]


def time_left_by_id(scope: Scope, ids: list[int], now: datetime) -> dict[int, sla.TimeLeft]:
    """Time left on each open issue among `ids` (a page of some other list, such as the
    customer's history), in one query for the page."""
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(Issue)
        .where(Issue.id.in_(ids), Issue.status.in_(OPEN), scope.office_filter(Issue.office_id))
        .options(joinedload(Issue.office))
    )
    found = {issue.id: time_left_of(issue, now) for issue in rows}
    return {issue_id: left for issue_id, left in found.items() if left is not None}


# --- the hotline screen's caller panel --------------------------------------------------------

SNIPPET = 80  # characters of a contact's text in the caller panel
PANEL_OPEN = 10  # open issues listed beside the form; the customer page has the rest
PANEL_RATINGS = 5
PANEL_CONTACTS = 5
PANEL_VOICES = 3  # the voice domain's recent_voices, beside the contacts


@dataclass(frozen=True)
class RecentContact:
    at: datetime
    direction: str  # in | out
    channel: str
    text: str  # the start of what was said (SNIPPET characters, then "…")
    issue_id: int
    issue_number: str


@dataclass(frozen=True)
class Rated:
    issue_id: int
    issue_number: str
    rating: int


@dataclass
class CallerHistory:
    open_issues: list[Issue]  # with their office loaded, for the SLA calendar
    ratings: list[Rated]
    contacts: list[RecentContact]


def _snippet(text: str) -> str:
    return text if len(text) <= SNIPPET else text[:SNIPPET] + "…"


def caller_history(scope: Scope, customer_id: int) -> CallerHistory:
    """What the agent sees of a caller while the phone rings, in three small queries whatever
    the customer's history: their open issues (newest first), the last
    ratings, and the last exchanges logged on their issues. Only issues of offices in `scope`
    count: a customer's issue may be another office's (intake can name the office)."""
    mine = sa.and_(Issue.customer_id == customer_id, scope.office_filter(Issue.office_id))
    open_issues = list(
        db.session.scalars(
            sa.select(Issue)
            .where(mine, Issue.status.in_(OPEN))
            .options(joinedload(Issue.office))
            .order_by(Issue.id.desc())
            .limit(PANEL_OPEN)
        )
    )
    ratings = [
        Rated(issue_id, number, rating or 0)
        for issue_id, number, rating in db.session.execute(
            sa.select(Issue.id, Issue.number, Issue.rating)
            .where(mine, Issue.rating.is_not(None))
            .order_by(Issue.id.desc())
            .limit(PANEL_RATINGS)
        )
    ]
    contacts = [
        RecentContact(at, direction, channel, _snippet(text), issue_id, number)
        for at, direction, channel, text, issue_id, number in db.session.execute(
            sa.select(
                IssueContact.at,
                IssueContact.direction,
                IssueContact.channel,
                # a contact can be pages long: only its start leaves the database
                sa.func.substr(IssueContact.text, 1, SNIPPET + 1),
                Issue.id,
                Issue.number,
            )
            .join(Issue, Issue.id == IssueContact.issue_id)
            .where(mine)
            .order_by(IssueContact.at.desc(), IssueContact.id.desc())
            .limit(PANEL_CONTACTS)
        )
    ]
    return CallerHistory(open_issues, ratings, contacts)
