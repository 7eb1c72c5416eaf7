"""/api/v1/surveys: design questionnaires (quality admins, admins) and read them (managers)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from app.api import api_user, make_blueprint, page_args
from app.api.schemas import PageArgs, Timestamp, page_schema
from app.extensions import db
from app.surveys import services
from app.surveys.models import QUESTION_TYPES, SURVEY_KINDS, Survey

surveys = make_blueprint("surveys_api", "/surveys", "Surveys (满意度调查问卷)")
BLUEPRINTS = [surveys]


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
