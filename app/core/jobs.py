"""Housekeeping jobs of the foundation: sending the outbox, purging old sign-in records and
old per-minute job claims."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.auth.models import User, UserSession
from app.auth.throttle import purge_login_attempts
from app.core.mailer import sender_from_config
from app.core.outbox_service import send_due
from app.extensions import db
from app.scheduler.models import JobRun
from app.scheduler.registry import daily, every_minute, register_job

SESSION_RETENTION = timedelta(days=30)
LOGIN_ATTEMPT_RETENTION = timedelta(days=1)  # longer than any throttle window
MINUTE_CLAIM_RETENTION = timedelta(days=30)
SEND_BUDGET = 45.0  # seconds of sending per send-outbox run


@register_job(
    "send-outbox",
    cron={"minute": "*"},
    period=every_minute,
    description="Send queued e-mail (notifications, invitations), retrying failures.",
)
def send_outbox(now: datetime) -> dict[str, Any]:
    # a budget under the minute: a campaign of thousands goes out in one run, not 500 a minute
    return send_due(now, sender=sender_from_config(current_app.config), budget=SEND_BUDGET)


@register_job(
    "purge-sessions",
    cron={"hour": "3", "minute": "17"},
    period=daily,
    description="Delete dead sign-in sessions after 30 days and sign-in attempts after a day.",
)
def purge_sessions(now: datetime) -> dict[str, Any]:
    cutoff = now - SESSION_RETENTION
    # Sessions have no expiry of their own: a row is dead once revoked, or once its user is
    # deactivated (load_session_user refuses both).
    inactive_users = sa.select(User.id).where(User.active.is_(False))
    sessions = db.session.execute(
        sa.delete(UserSession).where(
            sa.or_(
                UserSession.revoked_at < cutoff,
                sa.and_(UserSession.user_id.in_(inactive_users), UserSession.created_at < cutoff),
            )
        )
    )
    attempts = purge_login_attempts(now - LOGIN_ATTEMPT_RETENTION)
    return {"sessions": int(getattr(sessions, "rowcount", 0) or 0), "login_attempts": attempts}


@register_job(
    "purge-job-runs",
    cron={"hour": "3", "minute": "37"},
    period=daily,
    description="Delete finished claims of per-minute jobs after 30 days (weekly and monthly "
    "claims are kept).",
)
def purge_job_runs(now: datetime) -> dict[str, Any]:
    # Only minute keys ("…T08:05") go: no scheduler asks for a month-old minute again, whereas
    # day, week and month claims are few and are what stops an old period from re-running.
    result = db.session.execute(
        sa.delete(JobRun).where(
            JobRun.period_key.like("%T%"),
            JobRun.status != "running",
            JobRun.started_at < now - MINUTE_CLAIM_RETENTION,
        )
    )
    return {"job_runs": int(getattr(result, "rowcount", 0) or 0)}
