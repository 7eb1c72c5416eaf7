"""Running a job once per period, whoever asks: the scheduler, a second scheduler on another
host, or an operator with `flask jobs run`.

1. Claim: INSERT a JobRun (job, period, "running") and commit it in its own transaction. The
   unique (job_name, period_key) lets exactly one insert win, on SQLite and PostgreSQL alike;
   the losers get IntegrityError and run nothing ("skipped").
2. Run: the job function inside `unit_of_work()`. Its work and the claim's "done" mark commit
   together, so a period is never done without its work nor its work kept without "done".
3. Failure: the work rolls back and the claim is marked "failed" with the error. A failed claim
   is retaken by the next run asking for that period (the next tick of a coarse job, or
   `flask jobs run NAME`), so a transient error does not lose the period. A claim still
   "running" after STALE_CLAIM belongs to a process that died and is retaken as well.

Minute jobs ask for a new period every tick, so a failed minute is not retried as such: the
next minute's run does what is due, which includes what the failed one left.
"""

from __future__ import annotations

import json
import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError

from app import sqlite_begin
from app.core.uow import unit_of_work
from app.db import utcnow
from app.extensions import db
from app.scheduler.models import JobRun
from app.scheduler.registry import Job, load_jobs, running_period

log = logging.getLogger(__name__)

# Longer than any job should take: a claim "running" for longer has lost its process.
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


def run_job(
    app: Flask, name: str, *, now: datetime | None = None, force_period: str | None = None
) -> RunOutcome:
    """Claim and run job `name` for the period holding `now` (or `force_period`).

    Brings its own app context and session, so it is safe in a scheduler thread and from the
    CLI alike. Raises UnknownJob for a name not in the registry; a failing job does not raise,
    it returns status "failed" with the error.
    """
    job = load_jobs().get(name)
    if job is None:
        raise UnknownJob(name)
    now = now or utcnow()
    token = sqlite_begin.set("BEGIN IMMEDIATE")  # a job writes: queue on SQLite's write lock
    try:
        with app.app_context():
            try:
                period = force_period or job.period(now, app.config["TIMEZONE"])
                return _claim_and_run(job, period, now)
            finally:
                db.session.remove()
    finally:
        sqlite_begin.reset(token)


def _claim_and_run(job: Job, period: str, now: datetime) -> RunOutcome:
    claim_id = _claim(job.name, period, now)
    if claim_id is None:
        log.info("job %s (%s) already claimed, skipped", job.name, period)
        return RunOutcome(job.name, period, "skipped")
    try:
        with running_period(period), unit_of_work():
            result = _json_safe(job.func(now))
            _finish(claim_id, "done", result=result)
    except Exception as exc:
        log.exception("job %s (%s) failed", job.name, period)
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
        _finish(claim_id, "failed", error=error)
        db.session.commit()
        return RunOutcome(job.name, period, "failed", error=error)
    log.info("job %s (%s) done: %s", job.name, period, result)
    return RunOutcome(job.name, period, "done", result=result)


def _claim(name: str, period: str, now: datetime) -> int | None:
    """The id of our claim on (name, period), committed; None when someone else holds it."""
    claim = JobRun(job_name=name, period_key=period, status="running", started_at=now)
    db.session.add(claim)
    try:
        db.session.flush()
        claim_id: int = claim.id
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    else:
        return claim_id
    # Taken already: retake it only if that run failed or its process died mid-run. The WHERE
    # makes this a compare-and-set, so of two retakers only one changes the row.
    retaken = db.session.execute(
        sa.update(JobRun)
        .where(
            JobRun.job_name == name,
            JobRun.period_key == period,
            sa.or_(
                JobRun.status == "failed",
                sa.and_(JobRun.status == "running", JobRun.started_at < now - STALE_CLAIM),
            ),
        )
        .values(status="running", started_at=now, finished_at=None, error=None)
        .returning(JobRun.id)
    ).scalar_one_or_none()
    db.session.commit()
    return retaken


def _finish(
    claim_id: int, status: str, *, result: dict[str, Any] | None = None, error: str | None = None
) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "error": error}
    if result is not None:
        values["result"] = result
    db.session.execute(sa.update(JobRun).where(JobRun.id == claim_id).values(**values))


def _json_safe(result: dict[str, Any]) -> dict[str, Any]:
    """The summary is stored as JSON: dates and the like become strings, not a failed run."""
    if not isinstance(result, dict):
        raise TypeError(f"a job returns a dict summary, not {type(result).__name__}")
    safe: dict[str, Any] = json.loads(json.dumps(result, default=str, ensure_ascii=False))
    return safe
