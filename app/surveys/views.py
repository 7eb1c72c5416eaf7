"""Survey design pages: list, design (new and edit), detail, preview, activate and retire.
Quality admins and admins design; managers read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import require_roles
from app.core.errors import InvalidTransitionError, ValidationFailed
from app.core.uow import unit_of_work
from app.surveys import events, labels, services  # noqa: F401  (events: receivers)
from app.surveys.forms import (
    ActionForm,
    SurveyForm,
    design_data,
    indicator_rows,
    question_rows,
    row_errors,
    rows_of,
)
from app.surveys.models import QUESTION_TYPES

bp = Blueprint("surveys", __name__, url_prefix="/surveys")


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"labels": labels}


PAGE_SIZE = 25
BLANK_QUESTION = dict.fromkeys(("key", "text_zh", "text_en", "indicator", "options"), "")
BLANK_INDICATOR = dict.fromkeys(("key", "name_zh", "name_en", "weight"), "")

readers = require_roles(*services.READ_ROLES)
designers = require_roles(*services.DESIGN_ROLES)


@bp.get("/")
@readers
def index() -> Any:
    page = services.list_surveys(
        current_user, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None
    )
    return render_template(
        "surveys/index.html", page=page, can_design=services.can_design(current_user)
    )


@bp.get("/<int:survey_id>")
@readers
def detail(survey_id: int) -> Any:
    survey = services.get_survey(current_user, survey_id)
    return render_template(
        "surveys/detail.html",
        survey=survey,
        can_design=services.can_design(current_user),
        action_form=ActionForm(),
    )


@bp.get("/<int:survey_id>/preview")
@readers
def preview(survey_id: int) -> Any:
    survey = services.get_survey(current_user, survey_id)
    return render_template("surveys/preview.html", survey=survey, preview=True)


def _design_page(
    form: SurveyForm, questions: Any, indicators: Any, survey: Any, errors: Any
) -> Any:
    by_q, by_i, other = row_errors(errors)
    status = 422 if errors else 200
    return render_template(
        "surveys/design.html",
        form=form,
        survey=survey,
        questions=[*questions, {**BLANK_QUESTION, "type": "rating5", "required": "y"}],
        indicators=[*indicators, BLANK_INDICATOR],
        question_errors=by_q,
        indicator_errors=by_i,
        other_errors=other,
        types=QUESTION_TYPES,
    ), status


def _save(form: SurveyForm, survey_id: int | None) -> Any:
    questions, indicators = question_rows(request.form), indicator_rows(request.form)
    if not form.validate():
        return _design_page(form, questions, indicators, None, {})
    data = design_data(form, questions, indicators)
    try:
        with unit_of_work():
            if survey_id is None:
                survey = services.create_survey(actor=current_user, data=data)
            else:
                survey = services.update_survey(actor=current_user, survey_id=survey_id, data=data)
            saved_id, version = survey.id, survey.version
    except ValidationFailed as exc:
        if exc.fields.get("weights"):
            form.form_errors.append(_("The indicator weights must sum to 100 %."))
        return _design_page(form, questions, indicators, None, exc.fields)
    except InvalidTransitionError as exc:
        form.form_errors.append(exc.message)
        return _design_page(form, questions, indicators, None, {})
    if survey_id is not None and saved_id != survey_id:
        flash(_("Saved as version %(version)s, a draft.", version=version), "success")
    else:
        flash(_("Survey saved."), "success")
    return redirect(url_for("surveys.detail", survey_id=saved_id))


@bp.route("/new", methods=["GET", "POST"])
@designers
def new() -> Any:
    form = SurveyForm()
    if request.method == "POST":
        return _save(form, None)
    return _design_page(form, [], [], None, {})


@bp.route("/<int:survey_id>/edit", methods=["GET", "POST"])
@designers
def edit(survey_id: int) -> Any:
    survey = services.get_survey(current_user, survey_id)
    if request.method == "POST":
        return _save(SurveyForm(), survey_id)
    form = SurveyForm(obj=survey)
    questions, indicators = rows_of(survey)
    return _design_page(form, questions, indicators, survey, {})


def _change(survey_id: int, action: Any, message: str) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            action(actor=current_user, survey_id=survey_id)
    except InvalidTransitionError as exc:
        flash(exc.message, "warning")
    else:
        flash(message, "success")
    return redirect(url_for("surveys.detail", survey_id=survey_id))


@bp.post("/<int:survey_id>/activate")
@designers
def activate(survey_id: int) -> Any:
    return _change(survey_id, services.activate_survey, _("Survey activated."))


@bp.post("/<int:survey_id>/retire")
@designers
def retire(survey_id: int) -> Any:
    return _change(survey_id, services.retire_survey, _("Survey retired."))
