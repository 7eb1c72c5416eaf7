"""People and organisation, for administrators."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app.admin.forms import (
    OfficeEditForm,
    OfficeForm,
    RegionForm,
    ResetPasswordForm,
    UserCreateForm,
    UserEditForm,
)
from app.auth import services as auth_services
from app.auth.models import User
from app.auth.permissions import require_roles
from app.auth.roles import Role
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.pagination import keyset_page
from app.core.scoping import Scope
from app.extensions import db
from app.org import services as org_services

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@require_roles(Role.ADMIN)
def _admins_only() -> None:
    return None


def _places() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    offices = [
        (o.code, f"{o.name} ({o.code})") for o in org_services.list_offices(Scope("company"))
    ]
    regions = [(r.code, f"{r.name} ({r.code})") for r in org_services.list_regions()]
    return offices, regions


def _show_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors), message]
        else:
            form.form_errors.append(f"{name}: {message}")


@bp.get("/users")
def users() -> Any:
    role = request.args.get("role") or None
    stmt = sa.select(User)
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == role)
    page = keyset_page(
        stmt,
        order=[User.id],
        key=lambda u: [u.id],
        limit=50,
        cursor=request.args.get("cursor") or None,
    )
    return render_template("admin/users.html", page=page, role=role, roles=list(Role))


@bp.route("/users/new", methods=["GET", "POST"])
def user_new() -> Any:
    form = UserCreateForm()
    form.set_places(*_places())
    if form.validate_on_submit():
        try:
            user = auth_services.create_user(
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                password=form.password.data,
                office_code=form.office.data or None,
                region_code=form.region.data or None,
                actor=current_user,
            )
        except ValidationFailed as exc:
            db.session.rollback()
            _show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int) -> Any:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    form = UserEditForm(obj=user if request.method == "GET" else None)
    form.set_places(*_places())
    reset = ResetPasswordForm(prefix="reset")
    if request.method == "GET":
        form.office.data = user.office.code if user.office else ""
        form.region.data = user.region.code if user.region else ""
    elif form.validate_on_submit():
        try:
            auth_services.update_user(
                actor=current_user,
                user=user,
                name=form.name.data,
                role=form.role.data,
                office_code=form.office.data or None,
                region_code=form.region.data or None,
                active=bool(form.active.data),
            )
        except ValidationFailed as exc:
            db.session.rollback()
            _show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, reset=reset)


@bp.post("/users/<int:user_id>/password")
def user_password(user_id: int) -> Any:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    reset = ResetPasswordForm(prefix="reset")
    if reset.validate_on_submit():
        try:
            revoked = auth_services.set_password(user, reset.password.data, actor=current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            flash("; ".join(exc.fields.values()), "danger")
        else:
            db.session.commit()
            flash(_("Password reset; %(n)d sessions were signed out.", n=revoked), "success")
    else:
        flash(_("The password must have at least 8 characters."), "danger")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/organisation", methods=["GET", "POST"])
def organisation() -> Any:
    regions = org_services.list_regions()
    region_form = RegionForm(prefix="region")
    office_form = OfficeForm(prefix="office", regions=[(r.code, r.name) for r in regions])
    if request.method == "POST":
        form: FlaskForm = region_form if "region-code" in request.form else office_form
        if form.validate_on_submit():
            try:
                if form is region_form:
                    org_services.create_region(
                        code=region_form.code.data, name=region_form.name.data, actor=current_user
                    )
                else:
                    org_services.create_office(
                        code=office_form.code.data,
                        name=office_form.name.data,
                        region_code=office_form.region.data,
                        timezone=office_form.timezone.data,
                        work_start=office_form.work_start.data,
                        work_end=office_form.work_end.data,
                        actor=current_user,
                    )
            except ValidationFailed as exc:
                db.session.rollback()
                _show_errors(form, exc)
            else:
                db.session.commit()
                flash(_("Changes saved."), "success")
                return redirect(url_for("admin.organisation"))
    return render_template(
        "admin/organisation.html",
        regions=regions,
        region_form=region_form,
        office_form=office_form,
    )


@bp.route("/offices/<int:office_id>", methods=["GET", "POST"])
def office_edit(office_id: int) -> Any:
    """Name, time zone and working hours of an office. A stale edit shows the office as it
    is now, with the admin's input kept, and saves nothing."""
    office = org_services.get_office(office_id)
    form = OfficeEditForm(obj=office if request.method == "GET" else None)
    conflict = False
    if request.method == "GET":
        form.version.data = str(office.version)
    elif form.validate_on_submit():
        version = int(form.version.data) if (form.version.data or "").isdigit() else 0
        try:
            org_services.update_office(
                actor=current_user,
                office_id=office.id,
                version=version,
                name=form.name.data,
                timezone=form.timezone.data,
                work_start=form.work_start.data,
                work_end=form.work_end.data,
            )
        except Conflict:
            db.session.rollback()
            conflict = True
            office = org_services.get_office(office_id)
            form.version.data = str(office.version)
        except ValidationFailed as exc:
            db.session.rollback()
            _show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.organisation"))
    status = 409 if conflict else 200
    return render_template(
        "admin/office_form.html", form=form, office=office, conflict=conflict
    ), status
