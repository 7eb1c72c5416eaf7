"""Creating and changing customers. Validation here serves the UI, the API and imports alike."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from app.auth.models import User
from app.core import audit
from app.core.errors import Conflict, ValidationFailed
from app.core.fields import CONTROL_MESSAGE, control_character
from app.core.scoping import Scope, get_scoped
from app.customers.models import TIERS, Customer, CustomerPhone
from app.customers.phones import normalise_phone
from app.db import utcnow
from app.extensions import db
from app.org.models import Office

EDITABLE = {"name", "company", "phones", "email", "tier", "contract_end", "notes", "office_code"}
MAX_NOTES = 10_000


def _office_in_scope(scope: Scope, actor: User, office_code: str | None) -> Office | None:
    if not office_code:
        return actor.office if scope.kind == "office" else None
    office = db.session.scalars(
        sa.select(Office).where(Office.code == office_code.strip().upper())
    ).first()
    return office if scope.covers_office(office) else None


def _name(value: Any) -> tuple[Any, str | None]:
    name = (value or "").strip()
    return name, None if 1 <= len(name) <= 120 else "must be 1 to 120 characters"


def _company(value: Any) -> tuple[Any, str | None]:
    company = (value or "").strip() or None
    return company, "at most 200 characters" if company and len(company) > 200 else None


def _email(value: Any) -> tuple[Any, str | None]:
    email = (value or "").strip() or None
    if not email:
        return None, None
    try:
        return validate_email(email, check_deliverability=False).normalized, None
    except EmailNotValidError:
        return email, "not a valid e-mail address"


def _tier(value: Any) -> tuple[Any, str | None]:
    tier = (value or "C").strip().upper()
    return tier, None if tier in TIERS else "one of A, B, C, D"


def _contract_end(value: Any) -> tuple[Any, str | None]:
    ok = value is None or isinstance(value, date)
    return value, None if ok else "a date (YYYY-MM-DD)"


def _notes(value: Any) -> tuple[Any, str | None]:
    notes = value or ""
    return notes, f"at most {MAX_NOTES} characters" if len(notes) > MAX_NOTES else None


def _phones(value: Any) -> tuple[Any, str | None]:
    numbers: dict[str, str] = {}
    for raw in value or []:
        raw = (raw or "").strip()
        if not raw:
            continue
        number = normalise_phone(raw)
        if number is None:
            return [], f"not a phone number: {raw[:40]}"
        numbers.setdefault(number, raw[:64])
    return list(numbers.items()), None


CLEANERS = {
    "name": _name,
    "company": _company,
    "email": _email,
    "tier": _tier,
    "contract_end": _contract_end,
    "notes": _notes,
    "phones": _phones,
}


def _clean(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, cleaner in CLEANERS.items():
        if field in values:
            out[field], problem = cleaner(values[field])
            if problem is None and isinstance(out[field], str):
                char = control_character(out[field])
                problem = CONTROL_MESSAGE % {"char": char} if char is not None else None
            if problem:
                errors[field] = problem
    return out


def create_customer(
    *,
    actor: User,
    name: str,
    office_code: str | None,
    company: str | None = None,
    phones: list[str] | None = None,
    email: str | None = None,
    tier: str = "C",
    contract_end: date | None = None,
    notes: str = "",
) -> Customer:
    scope = Scope.for_user(actor)
    errors: dict[str, str] = {}
    clean = _clean(
        {
            "name": name,
            "company": company,
            "phones": phones or [],
            "email": email,
            "tier": tier,
            "contract_end": contract_end,
            "notes": notes,
        },
        errors,
    )
    office = _office_in_scope(scope, actor, office_code)
    if office is None:
        errors["office"] = "unknown office" if office_code else "choose an office"
    if errors or office is None:
        raise ValidationFailed(fields=errors)
    customer = Customer(
        name=clean["name"],
        company=clean["company"],
        email=clean["email"],
        tier=clean["tier"],
        contract_end=clean["contract_end"],
        notes=clean["notes"],
        office_id=office.id,
        phones=[CustomerPhone(number=n, raw=raw) for n, raw in clean["phones"]],
    )
    db.session.add(customer)
    db.session.flush()
    audit.record(
        actor_id=actor.id,
        entity_type="customer",
        entity_id=customer.id,
        action="create",
        changes={"name": [None, customer.name], "office": [None, office.code]},
        office_id=office.id,
    )
    return customer


def update_customer(*, actor: User, customer_id: int, version: int, **changes: Any) -> Customer:
    """Apply `changes` (fields of EDITABLE) if `version` is still current; audit what changed.

    Out of the actor's scope → NotFound; a stale version → Conflict and nothing changes.
    """
    scope = Scope.for_user(actor)
    customer = get_scoped(Customer, customer_id, scope)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed(fields=dict.fromkeys(sorted(unknown), "not editable"))
    if customer.version != version:
        raise Conflict()
    errors: dict[str, str] = {}
    clean = _clean(changes, errors)
    if "office_code" in changes:
        office = _office_in_scope(scope, actor, changes["office_code"])
        if office is None:
            errors["office"] = "unknown office"
        else:
            clean["office_id"] = office.id
    if errors:
        raise ValidationFailed(fields=errors)
    phones = clean.pop("phones", None)
    before = _snapshot(customer)
    for key, value in clean.items():
        setattr(customer, key, value)
    if phones is not None:
        _replace_phones(customer, phones)
    changed = audit.diff(before, _snapshot(customer))
    if changed:
        # Touch the row itself so the version moves (and guards concurrent edits) even when
        # only the phone rows changed.
        customer.updated_at = utcnow()
        audit.record(
            actor_id=actor.id,
            entity_type="customer",
            entity_id=customer.id,
            action="update",
            changes=changed,
            office_id=customer.office_id,
        )
    db.session.flush()
    return customer


def _snapshot(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "company": customer.company,
        "email": customer.email,
        "tier": customer.tier,
        "contract_end": customer.contract_end,
        "notes": customer.notes,
        "phones": ", ".join(p.number for p in customer.phones),
        "office_id": customer.office_id,
    }


def _replace_phones(customer: Customer, phones: list[tuple[str, str]]) -> None:
    """Keep the rows of numbers that stay (their ids and raw text), add the new ones."""
    wanted = dict(phones)
    kept = [p for p in customer.phones if p.number in wanted]
    existing = {p.number for p in kept}
    customer.phones = kept + [
        CustomerPhone(number=n, raw=raw) for n, raw in phones if n not in existing
    ]
