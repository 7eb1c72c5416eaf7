"""The `weekly-report` job: every Monday 08:00 (TIMEZONE), keep one snapshot of the weekly
monitoring per office, region and the company, and e-mail each scope's managers a summary.

"What is due and not yet done": every complete week from the week after the newest kept weekly
snapshot (at most CATCH_UP_WEEKS back) up to the last complete week, for every scope that has
no snapshot of it yet. So a run after downtime catches up on the missed Mondays, a repeated run
finds nothing to do, and an office created since gets its first snapshot. The unique
(kind, scope, period) of ReportSnapshot and the outbox idempotency key make two overlapping
runs store one snapshot and send one e-mail per manager.

`flask jobs run weekly-report --period 2026-W45` builds that one (complete) week.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.core.errors import ValidationFailed
from app.extensions import db
from app.reports import services
from app.reports.dto import WeeklyReport
from app.reports.models import ReportSnapshot
from app.reports.notifications import notify_snapshot
from app.reports.periods import ReportScope, Week, all_scopes
from app.reports.snapshots import store_snapshot
from app.scheduler.registry import current_period, register_job, weekly

CATCH_UP_WEEKS = 8


def weeks_due(now: datetime, tz: str) -> list[Week]:
    """The complete weeks a run at `now` should make sure are kept, oldest first."""
    last = Week.last_complete(now, tz)
    newest = db.session.scalar(
        sa.select(sa.func.max(ReportSnapshot.period)).where(ReportSnapshot.kind == "weekly")
    )
    first = last
    if newest is not None:
        after_newest = Week.parse(newest).shift(1)
        oldest = last.shift(-(CATCH_UP_WEEKS - 1))
        first = after_newest if after_newest.monday > oldest.monday else oldest
    weeks = []
    week = first
    while week.monday <= last.monday:
        weeks.append(week)
        week = week.shift(1)
    return weeks


def _kept_keys(week: Week) -> set[str]:
    return set(
        db.session.scalars(
            sa.select(ReportSnapshot.scope_key).where(
                ReportSnapshot.kind == "weekly", ReportSnapshot.period == week.key
            )
        )
    )


def snapshot_week(week: Week, scopes: list[ReportScope], now: datetime) -> dict[str, int]:
    counts = {"snapshots": 0, "emails": 0}
    kept = _kept_keys(week)
    for scope in scopes:
        if scope.key in kept:
            continue
        report: WeeklyReport = services.weekly_report(scope, week, now)
        snapshot = store_snapshot("weekly", scope.key, week.key, report.to_dict(), now)
        if snapshot is None:  # a concurrent run kept it first
            continue
        counts["snapshots"] += 1
        counts["emails"] += notify_snapshot(snapshot, scope, report)
    return counts


def _forced_week(now: datetime, tz: str) -> Week | None:
    """The week named by `flask jobs run weekly-report --period KEY`, if it is not the key the
    scheduler would claim anyway."""
    claimed = current_period()
    if claimed is None or claimed == weekly(now, tz):
        return None
    try:
        week = Week.parse(claimed)
    except ValidationFailed as exc:
        raise ValueError(f"--period must be an ISO week such as 2026-W47, not {claimed!r}") from exc
    if week.monday > Week.last_complete(now, tz).monday:
        raise ValueError(f"week {week.key} is not complete yet")
    return week


@register_job(
    "weekly-report",
    cron={"day_of_week": "mon", "hour": "8", "minute": "0"},
    period=weekly,
    description="Keep the weekly monitoring of every office, region and the company as a "
    "snapshot (catching up missed weeks) and e-mail the managers a summary.",
)
def weekly_report(now: datetime) -> dict[str, Any]:
    tz = current_app.config["TIMEZONE"]
    forced = _forced_week(now, tz)
    weeks = [forced] if forced else weeks_due(now, tz)
    scopes = all_scopes()
    snapshots = emails = 0
    for week in weeks:
        counts = snapshot_week(week, scopes, now)
        snapshots += counts["snapshots"]
        emails += counts["emails"]
    return {"weeks": [w.key for w in weeks], "snapshots": snapshots, "emails": emails}
