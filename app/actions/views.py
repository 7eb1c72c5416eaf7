"""Improvement-action pages: the list, recording one (also from the monthly review, with the
place and category filled in), one action with its links, effect and status."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.actions import labels as action_labels
from app.actions import queries, services
from app.actions.forms import ActionForm, StatusForm
from app.actions.models import STATUSES, ImprovementAction
from app.auth.permissions import require_roles
from app.auth.roles import MANAGER_ROLES
from app.core import audit, timeutils
from app.core.errors import Conflict, ValidationFailed
from app.core.scoping import Scope
from app.db import utcnow
from app.extensions import db
from app.issues import labels as issue_labels
from app.issues.models import Category, Issue
from app.org.models import Office, Region
from app.surveys import measurement as survey_measurement
from app.voice.models import Voice

bp = Blueprint("actions", __name__, url_prefix="/actions")
PAGE_SIZE = 50
_SPLIT = re.compile(r"[\s,;，；]+")


def _scope() -> Scope:
    return Scope.for_user(current_user)


def _today() -> Any:
    return timeutils.local(utcnow(), current_app.config["TIMEZONE"]).date()


@bp.get("/")
@require_roles(*MANAGER_ROLES)
def index() -> Any:
    status = request.args.get("status") or None
    if status not in (None, *STATUSES):
        status = None
    overdue = request.args.get("overdue") == "1"
    today = _today()
    page = queries.list_actions(
        _scope(),
        queries.ActionFilters(status=status, overdue=overdue),
        today=today,
        limit=PAGE_SIZE,
        cursor=request.args.get("cursor") or None,
    )
    rows = [(a, queries.is_overdue(a, today)) for a in page.items]
    return render_template(
        "actions/index.html",
        rows=rows,
        page=page,
        status=status,
        overdue=overdue,
        status_labels=action_labels.STATUS,
        dimension_labels=action_labels.DIMENSION,
        args={k: v for k, v in (("status", status), ("overdue", "1" if overdue else None)) if v},
    )


def _places() -> list[tuple[str, str]]:
    scope = _scope()
    places: list[tuple[str, str]] = []
    if scope.is_company:
        places.append(("company", _("Company")))
        for region in db.session.scalars(sa.select(Region).order_by(Region.code)):
            places.append((f"region:{region.code}", f"{region.code} {region.name}"))
    elif scope.kind == "region":
        own = db.session.get(Region, scope.region_id)
        if own is not None:
            places.append((f"region:{own.code}", f"{own.code} {own.name}"))
    offices = db.session.scalars(
        sa.select(Office).where(scope.office_filter(Office.id)).order_by(Office.code)
    )
    places += [(f"office:{o.code}", f"{o.code} {o.name}") for o in offices]
    return places


def _form(**kwargs: Any) -> ActionForm:
    categories = db.session.scalars(
        sa.select(Category).where(Category.active.is_(True)).order_by(Category.position)
    )
    return ActionForm(
        dimensions=[(k, str(v)) for k, v in action_labels.DIMENSION.items()],
        owners=services.owner_choices(current_user),
        places=_places(),
        metrics=[(k, str(v)) for k, v in action_labels.METRIC.items()],
        categories=[(c.code, issue_labels.localized(c)) for c in categories],
        indicators=_indicator_choices(),
        **kwargs,
    )


def _indicator_choices() -> list[tuple[str, str]]:
    """ "<questionnaire family id>:<indicator key>" of every project survey in use."""
    english = str(get_locale() or "zh") == "en"
    out = []
    for family_id, title in survey_measurement.surveys_of("project"):
        fam = survey_measurement.family("project", family_id)
        for key in fam.weights if fam else {}:
            zh, en = fam.names.get(key, (key, key)) if fam else (key, key)
            out.append((f"{family_id}:{key}", f"{title} · {(en if english else zh) or key}"))
    return out


def _survey_links(text: str | None) -> tuple[list[dict[str, Any]], list[str]]:
    """ "12:quality 13" → [{"id": 12, "indicator": "quality"}, {"id": 13}], and bad items."""
    items, bad = [], []
    for token in (t.strip() for t in _SPLIT.split(text or "")):
        if not token:
            continue
        number, _sep, indicator = token.partition(":")
        if not number.isdigit():
            bad.append(token)
            continue
        items.append({"id": int(number), "indicator": indicator or None})
    return items, bad


def _prefill(form: ActionForm) -> None:
    """From the monthly review: ?region=EAST&category=delivery&issue=12 fills the form."""
    args = request.args
    if args.get("region"):
        form.place.data = f"region:{args['region'].upper()}"
    elif args.get("office"):
        form.place.data = f"office:{args['office'].upper()}"
    elif args.get("company"):
        form.place.data = "company"
    if args.get("category"):
        form.metric.data = "category_volume"
        form.metric_category.data = args["category"]
        dimension = db.session.scalar(
            sa.select(Category.dimension).where(Category.code == args["category"])
        )
        if dimension:
            form.dimension.data = dimension
    if args.get("metric") in action_labels.METRIC:
        form.metric.data = args["metric"]
    if args.get("indicator"):
        form.metric.data = "indicator_score"
        form.metric_indicator.data = args["indicator"]
    if args.get("campaign", "").isdigit():
        form.campaigns.data = args["campaign"] + (
            f":{args['indicator'].partition(':')[2]}" if args.get("indicator") else ""
        )
    if args.get("issue", "").isdigit():
        number = db.session.scalar(
            sa.select(Issue.number).where(
                Issue.id == int(args["issue"]), _scope().office_filter(Issue.office_id)
            )
        )
        form.issues.data = number or ""


def _resolve(
    text: str | None, column: Any, id_column: Any, office_column: Any
) -> tuple[list[int], list[str]]:
    """Numbers/references typed by the user → ids in scope, and those not found."""
    wanted = [t.strip() for t in _SPLIT.split(text or "") if t.strip()]
    if not wanted:
        return [], []
    found: dict[str, int] = dict(
        db.session.execute(  # type: ignore[arg-type]
            sa.select(column, id_column).where(
                column.in_([w.upper() for w in wanted] + wanted),
                _scope().office_filter(office_column),
            )
        ).all()
    )
    ids, missing = [], []
    for w in wanted:
        hit = found.get(w) or found.get(w.upper())
        if hit is None:
            missing.append(w)
        else:
            ids.append(hit)
    return ids, missing


@bp.route("/new", methods=["GET", "POST"])
@require_roles(*MANAGER_ROLES)
def new() -> Any:
    form = _form()
    if request.method == "GET":
        _prefill(form)
    if form.validate_on_submit():
        issue_ids, bad_issues = _resolve(form.issues.data, Issue.number, Issue.id, Issue.office_id)
        voice_ids, bad_voices = _resolve(
            form.voices.data, Voice.reference, Voice.id, Voice.office_id
        )
        campaigns, bad_campaigns = _survey_links(form.campaigns.data)
        response_ids, bad_responses = _survey_links(form.responses.data)
        for field, bad in ((form.campaigns, bad_campaigns), (form.responses, bad_responses)):
            if bad:
                field.errors.append(_("Not found: %(items)s", items=", ".join(bad)))
        if bad_issues:
            form.issues.errors.append(_("Not found: %(items)s", items=", ".join(bad_issues)))
        if bad_voices:
            form.voices.errors.append(_("Not found: %(items)s", items=", ".join(bad_voices)))
        if not (bad_issues or bad_voices or bad_campaigns or bad_responses):
            kind, _sep, code = (form.place.data or "").partition(":")
            survey, _sep, indicator = (form.metric_indicator.data or "").partition(":")
            try:
                action = services.create_action(
                    actor=current_user,
                    title=form.title.data,
                    description=form.description.data or "",
                    dimension=form.dimension.data,
                    owner_id=form.owner_id.data,
                    due_on=form.due_on.data,
                    metric=form.metric.data,
                    metric_category=form.metric_category.data or None,
                    office=code if kind == "office" else None,
                    region=code if kind == "region" else None,
                    issue_ids=issue_ids,
                    voice_ids=voice_ids,
                    campaigns=campaigns,
                    response_ids=[r["id"] for r in response_ids],
                    metric_survey=survey or None,
                    metric_indicator=indicator or None,
                )
            except ValidationFailed as exc:
                db.session.rollback()
                _form_errors(form, exc)
            else:
                db.session.commit()
                flash(_("Improvement action recorded."), "success")
                return redirect(url_for("actions.detail", action_id=action.id))
    status = 422 if request.method == "POST" else 200
    return render_template("actions/new.html", form=form), status


def _form_errors(form: ActionForm, exc: ValidationFailed) -> None:
    names = {
        "office": "place",
        "region": "place",
        "metric_category": "metric_category",
        "metric_survey": "metric_indicator",
        "metric_indicator": "metric_indicator",
    }
    for name, message in exc.fields.items():
        field = getattr(form, names.get(name, name), None)
        if field is not None:
            field.errors.append(message)
        else:
            form.form_errors.append(f"{name}: {message}")


def _status_form(action: ImprovementAction, **kwargs: Any) -> StatusForm:
    allowed = [action.status, *sorted(services.TRANSITIONS[action.status])]
    form = StatusForm(
        statuses=[(s, str(action_labels.STATUS[s])) for s in allowed], prefix="st", **kwargs
    )
    if not form.is_submitted():
        form.status.data = action.status
        form.version.data = str(action.version)
    return form


def _render_detail(
    action: ImprovementAction, form: StatusForm | None = None, status: int = 200
) -> Any:
    now = utcnow()
    return render_template(
        "actions/detail.html",
        action=action,
        overdue=queries.is_overdue(action, _today()),
        links=queries.links_of(action),
        effect=queries.effect(action, now),
        form=form or _status_form(action),
        history=audit.history("improvement_action", action.id),
        status_labels=action_labels.STATUS,
        dimension_labels=action_labels.DIMENSION,
        metric_labels=action_labels.METRIC,
        category_name=issue_labels.localized(action.metric_category)
        if action.metric_category
        else _indicator_name(action),
    ), status


def _indicator_name(action: ImprovementAction) -> str | None:
    if action.metric != "indicator_score" or action.metric_survey_id is None:
        return None
    wanted = f"{action.metric_survey_id}:{action.metric_indicator}"
    return dict(_indicator_choices()).get(wanted, action.metric_indicator)


@bp.get("/<int:action_id>")
@require_roles(*MANAGER_ROLES)
def detail(action_id: int) -> Any:
    return _render_detail(queries.get_action(_scope(), action_id))


@bp.post("/<int:action_id>/status")
@require_roles(*MANAGER_ROLES)
def set_status(action_id: int) -> Any:
    action = queries.get_action(_scope(), action_id)
    form = _status_form(action)
    form.status.choices = [(s, str(action_labels.STATUS[s])) for s in STATUSES]
    if not form.validate_on_submit():
        return _render_detail(action, form, 422)
    version = int(form.version.data) if (form.version.data or "").isdigit() else None
    try:
        services.update_action(
            actor=current_user,
            action_id=action.id,
            version=version,
            changes={"status": form.status.data},
        )
    except Conflict:
        db.session.rollback()
        flash(_("Someone else changed this action meanwhile; here it is as it is now."), "warning")
        return _render_detail(queries.get_action(_scope(), action_id), status=409)
    except ValidationFailed as exc:
        db.session.rollback()
        flash("; ".join(f"{k}: {v}" for k, v in exc.fields.items()), "danger")
        return _render_detail(queries.get_action(_scope(), action_id), status=422)
    db.session.commit()
    flash(_("Status changed."), "success")
    return redirect(url_for("actions.detail", action_id=action_id))
