"""Report pages: the weekly monitoring (live or a kept snapshot), its exports, and plotly.js
served from the installed plotly package."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import plotly
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from app.actions import labels as action_labels
from app.auth.permissions import require_roles
from app.auth.roles import MANAGER_ROLES
from app.core import timeutils
from app.core.exports import CSV_MIME, XLSX_MIME, Section, to_csv, to_xlsx
from app.core.scoping import Scope
from app.db import utcnow
from app.issues import labels
from app.reports import charts, exports, services, snapshots
from app.reports import texts as texts_module
from app.reports.dto import MonthlyReview, WeeklyReport
from app.reports.models import ReportSnapshot
from app.reports.periods import Month, ReportScope, Week, resolve_scope
from app.reports.texts import ReportTexts

bp = Blueprint("reports", __name__, url_prefix="/reports")
PLOTLY_JS = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
ONE_YEAR = 365 * 24 * 3600


class _ActionLabels:
    status = action_labels.STATUS
    dimension = action_labels.DIMENSION
    metric = action_labels.METRIC


ACTION_LABELS = _ActionLabels()


@bp.get("/plotly-<version>.min.js")
def plotly_js(version: str) -> Any:
    """plotly.js from the installed package; the version in the URL makes it cacheable forever."""
    if version != plotly.__version__:
        abort(404)
    response = send_file(PLOTLY_JS, mimetype="text/javascript", max_age=ONE_YEAR)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response


@bp.app_context_processor
def _plotly_url() -> dict[str, Any]:
    return {"plotly_js_url": lambda: url_for("reports.plotly_js", version=plotly.__version__)}


def _scope_from_args() -> ReportScope:
    return resolve_scope(
        Scope.for_user(current_user),
        office=request.args.get("office") or None,
        region=request.args.get("region") or None,
    )


def _week(scope: ReportScope) -> Week:
    key = request.args.get("week")
    if key:
        return Week.parse(key)
    return Week.last_complete(utcnow(), current_app.config["TIMEZONE"])


@bp.get("/")
@require_roles(*MANAGER_ROLES)
def index() -> Any:
    user_scope = Scope.for_user(current_user)
    scope = resolve_scope(user_scope)
    week = Week.last_complete(utcnow(), current_app.config["TIMEZONE"])
    review_scope = scope if scope.kind in ("region", "company") else None
    return render_template(
        "reports/index.html",
        scope=scope,
        scope_args=scope_args(scope),
        review_scope=review_scope,
        review_args=scope_args(scope) if review_scope else {},
        month=Month.last_complete(utcnow(), current_app.config["TIMEZONE"]),
        week=week,
        snapshots=snapshots.recent_snapshots(user_scope),
        kind_labels=texts_module.KIND_LABELS,
    )


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/weekly")
@require_roles(*MANAGER_ROLES)
def weekly() -> Any:
    scope = _scope_from_args()
    week = _week(scope)
    now = utcnow()
    fmt = requested_format()
    report = services.weekly_report(scope, week, now)
    texts = ReportTexts()
    report_charts = charts.weekly_charts(report, texts)
    if fmt != "html":
        sections = exports.weekly_sections(report, report_charts, texts)
        return download(sections, fmt, f"weekly-{scope.key}-{week.key}")
    kept = snapshots.find_snapshot("weekly", scope.key, week.key)
    return _render_weekly(
        report,
        report_charts,
        texts,
        scope,
        week,
        snapshot=None,
        snapshot_url=url_for("reports.snapshot", snapshot_id=kept.id) if kept else None,
    )


def _render_weekly(
    report: WeeklyReport,
    report_charts: list[charts.Chart],
    texts: ReportTexts,
    scope: ReportScope,
    week: Week,
    *,
    snapshot: ReportSnapshot | None,
    snapshot_url: str | None,
) -> Any:
    return render_template(
        "reports/weekly.html",
        report=report,
        charts=report_charts,
        texts=texts,
        scope=scope,
        week=week,
        snapshot=snapshot,
        snapshot_taken=local_text(snapshot.created_at) if snapshot else None,
        snapshot_url=snapshot_url,
        headline=services.HEADLINE,
        args=scope_args(scope),
        can_next=week.shift(1).monday <= utcnow().date(),
        status_labels={k: str(v) for k, v in labels.STATUS.items()},
        action_labels=ACTION_LABELS,
    )


def local_text(at: datetime) -> str:
    return timeutils.local(at, current_app.config["TIMEZONE"]).strftime("%Y-%m-%d %H:%M")


@bp.get("/snapshots/<int:snapshot_id>")
@require_roles(*MANAGER_ROLES)
def snapshot(snapshot_id: int) -> Any:
    """A kept snapshot: the figures as they were when the job took it."""
    kept = snapshots.get_snapshot(Scope.for_user(current_user), snapshot_id)
    fmt = requested_format()
    if kept.kind == "monthly":
        from app.reports.review_views import show_review

        return show_review(MonthlyReview.from_dict(kept.data), fmt, snapshot=kept)
    report = WeeklyReport.from_dict(kept.data)
    scope = resolve_scope(
        Scope.for_user(current_user),
        office=report.scope_code if report.scope_kind == "office" else None,
        region=report.scope_code if report.scope_kind == "region" else None,
    )
    texts = ReportTexts()
    report_charts = charts.weekly_charts(report, texts)
    if fmt != "html":
        sections = exports.weekly_sections(report, report_charts, texts)
        return download(sections, fmt, f"weekly-{kept.scope_key}-{kept.period}-snapshot")
    return _render_weekly(
        report,
        report_charts,
        texts,
        scope,
        Week.parse(kept.period),
        snapshot=kept,
        snapshot_url=None,
    )


def requested_format() -> str:
    fmt = request.args.get("format", "html")
    if fmt not in ("html", "csv", "xlsx"):
        abort(400)
    return fmt


def download(sections: list[Section], fmt: str, stem: str) -> Response:
    name = f"{stem.replace(':', '-')}.{fmt}"
    if fmt == "csv":
        return _download(to_csv(sections), CSV_MIME, name)
    return _download(to_xlsx(sections), XLSX_MIME, name)


def scope_args(scope: ReportScope) -> dict[str, str]:
    if scope.kind == "office":
        return {"office": scope.code or ""}
    if scope.kind == "region":
        return {"region": scope.code or ""}
    return {}
