"""The `escalate` job: every five minutes, escalate what the SLA clocks call for and warn
owners at 80 %. Idempotent: a level is escalated once (unique issue+level, and the issue's
level is checked), a warning is one outbox key; a run after downtime catches up level by
level."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.core import timeutils
from app.extensions import db
from app.issues import notifications, sla, workflow
from app.issues.escalation import judge
from app.issues.models import Issue, IssuePause
from app.issues.services import escalate_issue, sla_calendar_for
from app.scheduler.registry import register_job

log = logging.getLogger(__name__)

OPEN = [s.value for s in workflow.OPEN_STATUSES]
# The 80 % point of the longest target lies at most this far (in calendar time, holidays
# included) before its deadline, so issues due later cannot need anything yet.
HORIZON = timedelta(days=21)
BATCH = 2000


def every_five_minutes(now: datetime, tz: str) -> str:
    local = timeutils.local(now, tz)
    return local.replace(minute=local.minute - local.minute % 5).strftime("%Y-%m-%dT%H:%M")


def candidates(now: datetime) -> sa.Select[Any]:
    soon = now + HORIZON
    return (
        sa.select(Issue)
        .where(
            Issue.status.in_(OPEN),
            sa.or_(
                Issue.resolve_due_at < soon,
                sa.and_(Issue.first_response_at.is_(None), Issue.response_due_at < soon),
            ),
        )
        .order_by(Issue.id)
    )


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


def _review(issue: Issue, pauses: list[sla.Pause], now: datetime, counts: dict[str, int]) -> None:
    cal = sla_calendar_for(issue.office)
    response = None
    if issue.first_response_at is None:
        response = sla.elapsed_fraction(
            cal, issue.received_at, issue.response_target_minutes, now, pauses
        )
    resolution = sla.elapsed_fraction(
        cal, issue.received_at, issue.resolve_target_minutes, now, pauses
    )
    verdict = judge(response, resolution)
    for target in verdict.warn:
        fraction = response if target == "response" else resolution
        counts["warnings"] += notifications.notify_sla_warning(issue, target, fraction or 0.0)
    while issue.escalation_level < min(verdict.level, workflow.MAX_ESCALATION_LEVEL):
        escalate_issue(
            actor=None, issue_id=issue.id, reason=verdict.reason, automatic=True, now=now
        )
        counts["escalations"] += 1


@register_job(
    "escalate",
    cron={"minute": "*/5"},
    period=every_five_minutes,
    description="Escalate issues whose SLA targets are missed; warn owners at 80 %.",
)
def escalate(now: datetime) -> dict[str, Any]:
    counts = {"checked": 0, "escalations": 0, "warnings": 0, "errors": 0}
    last_id = 0
    while True:
        batch = list(
            db.session.scalars(
                candidates(now)
                .where(Issue.id > last_id)
                .options(joinedload(Issue.office), joinedload(Issue.owner))
                .limit(BATCH)
            )
        )
        if not batch:
            break
        pauses = _pauses_for([i.id for i in batch])
        for issue in batch:
            counts["checked"] += 1
            try:
                with db.session.begin_nested():
                    _review(issue, pauses.get(issue.id, []), now, counts)
            except Exception:  # one bad issue must not stop the others
                counts["errors"] += 1
                log.exception("escalate: issue %s failed", issue.id)
        last_id = batch[-1].id
    return counts
