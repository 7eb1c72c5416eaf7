"""/api/v1/reports: the weekly monitoring as JSON, the same figures as the report page."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields

from app.api import api_user, make_blueprint
from app.api.auth import require_api_role
from app.api.issue_schemas import ErrorEnvelopeSchema
from app.auth.roles import MANAGER_ROLES
from app.core.errors import NotFound
from app.core.scoping import Scope
from app.db import utcnow
from app.reports import services
from app.reports.dto import MonthlyReview, WeeklyReport
from app.reports.periods import Month, Week, resolve_review_scope, resolve_scope
from app.reports.review import monthly_review
from app.reports.snapshots import find_snapshot

reports = make_blueprint("reports_api", "/reports", "Reports (周监控, 月度质量分析)")
BLUEPRINTS = [reports]


class WeeklyQuery(Schema):
    office = fields.String(load_default=None, metadata={"description": "office code"})
    region = fields.String(load_default=None, metadata={"description": "region code"})
    week = fields.String(
        load_default=None, metadata={"description": "ISO week, e.g. 2026-W47; default: last"}
    )
    snapshot = fields.Boolean(
        load_default=False,
        metadata={"description": "the kept snapshot (figures as they were) instead of live"},
    )


class ReportSchema(Schema):
    kind = fields.String()
    scope = fields.Dict()
    period = fields.String()
    previous_period = fields.String()
    starts_on = fields.String()
    ends_on = fields.String()
    timezone = fields.String()
    source = fields.String(metadata={"description": "live, or snapshot"})
    generated_at = fields.String()
    figures = fields.Dict(
        metadata={"description": "name → {value, previous, change, n, n_previous}"}
    )
    breakdowns = fields.Dict(metadata={"description": "section → [{key, value, previous}]"})
    last_year_period = fields.String()
    backlog = fields.List(fields.Dict())
    trend = fields.List(fields.Dict())
    rows = fields.List(fields.Dict())
    discuss = fields.List(fields.Dict())
    actions = fields.List(fields.Dict())
    surveys = fields.List(
        fields.Dict(),
        metadata={
            "description": "per transactional questionnaire: figures (index, nps, csat, "
            "indicator:<key>) with current, previous, last_year, each {value, n, margin, "
            "small_sample}, and a 12-month trend"
        },
    )
    third_party = fields.List(
        fields.Dict(),
        metadata={"description": "latest third-party wave: ours against each competitor"},
    )


class QualityQuery(Schema):
    region = fields.String(load_default=None, metadata={"description": "region code"})
    month = fields.String(
        load_default=None, metadata={"description": "month, e.g. 2026-11; default: last"}
    )
    snapshot = fields.Boolean(
        load_default=False,
        metadata={"description": "the kept snapshot (figures as they were) instead of live"},
    )


def _require_manager() -> None:
    require_api_role(*MANAGER_ROLES, message="Reports are for managers and quality staff.")


def weekly_json(report: WeeklyReport, source: str = "live") -> dict[str, Any]:
    data = report.to_dict()
    figures = {
        name: {**data["figures"][name], "change": f.change} for name, f in report.figures.items()
    }
    sections = (
        "escalations_by_level",
        "ageing",
        "categories",
        "root_causes",
        "ratings",
        "voices_by_channel",
        "voices_by_kind",
        "voices_by_sentiment",
    )
    return {
        "kind": "weekly",
        "scope": {"kind": report.scope_kind, "code": report.scope_code, "name": report.scope_name},
        "period": report.period,
        "previous_period": report.previous_period,
        "starts_on": report.starts_on,
        "ends_on": report.ends_on,
        "timezone": report.timezone,
        "source": source,
        "generated_at": report.generated_at,
        "figures": figures,
        "breakdowns": {name: data[name] for name in sections},
        "backlog": data["backlog"],
        "rows": data["rows"],
        "discuss": data["discuss"],
    }


@reports.route("/weekly", methods=["GET"])
@reports.arguments(WeeklyQuery, location="query")
@reports.response(200, ReportSchema)
@reports.alt_response(404, schema=ErrorEnvelopeSchema, description="unknown or out of scope")
@reports.alt_response(422, schema=ErrorEnvelopeSchema, description="malformed week")
def weekly(args: dict[str, Any]) -> Any:
    """The weekly monitoring (代表处周监控) of an office, a region, or the company (neither).

    Each figure beside the previous week's. Scope as the pages: an office manager gets their
    office, a regional manager their region and its offices, company roles everything.
    """
    _require_manager()
    scope = resolve_scope(Scope.for_user(api_user()), office=args["office"], region=args["region"])
    week = (
        Week.parse(args["week"])
        if args["week"]
        else Week.last_complete(utcnow(), current_app.config["TIMEZONE"])
    )
    if args["snapshot"]:
        kept = find_snapshot("weekly", scope.key, week.key)
        if kept is None:
            raise NotFound("No snapshot is kept for this scope and week.")
        return weekly_json(WeeklyReport.from_dict(kept.data), "snapshot")
    return weekly_json(services.weekly_report(scope, week, utcnow()))


def quality_json(review: MonthlyReview, source: str = "live") -> dict[str, Any]:
    data = review.to_dict()
    figures = {
        name: {**data["figures"][name], "change": f.change, "change_last_year": f.change_last_year}
        for name, f in review.figures.items()
    }
    return {
        "kind": "quality",
        "scope": {"kind": review.scope_kind, "code": review.scope_code, "name": review.scope_name},
        "period": review.period,
        "previous_period": review.previous_period,
        "last_year_period": review.last_year_period,
        "starts_on": review.starts_on,
        "ends_on": review.ends_on,
        "timezone": review.timezone,
        "source": source,
        "generated_at": review.generated_at,
        "figures": figures,
        "breakdowns": {
            name: data[name]
            for name in (
                "pareto_root_causes",
                "pareto_categories",
                "responsible",
                "escalations_by_office",
            )
        },
        "trend": data["trend"],
        "rows": data["rows"],
        "actions": data["actions"],
        "surveys": [
            {
                **section,
                "figures": [
                    {**fig, "change": f.change, "change_last_year": f.change_last_year}
                    for fig, f in zip(section["figures"], s.figures, strict=True)
                ],
            }
            for section, s in zip(data["surveys"], review.surveys, strict=True)
        ],
        "third_party": data["third_party"],
    }


@reports.route("/quality", methods=["GET"])
@reports.arguments(QualityQuery, location="query")
@reports.response(200, ReportSchema)
@reports.alt_response(403, schema=ErrorEnvelopeSchema, description="office roles")
@reports.alt_response(404, schema=ErrorEnvelopeSchema, description="unknown or out of scope")
@reports.alt_response(422, schema=ErrorEnvelopeSchema, description="malformed month")
def quality(args: dict[str, Any]) -> Any:
    """The monthly quality review (月度问题质量分析) of a region, or the company (no region).

    Each figure beside the previous month and the same month last year; CSAT (ratings 4–5 of
    closed issues) with n and its 95 % margin; Paretos with cumulative shares; survey results
    (satisfaction index by indicator, NPS, CSAT, with n and margins; denominators count
    answered questions only) and the latest third-party wave against competitors; improvement
    actions with their effect.
    """
    _require_manager()
    scope = resolve_review_scope(Scope.for_user(api_user()), region=args["region"])
    month = (
        Month.parse(args["month"])
        if args["month"]
        else Month.last_complete(utcnow(), current_app.config["TIMEZONE"])
    )
    if args["snapshot"]:
        kept = find_snapshot("monthly", scope.key, month.key)
        if kept is None:
            raise NotFound("No snapshot is kept for this scope and month.")
        return quality_json(MonthlyReview.from_dict(kept.data), "snapshot")
    return quality_json(monthly_review(scope, month, utcnow()))
