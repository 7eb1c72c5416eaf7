"""Campaign pages on the surveys blueprint: list, new, detail with figures and skipped contacts."""

from __future__ import annotations

import os
from typing import Any

import plotly
import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.core.errors import ValidationFailed
from app.core.scoping import Scope
from app.core.uow import unit_of_work
from app.extensions import db
from app.org.models import Region
from app.org.services import list_offices
from app.surveys import campaigns as campaign_services
from app.surveys import charts, imports, segments
from app.surveys.bounces import bounced_mails
from app.surveys.campaign_forms import CampaignForm, ImportForm
from app.surveys.closed_loop import awaiting_contacts, loop_figures
from app.surveys.imports import company_figures
from app.surveys.models import Campaign, Survey
from app.surveys.results import (
    campaign_figures,
    failed_mails,
    progress,
    progress_of,
    recent_comments,
    skipped_contacts,
)
from app.surveys.views import PAGE_SIZE, bp, designers, readers

SKIP_REASONS = {
    "inactive": _l("Contact inactive"),
    "no_email": _l("No e-mail address"),
    "surveyed_recently": _l("Surveyed recently"),
    "invalid_email": _l("E-mail address not usable"),
}


def _form() -> CampaignForm:
    surveys = db.session.scalars(
        sa.select(Survey).where(Survey.status == "active").order_by(Survey.title, Survey.id)
    )
    scope = Scope.for_user(current_user)
    regions = db.session.scalars(sa.select(Region).order_by(Region.code))
    return CampaignForm(
        surveys=[(str(s.id), f"{s.title} v{s.version}") for s in surveys],
        offices=[(o.code, f"{o.name} ({o.code})") for o in list_offices(scope)],
        regions=[(r.code, f"{r.name} ({r.code})") for r in regions],
    )


@bp.get("/campaigns/")
@readers
def campaigns() -> Any:
    page = campaign_services.list_campaigns(
        current_user, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None
    )
    return render_template(
        "surveys/campaigns.html",
        page=page,
        progress=progress_of([c.id for c in page.items]),
        can_run=campaign_services.can_run(current_user),
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
@designers
def new_campaign() -> Any:
    form = _form()
    if form.validate_on_submit():
        tz = current_app.config["TIMEZONE"]
        try:
            with unit_of_work():
                campaign = campaign_services.create_campaign(
                    actor=current_user,
                    survey_id=int(form.survey.data),
                    name=form.name.data,
                    audience=form.audience(),
                    event=form.event.data or None,
                    send_at=form.aware(form.send_at.data, tz),
                    cron=form.cron.data or None,
                    remind_after_days=form.remind_after_days.data,
                    reminders=int(form.reminders.data) if form.remind_after_days.data else 0,
                    close_at=form.aware(form.close_at.data, tz),
                    timezone=tz,
                )
                campaign_id = campaign.id
        except ValidationFailed as exc:
            for name, message in exc.fields.items():
                field = getattr(form, name.removeprefix("audience."), None)
                if field is not None and hasattr(field, "errors"):
                    field.errors = [*list(field.errors), message]
                else:
                    form.form_errors.append(f"{name}: {message}")
        else:
            flash(_("Campaign created."), "success")
            return redirect(url_for("surveys.campaign", campaign_id=campaign_id))
    return render_template("surveys/campaign_form.html", form=form)


@bp.get("/assets/plotly-<version>.min.js")
def plotly_js(version: str) -> Any:
    """plotly.js from the installed package (never a CDN), cached for a year: the version is
    in the URL, so an upgrade gets a new one."""
    if version != plotly.__version__:
        abort(404)
    path = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
    response = send_file(path, mimetype="text/javascript", max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _charts(item: Campaign, figures: Any) -> list[tuple[str, dict[str, Any]]]:
    locale = str(get_locale() or "zh")
    names = {
        i.key: (i.name_en if locale == "en" else i.name_zh) or i.key for i in item.survey.indicators
    }
    out = []
    if any(s.score.value is not None for s in figures.indicators):
        out.append(
            (
                "indicators",
                charts.indicator_chart(figures.indicators, names, _("Score by indicator (0–100)")),
            )
        )
    if figures.nps_counts:
        out.append(("nps", charts.nps_chart(figures.nps_counts, _("Recommendation (0–10)"))))
    if figures.rating_counts:
        out.append(("ratings", charts.rating_chart(figures.rating_counts, _("Ratings (1–5)"))))
    return out


def _more_charts(
    item: Campaign,
    waves: list[segments.Wave],
    places: list[segments.Segment],
    companies: dict[str, segments.Measures] | None,
) -> list[tuple[str, dict[str, Any]]]:
    locale = str(get_locale() or "zh")
    names = segments.indicator_names(item.survey.indicators, locale)
    out = []
    if len(waves) > 1:
        out.append(
            (
                "trend",
                charts.trend_chart(
                    [w.name for w in waves],
                    [w.measures.index for w in waves],
                    [w.measures.nps for w in waves],
                    (_("Satisfaction index"), "NPS"),
                    _("Trend by wave"),
                ),
            )
        )
    offices = [p for p in places if p.kind == "office" and p.measures.index.value is not None]
    if len(offices) > 1:
        out.append(
            (
                "offices",
                charts.segment_chart(
                    [p.name for p in offices],
                    [p.measures.index for p in offices],
                    _("Satisfaction index by office"),
                ),
            )
        )
    if companies:
        keys = [i.key for i in item.survey.indicators]
        series = {
            (name or _("Our customers")): [
                next(s.score for s in m.indicators if s.key == key) for key in keys
            ]
            for name, m in companies.items()
        }
        out.append(
            (
                "companies",
                charts.companies_chart(
                    [names.get(k, k) for k in keys], series, _("Us and competitors by indicator")
                ),
            )
        )
    return out


@bp.get("/campaigns/<int:campaign_id>")
@readers
def campaign(campaign_id: int) -> Any:
    item = campaign_services.get_campaign(current_user, campaign_id)
    figures = campaign_figures(item)
    third_party = item.survey.kind == "third_party"
    waves = segments.trend(item)
    scope = Scope.for_user(current_user)
    places = [] if third_party else segments.by_office_and_region(item, scope)
    measured = segments.companies(item) if third_party else None
    names = segments.indicator_names(item.survey.indicators, str(get_locale() or "zh"))
    can_import = third_party and campaign_services.can_run(current_user)
    return render_template(
        "surveys/campaign.html",
        campaign=item,
        companies=company_figures(item.id, item.survey.weights()) if third_party else None,
        import_form=ImportForm() if can_import else None,
        figures=figures,
        charts=_charts(item, figures) + _more_charts(item, waves, places, measured),
        waves=waves,
        places=places,
        measured=measured,
        indicator_names=names,
        plotly_version=plotly.__version__,
        comments=recent_comments(item.id),
        skipped=skipped_contacts(item.id),
        skip_reasons=SKIP_REASONS,
        progress=None if third_party else progress(item.id),
        failed=[] if third_party else failed_mails(item.id),
        bounced=[] if third_party else bounced_mails(item.id),
        loop=None if third_party else loop_figures(item),
        awaiting=[] if third_party else awaiting_contacts(item),
    )


@bp.post("/campaigns/<int:campaign_id>/import")
@designers
def import_results(campaign_id: int) -> Any:
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("Choose a CSV or XLSX file."), "error")
        return redirect(url_for("surveys.campaign", campaign_id=campaign_id))
    upload = form.file.data
    try:
        with unit_of_work():
            result = imports.import_results(
                actor=current_user,
                campaign_id=campaign_id,
                filename=upload.filename or "",
                data=upload.read(),
                mapping=form.mapping.data or None,
            )
    except ValidationFailed as exc:
        flash("; ".join(exc.fields.values()) or exc.message, "error")
    else:
        flash(
            _(
                "%(created)s rows imported, %(duplicates)s already there, %(rejected)s rejected.",
                created=result.created,
                duplicates=result.duplicates,
                rejected=len(result.rejected),
            ),
            "success" if not result.rejected else "warning",
        )
        for rejected in result.rejected[:20]:
            details = "; ".join(f"{k}: {v}" for k, v in rejected["errors"].items())
            flash(_("Row %(row)s: %(errors)s", row=rejected["row"], errors=details), "warning")
    return redirect(url_for("surveys.campaign", campaign_id=campaign_id))
