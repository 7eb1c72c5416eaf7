"""Issue numbers like SH-2026-000123: unique per office and year, also under concurrent intake.

The counter row is incremented with a single UPDATE in the accepting transaction: PostgreSQL
row-locks it until commit, and SQLite writers already queue on BEGIN IMMEDIATE, so two agents
never get the same number and a rolled-back intake gives its number back.
"""

from __future__ import annotations

import contextlib

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core.driver_sql import DriverStatement
from app.extensions import db
from app.issues.models import IssueCounter

_table = IssueCounter.__table__
_BUMP = (
    sa.update(_table)
    .where(
        _table.c.office_id == sa.bindparam("counter_office"),
        _table.c.year == sa.bindparam("counter_year"),
    )
    .values(last_number=_table.c.last_number + 1)
    .returning(_table.c.last_number)
)


def number_prefix(office_code: str, year: int) -> str:
    return f"{office_code}-{year}-"


def format_number(office_code: str, year: int, value: int) -> str:
    """SH-2026-000123: at least six digits (more once an office passes 999,999 in a year)."""
    return f"{number_prefix(office_code, year)}{int(value):06d}"


def ensure_counter(office_id: int, year: int) -> None:
    """Create the office's counter for `year` if it is missing; another intake may create it
    first, and then its row is the one to bump."""
    with contextlib.suppress(IntegrityError), db.session.begin_nested():
        db.session.execute(sa.insert(_table).values(office_id=office_id, year=year, last_number=0))


# on the driver's cursor of the session's connection: it runs on every intake (SQLite)
_DRIVER_BUMP = DriverStatement(lambda: _BUMP)


def next_number(office_id: int, office_code: str, year: int) -> str:
    key = {"counter_office": office_id, "counter_year": year}
    row = _DRIVER_BUMP.first(key)
    if row is None:
        ensure_counter(office_id, year)
        row = _DRIVER_BUMP.first(key)
        if row is None:  # ensure_counter made it, or another intake did
            raise RuntimeError("the office's issue counter is missing")
    return format_number(office_code, year, row.last_number)


def counter_cte() -> sa.CTE:
    """The counter bump as a CTE (PostgreSQL): one statement can draw the number and write
    the rows that carry it. Parameters as next_number's."""
    return _BUMP.cte("counter")
