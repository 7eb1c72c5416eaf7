"""The watch list page (客户预警): customers at risk with their reasons, and acknowledging one
reason as being followed up."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import require_roles
from app.auth.roles import MANAGER_ROLES
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.scoping import Scope
from app.core.urls import safe_next
from app.extensions import db
from app.org.models import Office
from app.warnings import labels, queries, services
from app.warnings.forms import AcknowledgeForm
from app.warnings.models import REASONS

bp = Blueprint("warnings", __name__, url_prefix="/warnings")
PAGE_SIZE = 50


def _filters() -> queries.WatchFilters:
    reason = request.args.get("reason") or None
    return queries.WatchFilters(
        office=(request.args.get("office") or "").strip() or None,
        reason=reason if reason in REASONS else None,
        unacknowledged=request.args.get("open") == "1",
    )


@bp.get("/")
@require_roles(*MANAGER_ROLES)
def index() -> Any:
    scope = Scope.for_user(current_user)
    f = _filters()
    page = queries.watch_list(scope, f, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None)
    offices = db.session.scalars(
        sa.select(Office).where(scope.office_filter(Office.id)).order_by(Office.code)
    ).all()
    args = {
        k: v
        for k, v in (
            ("office", f.office),
            ("reason", f.reason),
            ("open", "1" if f.unacknowledged else None),
        )
        if v
    }
    return render_template(
        "warnings/index.html",
        page=page,
        filters=f,
        args=args,
        offices=offices,
        reasons=labels.REASON,
        describe=labels.describe,
        form=AcknowledgeForm(),
        here=request.full_path,
    )


def _too_long() -> str:
    return str(_("The follow-up note is too long (at most %(n)d characters).", n=services.NOTE_MAX))


@bp.post("/<int:warning_id>/acknowledge")
@require_roles(*MANAGER_ROLES)
def acknowledge(warning_id: int) -> Any:
    back = safe_next(request.form.get("next"), url_for("warnings.index"))
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        flash(_too_long(), "danger")
        return redirect(back)
    try:
        services.acknowledge(
            actor=current_user,
            warning_id=warning_id,
            note=form.note.data or "",
            scope=Scope.for_user(current_user),
        )
    except NotFound:
        db.session.rollback()
        raise
    except Conflict:
        db.session.rollback()
        flash(_("Someone else acknowledged this warning meanwhile."), "warning")
        return redirect(back)
    except ValidationFailed:
        db.session.rollback()
        flash(_too_long(), "danger")
        return redirect(back)
    db.session.commit()
    flash(_("Acknowledged: the warning is being followed up."), "success")
    return redirect(back)
