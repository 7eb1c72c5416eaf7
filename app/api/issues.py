"""/api/v1/issues: accept, read, edit and move issues through their lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, jsonify

from app.api import api_user, make_blueprint, page_args
from app.api.auth import api_principal
from app.api.issue_schemas import (
    CloseSchema,
    ContactSchema,
    ErrorEnvelopeSchema,
    HandleSchema,
    IssueCreateSchema,
    IssueDetailSchema,
    IssuePage,
    IssuePatchSchema,
    IssueQuery,
    IssueSchema,
    NoteSchema,
    ReasonSchema,
    ResolveSchema,
    accepted_issue_body,
    missing_without_voice,
)
from app.api.parsing import FastLoader, load_json_body
from app.core.errors import ValidationFailed
from app.core.scoping import Scope
from app.core.uow import reads_apart, statement_at_a_time, transaction_from_here
from app.db import utcnow
from app.extensions import db
from app.issues import intake as intake_service
from app.issues import queries, services
from app.issues.models import Issue
from app.voice import services as voice_services

F = TypeVar("F", bound=Callable[..., Any])

issues = make_blueprint("issues_api", "/issues", "Issues (问题): accept, handle, escalate, close")
BLUEPRINTS = [issues]

ERRORS = {
    400: "malformed JSON or cursor",
    403: "the role may not do this",
    404: "no such issue, or not in the caller's scope",
    409: "stale version (conflict) or not possible in this status (invalid_transition)",
    422: "invalid fields; `fields` names each",
}


def errors(*codes: int) -> Callable[[F], F]:
    """Document the error answers (the envelope) of an endpoint in openapi.json."""

    def decorate(view: F) -> F:
        for code in codes:
            view = issues.alt_response(code, schema=ErrorEnvelopeSchema, description=ERRORS[code])(
                view
            )
        return view

    return decorate


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


_CREATE = FastLoader(IssueCreateSchema())


@issues.route("", methods=["POST"])
@statement_at_a_time
@issues.arguments(IssueCreateSchema, parse=False)  # read below, by the same schema
@issues.response(201, IssueSchema)
@errors(400, 404, 409, 422)
def create_issue() -> Response:
    """Accept (受理) an issue: numbered, with SLA deadlines from `received_at`.

    A customer outside the caller's offices is answered as unknown: 422 on `customer_id`.
    With `voice_id` the issue is raised from that voice exactly as the voice page raises it:
    the fields the body leaves out come from the voice (see IssueCreate); a voice outside the
    caller's scope is 404, one that has already raised an issue 409.
    """
    data = load_json_body(_CREATE)
    if data["voice_id"] is not None:
        return _raise_from_voice(data)
    missing = missing_without_voice(data)
    if missing:
        raise ValidationFailed(fields=missing)
    # The hot path of intake (bench/README.md): the body is loaded without marshmallow when it
    # is plain, the checks and writes run through Core, and the answer is made from the values
    # written; the schemas above still describe both and are held equal to this by tests.
    commitment = data.get("commitment") or {}
    with reads_apart():
        intake = intake_service.prepare_intake(
            actor=api_principal(),
            customer_id=data["customer_id"],
            title=data["title"],
            description=data.get("description", ""),
            channel=data["channel"],
            category=data["category"],
            priority=data["priority"],
            office_code=data["office"],
            received_at=data["received_at"],
            commitment_text=commitment.get("text"),
            commitment_due_at=commitment.get("due_at"),
            owner_id=data["owner_id"],
        )
    accepted = intake_service.write_intake(intake)
    db.session.commit()
    response = jsonify(accepted_issue_body(accepted))
    response.status_code = 201
    return response


def _raise_from_voice(data: dict[str, Any]) -> Response:
    """POST /issues with `voice_id`: the voice service's raise_issue (what the voice page
    does), given only what the body holds; the rest it takes from the voice."""
    transaction_from_here()  # the voice and the issue are written together
    commitment = data.get("commitment") or {}
    issue = voice_services.raise_issue(
        actor=api_user(),
        voice_id=data["voice_id"],
        title=data.get("title"),
        description=data.get("description"),
        customer_id=data.get("customer_id"),
        office_code=data["office"],
        channel=data.get("channel"),
        category=data.get("category"),
        priority=data["priority"],
        received_at=data["received_at"],
        commitment_text=commitment.get("text"),
        commitment_due_at=commitment.get("due_at"),
        owner_id=data["owner_id"],
    )
    db.session.commit()
    response = jsonify(IssueSchema().dump(issue))
    response.status_code = 201
    return response


@issues.route("", methods=["GET"])
@issues.arguments(IssueQuery, location="query")
@issues.response(200, IssuePage)
@errors(400, 422)
def list_issues(args: dict[str, Any]) -> Any:
    """Issues in the caller's scope, newest first."""
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
@errors(404)
def get_issue(issue_id: int) -> Any:
    """One issue with its history (audit: from → to), notes, contacts and escalations."""
    return IssueDetail(queries.get_issue(_scope(), issue_id))


@issues.route("/<int:issue_id>", methods=["PATCH"])
@issues.arguments(IssuePatchSchema)
@issues.response(200, IssueSchema)
@errors(400, 404, 409, 422)
def patch_issue(data: dict[str, Any], issue_id: int) -> Issue:
    """Edit title, description, category, priority or commitment. Status, escalation level,
    rating, owner and office change only through the actions (422 `not editable`)."""
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


def _act(fn: Callable[..., Issue], issue_id: int, **kwargs: Any) -> Issue:
    issue = fn(actor=api_user(), issue_id=issue_id, **kwargs)
    db.session.commit()
    return issue


ACTION_ERRORS = (400, 403, 404, 409, 422)


@issues.route("/<int:issue_id>/handle", methods=["POST"])
@issues.arguments(HandleSchema)
@issues.response(200, IssueSchema)
@errors(*ACTION_ERRORS)
def handle(data: dict[str, Any], issue_id: int) -> Issue:
    """Take, assign (`owner_id`) or resume after waiting: status `handling`."""
    return _act(services.handle_issue, issue_id, **data)


@issues.route("/<int:issue_id>/wait", methods=["POST"])
@issues.arguments(ReasonSchema)
@issues.response(200, IssueSchema)
@errors(*ACTION_ERRORS)
def wait(data: dict[str, Any], issue_id: int) -> Issue:
    """Waiting on the customer: status `waiting`, the SLA clocks pause until `handle`."""
    return _act(services.wait_issue, issue_id, **data)


@issues.route("/<int:issue_id>/escalate", methods=["POST"])
@issues.arguments(ReasonSchema)
@issues.response(200, IssueSchema)
@errors(*ACTION_ERRORS)
def escalate(data: dict[str, Any], issue_id: int) -> Issue:
    """Status `escalated`, `escalation_level` + 1 (at most 3); that level's managers are told."""
    return _act(services.escalate_issue, issue_id, **data)


@issues.route("/<int:issue_id>/resolve", methods=["POST"])
@issues.arguments(ResolveSchema)
@issues.response(200, IssueSchema)
@errors(*ACTION_ERRORS)
def resolve(data: dict[str, Any], issue_id: int) -> Issue:
    """Status `resolved`, with the resolution, root cause and who is responsible."""
    return _act(services.resolve_issue, issue_id, **data)


@issues.route("/<int:issue_id>/close", methods=["POST"])
@issues.arguments(CloseSchema)
@issues.response(200, IssueSchema)
@errors(*ACTION_ERRORS)
def close(data: dict[str, Any], issue_id: int) -> Issue:
    """Close and rate (1–5). A rating of 2 or less follows the low-rating policy (default:
    reopen and tell the office manager), so the answer may say `reopened`."""
    return _act(services.close_issue, issue_id, **data)


@issues.route("/<int:issue_id>/reopen", methods=["POST"])
@issues.arguments(ReasonSchema)
@issues.response(200, IssueSchema)
@errors(*ACTION_ERRORS)
def reopen(data: dict[str, Any], issue_id: int) -> Issue:
    """Status `reopened`, with a fresh resolution target from now."""
    return _act(services.reopen_issue, issue_id, **data)


@issues.route("/<int:issue_id>/notes", methods=["POST"])
@issues.arguments(NoteSchema)
@issues.response(201, NoteSchema)
@errors(400, 404, 422)
def add_note(data: dict[str, Any], issue_id: int) -> Any:
    """An internal (default) or shareable note."""
    note = services.add_note(
        actor=api_user(), issue_id=issue_id, text=data["text"], internal=data["internal"]
    )
    db.session.commit()
    return note


@issues.route("/<int:issue_id>/contacts", methods=["POST"])
@issues.arguments(ContactSchema)
@issues.response(201, ContactSchema)
@errors(400, 404, 409, 422)
def add_contact(data: dict[str, Any], issue_id: int) -> Any:
    """Log an exchange with the customer; the first outbound one is the first response."""
    contact = services.log_contact(actor=api_user(), issue_id=issue_id, **data)
    db.session.commit()
    return contact
