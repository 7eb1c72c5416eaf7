"""Staff pages for a customer's contacts, projects and milestones. Listed on the customer's page;
each change is one small form here."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.contacts import services
from app.contacts.forms import ContactForm, MilestoneDoneForm, MilestoneForm, ProjectForm
from app.core.errors import InvalidTransitionError, ValidationFailed
from app.core.scoping import Scope
from app.core.uow import unit_of_work
from app.customers import queries as customer_queries
from app.org.services import list_offices

bp = Blueprint("contacts", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    return None


def _back(customer_id: int) -> Any:
    return redirect(url_for("customers.detail", customer_id=customer_id))


def _apply_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors), message]
        else:
            form.form_errors.append(f"{name}: {message}")


@bp.route("/customers/<int:customer_id>/contacts/new", methods=["GET", "POST"])
def new_contact(customer_id: int) -> Any:
    customer = customer_queries.get_customer(Scope.for_user(current_user), customer_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.add_contact(actor=current_user, customer_id=customer.id, **form.values())
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        else:
            flash(_("Contact added."), "success")
            return _back(customer_id)
    return render_template("contacts/contact_form.html", form=form, customer=customer, contact=None)


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
def edit_contact(contact_id: int) -> Any:
    contact = services.get_contact(current_user, contact_id)
    customer = contact.customer
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.update_contact(actor=current_user, contact_id=contact_id, **form.values())
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        else:
            flash(_("Changes saved."), "success")
            return _back(customer.id)
    return render_template(
        "contacts/contact_form.html", form=form, customer=customer, contact=contact
    )


@bp.route("/customers/<int:customer_id>/projects/new", methods=["GET", "POST"])
def new_project(customer_id: int) -> Any:
    scope = Scope.for_user(current_user)
    customer = customer_queries.get_customer(scope, customer_id)
    offices = [(o.code, f"{o.name} ({o.code})") for o in list_offices(scope)]
    form = ProjectForm(offices=offices)
    if not form.is_submitted():
        form.office.data = customer.office.code
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.add_project(
                    actor=current_user,
                    customer_id=customer.id,
                    name=form.name.data,
                    office_code=form.office.data,
                )
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        else:
            flash(_("Project added."), "success")
            return _back(customer_id)
    return render_template("contacts/project_form.html", form=form, customer=customer)


@bp.route("/projects/<int:project_id>/milestones/new", methods=["GET", "POST"])
def new_milestone(project_id: int) -> Any:
    project = services.get_project(current_user, project_id)
    customer_id = project.customer_id
    form = MilestoneForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.add_milestone(
                    actor=current_user,
                    project_id=project_id,
                    name=form.name.data,
                    due_date=form.due_date.data,
                )
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        else:
            flash(_("Milestone added."), "success")
            return _back(customer_id)
    return render_template("contacts/milestone_form.html", form=form, project=project)


@bp.post("/milestones/<int:milestone_id>/done")
def milestone_done(milestone_id: int) -> Any:
    customer_id = services.get_milestone(current_user, milestone_id).project.customer_id
    form = MilestoneDoneForm()
    if not form.validate_on_submit():
        flash(_("The date is not valid."), "error")
        return _back(customer_id)
    try:
        with unit_of_work():
            services.mark_milestone_done(
                actor=current_user, milestone_id=milestone_id, done_on=form.done_on.data
            )
    except ValidationFailed as exc:
        flash("; ".join(exc.fields.values()) or exc.message, "error")
    except InvalidTransitionError:
        flash(_("This milestone is already done."), "warning")
    else:
        flash(_("Milestone marked done."), "success")
    return _back(customer_id)
