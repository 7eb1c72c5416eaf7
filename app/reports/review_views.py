"""The monthly quality review page (月度问题质量分析), live or a kept snapshot, and its exports.
Routes join the reports blueprint."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request, url_for
from flask_login import current_user

from app.auth.permissions import require_roles
from app.auth.roles import MANAGER_ROLES
from app.core.scoping import Scope
from app.db import utcnow
from app.reports import charts, exports, review, snapshots
from app.reports.dto import MonthlyReview
from app.reports.models import ReportSnapshot
from app.reports.periods import Month, resolve_review_scope
from app.reports.texts import ReportTexts
from app.reports.views import ACTION_LABELS, bp, download, local_text, requested_format


@bp.get("/quality")
@require_roles(*MANAGER_ROLES)
def quality() -> Any:
    scope = resolve_review_scope(
        Scope.for_user(current_user), region=request.args.get("region") or None
    )
    key = request.args.get("month")
    month = (
        Month.parse(key) if key else Month.last_complete(utcnow(), current_app.config["TIMEZONE"])
    )
    fmt = requested_format()
    return show_review(review.monthly_review(scope, month, utcnow()), fmt, snapshot=None)


def _scope_args(data: MonthlyReview) -> dict[str, str]:
    return {"region": data.scope_code or ""} if data.scope_kind == "region" else {}


def show_review(data: MonthlyReview, fmt: str, *, snapshot: ReportSnapshot | None) -> Any:
    texts = ReportTexts()
    review_charts = charts.monthly_charts(data, texts)
    if fmt != "html":
        sections = exports.monthly_sections(data, review_charts, texts)
        scope_key = "company" if data.scope_kind == "company" else f"region-{data.scope_code}"
        stem = f"quality-{scope_key}-{data.period}" + ("-snapshot" if snapshot else "")
        return download(sections, fmt, stem)
    kept = None
    if snapshot is None:
        key = "company" if data.scope_kind == "company" else f"region:{data.scope_code}"
        kept = snapshots.find_snapshot("monthly", key, data.period)
    month = Month.parse(data.period)
    return render_template(
        "reports/quality.html",
        review=data,
        charts=review_charts,
        texts=texts,
        month=month,
        snapshot=snapshot,
        snapshot_taken=local_text(snapshot.created_at) if snapshot else None,
        snapshot_url=url_for("reports.snapshot", snapshot_id=kept.id) if kept else None,
        headline=exports.MONTH_HEADLINE,
        args=_scope_args(data),
        can_next=month.shift(1).first <= utcnow().date(),
        action_labels=ACTION_LABELS,
        new_action_args=_scope_args(data) or {"company": "1"},
    )
