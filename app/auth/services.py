"""People: creating and changing users, passwords, and signing in."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from app.auth import sessions, throttle
from app.auth.models import User
from app.auth.passwords import hash_password, password_problem, verify_password
from app.auth.roles import Role, place_kind
from app.core import audit
from app.core.errors import DomainError, RateLimited, ValidationFailed
from app.db import utcnow
from app.extensions import db
from app.org.models import Office, Region


class BadCredentials(DomainError):
    status = 401
    code = "bad_credentials"
    default_message = "Wrong e-mail or password."


def normalise_email(email: str | None) -> str:
    try:
        return str(validate_email((email or "").strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValidationFailed(fields={"email": "not a valid e-mail address"}) from exc


def _resolve_place(
    role: str, office_code: str | None, region_code: str | None, errors: dict[str, str]
) -> tuple[int | None, int | None]:
    try:
        kind = place_kind(role)
    except ValueError:
        errors["role"] = "unknown role; one of " + ", ".join(r.value for r in Role)
        return None, None
    office_id = region_id = None
    if kind == "office":
        if not office_code:
            errors["office"] = "this role needs an office"
        else:
            office_id = db.session.scalar(
                sa.select(Office.id).where(Office.code == office_code.strip().upper())
            )
            if office_id is None:
                errors["office"] = "unknown office"
        if region_code:
            errors["region"] = "an office role is placed in an office, not a region"
    elif kind == "region":
        if not region_code:
            errors["region"] = "this role needs a region"
        else:
            region_id = db.session.scalar(
                sa.select(Region.id).where(Region.code == region_code.strip().upper())
            )
            if region_id is None:
                errors["region"] = "unknown region"
        if office_code:
            errors["office"] = "a regional role is placed in a region, not an office"
    elif office_code or region_code:
        errors["office" if office_code else "region"] = "company roles have no office or region"
    return office_id, region_id


def create_user(
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    office_code: str | None = None,
    region_code: str | None = None,
    actor: User | None = None,
) -> User:
    errors: dict[str, str] = {}
    try:
        email = normalise_email(email).lower()
    except ValidationFailed as exc:
        errors.update(exc.fields)
    else:
        if db.session.scalar(sa.select(User.id).where(User.email == email)):
            errors["email"] = "already in use"
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        errors["name"] = "must be 1 to 120 characters"
    problem = password_problem(password or "")
    if problem:
        errors["password"] = problem
    office_id, region_id = _resolve_place(role, office_code, region_code, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    user = User(
        email=email,
        name=name,
        role=Role(role).value,
        office_id=office_id,
        region_id=region_id,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor_id=actor.id if actor else None,
        entity_type="user",
        entity_id=user.id,
        action="create",
        changes={"email": [None, email], "role": [None, user.role]},
        office_id=office_id,
    )
    return user


def update_user(
    *,
    actor: User | None,
    user: User,
    name: str | None = None,
    role: str | None = None,
    office_code: str | None = None,
    region_code: str | None = None,
    active: bool | None = None,
) -> User:
    errors: dict[str, str] = {}
    before: dict[str, Any] = {
        "name": user.name,
        "role": user.role,
        "office_id": user.office_id,
        "region_id": user.region_id,
        "active": user.active,
    }
    after = dict(before)
    if name is not None:
        after["name"] = name.strip()
        if not 1 <= len(after["name"]) <= 120:
            errors["name"] = "must be 1 to 120 characters"
    if role is not None:
        after["role"] = role
        after["office_id"], after["region_id"] = _resolve_place(
            role, office_code, region_code, errors
        )
    if active is not None:
        after["active"] = active
    if errors:
        raise ValidationFailed(fields=errors)
    changes = audit.diff(before, after)
    for key, value in after.items():
        setattr(user, key, value)
    if not user.active and before["active"]:
        sessions.revoke_all_sessions(user.id)
    if changes:
        audit.record(
            actor_id=actor.id if actor else None,
            entity_type="user",
            entity_id=user.id,
            action="update",
            changes=changes,
            office_id=user.office_id,
        )
    db.session.flush()
    return user


def set_password(
    user: User, new_password: str, *, actor: User | None, keep_session_key: str | None = None
) -> int:
    """Change a password and sign the user out everywhere else. Returns sessions revoked."""
    problem = password_problem(new_password or "")
    if problem:
        raise ValidationFailed(fields={"password": problem})
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    revoked = sessions.revoke_all_sessions(user.id, except_key=keep_session_key)
    audit.record(
        actor_id=actor.id if actor else None,
        entity_type="user",
        entity_id=user.id,
        action="password_change",
        changes={"sessions_revoked": revoked},
        office_id=user.office_id,
    )
    db.session.flush()
    return revoked


def authenticate(email: str, password: str, *, client_ip: str | None) -> User:
    """Check a sign-in. Commits the attempt first (see throttle); raises on any failure with a
    message that never tells whether the e-mail exists."""
    email = (email or "").strip().lower()
    ids, allowed = throttle.register_attempt(throttle.attempt_keys(email, client_ip))
    if not allowed:
        raise RateLimited("Too many sign-in attempts. Please wait 15 minutes and try again.")
    user = db.session.scalars(sa.select(User).where(User.email == email)).first()
    ok = verify_password(user.password_hash if user else None, password or "")
    if user is None or not ok or not user.active:
        raise BadCredentials()
    throttle.mark_succeeded(ids)
    return user
