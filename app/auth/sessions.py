"""Server-side sessions. The signed cookie carries only a random key; the row decides whether
that key still signs anybody in, so logout and password changes take effect everywhere."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from app.auth.models import User, UserSession
from app.db import utcnow
from app.extensions import db


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start_session(user: User, *, user_agent: str | None = None, ip: str | None = None) -> str:
    key = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            key_hash=_hash(key),
            user_agent=(user_agent or "")[:255] or None,
            ip=(ip or "")[:64] or None,
        )
    )
    user.session_key = key
    return key


def load_session_user(key: str) -> User | None:
    stmt = (
        sa.select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.key_hash == _hash(key), UserSession.revoked_at.is_(None))
    )
    user = db.session.scalars(stmt).first()
    if user is None or not user.active:
        return None
    user.session_key = key
    return user


def revoke_session(key: str) -> None:
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.key_hash == _hash(key), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_sessions(user_id: int, *, except_key: str | None = None) -> int:
    stmt = sa.update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    )
    if except_key is not None:
        stmt = stmt.where(UserSession.key_hash != _hash(except_key))
    result = db.session.execute(stmt.values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
