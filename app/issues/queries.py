"""Issue reads: scoped, filtered, keyset-paginated, with related rows loaded in bulk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.core.audit import AuditEvent
from app.core.pagination import Page, keyset_page
from app.core.scoping import Scope, get_scoped
from app.customers.models import Customer
from app.customers.queries import escape_like, prefix_range
from app.extensions import db
from app.issues import sla, workflow
from app.issues.models import Category, Escalation, Issue, IssueContact, IssueNote, IssuePause
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
    q = q.strip()[:100]
    if not q:
        return stmt
    pattern = f"%{escape_like(q)}%"
    customers = sa.select(Customer.id).where(prefix_range(Customer.name, q))
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
    scope: Scope, f: IssueFilters, *, limit: int, cursor: str | None, now: datetime
) -> Page[Issue]:
    stmt = filtered(scope, f, now).options(
        joinedload(Issue.customer),
        joinedload(Issue.category),
        joinedload(Issue.owner),
        joinedload(Issue.office),
    )
    return keyset_page(stmt, order=[Issue.id], key=lambda i: [i.id], limit=limit, cursor=cursor)


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # audit | note | contact | escalation
    actor: str | None
    data: dict[str, Any] = field(default_factory=dict)


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
            .order_by(IssueContact.at)
        )
    )


def issue_escalations(issue: Issue) -> list[Escalation]:
    return list(
        db.session.scalars(
            sa.select(Escalation).where(Escalation.issue_id == issue.id).order_by(Escalation.level)
        )
    )


@dataclass
class SlaClock:
    target: str  # response | resolution
    due_at: datetime
    met_at: datetime | None
    minutes_left: int  # working minutes; negative when overdue
    paused: bool

    @property
    def overdue(self) -> bool:
        return self.minutes_left < 0


def sla_clocks(issue: Issue, now: datetime) -> list[SlaClock]:
    from app.issues.services import sla_calendar_for

    cal = sla_calendar_for(issue.office)
    paused = issue.status == workflow.Status.WAITING.value
    pauses = [
        (p.started_at, p.ended_at)
        for p in db.session.scalars(sa.select(IssuePause).where(IssuePause.issue_id == issue.id))
    ]
    clocks = []
    for target, due, met in (
        ("response", issue.response_due_at, issue.first_response_at),
        ("resolution", issue.resolve_due_at, issue.resolved_at),
    ):
        end = met or now
        if end <= due:
            left = sla.working_minutes_between(cal, end, due)
            if not met and paused:
                left += sla.paused_minutes(cal, end, due, pauses)
        else:
            left = -sla.working_minutes_between_excluding(cal, due, end, pauses)
        clocks.append(SlaClock(target, due, met, round(left), paused and met is None))
    return clocks
