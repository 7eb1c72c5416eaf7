"""/api/v1/actions: improvement actions (客户满意度改进), the same service as the pages."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields, validate

from app.actions import queries, services
from app.actions.models import DIMENSIONS, METRICS, STATUSES, ImprovementAction
from app.api import api_user, make_blueprint, page_args
from app.api.issue_schemas import ErrorEnvelopeSchema
from app.api.schemas import PageArgs
from app.core import timeutils
from app.core.scoping import Scope
from app.db import utcnow
from app.extensions import db

actions = make_blueprint("actions_api", "/actions", "Improvement actions (客户满意度改进)")
BLUEPRINTS = [actions]


class CampaignLinkSchema(Schema):
    id = fields.Integer(required=True)
    indicator = fields.String(
        load_default=None, metadata={"description": "the indicator (key) that caused it"}
    )


class LinksSchema(Schema):
    issues = fields.List(fields.Integer(), load_default=list)
    voices = fields.List(fields.Integer(), load_default=list)
    campaigns = fields.List(
        fields.Nested(CampaignLinkSchema),
        load_default=list,
        metadata={"description": "survey campaigns (and indicators) that caused it"},
    )
    responses = fields.List(
        fields.Integer(), load_default=list, metadata={"description": "survey response ids"}
    )


class ActionCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=20_000))
    dimension = fields.String(required=True, validate=validate.OneOf(DIMENSIONS))
    owner_id = fields.Integer(required=True)
    due = fields.Date(required=True)
    office = fields.String(load_default=None, metadata={"description": "office code"})
    region = fields.String(load_default=None, metadata={"description": "region code"})
    metric = fields.String(load_default="csat", validate=validate.OneOf(METRICS))
    metric_category = fields.String(
        load_default=None, metadata={"description": "category code, for category_volume"}
    )
    metric_survey = fields.Integer(
        load_default=None, metadata={"description": "project survey id, for indicator_score"}
    )
    metric_indicator = fields.String(
        load_default=None, metadata={"description": "indicator key, for indicator_score"}
    )
    links = fields.Nested(
        LinksSchema,
        load_default=lambda: {"issues": [], "voices": [], "campaigns": [], "responses": []},
    )


class ActionPatchSchema(Schema):
    version = fields.Integer(required=True)
    title = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=20_000))
    owner_id = fields.Integer()
    due = fields.Date()
    status = fields.String(validate=validate.OneOf(STATUSES))


class MeasureSchema(Schema):
    value = fields.Float(allow_none=True)
    n = fields.Integer()
    start = fields.DateTime()
    end = fields.DateTime()


class EffectSchema(Schema):
    metric = fields.String()
    before = fields.Nested(MeasureSchema)
    after = fields.Nested(MeasureSchema, allow_none=True)
    change = fields.Float(allow_none=True)
    improved = fields.Boolean(allow_none=True)


class ActionSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    dimension = fields.String()
    owner_id = fields.Integer()
    due = fields.Date(attribute="due_on")
    status = fields.String()
    office = fields.Function(lambda a: a.office.code if a.office else None)
    region = fields.Function(lambda a: a.region.code if a.region else None)
    metric = fields.String()
    metric_category = fields.Function(
        lambda a: a.metric_category.code if a.metric_category else None
    )
    metric_survey = fields.Integer(attribute="metric_survey_id", allow_none=True)
    metric_indicator = fields.String(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    version = fields.Integer()
    created_at = fields.DateTime()


class ActionDetailSchema(ActionSchema):
    links = fields.List(fields.Dict())
    effect = fields.Nested(EffectSchema)


class ActionPage(Schema):
    items = fields.List(fields.Nested(ActionSchema))
    next_cursor = fields.String(allow_none=True)


class ActionQuery(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    overdue = fields.Boolean(load_default=False)


def _today() -> Any:
    return timeutils.local(utcnow(), current_app.config["TIMEZONE"]).date()


class ActionView:
    """An action with its overdue flag (and, for one action, links and effect)."""

    def __init__(self, action: ImprovementAction, *, detail: bool = False) -> None:
        self._action = action
        self.overdue = queries.is_overdue(action, _today())
        if detail:
            self.links = [vars(link) for link in queries.links_of(action)]
            self.effect = queries.effect(action, utcnow())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._action, name)


@actions.route("", methods=["GET"])
@actions.arguments(ActionQuery, location="query")
@actions.response(200, ActionPage)
def list_actions(args: dict[str, Any]) -> Any:
    """Improvement actions in the caller's scope, newest first."""
    limit, cursor = page_args(args)
    page = queries.list_actions(
        Scope.for_user(api_user()),
        queries.ActionFilters(status=args["status"], overdue=args["overdue"]),
        today=_today(),
        limit=limit,
        cursor=cursor,
    )
    return {"items": [ActionView(a) for a in page.items], "next_cursor": page.next_cursor}


@actions.route("", methods=["POST"])
@actions.arguments(ActionCreateSchema)
@actions.response(201, ActionDetailSchema)
@actions.alt_response(403, schema=ErrorEnvelopeSchema, description="not a manager role")
@actions.alt_response(422, schema=ErrorEnvelopeSchema, description="invalid fields")
def create_action(data: dict[str, Any]) -> Any:
    """Record an improvement action, linked to the issues and voices that caused it."""
    action = services.create_action(
        actor=api_user(),
        title=data["title"],
        description=data["description"],
        dimension=data["dimension"],
        owner_id=data["owner_id"],
        due_on=data["due"],
        metric=data["metric"],
        metric_category=data["metric_category"],
        office=data["office"],
        region=data["region"],
        issue_ids=data["links"]["issues"],
        voice_ids=data["links"]["voices"],
        campaigns=data["links"].get("campaigns", []),
        response_ids=data["links"].get("responses", []),
        metric_survey=data["metric_survey"],
        metric_indicator=data["metric_indicator"],
    )
    db.session.commit()
    return ActionView(action, detail=True)


@actions.route("/<int:action_id>", methods=["GET"])
@actions.response(200, ActionDetailSchema)
@actions.alt_response(404, schema=ErrorEnvelopeSchema, description="unknown or out of scope")
def get_action(action_id: int) -> Any:
    """One action with its links and its effect (the metric before and after)."""
    return ActionView(queries.get_action(Scope.for_user(api_user()), action_id), detail=True)


@actions.route("/<int:action_id>", methods=["PATCH"])
@actions.arguments(ActionPatchSchema)
@actions.response(200, ActionDetailSchema)
@actions.alt_response(409, schema=ErrorEnvelopeSchema, description="stale version")
@actions.alt_response(422, schema=ErrorEnvelopeSchema, description="invalid fields or status")
def patch_action(data: dict[str, Any], action_id: int) -> Any:
    """Edit title, description, owner, due date or status (planned → in_progress → done →
    verified; done records when, for the effect check)."""
    changes = {k: v for k, v in data.items() if k != "version"}
    if "due" in changes:
        changes["due_on"] = changes.pop("due")
    action = services.update_action(
        actor=api_user(), action_id=action_id, version=data["version"], changes=changes
    )
    db.session.commit()
    return ActionView(action, detail=True)
