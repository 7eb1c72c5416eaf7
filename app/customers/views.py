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
from sqlalchemy.orm import joinedload

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
from app.issues.models import Issue
from app.org.services import list_offices

bp = Blueprint("customers", __name__, url_prefix="/customers")

PAGE_SIZE = 25
RECENT_ISSUES = 10


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


@dataclass(frozen=True)
class IssueRow:
    number: str
    title: str
    status: str
    status_label: str
    received: datetime  # in the issue's office time zone
    url: str | None


def _recent_issues(customer: Customer) -> list[IssueRow]:
    """The customer's latest issues, newest first, so the agent sees the history at once."""
    stmt = issue_queries.filtered(
        _scope(), issue_queries.IssueFilters(customer_id=customer.id), utcnow()
    )
    stmt = stmt.options(joinedload(Issue.office)).order_by(Issue.id.desc()).limit(RECENT_ISSUES)
    issues = db.session.scalars(stmt).all()
    linkable = "issues.detail" in current_app.view_functions
    return [
        IssueRow(
            number=issue.number,
            title=issue.title,
            status=issue.status,
            status_label=str(issue_labels.STATUS.get(issue.status, issue.status)),
            received=issue.received_at.astimezone(ZoneInfo(issue.office.timezone)),
            url=url_for("issues.detail", issue_id=issue.id) if linkable else None,
        )
        for issue in issues
    ]


@bp.get("/<int:customer_id>")
def detail(customer_id: int) -> Any:
    customer = queries.get_customer(_scope(), customer_id)
    return render_template(
        "customers/detail.html",
        customer=customer,
        issues=_recent_issues(customer),
        contacts=contact_services.contacts_of(customer.id),
        projects=contact_services.projects_of(customer.id, _scope()),
        done_form=MilestoneDoneForm(),
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
