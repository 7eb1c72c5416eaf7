"""The watch list: customers in the caller's scope with active warnings, each with its reasons.
Scoped on the customer's own office, so a customer moved to another office leaves the old
office's list at once, not at the next refresh."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.core.errors import NotFound
from app.core.pagination import Page, keyset_page
from app.core.scoping import Scope
from app.customers.models import Customer
from app.extensions import db
from app.org.models import Office
from app.warnings.models import CustomerWarning


@dataclass(frozen=True)
class WatchFilters:
    office: str | None = None  # office code, within the caller's scope
    reason: str | None = None
    unacknowledged: bool = False


@dataclass
class AtRisk:
    customer: Customer
    warnings: list[CustomerWarning] = field(default_factory=list)


def office_in_scope(scope: Scope, code: str) -> Office:
    office: Office | None = db.session.scalar(
        sa.select(Office).where(Office.code == code.upper(), scope.office_filter(Office.id))
    )
    if office is None:
        raise NotFound()
    return office


def _active(scope: Scope, f: WatchFilters) -> sa.Select[Any]:
    stmt = sa.select(CustomerWarning.customer_id).where(
        CustomerWarning.cleared_at.is_(None), scope.office_filter(CustomerWarning.office_id)
    )
    if f.office:
        stmt = stmt.where(CustomerWarning.office_id == office_in_scope(scope, f.office).id)
    if f.reason:
        stmt = stmt.where(CustomerWarning.reason == f.reason)
    if f.unacknowledged:
        stmt = stmt.where(CustomerWarning.acknowledged_at.is_(None))
    return stmt


def watch_list(scope: Scope, f: WatchFilters, *, limit: int, cursor: str | None) -> Page[AtRisk]:
    stmt = (
        sa.select(Customer)
        .options(selectinload(Customer.office))
        .where(Customer.id.in_(_active(scope, f)), scope.office_filter(Customer.office_id))
    )
    page = keyset_page(stmt, order=[Customer.id], key=lambda c: [c.id], limit=limit, cursor=cursor)
    found = warnings_of([c.id for c in page.items])
    return Page(
        items=[AtRisk(c, found.get(c.id, [])) for c in page.items], next_cursor=page.next_cursor
    )


def warnings_of(customer_ids: list[int]) -> dict[int, list[CustomerWarning]]:
    """The active warnings of these customers, oldest reason first."""
    if not customer_ids:
        return {}
    found: dict[int, list[CustomerWarning]] = {}
    for w in db.session.scalars(
        sa.select(CustomerWarning)
        .options(selectinload(CustomerWarning.acknowledged_by))
        .where(CustomerWarning.customer_id.in_(customer_ids), CustomerWarning.cleared_at.is_(None))
        .order_by(CustomerWarning.raised_at, CustomerWarning.id)
    ):
        found.setdefault(w.customer_id, []).append(w)
    return found


def warnings_for(customer_id: int) -> list[CustomerWarning]:
    """One customer's active warnings (its page, the hotline screen's caller panel)."""
    return warnings_of([customer_id]).get(customer_id, [])
