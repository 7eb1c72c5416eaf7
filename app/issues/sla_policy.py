"""Where the pure SLA arithmetic meets the database: an office's calendar, the target rows,
an issue's pauses, and its deadlines.

The response clock runs from received_at. The resolution clock runs from received_at too,
until a reopen restarts it (the customer was not satisfied: a fresh target from that moment).
Both skip the time spent waiting on the customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.extensions import db
from app.issues import sla, workflow
from app.issues.escalation import WARN_AT
from app.issues.models import Issue, IssuePause
from app.issues.reference import reference_data
from app.org.models import Office


def sla_calendar_for(office: Office) -> sla.WorkingCalendar:
    return _calendar(office.timezone, office.work_start, office.work_end)


@lru_cache(maxsize=256)
def _calendar(tz: str, work_start: str, work_end: str) -> sla.WorkingCalendar:
    # keyed by the office's settings themselves, so an edited office simply gets another entry
    return sla.WorkingCalendar.from_office(tz, work_start, work_end)


def targets_for(priority: str, category_id: int | None, tier: str | None) -> tuple[int, int]:
    """(response, resolution) in working minutes. The most specific target row wins:
    (priority, category, tier), then (priority, category), (priority, tier), (priority); with
    no row at all, sla.DEFAULT_TARGETS. Read through the per-process reference cache."""
    return reference_data().targets_for(priority, category_id, tier)


def pauses_of(issue: Issue) -> list[sla.Pause]:
    rows = db.session.scalars(
        sa.select(IssuePause).where(IssuePause.issue_id == issue.id).order_by(IssuePause.id)
    )
    return [(p.started_at, p.ended_at) for p in rows]


def resolve_clock_start(issue: Issue) -> datetime:
    """received_at, or the last reopen (its audit row is written in the same transaction)."""
    return resolve_clock_starts([issue])[issue.id]


def resolve_clock_starts(issues: Sequence[Issue]) -> dict[int, datetime]:
    """resolve_clock_start() of each issue, by id: one query for all the reopened ones, so
    the escalate job measures a batch by the same rule as the issue page, at one query."""
    starts = {issue.id: issue.received_at for issue in issues}
    reopened = [issue.id for issue in issues if issue.reopen_count]
    if not reopened:
        return starts
    rows = db.session.execute(
        sa.select(AuditEvent.entity_id, sa.func.max(AuditEvent.at))
        .where(
            AuditEvent.entity_type == "issue",
            AuditEvent.entity_id.in_(reopened),
            AuditEvent.action == "reopen",
        )
        .group_by(AuditEvent.entity_id)
    )
    for issue_id, last_reopen in rows:
        if last_reopen is not None:
            starts[issue_id] = max(last_reopen, starts[issue_id])
    return starts


def clock_deadlines(
    cal: sla.WorkingCalendar, start: datetime, minutes: int
) -> tuple[datetime, datetime]:
    """(due, warn) of a clock without pauses started at `start` with a target of `minutes`
    working minutes: the deadline and its 80 % warning instant."""
    return (
        sla.add_working_minutes(cal, start, minutes),
        sla.add_working_minutes(cal, start, minutes * WARN_AT),
    )


def set_deadlines(issue: Issue, cal: sla.WorkingCalendar, *, resolve_from: datetime) -> None:
    """Deadlines and their 80 % warning instants for a clock without pauses (new or reopened
    issue); the response deadline only when the response clock is still running."""
    if issue.first_response_at is None:
        issue.response_due_at, issue.response_warn_at = clock_deadlines(
            cal, issue.received_at, issue.response_target_minutes
        )
    issue.resolve_due_at, issue.resolve_warn_at = clock_deadlines(
        cal, resolve_from, issue.resolve_target_minutes
    )


def recompute_deadlines(issue: Issue) -> None:
    """Deadlines from the clock starts, pushed out by the working time spent waiting (after a
    pause ends, or when the targets change with priority or category)."""
    cal = sla_calendar_for(issue.office)
    pauses = pauses_of(issue)
    start = resolve_clock_start(issue)
    response = issue.response_target_minutes
    issue.response_due_at = sla.due_at(cal, issue.received_at, response, pauses)
    issue.response_warn_at = sla.due_at(cal, issue.received_at, response * WARN_AT, pauses)
    resolve = issue.resolve_target_minutes
    issue.resolve_due_at = sla.due_at(cal, start, resolve, pauses)
    issue.resolve_warn_at = sla.due_at(cal, start, resolve * WARN_AT, pauses)


def resolution_minutes(issue: Issue, now: datetime) -> int:
    """Working minutes the resolution clock ran until `now`, pauses excluded; comparable with
    resolve_target_minutes (met ⇔ resolve_minutes ≤ target)."""
    cal = sla_calendar_for(issue.office)
    start = resolve_clock_start(issue)
    return round(sla.working_minutes_between_excluding(cal, start, now, pauses_of(issue)))


def response_minutes(issue: Issue, at: datetime) -> int:
    cal = sla_calendar_for(issue.office)
    return round(
        sla.working_minutes_between_excluding(cal, issue.received_at, at, pauses_of(issue))
    )


_OPEN = frozenset(s.value for s in workflow.OPEN_STATUSES)


def time_left_of(issue: Issue, now: datetime) -> sla.TimeLeft | None:
    """The next target due of an open issue (the first response until it is given, then the
    resolution) and the working time left on it in its office's calendar; None for an issue
    that is resolved or closed. Reads only the issue and its office (load the office with the
    issues for a list): the stored deadlines already count the ended pauses, and a wait still
    open stops the clock at `waiting_since`."""
    if issue.status not in _OPEN:
        return None
    cal = sla_calendar_for(issue.office)
    paused_since = None
    if issue.status == workflow.Status.WAITING.value:
        paused_since = issue.waiting_since or now
    if issue.first_response_at is None:
        target, due = "response", issue.response_due_at
    else:
        target, due = "resolution", issue.resolve_due_at
    return sla.time_left(cal, target, due, now, paused_since=paused_since)
