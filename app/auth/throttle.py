"""Login throttle that holds under concurrent attempts.

Each attempt is written and committed *before* the password is checked and before attempts are
counted. Commits are serialised by the database, so of N parallel guesses the k-th to commit
sees at least k rows: no more than the limit can ever reach the password check, however the
requests interleave. The commit happens at the start of the sign-in request, before anything
else is changed, so it does not split a unit of work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.auth.models import LoginAttempt
from app.db import utcnow
from app.extensions import db


def attempt_keys(email: str, client_ip: str | None) -> list[str]:
    keys = [f"email:{email.strip().lower()[:254]}"]
    if client_ip:
        keys.append(f"ip:{client_ip[:64]}")
    return keys


def register_attempt(keys: list[str], *, now: datetime | None = None) -> tuple[list[int], bool]:
    """Record one attempt under each key and commit it. Returns (row ids, allowed)."""
    now = now or utcnow()
    limit = int(current_app.config["LOGIN_THROTTLE_LIMIT"])
    window = timedelta(seconds=int(current_app.config["LOGIN_THROTTLE_WINDOW_SECONDS"]))
    rows = [LoginAttempt(key=key, at=now, succeeded=False) for key in keys]
    db.session.add_all(rows)
    db.session.commit()
    ids = [row.id for row in rows]
    for key in keys:
        failures = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.key == key,
                LoginAttempt.at > now - window,
                LoginAttempt.succeeded.is_(False),
            )
        )
        if (failures or 0) > limit:
            return ids, False
    return ids, True


def mark_succeeded(ids: list[int]) -> None:
    """A successful sign-in does not count against the limit; earlier failures still do."""
    if ids:
        db.session.execute(
            sa.update(LoginAttempt).where(LoginAttempt.id.in_(ids)).values(succeeded=True)
        )


def purge_login_attempts(older_than: datetime) -> int:
    result = db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
