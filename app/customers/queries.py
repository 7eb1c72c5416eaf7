"""Customer reads: always through the caller's scope, index-friendly, keyset-paginated."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.core.pagination import BadCursor, Page, decode_cursor, keyset_page
from app.core.scoping import Scope, get_scoped
from app.customers.models import Customer, CustomerPhone
from app.customers.phones import phone_search_prefix
from app.extensions import db


def prefix_range(column: Any, prefix: str) -> sa.ColumnElement[bool]:
    """`column LIKE 'prefix%'` written as a range, which a plain btree serves on any engine
    and any collation."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return sa.and_(column >= prefix, column < upper)


# The largest id a BIGINT (PostgreSQL) or INTEGER (SQLite) column can hold.
MAX_ID = 2**63 - 1


def check_id_cursor(cursor: str | None) -> None:
    """A cursor over ids must hold one id: anything else would reach the database as a
    mistyped parameter and fail there (a 500) instead of being refused (400)."""
    if not cursor:
        return
    (value,) = decode_cursor(cursor, 1)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise BadCursor()


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_customers(
    scope: Scope, q: str | None, *, limit: int, cursor: str | None
) -> Page[Customer]:
    check_id_cursor(cursor)
    stmt = sa.select(Customer).where(scope.office_filter(Customer.office_id))
    q = (q or "").strip()[:100]
    if q:
        digits = phone_search_prefix(q)
        if digits:
            phone_match = sa.select(CustomerPhone.customer_id).where(
                prefix_range(CustomerPhone.number, digits)
            )
            stmt = stmt.where(Customer.id.in_(phone_match))
        else:
            pattern = f"%{escape_like(q)}%"
            stmt = stmt.where(
                sa.or_(
                    prefix_range(Customer.name, q),
                    prefix_range(Customer.company, q),
                    Customer.name.like(pattern, escape="\\"),
                    Customer.company.like(pattern, escape="\\"),
                )
            )
    return keyset_page(stmt, order=[Customer.id], key=lambda c: [c.id], limit=limit, cursor=cursor)


def get_customer(scope: Scope, customer_id: int) -> Customer:
    return get_scoped(Customer, customer_id, scope)


def count_customers(scope: Scope) -> int:
    stmt = sa.select(sa.func.count()).select_from(Customer)
    return int(db.session.scalar(stmt.where(scope.office_filter(Customer.office_id))) or 0)
