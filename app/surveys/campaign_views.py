"""Campaign pages on the surveys blueprint: list, new, detail with figures and skipped contacts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
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
from app.surveys.campaign_forms import CampaignForm
from app.surveys.models import Survey
from app.surveys.results import campaign_figures, skipped_contacts
from app.surveys.views import PAGE_SIZE, bp, designers, readers

SKIP_REASONS = {
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
        "surveys/campaigns.html", page=page, can_run=campaign_services.can_run(current_user)
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


@bp.get("/campaigns/<int:campaign_id>")
@readers
def campaign(campaign_id: int) -> Any:
    item = campaign_services.get_campaign(current_user, campaign_id)
    return render_template(
        "surveys/campaign.html",
        campaign=item,
        figures=campaign_figures(item),
        skipped=skipped_contacts(item.id),
        skip_reasons=SKIP_REASONS,
    )
