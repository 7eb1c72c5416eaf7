"""Schemas of /api/v1/issues: what goes in (validated here for shape; services check the
rules) and what comes out (also the OpenAPI description)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from app.api.schemas import ErrorSchema, PageArgs, Timestamp, page_schema
from app.issues.inputs import MAX_TEXT, MAX_TITLE
from app.issues.intake import AcceptedIssue
from app.issues.models import CHANNELS, CONTACT_DIRECTIONS, PRIORITIES, STATUSES
from app.issues.services import CONTACT_CHANNELS

Aware = fields.AwareDateTime


class CommitmentSchema(Schema):
    text = fields.String(required=True, metadata={"description": f"at most {MAX_TEXT} characters"})
    due_at = Aware(allow_none=True, load_default=None)


def _commitment(issue: Any) -> dict[str, Any] | None:
    if not issue.commitment_text:
        return None
    due = issue.commitment_due_at
    return {
        "text": issue.commitment_text,
        "due_at": due.astimezone(UTC).isoformat() if due else None,
    }


class IssueSchema(Schema):
    id = fields.Integer()
    number = fields.String(metadata={"description": "<OFFICE>-<YYYY>-<6 digits>"})
    status = fields.String(metadata={"enum": list(STATUSES)})
    escalation_level = fields.Integer(
        metadata={"description": "0 none, 1 office, 2 region, 3 company"}
    )
    title = fields.String()
    description = fields.String()
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    category = fields.Function(lambda i: i.category.code, metadata={"description": "category code"})
    priority = fields.String(metadata={"enum": list(PRIORITIES)})
    office = fields.Function(lambda i: i.office.code, metadata={"description": "office code"})
    customer_id = fields.Integer()
    customer_name = fields.Function(lambda i: i.customer.name)
    owner_id = fields.Integer(allow_none=True)
    received_at = Timestamp()
    response_due_at = Timestamp()
    resolve_due_at = Timestamp()
    first_response_at = Timestamp(allow_none=True)
    response_minutes = fields.Integer(allow_none=True, metadata={"description": "working minutes"})
    resolved_at = Timestamp(allow_none=True)
    resolve_minutes = fields.Integer(
        allow_none=True, metadata={"description": "working minutes, waiting excluded"}
    )
    closed_at = Timestamp(allow_none=True)
    commitment = fields.Function(_commitment, metadata={"description": "{text, due_at} or null"})
    resolution = fields.String(allow_none=True)
    root_cause = fields.Function(lambda i: i.root_cause.code if i.root_cause else None)
    responsible = fields.String(allow_none=True)
    rating = fields.Integer(allow_none=True)
    rating_comment = fields.String(allow_none=True)
    callback = fields.Boolean(attribute="callback_done", allow_none=True)
    reopen_count = fields.Integer()
    voice_id = fields.Integer(allow_none=True)
    version = fields.Integer(metadata={"description": "send it back with changes"})
    created_at = Timestamp()
    updated_at = Timestamp()


def _utc(value: datetime | None) -> str | None:
    """A Timestamp field's rendering: ISO 8601 in UTC."""
    return value.astimezone(UTC).isoformat() if value is not None else None


def accepted_issue_body(accepted: AcceptedIssue) -> dict[str, Any]:
    """IssueSchema's dump of a just-accepted issue, made from the values intake wrote instead
    of an ORM object and marshmallow (the intake hot path). tests/api/test_issue_intake.py
    holds it equal to IssueSchema().dump() of the issue read back, field by field."""
    v = accepted.values
    commitment = (
        {"text": v["commitment_text"], "due_at": _utc(v["commitment_due_at"])}
        if v["commitment_text"]
        else None
    )
    return {
        "id": v["id"],
        "number": v["number"],
        "status": v["status"],
        "escalation_level": v["escalation_level"],
        "title": v["title"],
        "description": v["description"],
        "channel": v["channel"],
        "category": accepted.category_code,
        "priority": v["priority"],
        "office": accepted.office_code,
        "customer_id": v["customer_id"],
        "customer_name": accepted.customer_name,
        "owner_id": v["owner_id"],
        "received_at": _utc(v["received_at"]),
        "response_due_at": _utc(v["response_due_at"]),
        "resolve_due_at": _utc(v["resolve_due_at"]),
        "first_response_at": _utc(v["first_response_at"]),
        "response_minutes": v["response_minutes"],
        "resolved_at": _utc(v["resolved_at"]),
        "resolve_minutes": v["resolve_minutes"],
        "closed_at": _utc(v["closed_at"]),
        "commitment": commitment,
        "resolution": v["resolution"],
        "root_cause": None,  # set when resolved, never at intake
        "responsible": v["responsible"],
        "rating": v["rating"],
        "rating_comment": v["rating_comment"],
        "callback": v["callback_done"],
        "reopen_count": v["reopen_count"],
        "voice_id": v["voice_id"],
        "version": v["version"],
        "created_at": _utc(v["created_at"]),
        "updated_at": _utc(v["updated_at"]),
    }


class HistorySchema(Schema):
    at = Timestamp()
    actor_id = fields.Integer(allow_none=True, metadata={"description": "null: the system"})
    action = fields.String()
    changes = fields.Dict(metadata={"description": "field → [from, to], or a value"})


class NoteSchema(Schema):
    id = fields.Integer(dump_only=True)
    text = fields.String(required=True)
    internal = fields.Boolean(load_default=True)
    author_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)


class ContactSchema(Schema):
    id = fields.Integer(dump_only=True)
    direction = fields.String(required=True, metadata={"enum": list(CONTACT_DIRECTIONS)})
    channel = fields.String(required=True, metadata={"enum": list(CONTACT_CHANNELS)})
    text = fields.String(required=True)
    at = Aware(load_default=None, metadata={"description": "when; default now"})
    author_id = fields.Integer(dump_only=True, allow_none=True)


class EscalationSchema(Schema):
    level = fields.Integer()
    reason = fields.String()
    automatic = fields.Boolean()
    actor_id = fields.Integer(allow_none=True)
    at = Timestamp()


class IssueDetailSchema(IssueSchema):
    history = fields.List(fields.Nested(HistorySchema))
    notes = fields.List(fields.Nested(NoteSchema))
    contacts = fields.List(fields.Nested(ContactSchema))
    escalations = fields.List(fields.Nested(EscalationSchema))


# Without `voice_id` these are required; with it, each defaults to the voice's (raise_issue).
REQUIRED_WITHOUT_VOICE = ("customer_id", "title", "channel", "category")
_MISSING = str(fields.Field.default_error_messages["required"])
_FROM_VOICE = "Required unless `voice_id` is given; then default: "


class IssueCreateSchema(Schema):
    class Meta:
        description = (
            "An issue to accept. With `voice_id` it is raised from that voice, and every field "
            "the body leaves out comes from the voice: `customer_id`, `office`, `channel`, "
            "`category`, `description` (the voice's text), `title` (the text's first line) and "
            "`received_at` (when the voice was heard); what the body gives wins, but the issue "
            "stays about the voice's customer and in its office. Without `voice_id`, "
            + ", ".join(f"`{name}`" for name in REQUIRED_WITHOUT_VOICE)
            + " are required."
        )

    customer_id = fields.Integer(
        strict=True,
        metadata={
            "description": _FROM_VOICE + "the voice's customer (must be it when the voice has one)"
        },
    )
    title = fields.String(
        metadata={"description": f"1–{MAX_TITLE} characters. {_FROM_VOICE}the voice's first line"}
    )
    description = fields.String(
        metadata={"description": f"≤ {MAX_TEXT}; default: empty, or the voice's text"}
    )
    channel = fields.String(
        metadata={"enum": list(CHANNELS), "description": _FROM_VOICE + "the voice's channel"}
    )
    category = fields.String(
        metadata={"description": "category code. " + _FROM_VOICE + "the voice's category"}
    )
    priority = fields.String(load_default="normal", metadata={"enum": list(PRIORITIES)})
    office = fields.String(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "office code; default: the customer's office (with `voice_id`: the "
            "voice's office, the only one allowed)"
        },
    )
    received_at = Aware(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "when the customer called; the SLA clock starts here. Default: "
            "now, or with `voice_id` when the voice was heard (its occurred_at)"
        },
    )
    commitment = fields.Nested(CommitmentSchema, load_default=None, allow_none=True)
    voice_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        metadata={
            "description": "raise the issue from this voice, linked both ways: 404 when the "
            "voice is not in the caller's scope, 409 when it has already raised an issue"
        },
    )
    owner_id = fields.Integer(load_default=None, allow_none=True, strict=True)


def missing_without_voice(data: dict[str, Any]) -> dict[str, str]:
    """The required fields a body without `voice_id` lacks, with marshmallow's own message:
    the schema cannot say "required unless" (and the intake's fast loader takes no hooks)."""
    if data.get("voice_id") is not None:
        return {}
    return {name: _MISSING for name in REQUIRED_WITHOUT_VOICE if name not in data}


def document_create_rule(spec: Any) -> None:
    """openapi.json: IssueCreate needs the four fields, or a `voice_id` (JSON Schema anyOf)."""
    spec.components.schemas["IssueCreate"]["anyOf"] = [
        {"required": list(REQUIRED_WITHOUT_VOICE)},
        {"required": ["voice_id"], "properties": {"voice_id": {"type": "integer"}}},
    ]


class IssuePatchSchema(Schema):
    version = fields.Integer(required=True, strict=True)
    title = fields.String()
    description = fields.String()
    category = fields.String()
    priority = fields.String()
    commitment = fields.Nested(CommitmentSchema, allow_none=True)
    # refused with 422 "not editable" by the service (they change only through actions):
    # declared so that the error names them instead of calling them unknown fields
    status = fields.Raw(load_only=True, metadata={"description": "not editable"})
    escalation_level = fields.Raw(load_only=True, metadata={"description": "not editable"})
    rating = fields.Raw(load_only=True, metadata={"description": "not editable"})
    office = fields.Raw(load_only=True, metadata={"description": "not editable"})
    number = fields.Raw(load_only=True, metadata={"description": "not editable"})
    owner_id = fields.Raw(load_only=True, metadata={"description": "not editable: use handle"})


def _statuses(value: str) -> None:
    unknown = [s for s in value.split(",") if s and s not in STATUSES]
    if unknown:
        raise ValidationError("unknown status: " + ", ".join(unknown))


class IssueQuery(PageArgs):
    status = fields.String(
        load_default=None, validate=_statuses, metadata={"description": "comma-separated"}
    )
    office = fields.String(load_default=None, metadata={"description": "office code"})
    region = fields.String(load_default=None, metadata={"description": "region code"})
    owner = fields.Integer(load_default=None, metadata={"description": "owner user id"})
    priority = fields.String(load_default=None, validate=validate.OneOf(PRIORITIES))
    category = fields.String(load_default=None)
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    customer_id = fields.Integer(load_default=None)
    overdue = fields.Boolean(load_default=False, metadata={"description": "open and past due"})
    due_soon = fields.Boolean(load_default=False, metadata={"description": "due within 24 h"})
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=100),
        metadata={"description": "number prefix, or text in title, description, customer name"},
    )
    created_from = fields.Date(load_default=None, metadata={"description": "by received_at"})
    created_to = fields.Date(load_default=None, metadata={"description": "inclusive"})


class VersionSchema(Schema):
    version = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        metadata={"description": "if given, a stale version is 409 conflict"},
    )


class HandleSchema(VersionSchema):
    owner_id = fields.Integer(load_default=None, allow_none=True, strict=True)


class ReasonSchema(VersionSchema):
    reason = fields.String(required=True)


class ResolveSchema(VersionSchema):
    resolution = fields.String(required=True)
    root_cause = fields.String(required=True, metadata={"description": "root cause code"})
    responsible = fields.String(required=True)


class CloseSchema(VersionSchema):
    rating = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default=None, allow_none=True)
    callback = fields.Boolean(load_default=False, metadata={"description": "回访 done"})


IssuePage = page_schema(IssueSchema, "IssuePage")


class ErrorEnvelopeSchema(ErrorSchema):
    """`{"error": {"code", "message", "fields"}}` (named apart from flask-smorest's own Error
    schema, which describes a different body)."""
