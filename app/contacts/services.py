"""Contacts, projects and milestones: created and changed by staff in scope, every change
audited in the caller's transaction. Services flush; the boundary commits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from app.auth.models import User
from app.contacts.models import LANGUAGES, Contact, Milestone, Project
from app.contacts.signals import milestone_done
from app.core import audit
from app.core.errors import InvalidTransitionError, NotFound, ValidationFailed
from app.core.fields import clean_text
from app.core.scoping import Scope, get_scoped
from app.customers.models import Customer
from app.db import utcnow
from app.extensions import db
from app.org.models import Office

CONTACT_FIELDS = ("name", "role", "email", "phone", "language", "active")


def clean_email(value: Any, errors: dict[str, str], field: str = "email") -> str | None:
    """A normalised address or None; a header-injection attempt is just an invalid address."""
    email = (value or "").strip() if isinstance(value, str) else ""
    if not email:
        return None
    if any(ch in email for ch in "\r\n\x00"):
        errors[field] = "not a valid e-mail address"
        return None
    try:
        return str(validate_email(email, check_deliverability=False).normalized)
    except EmailNotValidError:
        errors[field] = "not a valid e-mail address"
        return None


def _clean_contact(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if "name" in values:
        out["name"] = clean_text(values["name"], "name", errors, limit=120, required=True)
    if "role" in values:
        out["role"] = clean_text(values["role"], "role", errors, limit=120, required=False) or None
    if "email" in values:
        out["email"] = clean_email(values["email"], errors)
    if "phone" in values:
        out["phone"] = (
            clean_text(values["phone"], "phone", errors, limit=64, required=False) or None
        )
    if "language" in values:
        out["language"] = values["language"] or "zh"
        if out["language"] not in LANGUAGES:
            errors["language"] = "zh or en"
    if "active" in values:
        out["active"] = bool(values["active"])
    unknown = set(values) - set(CONTACT_FIELDS)
    errors.update(dict.fromkeys(sorted(unknown), "not editable"))
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _customer(actor: User, customer_id: int) -> Customer:
    return get_scoped(Customer, customer_id, Scope.for_user(actor))


def _audit(
    actor: User, entity: str, entity_id: int, action: str, changes: Any, office: int
) -> None:
    audit.record(
        actor_id=actor.id,
        entity_type=entity,
        entity_id=entity_id,
        action=action,
        changes=changes,
        office_id=office,
    )


def add_contact(*, actor: User, customer_id: int, **values: Any) -> Contact:
    customer = _customer(actor, customer_id)
    values.setdefault("name", "")
    clean = _clean_contact(values)
    contact = Contact(customer_id=customer.id, **clean)
    db.session.add(contact)
    db.session.flush()
    changes = {k: [None, v] for k, v in clean.items()}
    _audit(actor, "contact", contact.id, "create", changes, customer.office_id)
    return contact


def get_contact(actor: User, contact_id: int) -> Contact:
    scope = Scope.for_user(actor)
    contact = db.session.scalars(
        sa.select(Contact)
        .join(Customer, Customer.id == Contact.customer_id)
        .where(Contact.id == contact_id, scope.office_filter(Customer.office_id))
    ).first()
    if contact is None:
        raise NotFound()
    return contact


def update_contact(*, actor: User, contact_id: int, **values: Any) -> Contact:
    contact = get_contact(actor, contact_id)
    clean = _clean_contact(values)
    before = {k: getattr(contact, k) for k in clean}
    for key, value in clean.items():
        setattr(contact, key, value)
    changed = audit.diff(before, clean)
    if changed:
        _audit(actor, "contact", contact.id, "update", changed, contact.customer.office_id)
    db.session.flush()
    return contact


def _office(scope: Scope, code: Any, fallback: Office) -> Office | None:
    if not code:
        return fallback if scope.covers_office(fallback) else None
    office = db.session.scalars(
        sa.select(Office).where(Office.code == str(code).strip().upper())
    ).first()
    return office if scope.covers_office(office) else None


def add_project(
    *, actor: User, customer_id: int, name: str, office_code: str | None = None
) -> Project:
    """A project of the customer, delivered by `office_code` (default: the customer's)."""
    scope = Scope.for_user(actor)
    customer = _customer(actor, customer_id)
    errors: dict[str, str] = {}
    name = clean_text(name, "name", errors, limit=200, required=True)
    office = _office(scope, office_code, customer.office)
    if office is None:
        errors["office"] = "unknown office"
    if errors or office is None:
        raise ValidationFailed(fields=errors)
    project = Project(customer_id=customer.id, office_id=office.id, name=name)
    db.session.add(project)
    db.session.flush()
    changes = {"name": [None, name], "office": [None, office.code]}
    _audit(actor, "project", project.id, "create", changes, office.id)
    return project


def get_project(actor: User, project_id: int) -> Project:
    return get_scoped(Project, project_id, Scope.for_user(actor))


def add_milestone(
    *, actor: User, project_id: int, name: str, due_date: date | None = None
) -> Milestone:
    project = get_project(actor, project_id)
    errors: dict[str, str] = {}
    name = clean_text(name, "name", errors, limit=200, required=True)
    if due_date is not None and not isinstance(due_date, date):
        errors["due_date"] = "a date (YYYY-MM-DD)"
    if errors:
        raise ValidationFailed(fields=errors)
    milestone = Milestone(project_id=project.id, name=name, due_date=due_date)
    db.session.add(milestone)
    db.session.flush()
    changes = {"name": [None, name], "due_date": [None, due_date.isoformat() if due_date else None]}
    _audit(actor, "milestone", milestone.id, "create", changes, project.office_id)
    return milestone


def _milestones_in(scope: Scope, milestone_id: int) -> sa.Select[Any]:
    return (
        sa.select(Milestone)
        .join(Project, Project.id == Milestone.project_id)
        .where(Milestone.id == milestone_id, scope.office_filter(Project.office_id))
    )


def get_milestone(actor: User, milestone_id: int) -> Milestone:
    stmt = _milestones_in(Scope.for_user(actor), milestone_id)
    milestone: Milestone | None = db.session.scalars(stmt).first()
    if milestone is None:
        raise NotFound()
    return milestone


def mark_milestone_done(
    *,
    actor: User,
    milestone_id: int,
    done_on: date | None = None,
    now: datetime | None = None,
) -> Milestone:
    """Record the milestone as done (once: a second mark is a 409 and changes nothing), audit
    it and send `milestone_done`, on which project-based surveys invite the contacts."""
    now = now or utcnow()
    scope = Scope.for_user(actor)
    milestone: Milestone | None = db.session.scalars(
        _milestones_in(scope, milestone_id).with_for_update(of=Milestone)
    ).first()
    if milestone is None:
        raise NotFound()
    db.session.refresh(milestone)
    if milestone.done_at is not None:
        raise InvalidTransitionError("This milestone is already done.")
    today = now.astimezone(ZoneInfo(milestone.project.office.timezone)).date()
    done_on = done_on or today
    if done_on > today:
        raise ValidationFailed(fields={"done_on": "cannot be in the future"})
    milestone.done_on = done_on
    milestone.done_at = now
    milestone.done_by_id = actor.id
    db.session.flush()
    changes = {"done_on": [None, done_on.isoformat()], "done_at": [None, now.isoformat()]}
    _audit(actor, "milestone", milestone.id, "done", changes, milestone.project.office_id)
    milestone_done.send(milestone, now=now)
    return milestone


def contacts_of(customer_id: int) -> list[Contact]:
    """A customer's contacts, active first (the caller has loaded the customer in scope)."""
    return list(
        db.session.scalars(
            sa.select(Contact)
            .where(Contact.customer_id == customer_id)
            .order_by(Contact.active.desc(), Contact.name, Contact.id)
        )
    )


def projects_of(customer_id: int, scope: Scope) -> list[Project]:
    return list(
        db.session.scalars(
            sa.select(Project)
            .where(Project.customer_id == customer_id, scope.office_filter(Project.office_id))
            .order_by(Project.id.desc())
        )
    )
