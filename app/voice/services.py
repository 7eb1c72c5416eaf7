"""Recording voices. Every path that stores a voice (staff form, API, public feedback, imports
that go row by row) goes through record_voice, so validation and scoping are the same."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.errors import Conflict, ValidationFailed
from app.core.fields import control_character
from app.core.scoping import Scope, get_scoped
from app.customers.models import Customer
from app.db import utcnow
from app.extensions import db
from app.issues.models import Category, Issue
from app.issues.services import accept_issue
from app.org.models import Office
from app.voice.channels import CHANNELS, DETAIL_FIELDS, DETAIL_MAX, DIMENSIONS, SENTIMENTS, kind_of
from app.voice.classification import apply_suggestion, suggest
from app.voice.models import (
    REPEAT_TARGETS,
    IssueRepeatDismissal,
    IssueRepeatLink,
    Voice,
    VoiceIssueLink,
    VoiceRepeatDismissal,
)
from app.voice.problems import problem
from app.voice.repeats import parse_targets

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
        errors[field] = problem("not_text")
        return None
    text = value.strip()
    if len(text) > limit:
        errors[field] = problem("too_long", limit=limit)
    elif (char := control_character(text)) is not None:
        errors[field] = problem("control_character", char=char)
    return text or None


def clean_details(details: Any, errors: dict[str, str]) -> dict[str, str]:
    """Channel-specific fields: known names only, short text values."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        errors["details"] = problem("not_object")
        return {}
    clean: dict[str, str] = {}
    for key, value in details.items():
        if key not in DETAIL_FIELDS:
            errors[f"details.{key}"] = problem("unknown_field", choices=", ".join(DETAIL_FIELDS))
            continue
        if value is None or value == "":
            continue
        text = str(value).strip()
        if len(text) > DETAIL_MAX:
            errors[f"details.{key}"] = problem("too_long", limit=DETAIL_MAX)
        elif (char := control_character(text)) is not None:
            errors[f"details.{key}"] = problem("control_character", char=char)
        elif text:
            clean[key] = text
    return clean


def resolve_place(
    scope: Scope, customer_id: int | None, office_code: str | None, errors: dict[str, str]
) -> tuple[Customer | None, Office | None]:
    """The customer (in scope; another office's customer is "unknown") and the office: the one
    named, else the customer's. A voice belongs to its customer's office: naming another office
    for the customer is refused on `customer_id` (a manager of several offices would otherwise
    file an SH customer's voice in GZ, where GZ's reports count it and SH never sees it)."""
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
        elif customer is not None and customer.office_id != office.id:
            errors["customer_id"] = problem(
                "other_office", customer_office=customer.office.code, office=office.code
            )
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
        errors["channel"] = problem("unknown_channel", choices=", ".join(CHANNELS))
    body = _clean_text(text, "text", errors, MAX_TEXT)
    if not body and "text" not in errors:
        errors["text"] = problem("required")
    if dimension is not None and dimension not in DIMENSIONS:
        errors["dimension"] = problem("one_of", choices=", ".join(DIMENSIONS))
    if sentiment is not None and sentiment not in SENTIMENTS:
        errors["sentiment"] = problem("one_of", choices=", ".join(SENTIMENTS))
    if occurred_at is not None and occurred_at.tzinfo is None:
        errors["occurred_at"] = problem("needs_offset")
    elif occurred_at is not None and occurred_at > now + timedelta(minutes=5):
        errors["occurred_at"] = problem("in_future")
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

    hint = suggest(body)
    dimension, category_id, sentiment, classified_by = apply_suggestion(
        hint,
        dimension=dimension,
        category_id=category_row.id if category_row is not None else None,
        category_dimension=category_row.dimension if category_row is not None else None,
        sentiment=sentiment,
        by_person=actor is not None,
    )
    voice = Voice(
        reference=new_reference(),
        channel=channel,
        kind=kind_of(channel),
        office_id=office.id,
        customer_id=customer.id if customer is not None else None,
        occurred_at=(occurred_at or now),
        text=body,
        dimension=dimension,
        category_id=category_id,
        sentiment=sentiment,
        classified_by=classified_by,
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


# --- creating with a source reference ------------------------------------------------------------


def create_voice(*, actor: User | None, **fields: Any) -> Voice:
    """record_voice, answering 409 `conflict` (naming the voice that holds it) when the
    external id is already used in that office and channel. The insert runs in a savepoint, so
    a refused voice leaves nothing behind, not even its audit row."""
    try:
        with db.session.begin_nested():
            return record_voice(actor=actor, **fields)
    except IntegrityError as exc:
        existing = _holder_of_external_id(actor, fields)
        if existing is None:
            raise Conflict("The voice conflicts with one stored meanwhile; try again.") from exc
        raise Conflict(
            f"external_id {existing.external_id!r} is already used by voice "
            f"{existing.reference} (id {existing.id}) in this office and channel.",
            fields={"external_id": f"already used by voice {existing.id}"},
        ) from exc


def _holder_of_external_id(actor: User | None, fields: dict[str, Any]) -> Voice | None:
    ext = (fields.get("external_id") or "").strip()
    if not ext:
        return None
    errors: dict[str, str] = {}
    scope = scope_of(actor)
    _customer, office = resolve_place(
        scope, fields.get("customer_id"), fields.get("office_code"), errors
    )
    if office is None:
        return None
    return db.session.scalars(
        sa.select(Voice).where(
            Voice.office_id == office.id,
            Voice.channel == fields.get("channel"),
            Voice.external_id == ext,
        )
    ).first()


def get_voice(actor: User | None, voice_id: int, *, for_update: bool = False) -> Voice:
    """A voice in the actor's scope; another office's voice is not found (404)."""
    return get_scoped(Voice, voice_id, scope_of(actor), for_update=for_update)


def _audit(
    voice: Voice, actor: User | None, action: str, changes: dict[str, Any], at: datetime
) -> None:
    audit.record(
        actor_id=actor.id if actor is not None else None,
        entity_type="voice",
        entity_id=voice.id,
        action=action,
        changes=changes,
        office_id=voice.office_id,
        at=at,
    )


# --- voice → issue -------------------------------------------------------------------------------

TITLE_FROM_TEXT = 60  # characters of the voice's first line an issue raised from it is titled by


def title_from_text(text: str) -> str:
    """The title an issue raised from a voice gets unless one is given: the text's first line,
    cut short (the UI offers it in the form, the API uses it when the body has no title)."""
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()[:TITLE_FROM_TEXT]
    return ""


def link_raised_issue(actor: User, voice: Voice, issue: Issue, now: datetime | None = None) -> None:
    """Both ways: issue.voice_id (set by accept_issue) and a "raised" link on the voice."""
    now = now or utcnow()
    issue.voice_id = voice.id
    db.session.add(
        VoiceIssueLink(
            voice_id=voice.id, issue_id=issue.id, kind="raised", actor_id=actor.id, at=now
        )
    )
    db.session.flush()
    _audit(voice, actor, "raise_issue", {"issue": [None, issue.number]}, now)


def _raised_before(voice: Voice) -> str | None:
    """The number of the issue the voice already raised, if any."""
    return db.session.scalars(
        sa.select(Issue.number)
        .join(VoiceIssueLink, VoiceIssueLink.issue_id == Issue.id)
        .where(VoiceIssueLink.voice_id == voice.id, VoiceIssueLink.kind == "raised")
    ).first()


def _issue_customer(
    actor: User, voice: Voice, customer_id: int | None, errors: dict[str, str]
) -> int | None:
    """The customer of an issue raised from `voice`: the voice's, or the one given when the
    voice names none (market research); always a customer of the voice's office."""
    if customer_id is None:
        customer_id = voice.customer_id
        if customer_id is None:
            errors["customer_id"] = "the voice has no customer; an issue needs one"
            return None
    elif voice.customer_id is not None and customer_id != voice.customer_id:
        errors["voice_id"] = "the voice is about another customer"
        return None
    customer = db.session.scalars(
        sa.select(Customer).where(
            Customer.id == customer_id, scope_of(actor).office_filter(Customer.office_id)
        )
    ).first()
    if customer is None:
        errors["customer_id"] = "unknown customer"
        return None
    if customer.office_id != voice.office_id:
        errors["customer_id"] = problem(
            "other_office", customer_office=customer.office.code, office=voice.office.code
        )
        return None
    return customer_id


def raise_issue(
    *,
    actor: User,
    voice_id: int,
    title: str | None = None,
    description: str | None = None,
    customer_id: int | None = None,
    office_code: str | None = None,
    channel: str | None = None,
    category: str | None = None,
    priority: str = "normal",
    received_at: datetime | None = None,
    commitment_text: str | None = None,
    commitment_due_at: datetime | None = None,
    owner_id: int | None = None,
    now: datetime | None = None,
) -> Issue:
    """A voice that needs action becomes an issue, linked both ways: the voice page's action
    and POST /api/v1/issues with `voice_id` both come here, so both give the same issue.

    What the caller leaves out (None) comes from the voice: its customer, office, channel
    (voices and issues share the channel codes, so a return is raised as a return), category,
    text as the description and its first line as the title, and its time as `received_at`
    (the SLA clock starts when the customer spoke). What the caller gives wins, except that
    the issue stays in the voice's office and about the voice's customer (422). The voice must
    be in the actor's scope (404); a voice raises one issue (409 naming it)."""
    now = now or utcnow()
    voice = get_voice(actor, voice_id, for_update=True)  # a second raise waits, then sees the first
    raised = _raised_before(voice)
    if raised is not None:
        raise Conflict(
            f"Voice {voice.reference} has already raised issue {raised}.",
            fields={"voice_id": f"already raised issue {raised}"},
        )
    errors: dict[str, str] = {}
    customer = _issue_customer(actor, voice, customer_id, errors)
    if office_code and str(office_code).strip().upper() != voice.office.code:
        errors["office"] = f"the voice is of office {voice.office.code}"
    code = category or (voice.category.code if voice.category is not None else None)
    if not code:
        errors["category"] = "required"
    if errors or customer is None or code is None:
        raise ValidationFailed(fields=errors)
    issue = accept_issue(
        actor=actor,
        customer_id=customer,
        title=title if title is not None else title_from_text(voice.text),
        description=description if description is not None else voice.text,
        channel=channel or voice.channel,
        category=code,
        priority=priority,
        office_code=voice.office.code,
        received_at=received_at or voice.occurred_at,
        commitment_text=commitment_text,
        commitment_due_at=commitment_due_at,
        voice_id=voice.id,
        owner_id=owner_id,
        now=now,
    )
    link_raised_issue(actor, voice, issue, now)
    return issue


# --- repeats: link and dismiss -------------------------------------------------------------------


def _target_issue(actor: User, issue_id: int) -> Issue:
    issue = db.session.scalars(
        sa.select(Issue).where(Issue.id == issue_id, scope_of(actor).office_filter(Issue.office_id))
    ).first()
    if issue is None:
        raise ValidationFailed(fields={"target": "unknown issue"})
    return issue


def link_repeat_of_issue(
    *, actor: User, voice_id: int, issue_id: int, now: datetime | None = None
) -> VoiceIssueLink:
    """The voice repeats what an existing issue is about."""
    now = now or utcnow()
    voice = get_voice(actor, voice_id, for_update=True)
    issue = _target_issue(actor, issue_id)
    exists = db.session.scalars(
        sa.select(VoiceIssueLink).where(
            VoiceIssueLink.voice_id == voice.id, VoiceIssueLink.issue_id == issue.id
        )
    ).first()
    if exists is not None:
        raise Conflict(f"The voice is already linked to issue {issue.number}.")
    link = VoiceIssueLink(
        voice_id=voice.id, issue_id=issue.id, kind="repeat", actor_id=actor.id, at=now
    )
    db.session.add(link)
    db.session.flush()
    _audit(voice, actor, "link_repeat", {"repeats_issue": [None, issue.number]}, now)
    return link


def link_repeat_of_voice(
    *, actor: User, voice_id: int, other_id: int, now: datetime | None = None
) -> Voice:
    """The voice repeats another: it joins that voice's group, whose first voice is the one
    `repeat_of_id` points at (groups stay one level deep; the voice's own repeats follow it)."""
    now = now or utcnow()
    voice = get_voice(actor, voice_id, for_update=True)
    other = db.session.scalars(
        sa.select(Voice).where(Voice.id == other_id, scope_of(actor).office_filter(Voice.office_id))
    ).first()
    if other is None:
        raise ValidationFailed(fields={"target": "unknown voice"})
    root_id = other.repeat_of_id or other.id
    if root_id == voice.id or other.id == voice.id:
        raise ValidationFailed(fields={"target": "a voice cannot repeat itself"})
    if voice.repeat_of_id == root_id:
        raise Conflict("The voice is already a repeat of that one.")
    before = voice.repeat_of_id
    followers = list(db.session.scalars(sa.select(Voice).where(Voice.repeat_of_id == voice.id)))
    voice.repeat_of_id = root_id
    for follower in followers:
        follower.repeat_of_id = root_id
        _audit(follower, actor, "link_repeat", {"repeat_of": [voice.id, root_id]}, now)
    db.session.flush()
    _audit(voice, actor, "link_repeat", {"repeat_of": [before, root_id]}, now)
    return voice


def unlink_repeat(*, actor: User, voice_id: int, now: datetime | None = None) -> Voice:
    now = now or utcnow()
    voice = get_voice(actor, voice_id, for_update=True)
    if voice.repeat_of_id is None:
        raise ValidationFailed(fields={"target": "the voice is not marked as a repeat"})
    before = voice.repeat_of_id
    voice.repeat_of_id = None
    db.session.flush()
    _audit(voice, actor, "unlink_repeat", {"repeat_of": [before, None]}, now)
    return voice


def link_repeat(
    *, actor: User, voice_id: int, target_kind: str, target_id: int, now: datetime | None = None
) -> None:
    if target_kind == "issue":
        link_repeat_of_issue(actor=actor, voice_id=voice_id, issue_id=target_id, now=now)
    elif target_kind == "voice":
        link_repeat_of_voice(actor=actor, voice_id=voice_id, other_id=target_id, now=now)
    else:
        raise ValidationFailed(fields={"target_kind": "one of voice, issue"})


def dismiss_repeat(
    *, actor: User, voice_id: int, target_kind: str, target_id: int, now: datetime | None = None
) -> bool:
    """Remember that a candidate is not a repeat of this voice, so it is not offered again.
    Idempotent: dismissing twice keeps one row (returns False the second time)."""
    now = now or utcnow()
    voice = get_voice(actor, voice_id)
    if target_kind not in REPEAT_TARGETS:
        raise ValidationFailed(fields={"target_kind": "one of voice, issue"})
    if target_kind == "issue":
        _target_issue(actor, target_id)
    elif (
        db.session.scalars(
            sa.select(Voice.id).where(
                Voice.id == target_id, scope_of(actor).office_filter(Voice.office_id)
            )
        ).first()
        is None
    ):
        raise ValidationFailed(fields={"target": "unknown voice"})
    exists = db.session.scalars(
        sa.select(VoiceRepeatDismissal.id).where(
            VoiceRepeatDismissal.voice_id == voice.id,
            VoiceRepeatDismissal.target_kind == target_kind,
            VoiceRepeatDismissal.target_id == target_id,
        )
    ).first()
    if exists is not None:
        return False
    db.session.add(
        VoiceRepeatDismissal(
            voice_id=voice.id,
            target_kind=target_kind,
            target_id=target_id,
            actor_id=actor.id,
            at=now,
        )
    )
    db.session.flush()
    _audit(voice, actor, "dismiss_repeat", {target_kind: [None, target_id]}, now)
    return True


# --- repeats of an issue being logged (the hotline screen) ---------------------------------------


def _scoped_voice(actor: User, voice_id: int) -> Voice:
    voice = db.session.scalars(
        sa.select(Voice).where(Voice.id == voice_id, scope_of(actor).office_filter(Voice.office_id))
    ).first()
    if voice is None:
        raise ValidationFailed(fields={"target": "unknown voice"})
    return voice


def _audit_issue(
    issue: Issue, actor: User, action: str, changes: dict[str, Any], at: datetime
) -> None:
    audit.record(
        actor_id=actor.id,
        entity_type="issue",
        entity_id=issue.id,
        action=action,
        changes=changes,
        office_id=issue.office_id,
        at=at,
    )


def link_issue_repeat(
    *, actor: User, issue_id: int, target_kind: str, target_id: int, now: datetime | None = None
) -> None:
    """The issue is about what an earlier voice or issue is about. A voice gets the voice↔issue
    link of kind "repeat" (as when the voice page links it to an issue, so the voice page, the
    issue page and the reports count it alike); an earlier issue an IssueRepeatLink. Both in
    the actor's scope; audited on the issue."""
    now = now or utcnow()
    issue = get_scoped(Issue, issue_id, scope_of(actor), for_update=True)
    if target_kind == "voice":
        voice = _scoped_voice(actor, target_id)
        linked = db.session.scalars(
            sa.select(VoiceIssueLink.id).where(
                VoiceIssueLink.voice_id == voice.id, VoiceIssueLink.issue_id == issue.id
            )
        ).first()
        if linked is not None:
            raise Conflict(f"Voice {voice.reference} is already linked to this issue.")
        db.session.add(
            VoiceIssueLink(
                voice_id=voice.id, issue_id=issue.id, kind="repeat", actor_id=actor.id, at=now
            )
        )
        changes = {"repeats_voice": [None, voice.reference]}
    elif target_kind == "issue":
        earlier = _target_issue(actor, target_id)
        if earlier.id == issue.id:
            raise ValidationFailed(fields={"target": "an issue cannot repeat itself"})
        linked = db.session.scalars(
            sa.select(IssueRepeatLink.id).where(
                IssueRepeatLink.issue_id == issue.id, IssueRepeatLink.repeat_of_id == earlier.id
            )
        ).first()
        if linked is not None:
            raise Conflict(f"The issue is already linked to issue {earlier.number}.")
        db.session.add(
            IssueRepeatLink(issue_id=issue.id, repeat_of_id=earlier.id, actor_id=actor.id, at=now)
        )
        changes = {"repeats_issue": [None, earlier.number]}
    else:
        raise ValidationFailed(fields={"target_kind": "one of voice, issue"})
    db.session.flush()
    _audit_issue(issue, actor, "link_repeat", changes, now)


def dismiss_issue_repeat(
    *, actor: User, issue_id: int, target_kind: str, target_id: int, now: datetime | None = None
) -> bool:
    """Keep on record that a candidate offered for the issue is not a repeat of it, as
    dismiss_repeat does for a voice. Idempotent (False the second time)."""
    now = now or utcnow()
    issue = get_scoped(Issue, issue_id, scope_of(actor))
    if target_kind not in REPEAT_TARGETS:
        raise ValidationFailed(fields={"target_kind": "one of voice, issue"})
    if target_kind == "issue":
        _target_issue(actor, target_id)
    else:
        _scoped_voice(actor, target_id)
    exists = db.session.scalars(
        sa.select(IssueRepeatDismissal.id).where(
            IssueRepeatDismissal.issue_id == issue.id,
            IssueRepeatDismissal.target_kind == target_kind,
            IssueRepeatDismissal.target_id == target_id,
        )
    ).first()
    if exists is not None:
        return False
    db.session.add(
        IssueRepeatDismissal(
            issue_id=issue.id,
            target_kind=target_kind,
            target_id=target_id,
            actor_id=actor.id,
            at=now,
        )
    )
    db.session.flush()
    _audit_issue(issue, actor, "dismiss_repeat", {target_kind: [None, target_id]}, now)
    return True


def record_issue_repeats(
    *,
    actor: User,
    issue_id: int,
    linked: str | None,
    dismissed: str | None,
    now: datetime | None = None,
) -> None:
    """What the agent did with the repeat candidates while logging the issue, as the repeat
    panel sends it ("voice:12", "issue:5,voice:7"): the one linked, the ones dismissed."""
    for kind, ident in parse_targets(linked)[:1]:
        link_issue_repeat(
            actor=actor, issue_id=issue_id, target_kind=kind, target_id=ident, now=now
        )
    for kind, ident in parse_targets(dismissed):
        dismiss_issue_repeat(
            actor=actor, issue_id=issue_id, target_kind=kind, target_id=ident, now=now
        )
