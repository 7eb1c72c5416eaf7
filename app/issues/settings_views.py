"""/issues/settings: SLA targets, categories, root causes and the low-rating policy (admins)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.auth.permissions import require_roles
from app.auth.roles import Role
from app.core.errors import DomainError
from app.extensions import db
from app.issues import labels, settings_services
from app.issues.models import DIMENSIONS, Category, RootCause, SlaTarget
from app.issues.services import LOW_RATING_POLICIES, low_rating_policy
from app.issues.views import bp


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(v, label) for v, label in pairs]


class TargetForm(FlaskForm):  # type: ignore[misc]
    priority = SelectField(_l("Priority"))
    category = SelectField(_l("Category"), validators=[Optional()])
    tier = SelectField(_l("Tier"), validators=[Optional()])
    response_hours = DecimalField(
        _l("First response (working hours)"),
        validators=[DataRequired(), NumberRange(min=0.1, max=2000)],
    )
    resolve_hours = DecimalField(
        _l("Resolution (working hours)"),
        validators=[DataRequired(), NumberRange(min=0.1, max=5000)],
    )


class CategoryForm(FlaskForm):  # type: ignore[misc]
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=120)])
    dimension = SelectField(_l("Dimension"))
    active = BooleanField(_l("Active"), default=True)


class CauseForm(FlaskForm):  # type: ignore[misc]
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=120)])
    active = BooleanField(_l("Active"), default=True)


class PolicyForm(FlaskForm):  # type: ignore[misc]
    policy = SelectField(_l("When a customer rates 1 or 2"))


class DeleteForm(FlaskForm):  # type: ignore[misc]
    target_id = HiddenField()


DIMENSION_LABELS = {"product": _l("Product"), "service": _l("Service"), "brand": _l("Brand")}
POLICY_LABELS = {
    "reopen": _l("Reopen the issue and tell the office manager"),
    "escalate": _l("Reopen, escalate one level and tell the office manager"),
    "close": _l("Close it and tell the office manager"),
}


def _forms() -> dict[str, FlaskForm]:
    categories = [
        (c.code, labels.localized(c))
        for c in db.session.scalars(sa.select(Category).order_by(Category.position))
    ]
    target = TargetForm(prefix="target")
    target.priority.choices = _choices(labels.pairs(labels.PRIORITY))
    target.category.choices = _choices([("", str(_l("Any category"))), *categories])
    target.tier.choices = _choices([("", str(_l("Any tier"))), *[(t, t) for t in "ABCD"]])
    category = CategoryForm(prefix="category")
    category.dimension.choices = _choices([(d, str(DIMENSION_LABELS[d])) for d in DIMENSIONS])
    policy = PolicyForm(prefix="policy")
    policy.policy.choices = _choices([(p, str(POLICY_LABELS[p])) for p in LOW_RATING_POLICIES])
    return {
        "target": target,
        "category": category,
        "cause": CauseForm(prefix="cause"),
        "policy": policy,
        "delete": DeleteForm(prefix="delete"),
    }


def _save(kind: str, form: Any) -> None:
    if kind == "target":
        settings_services.save_sla_target(
            actor=current_user,
            priority=form.priority.data,
            category_code=form.category.data or None,
            tier=form.tier.data or None,
            response_hours=float(form.response_hours.data),
            resolve_hours=float(form.resolve_hours.data),
        )
    elif kind == "category":
        settings_services.save_category(
            actor=current_user,
            code=form.code.data,
            name_zh=form.name_zh.data,
            name_en=form.name_en.data,
            dimension=form.dimension.data,
            active=bool(form.active.data),
        )
    elif kind == "cause":
        settings_services.save_root_cause(
            actor=current_user,
            code=form.code.data,
            name_zh=form.name_zh.data,
            name_en=form.name_en.data,
            active=bool(form.active.data),
        )
    elif kind == "policy":
        settings_services.set_low_rating_policy(actor=current_user, policy=form.policy.data)
    elif kind == "delete" and (form.target_id.data or "").isdigit():
        settings_services.delete_sla_target(actor=current_user, target_id=int(form.target_id.data))


@bp.route("/settings", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def settings() -> Any:
    forms = _forms()
    status = 200
    if request.method == "POST":
        kind = request.form.get("form", "")
        form = forms.get(kind)
        if form is not None and form.validate_on_submit():
            try:
                _save(kind, form)
            except DomainError as exc:
                db.session.rollback()
                for name, message in exc.fields.items():
                    field = getattr(form, name, None)
                    if field is not None and hasattr(field, "errors"):
                        field.errors = [*list(field.errors), message]
                    else:
                        form.form_errors.append(message)
                status = exc.status
            else:
                db.session.commit()
                flash(_("Changes saved."), "success")
                return redirect(url_for("issues.settings"))
        else:
            status = 422
    forms["policy"].policy.data = low_rating_policy()
    targets = db.session.execute(
        sa.select(SlaTarget, Category)
        .outerjoin(Category, Category.id == SlaTarget.category_id)
        .order_by(SlaTarget.priority, SlaTarget.category_id.is_not(None), SlaTarget.tier)
    ).all()
    return render_template(
        "issues/settings.html",
        forms=forms,
        targets=targets,
        categories=db.session.scalars(sa.select(Category).order_by(Category.position)).all(),
        causes=db.session.scalars(sa.select(RootCause).order_by(RootCause.position)).all(),
        priority_labels=labels.PRIORITY,
        dimension_labels=DIMENSION_LABELS,
        localized=labels.localized,
    ), status
