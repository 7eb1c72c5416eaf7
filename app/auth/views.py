"""Sign in, sign out, change password, choose the language."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import services, sessions
from app.auth.forms import LoginForm, PasswordForm
from app.auth.passwords import verify_password
from app.core.errors import RateLimited, ValidationFailed
from app.core.urls import safe_next
from app.extensions import db

bp = Blueprint("auth", __name__)

LANGUAGES = ("zh", "en")


@bp.get("/")
def index() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("customers.index"))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.email.data, form.password.data, client_ip=request.remote_addr
            )
        except RateLimited as exc:
            db.session.commit()
            form.form_errors.append(_("Too many sign-in attempts. Please wait and try again."))
            status = exc.status
        except services.BadCredentials:
            db.session.commit()
            form.form_errors.append(_("Wrong e-mail or password."))
            status = 200
        else:
            session.clear()  # a fresh session on sign-in: no fixation
            sessions.start_session(
                user, user_agent=request.user_agent.string, ip=request.remote_addr
            )
            if user.locale in LANGUAGES:
                session["lang"] = user.locale
            db.session.commit()
            login_user(user)
            return redirect(safe_next(form.next.data, url_for("auth.index")))
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout() -> Any:
    key = current_user.session_key
    if key:
        sessions.revoke_session(key)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = PasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append(_("This is not your current password."))
        else:
            try:
                revoked = services.set_password(
                    current_user,
                    form.new.data,
                    actor=current_user,
                    keep_session_key=current_user.session_key,
                )
            except ValidationFailed as exc:
                form.new.errors.extend(exc.fields.values())
            else:
                db.session.commit()
                flash(
                    _("Password changed. %(n)d other sessions were signed out.", n=revoked),
                    "success",
                )
                return redirect(url_for("auth.index"))
    return render_template("auth/password.html", form=form)


@bp.post("/lang/<code>")
def set_language(code: str) -> Any:
    """POST (with CSRF) because it changes state: the user's stored preference."""
    if code in LANGUAGES:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("auth.index")))
