"""Bearer-token authentication for /api/v1.

Only the `Authorization: Bearer` header counts: a browser's session cookie never authenticates
the API (so the API needs no CSRF protection). `last_used_at` is written at most once a minute
per token, not on every request, so reads stay reads.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, request

from app.auth.models import ApiToken, User
from app.auth.roles import Role
from app.auth.tokens import Principal, token_principal
from app.auth.tokens import _hash as token_digest
from app.core.errors import DomainError, Forbidden
from app.core.uow import begin_statement_at_a_time, reads_apart
from app.core.web import error_response
from app.db import utcnow
from app.extensions import db

TOUCH_EVERY = timedelta(minutes=1)
_RECENT_TOUCHES = "api_token_touches"
_MAX_REMEMBERED = 10_000

# Patched by tests to move time forward without sleeping.
_clock = time.monotonic


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_message = "A valid bearer token is required."


def api_principal() -> Principal:
    """Who the token of this API request belongs to: id, role and place, without the User
    object (for the hot paths that need no more; see api_user)."""
    principal: Principal = g.api_principal
    return principal


def require_api_role(*roles: Role | str, message: str) -> None:
    """403 with `message` unless the token's user has one of `roles` (read from the token's
    principal: no User load for the check)."""
    if api_principal().role not in {str(r) for r in roles}:
        raise Forbidden(message)


def api_user() -> User:
    """The user whose token authenticated this API request, loaded on first use."""
    user: User | None = g.get("api_user")
    if user is None:
        user = db.session.get(User, api_principal().id)
        if user is None:  # deleted since the token was checked, a moment ago
            raise Unauthorized()
        g.api_user = user
    return user


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _unauthorized() -> Any:
    response = error_response(401, Unauthorized.code, Unauthorized.default_message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def authenticate_request() -> Any:
    """`before_request` of every API blueprint: a 401 envelope, or `g.api_principal` set."""
    # An API request's session ends with the request, so nothing can go stale in it: keep
    # objects loaded after commit instead of reading each one again to build the answer.
    db.session().expire_on_commit = False
    begin_statement_at_a_time(current_app.view_functions.get(request.endpoint or ""))
    token = _bearer_token()
    principal = _authenticate(token) if token else None
    if token is None or principal is None:
        return _unauthorized()
    g.api_principal = principal
    _touch(token_digest(token))
    return None


def _authenticate(token: str) -> Principal | None:
    """The token's user. On SQLite a request that writes begins IMMEDIATE, taking the single
    write lock at its first statement and keeping it to the commit; authentication only reads,
    so there it runs in a read transaction of its own, ended before the request's work begins.
    The lock then covers the work, not also finding out who is asking, and the other workers
    wait that much less for it."""
    with reads_apart():
        return token_principal(token)


def _touch(digest: str) -> None:
    """Record the token's use, at most once a minute.

    A per-process memory skips the database entirely on most requests; the UPDATE's own
    condition keeps it to one real write a minute across processes.
    """
    recent: dict[str, float] = current_app.extensions.setdefault(_RECENT_TOUCHES, {})
    now = _clock()
    last = recent.get(digest)
    if last is not None and now - last < TOUCH_EVERY.total_seconds():
        return
    if len(recent) >= _MAX_REMEMBERED:
        recent.clear()
    recent[digest] = now
    # End the read transaction of authentication first: on SQLite a read snapshot cannot be
    # upgraded to a write once another connection has written, but a fresh transaction waits.
    db.session.commit()
    stamp = utcnow()
    db.session.execute(
        sa.update(ApiToken)
        .where(
            ApiToken.token_hash == digest,
            sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < stamp - TOUCH_EVERY),
        )
        .values(last_used_at=stamp)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
