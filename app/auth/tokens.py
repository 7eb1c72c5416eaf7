"""API tokens: 256 random bits, shown once, stored as SHA-256 (a fast hash is right here: the
token is random, so there is nothing to brute-force), revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from app.auth.models import ApiToken, User
from app.core.driver_sql import DriverStatement
from app.db import utcnow
from app.extensions import db

PREFIX = "vt_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: User, *, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the plaintext (the only time it exists)."""
    plaintext = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, name=name[:120], token_hash=_hash(plaintext), prefix=plaintext[:10]
    )
    db.session.add(row)
    db.session.flush()
    return row, plaintext


# built once: every API request runs it, and building a statement costs about as much as
# running this one
_USER_BY_TOKEN = (
    sa.select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == sa.bindparam("digest"), ApiToken.revoked_at.is_(None))
    .limit(1)
)


def _plausible(plaintext: str) -> bool:
    return plaintext.startswith(PREFIX) and len(plaintext) <= 200


def authenticate_token(plaintext: str) -> User | None:
    if not _plausible(plaintext):
        return None
    user = db.session.scalars(_USER_BY_TOKEN, {"digest": _hash(plaintext)}).first()
    if user is None or not user.active:
        return None
    return user


@dataclass(frozen=True)
class Principal:
    """Who a token belongs to, as far as scoping and role checks need: the user's id, role
    and place, read without loading the User (the API loads it only when a view asks)."""

    id: int
    role: str
    office_id: int | None
    region_id: int | None


_users = User.__table__.c
_tokens = ApiToken.__table__.c
# every API request runs it: on the driver's cursor (app.core.driver_sql)
_PRINCIPAL_BY_TOKEN = DriverStatement(
    lambda: (
        sa.select(_users.id, _users.role, _users.office_id, _users.region_id)
        .join_from(User.__table__, ApiToken.__table__, _tokens.user_id == _users.id)
        .where(
            _tokens.token_hash == sa.bindparam("digest"),
            _tokens.revoked_at.is_(None),
            _users.active.is_(True),
        )
        .limit(1)
    )
)


def token_principal(plaintext: str) -> Principal | None:
    """The same answer as authenticate_token (the token's active user, or None), as a
    Principal: one Core statement, no ORM object."""
    if not _plausible(plaintext):
        return None
    row = _PRINCIPAL_BY_TOKEN.first({"digest": _hash(plaintext)})
    return Principal(*row) if row is not None else None


def revoke_token(token_id: int, *, user_id: int | None = None) -> bool:
    stmt = sa.update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    result = db.session.execute(stmt.values(revoked_at=utcnow()))
    return bool(getattr(result, "rowcount", 0))
