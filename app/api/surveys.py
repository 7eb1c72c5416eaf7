"""/api/v1/surveys: design questionnaires (quality admins, admins) and read them (managers)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from flask import abort, current_app, request
from marshmallow import Schema, fields, validate

from app.api import api_user, make_blueprint, page_args
from app.api.schemas import PageArgs, Timestamp, page_schema
from app.core import timeutils
from app.core.errors import Forbidden, ValidationFailed
from app.core.scoping import Scope
from app.db import utcnow
from app.extensions import db
from app.reports.periods import resolve_scope
from app.surveys import campaigns as campaign_services
from app.surveys import imports, measurement, segments, services
from app.surveys.closed_loop import loop_figures
from app.surveys.imports import company_figures
from app.surveys.models import EVENTS, QUESTION_TYPES, SURVEY_KINDS, Campaign, Survey
from app.surveys.results import campaign_figures, progress, skipped_contacts

surveys = make_blueprint("surveys_api", "/surveys", "Surveys (满意度调查问卷)")
campaigns = make_blueprint("campaigns_api", "/campaigns", "Campaigns: sending a survey")
BLUEPRINTS = [surveys, campaigns]


class QuestionOut(Schema):
    key = fields.String()
    type = fields.String(metadata={"enum": list(QUESTION_TYPES)})
    text = fields.String(attribute="text_zh")
    text_en = fields.String()
    indicator = fields.Function(lambda q: q.indicator.key if q.indicator else None)
    weight = fields.Function(lambda q: q.indicator.weight if q.indicator else None)
    options = fields.List(fields.String())
    required = fields.Boolean()


class IndicatorOut(Schema):
    key = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    weight = fields.Float(metadata={"description": "percent; all weights sum to 100"})


class SurveySchema(Schema):
    id = fields.Integer()
    family_id = fields.Integer(metadata={"description": "id of version 1 of this survey"})
    version = fields.Integer()
    status = fields.String(metadata={"enum": ["draft", "active", "retired"]})
    title = fields.String()
    kind = fields.String(metadata={"enum": list(SURVEY_KINDS)})
    questions = fields.List(fields.Nested(QuestionOut))
    indicators = fields.List(fields.Nested(IndicatorOut))
    created_at = Timestamp()
    updated_at = Timestamp()


class SurveyIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(SURVEY_KINDS))
    questions = fields.List(
        fields.Dict(),
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "[{key, type (rating5/nps/choice/text), text, text_en?, "
            "indicator? (rating5), weight? (percent of the indicator), options? (choice), "
            "required?}]"
        },
    )
    indicators = fields.List(
        fields.Dict(),
        load_default=None,
        metadata={"description": "[{key, name_zh, name_en, weight}]; optional"},
    )


SurveyPage = page_schema(SurveySchema, "SurveyPage")


def _data(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


@surveys.route("", methods=["POST"])
@surveys.arguments(SurveyIn)
@surveys.response(201, SurveySchema)
def create_survey(body: dict[str, Any]) -> Survey:
    survey = services.create_survey(actor=api_user(), data=_data(body))
    db.session.commit()
    return survey


@surveys.route("", methods=["GET"])
@surveys.arguments(PageArgs, location="query")
@surveys.response(200, SurveyPage)
def list_surveys(args: dict[str, Any]) -> Any:
    limit, cursor = page_args(args)
    page = services.list_surveys(api_user(), limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@surveys.route("/<int:survey_id>", methods=["GET"])
@surveys.response(200, SurveySchema)
def get_survey(survey_id: int) -> Survey:
    return services.get_survey(api_user(), survey_id)


@surveys.route("/<int:survey_id>", methods=["PUT"])
@surveys.arguments(SurveyIn)
@surveys.response(200, SurveySchema)
def update_survey(body: dict[str, Any], survey_id: int) -> Survey:
    """A draft changes in place; an active or retired survey gets a new draft version, which
    is what this answers with (its `id` differs)."""
    survey = services.update_survey(actor=api_user(), survey_id=survey_id, data=_data(body))
    db.session.commit()
    return survey


@surveys.route("/<int:survey_id>/activate", methods=["POST"])
@surveys.response(200, SurveySchema)
def activate_survey(survey_id: int) -> Survey:
    survey = services.activate_survey(actor=api_user(), survey_id=survey_id)
    db.session.commit()
    return survey


@surveys.route("/<int:survey_id>/retire", methods=["POST"])
@surveys.response(200, SurveySchema)
def retire_survey(survey_id: int) -> Survey:
    survey = services.retire_survey(actor=api_user(), survey_id=survey_id)
    db.session.commit()
    return survey


class CampaignIn(Schema):
    survey_id = fields.Integer(required=True, strict=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    audience = fields.Dict(
        load_default=dict,
        metadata={
            "description": "{office?, region?, tier?, project? (id), customer_ids?, "
            "contact_ids?}: the active contacts with an e-mail matching all of them"
        },
    )
    event = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(EVENTS))
    send_at = fields.AwareDateTime(load_default=None, allow_none=True)
    cron = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    remind_after_days = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 60)
    )
    reminders = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(0, 2)
    )
    close_at = fields.AwareDateTime(load_default=None, allow_none=True)


class CampaignSchema(Schema):
    id = fields.Integer()
    survey_id = fields.Integer()
    name = fields.String()
    status = fields.String()
    audience = fields.Dict()
    event = fields.String(allow_none=True)
    send_at = Timestamp(allow_none=True)
    cron = fields.String(allow_none=True)
    remind_after_days = fields.Integer(allow_none=True)
    reminders = fields.Integer()
    close_at = Timestamp(allow_none=True)
    created_at = Timestamp()


class CampaignDetailSchema(CampaignSchema):
    invited = fields.Integer(metadata={"description": "contacts invited"})
    delivered = fields.Integer(
        metadata={
            "description": "invitations whose e-mail was handed to the mail server and did not "
            "bounce back (or that were answered): the response rate's denominator"
        }
    )
    responded = fields.Integer()
    response_rate = fields.Float(
        allow_none=True, metadata={"description": "percent: responded / delivered"}
    )
    nps = fields.Float(allow_none=True)
    csat = fields.Float(allow_none=True)
    index = fields.Float(allow_none=True)
    margin_of_error = fields.Dict(metadata={"description": "95 % margin of nps, csat, index"})
    measures = fields.Dict(metadata={"description": "value, n, margin, small_sample of each"})
    indicators = fields.List(fields.Dict())
    skipped = fields.Integer()
    skipped_contacts = fields.List(fields.Dict())
    companies = fields.Dict(
        metadata={
            "description": "third-party results per company measured ('' = ours): "
            "nps, csat, index, each {value, n, margin, small_sample}, and indicators"
        }
    )
    progress = fields.Dict(
        metadata={
            "description": "invited, delivered, failed, pending, bounced, opened, answered, "
            "reminders"
        }
    )
    closed_loop = fields.Dict(
        metadata={"description": "detractors contacted (issue), fixed (closed), re-measured"}
    )
    segments = fields.List(
        fields.Dict(), metadata={"description": "per region and office in your scope"}
    )
    trend = fields.List(fields.Dict(), metadata={"description": "per wave of this survey"})


CampaignPage = page_schema(CampaignSchema, "CampaignPage")


class CampaignDetail:
    def __init__(self, campaign: Campaign, scope: Scope) -> None:
        self._campaign = campaign
        self.__dict__.update(campaign_figures(campaign).as_dict())
        self.skipped_contacts = [
            {
                "contact_id": s.contact_id,
                "name": s.contact.name,
                "wave": s.wave,
                "reason": s.reason,
                "detail": s.detail,
            }
            for s in skipped_contacts(campaign.id)
        ]
        third_party = campaign.survey.kind == "third_party"
        self.companies = (
            company_figures(campaign.id, campaign.survey.weights()) if third_party else {}
        )
        if third_party:
            for name, m in segments.companies(campaign).items():
                self.companies.setdefault(name, {})["indicators"] = segments.as_dict(m)[
                    "indicators"
                ]
        self.progress = {} if third_party else dataclasses.asdict(progress(campaign.id))
        self.closed_loop = {} if third_party else dataclasses.asdict(loop_figures(campaign))
        self.segments = [
            {
                "kind": p.kind,
                "code": p.code,
                "invited": p.invited,
                "delivered": p.delivered,
                "responded": p.responded,
                "response_rate": p.response_rate,
                **segments.as_dict(p.measures),
            }
            for p in ([] if third_party else segments.by_office_and_region(campaign, scope))
        ]
        self.trend = [
            {
                "campaign_id": w.campaign_id,
                "name": w.name,
                "at": w.at.isoformat() if w.at else None,
                **segments.as_dict(w.measures),
            }
            for w in segments.trend(campaign)
        ]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._campaign, name)


@campaigns.route("", methods=["POST"])
@campaigns.arguments(CampaignIn)
@campaigns.response(201, CampaignSchema)
def create_campaign(body: dict[str, Any]) -> Campaign:
    campaign = campaign_services.create_campaign(
        actor=api_user(), timezone=current_app.config["TIMEZONE"], **body
    )
    db.session.commit()
    return campaign


@campaigns.route("", methods=["GET"])
@campaigns.arguments(PageArgs, location="query")
@campaigns.response(200, CampaignPage)
def list_campaigns(args: dict[str, Any]) -> Any:
    limit, cursor = page_args(args)
    page = campaign_services.list_campaigns(api_user(), limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@campaigns.route("/<int:campaign_id>", methods=["GET"])
@campaigns.response(200, CampaignDetailSchema)
def get_campaign(campaign_id: int) -> Any:
    user = api_user()
    return CampaignDetail(campaign_services.get_campaign(user, campaign_id), Scope.for_user(user))


class CampaignImportSummary(Schema):
    created = fields.Integer()
    duplicates = fields.Integer()
    rejected = fields.List(fields.Dict())


@campaigns.route("/<int:campaign_id>/import", methods=["POST"])
@campaigns.response(200, CampaignImportSummary)
def import_results(campaign_id: int) -> Any:
    """Third-party results: multipart `file` (CSV in UTF-8 or XLSX), one row per respondent,
    columns named by question key, optional `company` (a competitor; empty: ours) and
    `external_id`. Optional field `mapping`: JSON {"file column": "question key, company or
    external_id"} for a file with the agency's own headers. Rows with errors are listed, the
    others kept."""
    if (request.content_length or 0) > current_app.config["MAX_CONTENT_LENGTH"]:
        abort(413)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(fields={"file": "send the results as multipart field `file`"})
    raw_mapping = request.form.get("mapping") or None
    mapping: Any = None
    if raw_mapping is not None:
        try:
            mapping = json.loads(raw_mapping)
        except ValueError as exc:
            raise ValidationFailed(fields={"mapping": "JSON {column: field}"}) from exc
        if not isinstance(mapping, dict):
            raise ValidationFailed(fields={"mapping": "JSON {column: field}"})
    result = imports.import_results(
        actor=api_user(),
        campaign_id=campaign_id,
        filename=upload.filename,
        data=upload.read(),
        mapping=mapping,
    )
    db.session.commit()
    return result.as_dict()


class MeasurementQuery(Schema):
    type = fields.String(
        load_default="project",
        metadata={"enum": list(measurement.TYPES), "description": "default: project"},
    )
    survey = fields.Integer(
        load_default=None,
        strict=False,
        metadata={"description": "id of any version of the questionnaire; default: the latest"},
    )
    period = fields.String(
        load_default=None,
        metadata={"description": "month (2026-11), quarter (2026-Q4) or year (2026)"},
    )
    date_from = fields.String(
        load_default=None, data_key="from", metadata={"description": "range start, 2026-01-05"}
    )
    date_to = fields.String(
        load_default=None, data_key="to", metadata={"description": "range end (inclusive)"}
    )
    segment = fields.String(
        load_default=None,
        metadata={
            "description": "company, region, office (default), tier, project; third-party: "
            "company or competitor (default)"
        },
    )
    office = fields.String(load_default=None, metadata={"description": "office code"})
    region = fields.String(load_default=None, metadata={"description": "region code"})


class MeasurementSchema(Schema):
    type = fields.String()
    family = fields.String(metadata={"description": "transactional or relationship"})
    survey_id = fields.Integer(allow_none=True)
    survey_title = fields.String()
    scope = fields.Dict()
    period = fields.Dict(metadata={"description": "kind, key, from, to (local dates)"})
    segment = fields.String()
    denominators = fields.String()
    indicators = fields.List(fields.Dict())
    total = fields.Dict(
        metadata={
            "description": "responses; nps, csat, index, each {value, n, margin, "
            "small_sample}; indicators; for own surveys (project, issue_rating) also invited, "
            "delivered, responded and response_rate (percent, responded / delivered) of the "
            "invitations sent in the period; third-party waves have no invitations"
        }
    )
    segments = fields.List(fields.Dict(), metadata={"description": "as total, per segment"})
    trend = fields.List(fields.Dict(), metadata={"description": "the total per period"})


@surveys.route("/measurement", methods=["GET"])
@surveys.arguments(MeasurementQuery, location="query")
@surveys.response(200, MeasurementSchema)
def get_measurement(args: dict[str, Any]) -> Any:
    """Results across every campaign of a survey type for a calendar period, in total, per
    segment and as a trend, inside your scope (office, region or company; out of scope: 404).
    Every measure has its n and 95 % margin; denominators count answered questions only.
    Transactional (project, issue_rating) and relationship (third_party) results are never
    merged."""
    user = api_user()
    if not services.can_read(user):
        raise Forbidden("Survey results are for managers and quality staff.")
    scope = resolve_scope(Scope.for_user(user), office=args["office"], region=args["region"])
    period = measurement.parse_period(
        args["period"],
        args["date_from"],
        args["date_to"],
        today=timeutils.local(utcnow(), current_app.config["TIMEZONE"]).date(),
    )
    survey_type = args["type"]
    result = measurement.measurement(
        scope, survey_type, period, args["segment"] or None, args["survey"]
    )
    data = result.as_dict()
    data["scope"] = {"kind": scope.kind, "code": scope.code, "name": scope.name}
    return data
