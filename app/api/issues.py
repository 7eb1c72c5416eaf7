"""/api/v1/issues: accept, read, edit and move issues through their lifecycle."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields, validate

from app.api import api_user, make_blueprint, page_args
from app.api.schemas import PageArgs, Timestamp, page_schema
from app.core.scoping import Scope
from app.db import utcnow
from app.extensions import db
from app.issues import queries, services
from app.issues.models import Issue

issues = make_blueprint("issues_api", "/issues", "Issues (问题): accept, handle, escalate, close")
BLUEPRINTS = [issues]

Aware = fields.AwareDateTime


class CommitmentSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(max=20_000))
    due_at = Aware(allow_none=True, load_default=None)


class IssueSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String()
    escalation_level = fields.Integer()
    title = fields.String()
    description = fields.String()
    channel = fields.String()
    category = fields.Function(lambda i: i.category.code)
    priority = fields.String()
    office = fields.Function(lambda i: i.office.code)
    customer_id = fields.Integer()
    customer_name = fields.Function(lambda i: i.customer.name)
    owner_id = fields.Integer(allow_none=True)
    received_at = Timestamp()
    response_due_at = Timestamp()
    resolve_due_at = Timestamp()
    first_response_at = Timestamp(allow_none=True)
    response_minutes = fields.Integer(allow_none=True)
    resolved_at = Timestamp(allow_none=True)
    resolve_minutes = fields.Integer(allow_none=True)
    closed_at = Timestamp(allow_none=True)
    commitment = fields.Function(
        lambda i: (
            {
                "text": i.commitment_text,
                "due_at": i.commitment_due_at.isoformat() if i.commitment_due_at else None,
            }
            if i.commitment_text
            else None
        )
    )
    resolution = fields.String(allow_none=True)
    root_cause = fields.Function(lambda i: i.root_cause.code if i.root_cause else None)
    responsible = fields.String(allow_none=True)
    rating = fields.Integer(allow_none=True)
    rating_comment = fields.String(allow_none=True)
    callback = fields.Boolean(attribute="callback_done", allow_none=True)
    reopen_count = fields.Integer()
    voice_id = fields.Integer(allow_none=True)
    version = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()


class HistorySchema(Schema):
    at = Timestamp()
    actor_id = fields.Integer(allow_none=True)
    action = fields.String()
    changes = fields.Dict()


class NoteSchema(Schema):
    id = fields.Integer(dump_only=True)
    text = fields.String(required=True)
    internal = fields.Boolean(load_default=True)
    author_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)


class ContactSchema(Schema):
    id = fields.Integer(dump_only=True)
    direction = fields.String(required=True, metadata={"enum": ["in", "out"]})
    channel = fields.String(required=True, metadata={"enum": list(services.CONTACT_CHANNELS)})
    text = fields.String(required=True)
    at = Aware(load_default=None)
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


class IssueCreateSchema(Schema):
    customer_id = fields.Integer(required=True, strict=True)
    title = fields.String(required=True)
    description = fields.String(load_default="")
    channel = fields.String(required=True)
    category = fields.String(required=True)
    priority = fields.String(load_default="normal")
    office = fields.String(load_default=None, allow_none=True)
    received_at = Aware(
        load_default=None,
        allow_none=True,
        metadata={"description": "when the customer called; the SLA clock starts"},
    )
    commitment = fields.Nested(CommitmentSchema, load_default=None, allow_none=True)
    voice_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    owner_id = fields.Integer(load_default=None, allow_none=True, strict=True)


class IssuePatchSchema(Schema):
    version = fields.Integer(required=True, strict=True)
    title = fields.String()
    description = fields.String()
    category = fields.String()
    priority = fields.String()
    commitment = fields.Nested(CommitmentSchema, allow_none=True)
    # refused with 422 "not editable": listed so the error names them instead of "unknown field"
    status = fields.Raw(load_only=True)
    escalation_level = fields.Raw(load_only=True)
    rating = fields.Raw(load_only=True)
    office = fields.Raw(load_only=True)
    number = fields.Raw(load_only=True)
    owner_id = fields.Raw(load_only=True)


class IssueQuery(PageArgs):
    status = fields.String(load_default=None, metadata={"description": "comma-separated"})
    office = fields.String(load_default=None)
    region = fields.String(load_default=None)
    owner = fields.Integer(load_default=None)
    priority = fields.String(load_default=None)
    category = fields.String(load_default=None)
    channel = fields.String(load_default=None)
    customer_id = fields.Integer(load_default=None)
    overdue = fields.Boolean(load_default=False)
    due_soon = fields.Boolean(load_default=False)
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    created_from = fields.Date(load_default=None)
    created_to = fields.Date(load_default=None)


class VersionSchema(Schema):
    version = fields.Integer(load_default=None, allow_none=True, strict=True)


class HandleSchema(VersionSchema):
    owner_id = fields.Integer(load_default=None, allow_none=True, strict=True)


class ReasonSchema(VersionSchema):
    reason = fields.String(required=True)


class ResolveSchema(VersionSchema):
    resolution = fields.String(required=True)
    root_cause = fields.String(required=True)
    responsible = fields.String(required=True)


class CloseSchema(VersionSchema):
    rating = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default=None, allow_none=True)
    callback = fields.Boolean(load_default=False)


IssuePage = page_schema(IssueSchema, "IssuePage")


def _scope() -> Scope:
    return Scope.for_user(api_user())


class IssueDetail:
    """An issue plus its history, notes, contacts and escalations, for IssueDetailSchema."""

    def __init__(self, issue: Issue) -> None:
        self._issue = issue
        self.history = queries.issue_history(issue)
        self.notes = queries.issue_notes(issue)
        self.contacts = queries.issue_contacts(issue)
        self.escalations = queries.issue_escalations(issue)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._issue, name)


@issues.route("", methods=["POST"])
@issues.arguments(IssueCreateSchema)
@issues.response(201, IssueSchema)
def create_issue(data: dict[str, Any]) -> Issue:
    commitment = data.get("commitment") or {}
    issue = services.accept_issue(
        actor=api_user(),
        customer_id=data["customer_id"],
        title=data["title"],
        description=data["description"],
        channel=data["channel"],
        category=data["category"],
        priority=data["priority"],
        office_code=data["office"],
        received_at=data["received_at"],
        commitment_text=commitment.get("text"),
        commitment_due_at=commitment.get("due_at"),
        voice_id=data["voice_id"],
        owner_id=data["owner_id"],
    )
    db.session.commit()
    return issue


@issues.route("", methods=["GET"])
@issues.arguments(IssueQuery, location="query")
@issues.response(200, IssuePage)
def list_issues(args: dict[str, Any]) -> Any:
    limit, cursor = page_args(args)
    f = queries.IssueFilters(
        status=[s for s in (args["status"] or "").split(",") if s] or None,
        office_code=args["office"],
        region_code=args["region"],
        owner_id=args["owner"],
        priority=args["priority"],
        category=args["category"],
        channel=args["channel"],
        customer_id=args["customer_id"],
        overdue=args["overdue"],
        due_soon=args["due_soon"],
        q=args["q"],
        created_from=args["created_from"],
        created_to=args["created_to"],
        tz=current_app.config["TIMEZONE"],
    )
    page = queries.list_issues(_scope(), f, limit=limit, cursor=cursor, now=utcnow())
    return {"items": page.items, "next_cursor": page.next_cursor}


@issues.route("/<int:issue_id>", methods=["GET"])
@issues.response(200, IssueDetailSchema)
def get_issue(issue_id: int) -> Any:
    return IssueDetail(queries.get_issue(_scope(), issue_id))


@issues.route("/<int:issue_id>", methods=["PATCH"])
@issues.arguments(IssuePatchSchema)
@issues.response(200, IssueSchema)
def patch_issue(data: dict[str, Any], issue_id: int) -> Issue:
    changes = {k: v for k, v in data.items() if k not in ("version", "commitment")}
    if "commitment" in data:
        commitment = data["commitment"] or {}
        changes["commitment_text"] = commitment.get("text")
        changes["commitment_due_at"] = commitment.get("due_at")
    issue = services.update_issue(
        actor=api_user(), issue_id=issue_id, version=data["version"], changes=changes
    )
    db.session.commit()
    return issue


def _act(fn: Any, issue_id: int, **kwargs: Any) -> Issue:
    issue: Issue = fn(actor=api_user(), issue_id=issue_id, **kwargs)
    db.session.commit()
    return issue


@issues.route("/<int:issue_id>/handle", methods=["POST"])
@issues.arguments(HandleSchema)
@issues.response(200, IssueSchema)
def handle(data: dict[str, Any], issue_id: int) -> Issue:
    return _act(services.handle_issue, issue_id, **data)


@issues.route("/<int:issue_id>/wait", methods=["POST"])
@issues.arguments(ReasonSchema)
@issues.response(200, IssueSchema)
def wait(data: dict[str, Any], issue_id: int) -> Issue:
    return _act(services.wait_issue, issue_id, **data)


@issues.route("/<int:issue_id>/escalate", methods=["POST"])
@issues.arguments(ReasonSchema)
@issues.response(200, IssueSchema)
def escalate(data: dict[str, Any], issue_id: int) -> Issue:
    return _act(services.escalate_issue, issue_id, **data)


@issues.route("/<int:issue_id>/resolve", methods=["POST"])
@issues.arguments(ResolveSchema)
@issues.response(200, IssueSchema)
def resolve(data: dict[str, Any], issue_id: int) -> Issue:
    return _act(services.resolve_issue, issue_id, **data)


@issues.route("/<int:issue_id>/close", methods=["POST"])
@issues.arguments(CloseSchema)
@issues.response(200, IssueSchema)
def close(data: dict[str, Any], issue_id: int) -> Issue:
    return _act(services.close_issue, issue_id, **data)


@issues.route("/<int:issue_id>/reopen", methods=["POST"])
@issues.arguments(ReasonSchema)
@issues.response(200, IssueSchema)
def reopen(data: dict[str, Any], issue_id: int) -> Issue:
    return _act(services.reopen_issue, issue_id, **data)


@issues.route("/<int:issue_id>/notes", methods=["POST"])
@issues.arguments(NoteSchema)
@issues.response(201, NoteSchema)
def add_note(data: dict[str, Any], issue_id: int) -> Any:
    note = services.add_note(
        actor=api_user(), issue_id=issue_id, text=data["text"], internal=data["internal"]
    )
    db.session.commit()
    return note


@issues.route("/<int:issue_id>/contacts", methods=["POST"])
@issues.arguments(ContactSchema)
@issues.response(201, ContactSchema)
def add_contact(data: dict[str, Any], issue_id: int) -> Any:
    contact = services.log_contact(actor=api_user(), issue_id=issue_id, **data)
    db.session.commit()
    return contact
