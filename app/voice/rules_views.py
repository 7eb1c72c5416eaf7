"""/voices/rules: the keyword rules that classify voices (admins and quality admins); the
staff correction of one voice's classification; and the suggestion endpoint the quick form
calls while the agent types."""

from __future__ import annotations

import contextlib
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError
from wtforms import BooleanField, DecimalField, HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.auth.permissions import require_roles
from app.auth.roles import Role
from app.core.errors import DomainError
from app.core.pagination import keyset_page
from app.extensions import db
from app.issues import labels
from app.issues.models import Category
from app.voice import rules as rules_service
from app.voice.channels import DIMENSIONS, SENTIMENTS
from app.voice.classification_services import reclassify_voice, suggestion_answer
from app.voice.models import ClassificationRule
from app.voice.textnorm import normalize

bp = Blueprint("voice_rules", __name__, url_prefix="/voices")
RULE_EDITORS = (Role.ADMIN, Role.QUALITY_ADMIN)
PAGE_SIZE = 100
MAX_CLASSIFY_TEXT = 4000  # a GET while typing; longer texts go to POST /api/v1/voices/classify

DIMENSION_LABELS = {"product": _l("Product"), "service": _l("Service"), "brand": _l("Brand")}
SENTIMENT_LABELS = {
    "negative": _l("Negative"),
    "neutral": _l("Neutral"),
    "positive": _l("Positive"),
}
SOURCE_LABELS = {"rules": _l("Suggested by the rules"), "staff": _l("Set by staff")}


class RuleForm(FlaskForm):  # type: ignore[misc]
    keyword = StringField(
        _l("Keyword or phrase"),
        validators=[DataRequired(), Length(max=rules_service.MAX_KEYWORD)],
        description=_l("Matched in any language, ignoring case and full-width characters."),
    )
    category = SelectField(_l("Category"), validators=[Optional()])
    dimension = SelectField(
        _l("Dimension"),
        validators=[Optional()],
        description=_l("Only for a rule without a category; a category brings its own."),
    )
    weight = DecimalField(
        _l("Weight"), default=1, validators=[DataRequired(), NumberRange(min=0.1, max=100)]
    )
    position = IntegerField(
        _l("Position"), validators=[Optional(), NumberRange(min=0, max=1_000_000)]
    )
    active = BooleanField(_l("Active"), default=True)


class ToggleForm(FlaskForm):  # type: ignore[misc]
    active = HiddenField()


class ClassificationForm(FlaskForm):  # type: ignore[misc]
    dimension = SelectField(_l("Dimension"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    sentiment = SelectField(_l("Sentiment"), validators=[Optional()])
    next = HiddenField()


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(v, label) for v, label in pairs]


def _category_pairs(active_only: bool = True) -> list[tuple[str, str]]:
    stmt = sa.select(Category).order_by(Category.position, Category.id)
    if active_only:
        stmt = stmt.where(Category.active.is_(True))
    return [(c.code, labels.localized(c)) for c in db.session.scalars(stmt)]


def _rule_form(obj: ClassificationRule | None = None) -> RuleForm:
    form = RuleForm(prefix="rule")
    form.category.choices = _choices([("", str(_l("No category"))), *_category_pairs()])
    form.dimension.choices = _choices(
        [("", str(_l("From the category"))), *[(d, str(DIMENSION_LABELS[d])) for d in DIMENSIONS]]
    )
    if obj is not None and request.method == "GET":
        form.keyword.data = obj.keyword
        form.category.data = obj.category.code if obj.category is not None else ""
        form.dimension.data = obj.dimension or ""
        form.weight.data = obj.weight
        form.position.data = obj.position
        form.active.data = obj.active
    return form


def _fail(form: FlaskForm, exc: DomainError) -> int:
    db.session.rollback()
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors), message]
        else:
            form.form_errors.append(message)
    return exc.status


def _save(form: RuleForm, rule_id: int | None) -> ClassificationRule:
    return rules_service.save_rule(
        actor=current_user,
        keyword=form.keyword.data,
        dimension=form.dimension.data or None,
        category=form.category.data or None,
        weight=float(form.weight.data),
        position=form.position.data,
        active=bool(form.active.data),
        rule_id=rule_id,
    )


@bp.route("/rules", methods=["GET", "POST"])
@require_roles(*RULE_EDITORS)
def rules() -> Any:
    form = _rule_form()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                _save(form, None)
            except DomainError as exc:
                status = _fail(form, exc)
            else:
                db.session.commit()
                flash(_("Rule added."), "success")
                return redirect(url_for("voice_rules.rules"))
        else:
            status = 422
    q = (request.args.get("q") or "").strip()[:80]
    category = request.args.get("category") or ""
    stmt = sa.select(ClassificationRule)
    if q:
        stmt = stmt.where(ClassificationRule.normalized.contains(normalize(q), autoescape=True))
    if category:
        stmt = stmt.join(Category, Category.id == ClassificationRule.category_id).where(
            Category.code == category
        )
    page = keyset_page(
        stmt,
        order=[ClassificationRule.position, ClassificationRule.id],
        key=lambda r: [r.position, r.id],
        limit=PAGE_SIZE,
        cursor=request.args.get("cursor"),
        descending=False,
    )
    categories = {c.id: c for c in db.session.scalars(sa.select(Category))}
    return render_template(
        "voices/rules.html",
        form=form,
        toggle=ToggleForm(prefix="toggle"),
        page=page,
        q=q,
        category=category,
        category_pairs=_category_pairs(active_only=False),
        categories=categories,
        dimension_labels=DIMENSION_LABELS,
        localized=labels.localized,
    ), status


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@require_roles(*RULE_EDITORS)
def edit_rule(rule_id: int) -> Any:
    rule = db.session.get(ClassificationRule, rule_id)
    if rule is None:
        abort(404)
    form = _rule_form(rule)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                _save(form, rule_id)
            except DomainError as exc:
                status = _fail(form, exc)
            else:
                db.session.commit()
                flash(_("Rule saved."), "success")
                return redirect(url_for("voice_rules.rules"))
        else:
            status = 422
    return render_template("voices/rule_edit.html", form=form, rule=rule), status


@bp.post("/rules/<int:rule_id>/active")
@require_roles(*RULE_EDITORS)
def toggle_rule(rule_id: int) -> Any:
    form = ToggleForm(prefix="toggle")
    if not form.validate_on_submit() or form.active.data not in ("0", "1"):
        abort(400)
    active = form.active.data == "1"
    rules_service.set_rule_active(actor=current_user, rule_id=rule_id, active=active)
    db.session.commit()
    flash(_("Rule activated.") if active else _("Rule deactivated."), "success")
    return redirect(url_for("voice_rules.rules"))


def _safe_next(target: str | None, voice_id: int) -> str:
    """Back to the page the form was on (a local path only), else the voice's page."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    with contextlib.suppress(BuildError):  # the voice pages are another blueprint's
        return url_for("voice.detail", voice_id=voice_id)
    return url_for("voice_rules.rules") if _can_edit_rules() else "/"


def _can_edit_rules() -> bool:
    return getattr(current_user, "role", None) in {str(r) for r in RULE_EDITORS}


@bp.post("/<int:voice_id>/classification")
@login_required
def classification(voice_id: int) -> Any:
    form = classification_form()
    if not form.validate_on_submit():
        abort(400 if form.csrf_token.errors else 422)
    reclassify_voice(
        current_user,
        voice_id,
        dimension=form.dimension.data or None,
        category=form.category.data or None,
        sentiment=form.sentiment.data or None,
    )
    db.session.commit()
    flash(_("Classification saved."), "success")
    return redirect(_safe_next(form.next.data, voice_id))


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Any:
    """A refused correction goes back to the page it came from with the reason; the rest
    (not found, forbidden) gets the usual error page."""
    db.session.rollback()
    from app.core.web import handle_domain_error

    if request.endpoint == "voice_rules.classification" and exc.status == 422:
        reasons = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        flash(_("The classification was not saved: %(reasons)s", reasons=reasons), "error")
        voice_id = int((request.view_args or {}).get("voice_id", 0))
        return redirect(_safe_next(request.form.get("next"), voice_id))
    return handle_domain_error(exc)


def classification_form(voice: Any = None) -> ClassificationForm:
    form = ClassificationForm(prefix="cls")
    blank = [("", "—")]
    form.dimension.choices = _choices(blank + [(d, str(DIMENSION_LABELS[d])) for d in DIMENSIONS])
    form.category.choices = _choices(blank + _category_pairs())
    form.sentiment.choices = _choices(blank + [(s, str(SENTIMENT_LABELS[s])) for s in SENTIMENTS])
    if voice is not None:
        form.dimension.data = voice.dimension or ""
        form.category.data = voice.category.code if voice.category is not None else ""
        form.sentiment.data = voice.sentiment or ""
        form.next.data = request.full_path.rstrip("?") if request else ""
    return form


@bp.app_context_processor
def _classification_helpers() -> dict[str, Any]:
    """For app/templates/voices/_classification.html, which other pages include with only
    `voice` in their context."""
    return {
        "voice_classification_form": classification_form,
        "voice_dimension_labels": DIMENSION_LABELS,
        "voice_sentiment_labels": SENTIMENT_LABELS,
        "voice_classification_sources": SOURCE_LABELS,
    }


@bp.get("/classify")
@login_required
def classify() -> Any:
    """What the rules suggest for `text` (the quick form asks while the agent types)."""
    text = request.args.get("text")
    if text is None:
        return _json_error(422, {"text": "required"})
    if len(text) > MAX_CLASSIFY_TEXT:
        return _json_error(422, {"text": f"at most {MAX_CLASSIFY_TEXT} characters"})
    return jsonify(suggestion_answer(text))


def _json_error(status: int, fields: dict[str, str]) -> Any:
    response = jsonify(
        {
            "error": {
                "code": "validation_failed",
                "message": "Some fields are not valid.",
                "fields": fields,
            }
        }
    )
    response.status_code = status
    return response
