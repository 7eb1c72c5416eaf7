"""The report jobs: `weekly-report` every Monday 08:00 and `monthly-review` on the 1st at 08:00
(TIMEZONE). Each keeps one snapshot per scope and period and e-mails that scope's managers a
short summary with a link: the weekly monitoring of every office, region and the company, the
monthly quality review of every region and the company.

"What is due and not yet done": every complete period from the one after the newest kept
snapshot of that kind (at most CATCH_UP periods back) up to the last complete period, for every
scope that has no snapshot of it yet. So a run after downtime catches up on the missed periods,
a repeated run finds nothing to do, and an office created since gets its first snapshot. The
unique (kind, scope, period) of ReportSnapshot and the outbox idempotency key make two
overlapping runs store one snapshot and send one e-mail per manager.

`flask jobs run weekly-report --period 2026-W45` (or `monthly-review --period 2026-09`) builds
that one complete period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.core.errors import ValidationFailed
from app.extensions import db
from app.reports import review, services
from app.reports.models import ReportSnapshot
from app.reports.notifications import notify_snapshot
from app.reports.periods import Month, ReportScope, Week, all_scopes
from app.reports.snapshots import store_snapshot
from app.scheduler.registry import PeriodFunc, current_period, monthly, register_job, weekly

Period = Week | Month


@dataclass(frozen=True)
class SnapshotKind:
    kind: str  # ReportSnapshot.kind
    parse: Callable[[str], Period]
    last_complete: Callable[[datetime, str], Period]
    claim_period: PeriodFunc
    build: Callable[[ReportScope, Any, datetime], Any]
    scope_kinds: tuple[str, ...]
    catch_up: int


def _first_day(period: Period) -> date:
    return period.monday if isinstance(period, Week) else period.first


WEEKLY = SnapshotKind(
    "weekly",
    Week.parse,
    Week.last_complete,
    weekly,
    services.weekly_report,
    ("office", "region", "company"),
    8,
)
MONTHLY = SnapshotKind(
    "monthly",
    Month.parse,
    Month.last_complete,
    monthly,
    review.monthly_review,
    ("region", "company"),
    3,
)


def periods_due(spec: SnapshotKind, now: datetime, tz: str) -> list[Period]:
    """The complete periods a run at `now` should make sure are kept, oldest first."""
    last = spec.last_complete(now, tz)
    newest = db.session.scalar(
        sa.select(sa.func.max(ReportSnapshot.period)).where(ReportSnapshot.kind == spec.kind)
    )
    first: Period = last
    if newest is not None:
        after_newest = spec.parse(newest).shift(1)
        oldest = last.shift(-(spec.catch_up - 1))
        first = after_newest if _first_day(after_newest) > _first_day(oldest) else oldest
    periods: list[Period] = []
    period = first
    while _first_day(period) <= _first_day(last):
        periods.append(period)
        period = period.shift(1)
    return periods


def snapshot_period(
    spec: SnapshotKind, period: Period, scopes: list[ReportScope], now: datetime
) -> tuple[int, int]:
    """(snapshots stored, e-mails queued) for the scopes without a snapshot of `period`."""
    kept = set(
        db.session.scalars(
            sa.select(ReportSnapshot.scope_key).where(
                ReportSnapshot.kind == spec.kind, ReportSnapshot.period == period.key
            )
        )
    )
    stored = emails = 0
    for scope in scopes:
        if scope.kind not in spec.scope_kinds or scope.key in kept:
            continue
        data = spec.build(scope, period, now)
        snapshot = store_snapshot(spec.kind, scope.key, period.key, data.to_dict(), now)
        if snapshot is None:  # a concurrent run kept it first
            continue
        stored += 1
        emails += notify_snapshot(snapshot, scope, data)
    return stored, emails


def _forced(spec: SnapshotKind, now: datetime, tz: str) -> Period | None:
    """The period named by `flask jobs run NAME --period KEY`, if it is not the key the
    scheduler would claim anyway."""
    claimed = current_period()
    if claimed is None or claimed == spec.claim_period(now, tz):
        return None
    try:
        period = spec.parse(claimed)
    except ValidationFailed as exc:
        raise ValueError(f"--period {claimed!r} is not a {spec.kind} period key") from exc
    if _first_day(period) > _first_day(spec.last_complete(now, tz)):
        raise ValueError(f"period {period.key} is not complete yet")
    return period


def run_snapshots(spec: SnapshotKind, now: datetime) -> dict[str, Any]:
    tz = current_app.config["TIMEZONE"]
    forced = _forced(spec, now, tz)
    periods = [forced] if forced else periods_due(spec, now, tz)
    scopes = all_scopes()
    stored = emails = 0
    for period in periods:
        s, e = snapshot_period(spec, period, scopes, now)
        stored += s
        emails += e
    return {"periods": [p.key for p in periods], "snapshots": stored, "emails": emails}


@register_job(
    "weekly-report",
    cron={"day_of_week": "mon", "hour": "8", "minute": "0"},
    period=weekly,
    description="Keep the weekly monitoring of every office, region and the company as a "
    "snapshot (catching up missed weeks) and e-mail the managers a summary.",
)
def weekly_report(now: datetime) -> dict[str, Any]:
    return run_snapshots(WEEKLY, now)


@register_job(
    "monthly-review",
    cron={"day": "1", "hour": "8", "minute": "0"},
    period=monthly,
    description="Keep the monthly quality review of every region and the company as a "
    "snapshot (catching up missed months) and e-mail the managers a summary.",
)
def monthly_review(now: datetime) -> dict[str, Any]:
    return run_snapshots(MONTHLY, now)
