"""Regions and offices: created by admins, read through the caller's scope."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import available_timezones

import sqlalchemy as sa

from app.auth.models import User
from app.core import audit
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.scoping import Scope
from app.extensions import db
from app.org.models import Office, Region

CODE_RE = re.compile(r"^[A-Z0-9_-]{1,32}$")
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_WORK_START, DEFAULT_WORK_END = "09:00", "18:00"
# what an admin may change on an office; the code is in every issue number, the region
# decides who sees its data: neither changes here
OFFICE_EDITABLE = frozenset({"name", "timezone", "work_start", "work_end"})


def _clean_code(code: str | None) -> str:
    return (code or "").strip().upper()


def _check_name(name: str | None, errors: dict[str, str]) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        errors["name"] = "must be 1 to 120 characters"
    return name


def _check_hours(
    timezone: Any, work_start: Any, work_end: Any, errors: dict[str, str]
) -> tuple[str, str, str]:
    """The office's time zone and daily working window, as the SLA calendar reads them: an
    IANA zone, and "HH:MM" wall-clock times with the start before the end (a window over
    midnight is not supported by the SLA arithmetic)."""
    values = []
    for field, value in (
        ("timezone", timezone),
        ("work_start", work_start),
        ("work_end", work_end),
    ):
        values.append(value.strip() if isinstance(value, str) else "")
        if not isinstance(value, str):
            errors[field] = "required"
    tz, start, end = values
    if "timezone" not in errors and tz not in available_timezones():
        errors["timezone"] = "unknown time zone"
    for field, value in (("work_start", start), ("work_end", end)):
        if field not in errors and not HHMM_RE.match(value):
            errors[field] = "a time as HH:MM, 00:00 to 23:59"
    if not ({"work_start", "work_end"} & errors.keys()) and start >= end:
        errors["work_end"] = "must be after the start of work"  # zero-padded: compares as times
    return tz, start, end


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
    timezone: str = DEFAULT_TIMEZONE,
    work_start: str = DEFAULT_WORK_START,
    work_end: str = DEFAULT_WORK_END,
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
    timezone, work_start, work_end = _check_hours(timezone, work_start, work_end, errors)
    if errors or region is None:
        raise ValidationFailed(fields=errors)
    office = Office(
        code=code,
        name=name,
        region_id=region.id,
        timezone=timezone,
        work_start=work_start,
        work_end=work_end,
    )
    db.session.add(office)
    db.session.flush()
    audit.record(
        actor_id=actor.id if actor else None,
        entity_type="office",
        entity_id=office.id,
        action="create",
        changes={
            "code": [None, code],
            "name": [None, name],
            "region": [None, region.code],
            "timezone": [None, timezone],
            "work_start": [None, work_start],
            "work_end": [None, work_end],
        },
        office_id=office.id,
    )
    return office


def update_office(*, actor: User | None, office_id: int, version: int, **changes: Any) -> Office:
    """Change an office's name, time zone or working hours (OFFICE_EDITABLE) if `version` is
    still current, and audit what changed.

    The SLA code reads the office row whenever it computes a deadline (intake, reopen, the
    end of a wait), and the working calendar is cached under the hours themselves, so new
    deadlines follow the new hours at once, in every process. Deadlines already set stay as
    they were promised. Unknown office → NotFound; a stale version → Conflict, nothing
    changes."""
    office = get_office(office_id)
    unknown = set(changes) - OFFICE_EDITABLE
    if unknown:
        raise ValidationFailed(fields=dict.fromkeys(sorted(unknown), "not editable"))
    if version != office.version:
        raise Conflict()
    errors: dict[str, str] = {}
    after = {
        "name": _check_name(changes["name"], errors) if "name" in changes else office.name,
    }
    after["timezone"], after["work_start"], after["work_end"] = _check_hours(
        changes.get("timezone", office.timezone),
        changes.get("work_start", office.work_start),
        changes.get("work_end", office.work_end),
        errors,
    )
    if errors:
        raise ValidationFailed(fields=errors)
    before = {key: getattr(office, key) for key in after}
    changed = audit.diff(before, after)
    if not changed:
        return office
    for key in changed:
        setattr(office, key, after[key])
    audit.record(
        actor_id=actor.id if actor else None,
        entity_type="office",
        entity_id=office.id,
        action="update",
        changes=changed,
        office_id=office.id,
    )
    db.session.flush()
    return office


def list_regions() -> list[Region]:
    return list(db.session.scalars(sa.select(Region).order_by(Region.code)))


def list_offices(scope: Scope) -> list[Office]:
    stmt = sa.select(Office).where(scope.office_filter(Office.id)).order_by(Office.code)
    return list(db.session.scalars(stmt))


def get_office(office_id: int) -> Office:
    office = db.session.get(Office, office_id)
    if office is None:
        raise NotFound()
    return office


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
