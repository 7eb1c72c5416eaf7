"""The jobs the foundation registers: send-outbox, purge-sessions, purge-job-runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.auth.models import LoginAttempt, UserSession
from app.core.outbox import OutboxMessage
from app.core.outbox_service import enqueue_email
from app.extensions import db
from app.scheduler.models import JobRun
from app.scheduler.runner import run_job

pytestmark = pytest.mark.committing

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def count(model: Any) -> int:
    db.session.rollback()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_send_outbox_after_downtime_sends_everything_missed_once(app: Flask) -> None:
    # Three messages fell due while no scheduler ran (e.g. the server was down for hours).
    for hours in (1, 2, 3):
        message = enqueue_email(
            key=f"missed-{hours}", to=f"m{hours}@example.com", subject="s", body="b"
        )
        assert message is not None
        message.next_attempt_at = NOW - timedelta(hours=hours)
    db.session.commit()

    caught_up = run_job(app, "send-outbox", now=NOW)
    assert caught_up.status == "done" and caught_up.result["sent"] == 3
    assert run_job(app, "send-outbox", now=NOW).status == "skipped"  # same minute
    next_minute = run_job(app, "send-outbox", now=NOW + timedelta(minutes=1))
    assert next_minute.status == "done" and next_minute.result["sent"] == 0
    db.session.rollback()
    assert set(db.session.scalars(sa.select(OutboxMessage.status))) == {"sent"}


def test_purge_sessions_deletes_only_dead_old_rows(
    app: Flask, make_office: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    office = make_office()
    user = make_user("agent", office=office)
    gone = make_user("agent", office=office)
    gone.active = False
    old = NOW - timedelta(days=40)
    db.session.add_all(
        [
            UserSession(user_id=user.id, key_hash="a" * 64, revoked_at=old),  # purged
            UserSession(user_id=user.id, key_hash="b" * 64, revoked_at=NOW - timedelta(days=1)),
            UserSession(user_id=user.id, key_hash="c" * 64, created_at=old),  # live, kept
            UserSession(user_id=gone.id, key_hash="d" * 64, created_at=old),  # purged
            UserSession(user_id=gone.id, key_hash="e" * 64, created_at=NOW),
            LoginAttempt(key="email:x", at=NOW - timedelta(days=2)),  # purged
            LoginAttempt(key="email:x", at=NOW - timedelta(hours=1)),
        ]
    )
    db.session.commit()
    outcome = run_job(app, "purge-sessions", now=NOW)
    assert outcome.result == {"sessions": 2, "login_attempts": 1}
    db.session.rollback()
    kept = set(db.session.scalars(sa.select(UserSession.key_hash)))
    assert kept == {"b" * 64, "c" * 64, "e" * 64}
    assert count(LoginAttempt) == 1
    assert run_job(app, "purge-sessions", now=NOW + timedelta(hours=1)).status == "skipped"


def test_purge_job_runs_keeps_coarse_claims(app: Flask) -> None:
    old = NOW - timedelta(days=31)
    db.session.add_all(
        [
            JobRun(
                job_name="send-outbox", period_key="2026-10-20T09:00", status="done", started_at=old
            ),
            JobRun(
                job_name="send-outbox", period_key="2026-11-22T09:00", status="done", started_at=NOW
            ),
            JobRun(job_name="weekly-report", period_key="2026-W43", status="done", started_at=old),
            JobRun(
                job_name="purge-sessions", period_key="2026-10-20", status="failed", started_at=old
            ),
        ]
    )
    db.session.commit()
    outcome = run_job(app, "purge-job-runs", now=NOW)
    assert outcome.result == {"job_runs": 1}
    db.session.rollback()
    keys = set(db.session.scalars(sa.select(JobRun.period_key)))
    assert "2026-10-20T09:00" not in keys
    assert {"2026-11-22T09:00", "2026-W43", "2026-10-20"} <= keys
