"""Recording voices. Every path that stores a voice (staff form, API, public feedback, imports
that go row by row) goes through record_voice, so validation and scoping are the same."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from app.core import audit
from app.core.errors import ValidationFailed
from app.core.scoping import Scope
from app.customers.models import Customer
from app.db import utcnow
from app.extensions import db
from app.issues.models import Category
from app.org.models import Office
from app.voice.channels import CHANNELS, DETAIL_FIELDS, DETAIL_MAX, DIMENSIONS, SENTIMENTS, kind_of
from app.voice.classification import suggest
from app.voice.models import Voice

if TYPE_CHECKING:
    from app.auth.models import User

MAX_TEXT = 20_000
MAX_CONTACT = 120
MAX_PHONE = 40
MAX_EMAIL = 254
MAX_EXTERNAL_ID = 120
# no 0/O/1/I/L: a reference is read out over the phone and typed by customers
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference() -> str:
    """A random voice reference like V-7K3Q9XPA (~40 bits): shown to customers, unguessable
    enough that it reveals neither volumes nor other voices."""
    return "V-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def scope_of(actor: User | None) -> Scope:
    # no actor: the public feedback page or a system job, which may file into any office
    return Scope.for_user(actor) if actor is not None else Scope("company")


def _clean_text(value: Any, field: str, errors: dict[str, str], limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors[field] = "must be text"
        return None
    text = value.strip()
    if len(text) > limit:
        errors[field] = f"at most {limit} characters"
    return text or None


def clean_details(details: Any, errors: dict[str, str]) -> dict[str, str]:
    """Channel-specific fields: known names only, short text values."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        errors["details"] = "must be an object"
        return {}
    clean: dict[str, str] = {}
    for key, value in details.items():
        if key not in DETAIL_FIELDS:
            errors[f"details.{key}"] = "unknown field; one of " + ", ".join(DETAIL_FIELDS)
            continue
        if value is None or value == "":
            continue
        text = str(value).strip()
        if len(text) > DETAIL_MAX:
            errors[f"details.{key}"] = f"at most {DETAIL_MAX} characters"
        elif text:
            clean[key] = text
    return clean


def resolve_place(
    scope: Scope, customer_id: int | None, office_code: str | None, errors: dict[str, str]
) -> tuple[Customer | None, Office | None]:
    """The customer (in scope; another office's customer is "unknown") and the office: the one
    named, else the customer's."""
    customer = None
    if customer_id is not None:
        customer = db.session.scalars(
            sa.select(Customer).where(
                Customer.id == customer_id, scope.office_filter(Customer.office_id)
            )
        ).first()
        if customer is None:
            errors["customer_id"] = "unknown customer"
    office = customer.office if customer is not None else None
    if office_code:
        office = db.session.scalars(
            sa.select(Office).where(Office.code == str(office_code).strip().upper())
        ).first()
        if office is None or not scope.covers_office(office):
            errors["office"] = "unknown office"
            office = None
    elif office is None and "customer_id" not in errors:
        errors["office"] = "required"
    return customer, office


def category_by_code(code: Any, errors: dict[str, str]) -> Category | None:
    if code is None or code == "":
        return None
    row = None
    if isinstance(code, str):
        row = db.session.scalars(
            sa.select(Category).where(Category.code == code, Category.active.is_(True))
        ).first()
    if row is None:
        errors["category"] = "unknown category"
    return row


@dataclass(frozen=True)
class CleanFields:
    """A voice's own fields after validation (category and place are resolved apart: record_voice
    reads them from the database, an import from reference data it loaded once)."""

    text: str | None
    details: dict[str, str]
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    external_id: str | None


def clean_voice_fields(
    *,
    channel: str,
    text: Any,
    dimension: str | None,
    sentiment: str | None,
    occurred_at: datetime | None,
    details: Any,
    contact_name: Any,
    contact_phone: Any,
    contact_email: Any,
    external_id: Any,
    now: datetime,
    errors: dict[str, str],
) -> CleanFields:
    """The field rules every voice obeys (limits and messages), shared by record_voice and the
    bulk import. Problems go into `errors`, field by field."""
    if channel not in CHANNELS:
        errors["channel"] = "unknown channel; one of " + ", ".join(CHANNELS)
    body = _clean_text(text, "text", errors, MAX_TEXT)
    if not body and "text" not in errors:
        errors["text"] = "required"
    if dimension is not None and dimension not in DIMENSIONS:
        errors["dimension"] = "one of " + ", ".join(DIMENSIONS)
    if sentiment is not None and sentiment not in SENTIMENTS:
        errors["sentiment"] = "one of " + ", ".join(SENTIMENTS)
    if occurred_at is not None and occurred_at.tzinfo is None:
        errors["occurred_at"] = "needs a time-zone offset, e.g. 2026-11-23T14:00:00+08:00"
    elif occurred_at is not None and occurred_at > now + timedelta(minutes=5):
        errors["occurred_at"] = "cannot be in the future"
    return CleanFields(
        text=body,
        details=clean_details(details, errors),
        contact_name=_clean_text(contact_name, "contact_name", errors, MAX_CONTACT),
        contact_phone=_clean_text(contact_phone, "contact_phone", errors, MAX_PHONE),
        contact_email=_clean_text(contact_email, "contact_email", errors, MAX_EMAIL),
        external_id=_clean_text(external_id, "external_id", errors, MAX_EXTERNAL_ID),
    )


def record_voice(
    *,
    actor: User | None,
    channel: str,
    text: str,
    office_code: str | None = None,
    customer_id: int | None = None,
    dimension: str | None = None,
    category: str | None = None,
    sentiment: str | None = None,
    occurred_at: datetime | None = None,
    details: dict[str, Any] | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
    external_id: str | None = None,
    now: datetime | None = None,
) -> Voice:
    """Store one voice: validated, scoped, audited, flushed (the caller commits)."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    category_row = category_by_code(category, errors)
    fields = clean_voice_fields(
        channel=channel,
        text=text,
        dimension=dimension,
        sentiment=sentiment,
        occurred_at=occurred_at,
        details=details,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
        external_id=external_id,
        now=now,
        errors=errors,
    )
    body = fields.text
    customer, office = resolve_place(scope_of(actor), customer_id, office_code, errors)
    if errors or office is None or body is None:
        raise ValidationFailed(fields=errors)

    given_by_staff = dimension is not None or category_row is not None or sentiment is not None
    hint = suggest(body)
    if category_row is None and dimension in (None, hint.dimension) and hint.category_id:
        category_row = db.session.get(Category, hint.category_id)
    if category_row is not None and dimension is None:
        dimension = category_row.dimension
    dimension = dimension or hint.dimension
    sentiment = sentiment or hint.sentiment
    classified = dimension is not None or category_row is not None or sentiment is not None
    voice = Voice(
        reference=new_reference(),
        channel=channel,
        kind=kind_of(channel),
        office_id=office.id,
        customer_id=customer.id if customer is not None else None,
        occurred_at=(occurred_at or now),
        text=body,
        dimension=dimension,
        category_id=category_row.id if category_row is not None else None,
        sentiment=sentiment,
        classified_by=(
            "staff" if given_by_staff and actor is not None else "rules" if classified else None
        ),
        suggested_dimension=hint.dimension,
        suggested_category_id=hint.category_id,
        suggested_sentiment=hint.sentiment,
        sentiment_score=hint.score,
        details=fields.details,
        contact_name=fields.contact_name,
        contact_phone=fields.contact_phone,
        contact_email=fields.contact_email,
        external_id=fields.external_id,
        created_by_id=actor.id if actor is not None else None,
        created_at=now,
    )
    db.session.add(voice)
    db.session.flush()
    audit.record(
        actor_id=actor.id if actor is not None else None,
        entity_type="voice",
        entity_id=voice.id,
        action="create",
        changes={"channel": [None, channel], "office": [None, office.code]},
        office_id=office.id,
        at=now,
    )
    return voice
