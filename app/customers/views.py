"""Customer pages: search as you type, details, create and edit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
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

from app.contacts import services as contact_services
from app.contacts.forms import MilestoneDoneForm
from app.core.errors import Conflict, ValidationFailed
from app.core.scoping import Scope
from app.customers import queries, services
from app.customers.forms import CustomerForm
from app.customers.models import Customer
from app.db import utcnow
from app.extensions import db
from app.issues import labels as issue_labels
from app.issues import queries as issue_queries
from app.issues.sla import TimeLeft
from app.org.services import list_offices
from app.surveys.results import customer_responses
from app.voice.queries_timeline import customer_timeline
from app.warnings import labels as warning_labels
from app.warnings import queries as warning_queries

bp = Blueprint("customers", __name__, url_prefix="/customers")

PAGE_SIZE = 25


@bp.before_request
@login_required
def _signed_in() -> None:
    return None


def _scope() -> Scope:
    return Scope.for_user(current_user)


def _office_choices() -> list[tuple[str, str]]:
    return [(o.code, f"{o.name} ({o.code})") for o in list_offices(_scope())]


@bp.get("/")
def index() -> Any:
    q = request.args.get("q", "").strip()
    page = queries.search_customers(
        _scope(), q, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None
    )
    return render_template("customers/index.html", page=page, q=q)


@bp.get("/search.json")
def search_json() -> Any:
    """As-you-type results for the search box (and, later, the hotline screen)."""
    q = request.args.get("q", "").strip()
    page = queries.search_customers(_scope(), q, limit=10, cursor=None)
    return jsonify(
        {
            "items": [
                {
                    "id": c.id,
                    "name": c.name,
                    "company": c.company,
                    "phones": [p.number for p in c.phones],
                    "office": c.office.code,
                    "tier": c.tier,
                    "url": url_for("customers.detail", customer_id=c.id),
                }
                for c in page.items
            ]
        }
    )


TIMELINE_PAGE = 20


@dataclass(frozen=True)
class TimelineRow:
    kind: str  # "issue" or "voice"
    kind_label: str
    label: str  # issue number or voice reference
    text: str
    channel_label: str
    status: str | None
    status_label: str | None
    at: datetime  # in the office's time zone
    url: str | None
    time_left: TimeLeft | None = None  # open issues: the next SLA target
    time_left_text: str | None = None
    due_local: datetime | None = None  # the target's deadline in the office's time zone


def _timeline(customer: Customer, cursor: str | None) -> tuple[list[TimelineRow], str | None]:
    """The customer's issues and voices merged newest first (one page of them); links only to
    pages that exist in this installation."""
    page = customer_timeline(_scope(), customer.id, limit=TIMELINE_PAGE, cursor=cursor)
    endpoints = current_app.view_functions
    link_issues = "issues.detail" in endpoints
    link_voices = "voice.detail" in endpoints
    kind_labels = {"issue": _("Issue"), "voice": _("Voice")}
    left = issue_queries.time_left_by_id(
        _scope(), [e.id for e in page.items if e.kind == "issue"], utcnow()
    )
    rows = []
    for entry in page.items:
        zone = ZoneInfo(entry.timezone)
        issue_left = left.get(entry.id) if entry.kind == "issue" else None
        if entry.kind == "issue":
            url = url_for("issues.detail", issue_id=entry.id) if link_issues else None
        else:
            url = url_for("voice.detail", voice_id=entry.id) if link_voices else None
        rows.append(
            TimelineRow(
                kind=entry.kind,
                kind_label=kind_labels[entry.kind],
                label=entry.label,
                text=entry.text,
                channel_label=str(issue_labels.CHANNEL.get(entry.channel, entry.channel)),
                status=entry.status,
                status_label=str(issue_labels.STATUS.get(entry.status, entry.status))
                if entry.status
                else None,
                at=entry.at.astimezone(zone),
                url=url,
                time_left=issue_left,
                time_left_text=issue_labels.describe_time_left(issue_left) if issue_left else None,
                due_local=issue_left.due_at.astimezone(zone) if issue_left else None,
            )
        )
    more = (
        url_for("customers.detail", customer_id=customer.id, before=page.next_cursor)
        if page.next_cursor
        else None
    )
    return rows, more


@bp.get("/<int:customer_id>")
def detail(customer_id: int) -> Any:
    customer = queries.get_customer(_scope(), customer_id)
    cursor = request.args.get("before") or None
    rows, more = _timeline(customer, cursor)
    return render_template(
        "customers/detail.html",
        customer=customer,
        timeline=rows,
        timeline_more=more,
        timeline_continued=cursor is not None,
        contacts=contact_services.contacts_of(customer.id),
        projects=contact_services.projects_of(customer.id, _scope()),
        done_form=MilestoneDoneForm(),
        survey_responses=customer_responses(customer.id, _scope()),
        warnings=warning_queries.warnings_for(customer.id),
        warning_reasons=warning_labels.REASON,
        describe_warning=warning_labels.describe,
    )


def _apply_errors(form: CustomerForm, exc: ValidationFailed) -> None:
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        target = field if field is not None and hasattr(field, "errors") else None
        if target is not None:
            target.errors = [*list(target.errors), message]
        else:
            form.form_errors.append(f"{name}: {message}")


@bp.route("/new", methods=["GET", "POST"])
def create() -> Any:
    form = CustomerForm(offices=_office_choices())
    if request.method == "GET" and current_user.office is not None:
        form.office.data = current_user.office.code
    if form.validate_on_submit():
        try:
            customer = services.create_customer(
                actor=current_user,
                name=form.name.data,
                office_code=form.office.data,
                company=form.company.data,
                phones=form.phone_list(),
                email=form.email.data,
                tier=form.tier.data,
                contract_end=form.contract_end.data,
                notes=form.notes.data or "",
            )
        except ValidationFailed as exc:
            db.session.rollback()
            _apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Customer %(name)s created.", name=customer.name), "success")
            return redirect(url_for("customers.detail", customer_id=customer.id))
    return render_template("customers/form.html", form=form, customer=None)


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
def edit(customer_id: int) -> Any:
    customer: Customer = queries.get_customer(_scope(), customer_id)
    form = CustomerForm(
        offices=_office_choices(), obj=customer if request.method == "GET" else None
    )
    conflict = None
    if request.method == "GET":
        form.office.data = customer.office.code
        form.phones.data = ", ".join(p.raw for p in customer.phones)
        form.version.data = str(customer.version)
    elif form.validate_on_submit():
        try:
            version = int(form.version.data or 0)
        except ValueError:
            abort(400)
        try:
            services.update_customer(
                actor=current_user,
                customer_id=customer.id,
                version=version,
                name=form.name.data,
                company=form.company.data,
                phones=form.phone_list(),
                email=form.email.data,
                tier=form.tier.data,
                contract_end=form.contract_end.data,
                notes=form.notes.data or "",
                office_code=form.office.data,
            )
        except Conflict:
            db.session.rollback()
            customer = queries.get_customer(_scope(), customer_id)
            conflict = customer  # show the current values beside the user's unsaved input
            form.version.data = str(customer.version)
        except ValidationFailed as exc:
            db.session.rollback()
            _apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("customers.detail", customer_id=customer_id))
    status = 409 if conflict is not None else 200
    return (
        render_template("customers/form.html", form=form, customer=customer, conflict=conflict),
        status,
    )
