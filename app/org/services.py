"""Regions and offices: created by admins, read through the caller's scope."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

import sqlalchemy as sa

from app.auth.models import User
from app.core import audit
from app.core.errors import NotFound, ValidationFailed
from app.core.scoping import Scope
from app.extensions import db
from app.org.models import Office, Region

CODE_RE = re.compile(r"^[A-Z0-9_-]{1,32}$")


def _clean_code(code: str | None) -> str:
    return (code or "").strip().upper()


def _check_name(name: str | None, errors: dict[str, str]) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        errors["name"] = "must be 1 to 120 characters"
    return name


def create_region(*, code: str, name: str, actor: User | None) -> Region:
    errors: dict[str, str] = {}
    code = _clean_code(code)
    if not CODE_RE.match(code):
        errors["code"] = "1 to 32 letters, digits, '-' or '_'"
    elif db.session.scalar(sa.select(Region.id).where(Region.code == code)):
        errors["code"] = "already exists"
    name = _check_name(name, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    region = Region(code=code, name=name)
    db.session.add(region)
    db.session.flush()
    audit.record(
        actor_id=actor.id if actor else None,
        entity_type="region",
        entity_id=region.id,
        action="create",
        changes={"code": [None, code], "name": [None, name]},
    )
    return region


def create_office(
    *,
    code: str,
    name: str,
    region_code: str,
    actor: User | None,
    timezone: str = "Asia/Shanghai",
) -> Office:
    errors: dict[str, str] = {}
    code = _clean_code(code)
    if not CODE_RE.match(code):
        errors["code"] = "1 to 32 letters, digits, '-' or '_'"
    elif db.session.scalar(sa.select(Office.id).where(Office.code == code)):
        errors["code"] = "already exists"
    name = _check_name(name, errors)
    region = db.session.scalars(
        sa.select(Region).where(Region.code == _clean_code(region_code))
    ).first()
    if region is None:
        errors["region"] = "unknown region"
    if timezone not in available_timezones():
        errors["timezone"] = "unknown time zone"
    if errors or region is None:
        raise ValidationFailed(fields=errors)
    office = Office(code=code, name=name, region_id=region.id, timezone=timezone)
    db.session.add(office)
    db.session.flush()
    audit.record(
        actor_id=actor.id if actor else None,
        entity_type="office",
        entity_id=office.id,
        action="create",
        changes={"code": [None, code], "name": [None, name], "region": [None, region.code]},
        office_id=office.id,
    )
    return office


def list_regions() -> list[Region]:
    return list(db.session.scalars(sa.select(Region).order_by(Region.code)))


def list_offices(scope: Scope) -> list[Office]:
    stmt = sa.select(Office).where(scope.office_filter(Office.id)).order_by(Office.code)
    return list(db.session.scalars(stmt))


def get_office_by_code(code: str) -> Office:
    office = db.session.scalars(sa.select(Office).where(Office.code == _clean_code(code))).first()
    if office is None:
        raise NotFound()
    return office


def get_region_by_code(code: str) -> Region:
    region = db.session.scalars(sa.select(Region).where(Region.code == _clean_code(code))).first()
    if region is None:
        raise NotFound()
    return region
