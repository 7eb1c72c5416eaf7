"""The `escalate` job: every five minutes, escalate what the SLA clocks call for and warn
owners at 80 %.

Two indexed queries find the work: issues past a deadline and below the top level (only these
need business-time arithmetic, to tell level 1 from 2 and 3), and issues past the precomputed
80 % instant of a target but not past the target. Idempotent: the clocks decide a target level
and the issue is raised to it on its locked row, never past it (a manual escalation or an
overlapping run in between counts), each level once (unique issue+level); a warning is one
outbox key; a run after downtime catches up level by level. Waiting on the customer stops the
clock, so waiting issues are left alone until they resume (their deadlines move out then).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.core import timeutils
from app.extensions import db
from app.issues import notifications, sla, workflow
from app.issues.escalation import judge
from app.issues.models import Issue, IssuePause
from app.issues.services import escalate_to_level, sla_calendar_for
from app.issues.sla_policy import resolve_clock_starts
from app.scheduler.registry import register_job

log = logging.getLogger(__name__)

RUNNING = [s.value for s in workflow.OPEN_STATUSES if s not in workflow.PAUSED_STATUSES]
BATCH = 2000


def every_five_minutes(now: datetime, tz: str) -> str:
    local = timeutils.local(now, tz)
    return local.replace(minute=local.minute - local.minute % 5).strftime("%Y-%m-%dT%H:%M")


def overdue(now: datetime) -> sa.Select[Any]:
    return sa.select(Issue).where(
        Issue.status.in_(RUNNING),
        Issue.escalation_level < workflow.MAX_ESCALATION_LEVEL,
        sa.or_(
            Issue.resolve_due_at <= now,
            sa.and_(Issue.first_response_at.is_(None), Issue.response_due_at <= now),
        ),
    )


def to_warn(now: datetime) -> sa.Select[Any]:
    return sa.select(Issue).where(
        Issue.status.in_(RUNNING),
        Issue.owner_id.is_not(None),
        sa.or_(
            sa.and_(Issue.resolve_warn_at <= now, Issue.resolve_due_at > now),
            sa.and_(
                Issue.first_response_at.is_(None),
                Issue.response_warn_at <= now,
                Issue.response_due_at > now,
            ),
        ),
    )


def _batches(stmt: sa.Select[Any]) -> Iterator[list[Issue]]:
    last_id = 0
    while True:
        batch = list(
            db.session.scalars(
                stmt.where(Issue.id > last_id)
                .options(joinedload(Issue.office), joinedload(Issue.owner))
                .order_by(Issue.id)
                .limit(BATCH)
            )
        )
        if not batch:
            return
        yield batch
        last_id = batch[-1].id


def _pauses_for(ids: list[int]) -> dict[int, list[sla.Pause]]:
    pauses: dict[int, list[sla.Pause]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(IssuePause.issue_id, IssuePause.started_at, IssuePause.ended_at).where(
            IssuePause.issue_id.in_(ids)
        )
    )
    for issue_id, started, ended in rows:
        pauses[issue_id].append((started, ended))
    return pauses


def _escalate_overdue(
    issue: Issue, pauses: list[sla.Pause], resolve_start: datetime, now: datetime
) -> int:
    """`resolve_start` is the resolution clock's start (the last reopen, if any), as on the
    issue page: a reopened issue gets a fresh target, so its overrun counts from there."""
    cal = sla_calendar_for(issue.office)
    response = None
    if issue.first_response_at is None:
        response = sla.elapsed_fraction(
            cal, issue.received_at, issue.response_target_minutes, now, pauses
        )
    resolution = sla.elapsed_fraction(cal, resolve_start, issue.resolve_target_minutes, now, pauses)
    verdict = judge(response, resolution)
    target = min(verdict.level, workflow.MAX_ESCALATION_LEVEL)
    # The level read with the scan may be stale, but only ever too low (levels never go
    # down): skipping when it already reaches the target is safe and spares a row lock.
    # Anything below is decided by escalate_to_level on the locked row.
    if target == 0 or issue.escalation_level >= target:
        return 0
    return escalate_to_level(issue_id=issue.id, level=target, reason=verdict.reason, now=now)


def _warn(issue: Issue, now: datetime) -> int:
    sent = 0
    if issue.resolve_warn_at is not None and issue.resolve_warn_at <= now < issue.resolve_due_at:
        sent += notifications.notify_sla_warning(issue, "resolution", 0.8)
    if (
        issue.first_response_at is None
        and issue.response_warn_at is not None
        and issue.response_warn_at <= now < issue.response_due_at
    ):
        sent += notifications.notify_sla_warning(issue, "response", 0.8)
    return sent


@register_job(
    "escalate",
    cron={"minute": "*/5"},
    period=every_five_minutes,
    description="Escalate issues whose SLA targets are missed; warn owners at 80 %.",
)
def escalate(now: datetime) -> dict[str, Any]:
    counts = {"checked": 0, "escalations": 0, "warnings": 0, "errors": 0}
    for batch in _batches(overdue(now)):
        pauses = _pauses_for([i.id for i in batch])
        starts = resolve_clock_starts(batch)
        for issue in batch:
            counts["checked"] += 1
            try:
                with db.session.begin_nested():
                    counts["escalations"] += _escalate_overdue(
                        issue, pauses.get(issue.id, []), starts[issue.id], now
                    )
            except Exception:  # one bad issue must not stop the others
                counts["errors"] += 1
                log.exception("escalate: issue %s failed", issue.id)
    for batch in _batches(to_warn(now)):
        for issue in batch:
            counts["checked"] += 1
            counts["warnings"] += _warn(issue, now)
    return counts
