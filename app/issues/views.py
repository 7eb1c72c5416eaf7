"""Issue pages: the hotline screen, the queues, and the issue page with its actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth.models import User
from app.core.errors import Conflict, DomainError, InvalidTransitionError, ValidationFailed
from app.core.scoping import Scope
from app.customers import queries as customer_queries
from app.customers.services import create_customer
from app.db import utcnow
from app.extensions import db
from app.issues import labels, queries, services, workflow
from app.issues.forms import ActionForm, ContactForm, EditForm, FilterForm, IntakeForm, NoteForm
from app.issues.models import Category, Issue, RootCause
from app.issues.signals import repeats_chosen
from app.issues.sla_policy import time_left_of
from app.voice.queries_timeline import recent_voices
from app.warnings import labels as warning_labels
from app.warnings import queries as warning_queries

bp = Blueprint("issues", __name__, url_prefix="/issues")
PAGE_SIZE = 50
VIEWS = ("open", "mine", "due_soon", "overdue", "escalated", "waiting", "done")


@bp.before_request
@login_required
def _signed_in() -> None:
    return None


def _scope() -> Scope:
    return Scope.for_user(current_user)


def _categories() -> list[tuple[str, str]]:
    rows = db.session.scalars(
        sa.select(Category).where(Category.active.is_(True)).order_by(Category.position)
    )
    return [(c.code, labels.localized(c)) for c in rows]


def _root_causes() -> list[tuple[str, str]]:
    rows = db.session.scalars(
        sa.select(RootCause).where(RootCause.active.is_(True)).order_by(RootCause.position)
    )
    return [(r.code, labels.localized(r)) for r in rows]


def _owners(issue: Issue) -> list[tuple[str, str]]:
    rows = db.session.scalars(
        sa.select(User)
        .where(
            User.office_id == issue.office_id,
            User.role.in_(services.OWNER_ROLES),
            User.active.is_(True),
        )
        .order_by(User.name)
    )
    return [(str(u.id), u.name) for u in rows]


def _filters_for(view: str, form: FilterForm) -> queries.IssueFilters:
    # calendar days of the viewer's office: "received on the 5th" is the 5th in Shanghai
    f = queries.IssueFilters(tz=_viewer_timezone())
    if view == "open":
        f.status = queries.OPEN
    elif view == "mine":
        f.status, f.owner_id = queries.OPEN, current_user.id
    elif view == "due_soon":
        f.due_soon = True
    elif view == "overdue":
        f.overdue = True
    elif view == "escalated":
        f.escalated = True
    elif view == "waiting":
        f.status = ["waiting"]
    elif view == "done":
        f.status = ["resolved", "closed"]
    if form.status.data:
        f.status = [form.status.data]
    f.priority = form.priority.data or None
    f.category = form.category.data or None
    f.channel = form.channel.data or None
    owner = form.valid("owner")
    f.owner_id = int(owner) if owner else f.owner_id
    f.created_from = form.valid("received_from")
    f.created_to = form.valid("received_to")
    f.q = (form.q.data or "").strip() or None
    return f


def _owner_choices(scope: Scope) -> list[tuple[str, str]]:
    """The owners of the viewer's scope for the queue's filter; the office code only when
    the scope spans several offices, "inactive" for people who left."""
    owners = queries.list_owners(scope)
    several = len({o.office_code for o in owners}) > 1
    inactive = _("Inactive")
    return [
        (
            str(o.id),
            o.name
            + (f" · {o.office_code}" if several else "")
            + ("" if o.active else f" ({inactive})"),
        )
        for o in owners
    ]


@bp.get("/")
def index() -> Any:
    view = request.args.get("view", "open")
    if view not in VIEWS:
        view = "open"
    scope = _scope()
    form = FilterForm(
        request.args,
        statuses=labels.pairs(labels.STATUS),
        priorities=labels.pairs(labels.PRIORITY),
        categories=_categories(),
        channels=labels.pairs(labels.CHANNEL),
        owners=_owner_choices(scope),
    )
    form.validate()
    now = utcnow()
    page = queries.list_issues(
        scope,
        _filters_for(view, form),
        limit=PAGE_SIZE,
        cursor=request.args.get("cursor") or None,
        now=now,
    )
    rows = [_row(issue, now) for issue in page.items]
    args = {k: v for k, v in request.args.items() if k != "cursor" and v}
    return render_template(
        "issues/index.html", rows=rows, page=page, view=view, views=VIEWS, form=form, args=args
    )


def _row(issue: Issue, now: datetime) -> dict[str, Any]:
    # business time from the office's calendar, not wall-clock hours: a deadline on Monday
    # morning seen on Friday evening is a few working hours away, not 60 hours
    left = time_left_of(issue, now)
    return {
        "issue": issue,
        "status": str(labels.STATUS[issue.status]),
        "priority": str(labels.PRIORITY[issue.priority]),
        "category": labels.localized(issue.category),
        "overdue": left is not None and left.overdue,
        "left": left,
        "left_text": labels.describe_time_left(left) if left else None,
        "due_local": left.due_at.astimezone(ZoneInfo(issue.office.timezone)) if left else None,
    }


# --- the hotline screen ----------------------------------------------------------------------


def _intake_form(**kwargs: Any) -> IntakeForm:
    return IntakeForm(
        categories=_categories(),
        priorities=labels.pairs(labels.PRIORITY),
        channels=labels.pairs(labels.CHANNEL),
        **kwargs,
    )


def _local_aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo(_viewer_timezone()))


def _apply_errors(form: Any, exc: ValidationFailed) -> None:
    aliases = {"customer_id": "title", "phones": "new_customer_phone", "name": "new_customer_name"}
    for name, message in exc.fields.items():
        field = getattr(form, aliases.get(name, name), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors), message]
        else:
            form.form_errors.append(f"{name}: {message}")


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    """Log a call: find the caller, type, pick a category, submit, read out the number."""
    form = _intake_form()
    if form.validate_on_submit():
        try:
            customer_id = _intake_customer(form)
            issue = services.accept_issue(
                actor=current_user,
                customer_id=customer_id,
                title=form.title.data,
                description=form.description.data or "",
                channel=form.channel.data,
                category=form.category.data,
                priority=form.priority.data,
                commitment_text=form.commitment_text.data or None,
                commitment_due_at=_local_aware(form.commitment_due_at.data),
            )
            if form.repeat_target.data or form.dismissed.data:
                repeats_chosen.send(
                    issue,
                    actor=current_user,
                    linked=form.repeat_target.data,
                    dismissed=form.dismissed.data,
                    now=issue.created_at,
                )
        except ValidationFailed as exc:
            db.session.rollback()
            _apply_errors(form, exc)
        else:
            db.session.commit()
            flash(
                _("Issue %(number)s accepted. Read the number to the caller.", number=issue.number),
                "success",
            )
            return redirect(url_for("issues.new", last=issue.id))
    last = None
    if request.args.get("last", "").isdigit():
        try:
            last = queries.get_issue(_scope(), int(request.args["last"]))
        except DomainError:
            last = None
    status = 422 if form.errors or form.form_errors else 200
    return render_template("issues/new.html", form=form, last=last), status


def _intake_customer(form: IntakeForm) -> int:
    if (form.customer_id.data or "").isdigit():
        return int(form.customer_id.data)
    if not (form.new_customer_name.data or "").strip():
        raise ValidationFailed(
            fields={"customer_id": _("Find the caller, or enter a new customer.")}
        )
    customer = create_customer(
        actor=current_user,
        name=form.new_customer_name.data,
        office_code=None,
        company=form.new_customer_company.data or None,
        phones=[form.new_customer_phone.data] if form.new_customer_phone.data else [],
    )
    return customer.id


@bp.get("/customer-panel/<int:customer_id>.json")
def customer_panel(customer_id: int) -> Any:
    """What the agent sees beside the form: open issues with their time left, last ratings,
    recent contacts and voices, warnings. User text goes out as typed; the page puts it in
    with textContent."""
    scope = _scope()
    customer = customer_queries.get_customer(scope, customer_id)
    history = queries.caller_history(scope, customer.id)
    now = utcnow()
    zone = ZoneInfo(_viewer_timezone())
    response = jsonify(
        {
            "id": customer.id,
            "name": customer.name,
            "company": customer.company,
            "tier": customer.tier,
            "phones": [p.number for p in customer.phones],
            "url": url_for("customers.detail", customer_id=customer.id),
            "open_issues": [_panel_issue(i, now) for i in history.open_issues],
            "ratings": [{"number": r.issue_number, "rating": r.rating} for r in history.ratings],
            "recent_contacts": [
                {
                    "at": c.at.isoformat(),
                    "at_local": _local_text(c.at, zone),
                    "direction": c.direction,
                    "direction_label": str(labels.DIRECTION[c.direction]),
                    "channel": c.channel,
                    "channel_label": str(labels.CONTACT_CHANNEL.get(c.channel, c.channel)),
                    "text": c.text,
                    "issue_number": c.issue_number,
                    "issue_url": url_for("issues.detail", issue_id=c.issue_id),
                }
                for c in history.contacts
            ],
            "recent_voices": [
                {
                    "at": v["occurred_at"],
                    "at_local": _local_text(datetime.fromisoformat(v["occurred_at"]), zone),
                    "channel": v["channel"],
                    "channel_label": str(labels.CHANNEL.get(v["channel"], v["channel"])),
                    "text": v["text"],
                    "reference": v["reference"],
                    "url": url_for("voice.detail", voice_id=v["id"]),
                }
                for v in recent_voices(scope, customer.id, limit=queries.PANEL_VOICES)
            ],
            # a customer at risk is calling: the agent should know before answering
            "warnings": [
                {
                    "code": w.reason,
                    "label": str(warning_labels.REASON[w.reason]),
                    "message": warning_labels.describe(w.reason, w.details),
                }
                for w in warning_queries.warnings_for(customer.id)
            ],
        }
    )
    # names, titles and contacts go out as typed, markup included: never let a browser sniff
    # this answer into an HTML page
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _viewer_timezone() -> str:
    office = current_user.office
    return str(office.timezone) if office else str(current_app.config["TIMEZONE"])


def _local_text(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _panel_issue(issue: Issue, now: datetime) -> dict[str, Any]:
    left = time_left_of(issue, now)
    return {
        "number": issue.number,
        "title": issue.title,
        "status": str(labels.STATUS[issue.status]),
        "url": url_for("issues.detail", issue_id=issue.id),
        "time_left": None
        if left is None
        else {
            "target": left.target,
            "due_at": left.due_at.isoformat(),
            "minutes": left.minutes,
            "overdue": left.overdue,
            "paused": left.paused,
            "text": labels.describe_time_left(left),
        },
    }


# --- the issue page ---------------------------------------------------------------------------


def _action_form(issue: Issue, **kwargs: Any) -> ActionForm:
    return ActionForm(owners=_owners(issue), root_causes=_root_causes(), **kwargs)


def _render_detail(
    issue: Issue,
    *,
    action_form: ActionForm | None = None,
    conflict: bool = False,
    status: int = 200,
) -> Any:
    now = utcnow()
    form = action_form or _action_form(issue)
    form.version.data = str(issue.version)
    actions = workflow.allowed_actions(
        issue.status, current_user.role, escalation_level=issue.escalation_level
    )
    history = queries.issue_history(issue)
    names = dict(
        db.session.execute(
            sa.select(User.id, User.name).where(
                User.id.in_({e.actor_id for e in history if e.actor_id})
            )
        ).all()
    )
    return render_template(
        "issues/detail.html",
        issue=issue,
        row=_row(issue, now),
        clocks=queries.sla_clocks(issue, now),
        actions=[(a.value, str(labels.ACTION[a.value])) for a in actions],
        form=form,
        note_form=NoteForm(prefix="note"),
        contact_form=ContactForm(prefix="contact", channels=labels.pairs(labels.CONTACT_CHANNEL)),
        history=[
            (e, names.get(e.actor_id or 0), str(labels.AUDIT_ACTION.get(e.action, e.action)))
            for e in history
        ],
        notes=queries.issue_notes(issue),
        contacts=queries.issue_contacts(issue),
        notifications=queries.issue_notifications(issue),
        notification_kind=labels.notification_kind,
        notification_states=labels.NOTIFICATION_STATE,
        channel_labels=labels.CHANNEL,
        contact_labels=labels.CONTACT_CHANNEL,
        conflict=conflict,
    ), status


@bp.get("/<int:issue_id>")
def detail(issue_id: int) -> Any:
    return _render_detail(queries.get_issue(_scope(), issue_id))


def _run_action(action: str, issue: Issue, form: ActionForm, version: int) -> Issue:
    common = {"actor": current_user, "issue_id": issue.id, "version": version}
    reason = (form.reason.data or "").strip()
    if action == "handle":
        owner = int(form.owner_id.data) if (form.owner_id.data or "").isdigit() else None
        return services.handle_issue(**common, owner_id=owner)
    if action == "wait":
        return services.wait_issue(**common, reason=reason)
    if action == "escalate":
        return services.escalate_issue(**common, reason=reason)
    if action == "resolve":
        return services.resolve_issue(
            **common,
            resolution=form.resolution.data or "",
            root_cause=form.root_cause.data or "",
            responsible=form.responsible.data or "",
        )
    if action == "close":
        rating = int(form.rating.data) if (form.rating.data or "").isdigit() else 0
        return services.close_issue(
            **common, rating=rating, comment=form.comment.data, callback=bool(form.callback.data)
        )
    return services.reopen_issue(**common, reason=reason)


@bp.post("/<int:issue_id>/act/<action>")
def act(issue_id: int, action: str) -> Any:
    issue = queries.get_issue(_scope(), issue_id)
    if action not in labels.ACTION:
        return _render_detail(issue, status=404)
    form = _action_form(issue)
    if not form.validate_on_submit():
        flash(_("Please check the form."), "danger")
        return _render_detail(issue, action_form=form, status=422)
    version = int(form.version.data) if (form.version.data or "").isdigit() else issue.version
    try:
        _run_action(action, issue, form, version)
    except Conflict:
        db.session.rollback()
        flash(
            _(
                "Someone else changed this issue meanwhile. Here is what it looks like now; "
                "your input is kept below."
            ),
            "warning",
        )
        fresh = queries.get_issue(_scope(), issue_id)
        return _render_detail(fresh, action_form=form, conflict=True, status=409)
    except (InvalidTransitionError, ValidationFailed) as exc:
        db.session.rollback()
        messages = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.message
        flash(messages, "danger")
        fresh = queries.get_issue(_scope(), issue_id)
        return _render_detail(fresh, action_form=form, status=exc.status)
    db.session.commit()
    flash(_("%(action)s: done.", action=labels.ACTION[action]), "success")
    return redirect(url_for("issues.detail", issue_id=issue_id))


@bp.post("/<int:issue_id>/notes")
def add_note(issue_id: int) -> Any:
    issue = queries.get_issue(_scope(), issue_id)
    form = NoteForm(prefix="note")
    if form.validate_on_submit():
        services.add_note(
            actor=current_user,
            issue_id=issue.id,
            text=form.text.data,
            internal=bool(form.internal.data),
        )
        db.session.commit()
        flash(_("Note added."), "success")
    else:
        flash(_("A note needs some text."), "danger")
    return redirect(url_for("issues.detail", issue_id=issue_id) + "#notes")


@bp.post("/<int:issue_id>/contacts")
def add_contact(issue_id: int) -> Any:
    issue = queries.get_issue(_scope(), issue_id)
    form = ContactForm(prefix="contact", channels=labels.pairs(labels.CONTACT_CHANNEL))
    if form.validate_on_submit():
        try:
            services.log_contact(
                actor=current_user,
                issue_id=issue.id,
                direction=form.direction.data,
                channel=form.channel.data,
                text=form.text.data,
            )
        except (ValidationFailed, InvalidTransitionError) as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Contact logged."), "success")
    else:
        flash(_("Say what was said."), "danger")
    return redirect(url_for("issues.detail", issue_id=issue_id) + "#contacts")


@bp.route("/<int:issue_id>/edit", methods=["GET", "POST"])
def edit(issue_id: int) -> Any:
    issue = queries.get_issue(_scope(), issue_id)
    form = EditForm(
        categories=_categories(),
        priorities=labels.pairs(labels.PRIORITY),
        obj=issue if request.method == "GET" else None,
    )
    conflict = None
    if request.method == "GET":
        form.category.data = issue.category.code
        form.version.data = str(issue.version)
    elif form.validate_on_submit():
        version = int(form.version.data) if (form.version.data or "").isdigit() else 0
        try:
            services.update_issue(
                actor=current_user,
                issue_id=issue.id,
                version=version,
                changes={
                    "title": form.title.data,
                    "description": form.description.data or "",
                    "category": form.category.data,
                    "priority": form.priority.data,
                },
            )
        except Conflict:
            db.session.rollback()
            conflict = queries.get_issue(_scope(), issue_id)
            form.version.data = str(conflict.version)
        except ValidationFailed as exc:
            db.session.rollback()
            _apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("issues.detail", issue_id=issue_id))
    status = 409 if conflict is not None else 200
    return render_template(
        "issues/edit.html",
        form=form,
        issue=issue,
        conflict=conflict,
        conflict_category=labels.localized(conflict.category) if conflict else None,
    ), status
