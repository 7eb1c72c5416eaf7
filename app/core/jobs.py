"""Housekeeping jobs of the foundation: sending the outbox, purging old sign-in records."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.auth.models import UserSession
from app.auth.throttle import purge_login_attempts
from app.core.mailer import sender_from_config
from app.core.outbox_service import send_due
from app.extensions import db
from app.scheduler.registry import daily, every_minute, register_job


@register_job(
    "send-outbox",
    cron={"minute": "*"},
    period=every_minute,
    description="Send queued e-mail (notifications, invitations), retrying failures.",
)
def send_outbox(now: datetime) -> dict[str, Any]:
    return send_due(now, sender=sender_from_config(current_app.config))


@register_job(
    "purge-sessions",
    cron={"hour": "3", "minute": "17"},
    period=daily,
    description="Delete revoked sessions after 30 days and sign-in attempts after a day.",
)
def purge_sessions(now: datetime) -> dict[str, Any]:
    sessions = db.session.execute(
        sa.delete(UserSession).where(
            UserSession.revoked_at.is_not(None),
            UserSession.revoked_at < now - timedelta(days=30),
        )
    )
    attempts = purge_login_attempts(now - timedelta(days=1))
    return {"sessions": int(getattr(sessions, "rowcount", 0) or 0), "login_attempts": attempts}
