"""Running a job exactly once per period, whoever asks (the scheduler, a second scheduler on
another host, or `flask jobs run`). The claim is a row under a unique (job, period) key,
committed before the work starts; it works the same on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError

from app.db import utcnow
from app.extensions import db
from app.scheduler.models import JobRun
from app.scheduler.registry import load_jobs

log = logging.getLogger(__name__)

# A claim still "running" after this long belongs to a process that died: it may be retaken.
STALE_CLAIM = timedelta(hours=2)


class UnknownJob(LookupError):
    pass


@dataclass
class RunOutcome:
    job: str
    period: str
    status: str  # done | skipped | failed
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _claim(name: str, period: str, now: datetime) -> JobRun | None:
    db.session.add(JobRun(job_name=name, period_key=period, status="running", started_at=now))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    else:
        return db.session.scalars(
            sa.select(JobRun).where(JobRun.job_name == name, JobRun.period_key == period)
        ).one()
    # Taken already: retake it only if that run failed or its process died mid-run.
    retake = db.session.execute(
        sa.update(JobRun)
        .where(
            JobRun.job_name == name,
            JobRun.period_key == period,
            sa.or_(
                JobRun.status == "failed",
                sa.and_(JobRun.status == "running", JobRun.started_at < now - STALE_CLAIM),
            ),
        )
        .values(status="running", started_at=now, error=None)
    )
    db.session.commit()
    if not getattr(retake, "rowcount", 0):
        return None
    return db.session.scalars(
        sa.select(JobRun).where(JobRun.job_name == name, JobRun.period_key == period)
    ).one()


def run_job_here(
    name: str, *, now: datetime | None = None, period: str | None = None
) -> RunOutcome:
    """Run inside an existing app context (the CLI and tests)."""
    from flask import current_app

    jobs = load_jobs()
    if name not in jobs:
        raise UnknownJob(name)
    job = jobs[name]
    now = now or utcnow()
    period = period or job.period(now, current_app.config["TIMEZONE"])
    claim = _claim(name, period, now)
    if claim is None:
        return RunOutcome(name, period, "skipped")
    claim_id = claim.id
    try:
        result = job.func(now)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s (%s) failed", name, period)
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
        db.session.execute(
            sa.update(JobRun)
            .where(JobRun.id == claim_id)
            .values(status="failed", finished_at=utcnow(), error=error)
        )
        db.session.commit()
        return RunOutcome(name, period, "failed", error=error)
    db.session.execute(
        sa.update(JobRun)
        .where(JobRun.id == claim_id)
        .values(status="done", finished_at=utcnow(), result=result)
    )
    db.session.commit()
    log.info("job %s (%s) done: %s", name, period, result)
    return RunOutcome(name, period, "done", result=result)


def run_job(app: Flask, name: str, *, now: datetime | None = None) -> RunOutcome:
    """Entry point for the scheduler thread: brings its own app context and session."""
    with app.app_context():
        try:
            return run_job_here(name, now=now)
        finally:
            db.session.remove()
