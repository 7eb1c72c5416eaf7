"""/api/v1/warnings: the watch list of customers at risk, each with its reasons (客户预警)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from app.api import api_user, make_blueprint, page_args
from app.api.auth import require_api_role
from app.api.issue_schemas import ErrorEnvelopeSchema
from app.api.schemas import PageArgs
from app.auth.roles import MANAGER_ROLES
from app.core.scoping import Scope
from app.extensions import db
from app.warnings import labels, queries, services
from app.warnings.models import REASONS, CustomerWarning

warnings = make_blueprint("warnings_api", "/warnings", "Early warning (客户预警)")
BLUEPRINTS = [warnings]


class WarningReasonSchema(Schema):
    id = fields.Integer()
    code = fields.Function(lambda w: w.reason)
    label = fields.Function(lambda w: str(labels.REASON[w.reason]))
    message = fields.Function(lambda w: labels.describe(w.reason, w.details))
    details = fields.Dict()
    raised_at = fields.DateTime()
    acknowledged_at = fields.DateTime(allow_none=True)
    acknowledged_by = fields.Function(
        lambda w: w.acknowledged_by.name if w.acknowledged_by else None
    )
    acknowledge_note = fields.String(allow_none=True)


class AtRiskCustomerSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    company = fields.String(allow_none=True)
    office = fields.Function(lambda c: c.office.code)
    tier = fields.String()
    contract_end = fields.Date(allow_none=True)


class AtRiskSchema(Schema):
    customer = fields.Nested(AtRiskCustomerSchema)
    reasons = fields.List(fields.Nested(WarningReasonSchema), attribute="warnings")


class WatchListPage(Schema):
    items = fields.List(fields.Nested(AtRiskSchema))
    next_cursor = fields.String(allow_none=True)


class WatchListQuery(PageArgs):
    office = fields.String(load_default=None, metadata={"description": "office code"})
    reason = fields.String(load_default=None, validate=validate.OneOf(REASONS))
    unacknowledged = fields.Boolean(load_default=False)


class AcknowledgeSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=services.NOTE_MAX))


def _require_manager() -> None:
    require_api_role(*MANAGER_ROLES, message="The watch list is for managers and quality staff.")


@warnings.route("", methods=["GET"])
@warnings.arguments(WatchListQuery, location="query")
@warnings.response(200, WatchListPage)
@warnings.alt_response(403, schema=ErrorEnvelopeSchema, description="not a manager role")
@warnings.alt_response(404, schema=ErrorEnvelopeSchema, description="unknown office")
def list_warnings(args: dict[str, Any]) -> Any:
    """Customers at risk in the caller's scope (or one office of it), each with its reasons
    and the figures behind them, as of the last `early-warning` run."""
    _require_manager()
    limit, cursor = page_args(args)
    page = queries.watch_list(
        Scope.for_user(api_user()),
        queries.WatchFilters(
            office=args["office"], reason=args["reason"], unacknowledged=args["unacknowledged"]
        ),
        limit=limit,
        cursor=cursor,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@warnings.route("/<int:warning_id>/acknowledge", methods=["POST"])
@warnings.arguments(AcknowledgeSchema)
@warnings.response(200, WarningReasonSchema)
@warnings.alt_response(404, schema=ErrorEnvelopeSchema, description="not found")
@warnings.alt_response(409, schema=ErrorEnvelopeSchema, description="already acknowledged")
def acknowledge(data: dict[str, Any], warning_id: int) -> CustomerWarning:
    """Record that this reason is being followed up (once; a second call gets 409)."""
    _require_manager()
    user = api_user()
    warning = services.acknowledge(
        actor=user, warning_id=warning_id, note=data["note"], scope=Scope.for_user(user)
    )
    db.session.commit()
    return warning
