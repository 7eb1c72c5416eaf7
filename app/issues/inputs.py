"""What issue operations check in what they are given, beyond texts (app.core.fields): times
with a zone, an owner who may own the office's issues, an active category. Errors are collected
per field, so one answer (422 `fields`) names every problem at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from app.auth.models import User
from app.core.errors import ValidationFailed
from app.core.scoping import Placed
from app.extensions import db
from app.issues.models import Category
from app.issues.reference import reference_data

MAX_TITLE = 200
MAX_TEXT = 20_000
OWNER_ROLES = ("handler", "office_manager")


class Actor(Placed, Protocol):
    """Who acts: a User, or the API's authenticated principal (app.api.auth)."""

    @property
    def id(self) -> int: ...


def aware_time(value: datetime | None, field: str, errors: dict[str, str]) -> datetime | None:
    if value is not None and value.tzinfo is None:
        errors[field] = "needs a time-zone offset, e.g. 2026-11-23T14:00:00+08:00"
        return None
    return value


def valid_owner(office_id: int, owner_id: int) -> User:
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.active or owner.office_id != office_id:
        raise ValidationFailed(fields={"owner_id": "not a staff member of this office"})
    if owner.role not in OWNER_ROLES:
        raise ValidationFailed(fields={"owner_id": "only handlers and office managers own issues"})
    return owner


def active_category(code: Any) -> Category | None:
    return reference_data().active_category(code)
