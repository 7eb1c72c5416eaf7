"""Campaigns: a survey sent to an audience once, on a schedule or on events. Created by quality
admins and admins; read by managers within their scope. Services flush; the caller commits."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger

from app.auth.models import User
from app.contacts.models import Contact, Project
from app.core import audit
from app.core.errors import Forbidden, NotFound, ValidationFailed
from app.core.pagination import Page, keyset_page
from app.core.scoping import Scope
from app.customers.models import TIERS, Customer
from app.customers.queries import check_id_cursor
from app.db import utcnow
from app.extensions import db
from app.org.models import Office, Region
from app.surveys.models import EVENTS, Campaign, Survey
from app.surveys.services import DESIGN_ROLES, READ_ROLES

AUDIENCE_KEYS = ("office", "region", "tier", "project", "customer_ids", "contact_ids")
MAX_IDS = 5000
MAX_NAME = 200


def _int_list(value: Any, field: str, errors: dict[str, str]) -> list[int]:
    if not isinstance(value, list) or len(value) > MAX_IDS:
        errors[field] = f"a list of at most {MAX_IDS} ids"
        return []
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**63 for v in value):
        errors[field] = "ids are positive integers"
        return []
    return sorted(set(value))


def _by_code(model: Any, code: Any) -> Any:
    stmt = sa.select(model).where(model.code == str(code).strip().upper())
    return db.session.scalars(stmt).first()


def _project(value: Any) -> Project | None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        return None
    return db.session.get(Project, value)


def _clean_audience(raw: Any, errors: dict[str, str]) -> tuple[dict[str, Any], int | None]:
    """The audience with codes checked, and the office the campaign belongs to."""
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        errors["audience"] = "an object"
        return {}, None
    unknown = sorted(set(raw) - set(AUDIENCE_KEYS))
    if unknown:
        errors["audience"] = "unknown keys: " + ", ".join(unknown)
    out: dict[str, Any] = {}
    office_id = None
    for key, model in (("office", Office), ("region", Region)):
        if raw.get(key):
            row = _by_code(model, raw[key])
            if row is None:
                errors[f"audience.{key}"] = f"unknown {key}"
            else:
                out[key] = row.code
                office_id = row.id if key == "office" else office_id
    if raw.get("tier") and raw["tier"] not in TIERS:
        errors["audience.tier"] = "one of " + ", ".join(TIERS)
    elif raw.get("tier"):
        out["tier"] = raw["tier"]
    if raw.get("project") is not None:
        project = _project(raw["project"])
        if project is None:
            errors["audience.project"] = "unknown project"
        else:
            out["project"] = project.id
            office_id = office_id or project.office_id
    for key in ("customer_ids", "contact_ids"):
        if raw.get(key) is not None:
            out[key] = _int_list(raw[key], f"audience.{key}", errors)
    return out, office_id


def _aware(value: Any, field: str, errors: dict[str, str]) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        errors[field] = "a date and time with its offset, e.g. 2026-12-01T09:00:00+08:00"
        return None
    return value


DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _crontab_dow(field: str) -> str:
    """crontab counts weekdays from Sunday (0 or 7); APScheduler 3 from Monday: use names."""
    head, slash, step = field.partition("/")
    if re.search(r"\d", head) and not re.fullmatch(r"[0-7,\-]+", head):
        raise ValueError("day of week")
    head = re.sub(r"\d+", lambda m: DOW_NAMES[int(m.group())] if int(m.group()) <= 7 else "x", head)
    return head + slash + step


def check_cron(cron: Any, timezone: str) -> CronTrigger | None:
    """A five-field crontab ('0 9 1 * *': 09:00 on the 1st of each month), or None."""
    if not isinstance(cron, str) or len(cron) > 100:
        return None
    fields = cron.split()
    if len(fields) != 5:
        return None
    minute, hour, day, month, dow = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_dow(dow),
            timezone=timezone,
        )
    except (ValueError, KeyError, IndexError):
        return None


def _check_schedule(
    send_at: Any,
    cron: Any,
    event: Any,
    remind_after_days: Any,
    reminders: Any,
    close_at: Any,
    timezone: str,
    now: datetime,
    errors: dict[str, str],
) -> tuple[datetime | None, datetime | None, int]:
    send_at = _aware(send_at, "send_at", errors)
    close_at = _aware(close_at, "close_at", errors)
    if event is not None and event not in EVENTS:
        errors["event"] = "milestone_done or issue_resolved"
    if cron and check_cron(cron, timezone) is None:
        errors["cron"] = "a five-field crontab, e.g. '0 9 1 * *'"
    if sum(x is not None and x != "" for x in (send_at, cron, event)) > 1:
        errors["send_at"] = "choose one of send_at, cron and event"
    if remind_after_days is not None and not 1 <= remind_after_days <= 60:
        errors["remind_after_days"] = "1 to 60 days"
    if reminders is None:
        reminders = 2 if remind_after_days else 0
    if not 0 <= reminders <= 2 or (reminders and not remind_after_days):
        errors["reminders"] = "0 to 2, and only with remind_after_days"
    if close_at is not None and (close_at <= now or (send_at and close_at <= send_at)):
        errors["close_at"] = "after now and after send_at"
    return send_at, close_at, int(reminders) if isinstance(reminders, int) else 0


def create_campaign(
    *,
    actor: User,
    survey_id: Any,
    name: str,
    audience: Any = None,
    event: str | None = None,
    send_at: datetime | None = None,
    cron: str | None = None,
    remind_after_days: int | None = None,
    reminders: int | None = None,
    close_at: datetime | None = None,
    timezone: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> Campaign:
    if actor.role not in DESIGN_ROLES:
        raise Forbidden("Only quality admins and administrators run campaigns.")
    now = now or utcnow()
    errors: dict[str, str] = {}
    survey = db.session.get(Survey, survey_id) if isinstance(survey_id, int) else None
    if survey is None:
        errors["survey_id"] = "unknown survey"
    elif survey.status != "active":
        errors["survey_id"] = "only an active survey can be sent; activate it first"
    elif survey.kind == "third_party" and (cron or event):
        errors["survey_id"] = "a third-party survey is answered elsewhere: import its results"
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= MAX_NAME:
        errors["name"] = f"1 to {MAX_NAME} characters"
    clean, office_id = _clean_audience(audience, errors)
    send_at, close_at, reminders = _check_schedule(
        send_at, cron, event, remind_after_days, reminders, close_at, timezone, now, errors
    )
    if errors or survey is None:
        raise ValidationFailed(fields=errors)
    campaign = Campaign(
        survey_id=survey.id,
        name=name,
        office_id=office_id,
        audience=clean,
        event=event,
        # a third-party survey is answered elsewhere: its campaign sends nothing, it imports
        send_at=None
        if survey.kind == "third_party"
        else (send_at if (send_at or cron or event) else now),
        cron=cron.strip() if cron else None,
        remind_after_days=remind_after_days,
        reminders=reminders,
        close_at=close_at,
        status="open",
        events_seen_until=now if event else None,
        created_at=now,
        created_by_id=actor.id,
    )
    db.session.add(campaign)
    db.session.flush()
    audit.record(
        actor_id=actor.id,
        entity_type="campaign",
        entity_id=campaign.id,
        action="create",
        changes={"name": [None, name], "survey_id": [None, survey.id], "audience": [None, clean]},
        office_id=office_id,
    )
    return campaign


def audience_filter(campaign: Campaign) -> sa.ColumnElement[bool]:
    """WHERE clause (on Contact joined to Customer) for the campaign's audience: everyone it
    names, reachable or not. Who cannot be invited (inactive, no e-mail) is still in it, so
    that the campaign lists them as skipped with the reason (app.surveys.invitations.invite)."""
    a = campaign.audience or {}
    clauses = _place_clauses(a)
    if a.get("tier"):
        clauses.append(Customer.tier == a["tier"])
    if a.get("project"):
        owner = sa.select(Project.customer_id).where(Project.id == a["project"])
        clauses.append(Customer.id.in_(owner))
    if a.get("customer_ids") is not None:
        clauses.append(Customer.id.in_(a["customer_ids"]))
    if a.get("contact_ids") is not None:
        clauses.append(Contact.id.in_(a["contact_ids"]))
    return sa.and_(sa.true(), *clauses)


def reach_filter(campaign: Campaign) -> sa.ColumnElement[bool]:
    """WHERE clause (on Contact joined to Customer) for the offices the campaign is about: its
    own office and its audience's office or region; everywhere for a company-wide campaign.
    Contacts marked for re-measurement join a wave only within that reach, so that one
    office's campaign (and the results its managers read) never takes in another office's
    customers."""
    clauses = _place_clauses(campaign.audience or {})
    if campaign.office_id is not None:
        clauses.append(Customer.office_id == campaign.office_id)
    return sa.and_(sa.true(), *clauses)


def _place_clauses(audience: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    """The audience's office and region, as conditions on Customer.office_id."""
    clauses: list[sa.ColumnElement[bool]] = []
    if audience.get("office"):
        office = sa.select(Office.id).where(Office.code == audience["office"])
        clauses.append(Customer.office_id.in_(office))
    if audience.get("region"):
        offices = sa.select(Office.id).join(Region).where(Region.code == audience["region"])
        clauses.append(Customer.office_id.in_(offices))
    return clauses


def can_run(user: Any) -> bool:
    return getattr(user, "role", None) in DESIGN_ROLES


def _scope(actor: User) -> Scope:
    if actor.role not in READ_ROLES:
        raise Forbidden("Campaigns are for managers and quality staff.")
    return Scope.for_user(actor)


def _visible(scope: Scope) -> sa.ColumnElement[bool]:
    """Company roles see every campaign; others those about an office in their scope."""
    if scope.is_company:
        return sa.true()
    return sa.and_(Campaign.office_id.is_not(None), scope.office_filter(Campaign.office_id))


def get_campaign(actor: User, campaign_id: int) -> Campaign:
    scope = _scope(actor)
    campaign = db.session.scalars(
        sa.select(Campaign).where(Campaign.id == campaign_id, _visible(scope))
    ).first()
    if campaign is None:
        raise NotFound()
    return campaign


def list_campaigns(actor: User, *, limit: int, cursor: str | None) -> Page[Campaign]:
    scope = _scope(actor)
    check_id_cursor(cursor)
    page: Page[Campaign] = keyset_page(
        sa.select(Campaign).where(_visible(scope)),
        order=[Campaign.id],
        key=lambda c: [c.id],
        limit=limit,
        cursor=cursor,
    )
    return page


def is_open(campaign: Campaign, now: datetime) -> bool:
    return campaign.status == "open" and (campaign.close_at is None or campaign.close_at > now)


def invitation_expiry(campaign: Campaign, now: datetime) -> datetime:
    return campaign.close_at or now + timedelta(days=30)
