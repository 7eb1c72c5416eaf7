"""The survey measurement page on the surveys blueprint: results across campaigns for a period,
per segment and over time, inside the viewer's scope (app.surveys.measurement)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.core import timeutils
from app.core.errors import ValidationFailed
from app.core.scoping import Scope
from app.db import utcnow
from app.reports.charts import Chart, estimates_chart
from app.reports.dto import Estimate
from app.reports.periods import resolve_scope
from app.reports.texts import ReportTexts
from app.surveys import measurement
from app.surveys.views import bp, readers


def _int(value: str | None) -> int | None:
    if not value:
        return None
    if not value.strip().isdigit():
        raise ValidationFailed("Not a survey.", fields={"survey": "a survey number"})
    return int(value)


def _charts(result: measurement.Measurement, texts: ReportTexts) -> list[Chart]:
    """The trend of the total by period and the comparison of the segments, each measure with
    its margin; the issue ratings have CSAT only."""
    measures = [("index", _("Satisfaction index")), ("nps", "NPS"), ("csat", "CSAT")]
    if result.type == "issue_rating":
        measures = [("csat", "CSAT")]

    def series(rows: list[measurement.Row]) -> list[tuple[str, list[Estimate]]]:
        return [
            (label, [Estimate.of(getattr(r.measures, name)) for r in rows])
            for name, label in measures
        ]

    trend = estimates_chart(
        "measure_trend",
        _("Trend by period"),
        [r.key for r in result.trend],
        series(result.trend),
        texts,
        lines=True,
        value_range=(-100, 100),
    )
    labels = [f"{r.key} {r.name}".strip() if r.name != r.key else r.key for r in result.segments]
    segments = estimates_chart(
        "measure_segments",
        _("Comparison by segment"),
        labels,
        series(result.segments),
        texts,
        value_range=(-100, 100),
    )
    return [trend, segments]


@bp.get("/measurement")
@readers
def measurement_page() -> Any:
    args = request.args
    scope = resolve_scope(
        Scope.for_user(current_user),
        office=args.get("office") or None,
        region=args.get("region") or None,
    )
    today = timeutils.local(utcnow(), scope.timezone).date()
    period = measurement.parse_period(
        args.get("period"), args.get("from") or None, args.get("to") or None, today=today
    )
    survey_type = args.get("type") or "project"
    result = measurement.measurement(
        scope, survey_type, period, args.get("segment") or None, _int(args.get("survey"))
    )
    texts = ReportTexts()
    kind = "third_party" if survey_type == "third_party" else "project"
    return render_template(
        "surveys/measurement.html",
        result=result,
        scope=scope,
        charts=_charts(result, texts),
        surveys=[] if survey_type == "issue_rating" else measurement.surveys_of(kind),
        segments=(
            measurement.THIRD_PARTY_SEGMENTS
            if survey_type == "third_party"
            else measurement.SEGMENTS
        ),
        args={k: v for k, v in args.items() if k in ("office", "region") and v},
        english=texts.english,
    )
