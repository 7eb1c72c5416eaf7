"""CSV and XLSX exports of filtered issue and voice lists, within the user's scope.

Rows are read in keyset batches (by id, newest first) and written as they come, so an export
never holds the whole list in memory; a list longer than MAX_ROWS is refused (413) with the
advice to narrow the filter. Every text cell is neutralised (app.core.exports). Routes join the
reports blueprint.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, abort, current_app, request, stream_with_context
from flask_login import current_user
from openpyxl import Workbook

from app.auth.permissions import require_roles
from app.auth.roles import MANAGER_ROLES
from app.core.errors import DomainError, ValidationFailed
from app.core.exports import CSV_MIME, XLSX_MIME, neutralise
from app.core.scoping import Scope
from app.customers.models import Customer
from app.db import utcnow
from app.extensions import db
from app.issues import queries as issue_queries
from app.issues.models import PRIORITIES, STATUSES, Category, Issue, RootCause
from app.org.models import Office
from app.reports.periods import resolve_scope
from app.reports.views import bp
from app.voice.channels import CHANNELS, KINDS, SENTIMENTS
from app.voice.models import Voice

MAX_ROWS = 100_000
BATCH = 1000

ISSUE_HEADERS = [
    "number", "title", "office", "customer", "category", "priority", "status",
    "escalation_level", "received_at", "response_due_at", "resolve_due_at", "first_response_at",
    "resolved_at", "closed_at", "rating", "root_cause", "responsible",
]  # fmt: skip
VOICE_HEADERS = [
    "reference", "occurred_at", "office", "channel", "kind", "sentiment", "dimension",
    "category", "customer", "repeat_of", "text",
]  # fmt: skip


class TooManyRows(DomainError):
    status = 413
    code = "payload_too_large"
    default_message = "The list is too long to export; narrow the filter."


def _day(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(fields={name: "a date such as 2026-11-23"}) from None


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise ValidationFailed(fields={name: "one of " + ", ".join(allowed)})
    return value


def _office_ids() -> list[int]:
    """The offices asked for (office= or region=), inside the user's scope: 404 otherwise."""
    scope = resolve_scope(
        Scope.for_user(current_user),
        office=request.args.get("office") or None,
        region=request.args.get("region") or None,
    )
    return scope.office_ids


def _format() -> str:
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        abort(400)
    return fmt


def _batches(stmt: Any, id_column: Any) -> Iterator[list[Any]]:
    last: int | None = None
    while True:
        page = stmt if last is None else stmt.where(id_column < last)
        rows = list(db.session.execute(page.order_by(id_column.desc()).limit(BATCH)))
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _respond(name: str, headers: list[str], rows: Iterator[list[Any]], fmt: str) -> Response:
    disposition = f'attachment; filename="{name}.{fmt}"'
    if fmt == "csv":

        def lines() -> Iterator[str]:
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow([neutralise(h) for h in headers])
            yield "\ufeff" + out.getvalue()
            for row in rows:
                out.seek(0)
                out.truncate()
                writer.writerow([neutralise(v) for v in row])
                yield out.getvalue()

        response = Response(stream_with_context(lines()), mimetype=CSV_MIME)
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(name[:31])
        sheet.append([neutralise(h) for h in headers])
        for row in rows:
            sheet.append([neutralise(v) for v in row])
        data = io.BytesIO()
        book.save(data)
        response = Response(data.getvalue(), mimetype=XLSX_MIME)
    response.headers["Content-Disposition"] = disposition
    response.headers["Cache-Control"] = "no-store"
    return response


def _count_or_refuse(stmt: sa.Select[Any]) -> None:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    if count and count > MAX_ROWS:
        raise TooManyRows()


@bp.get("/export/issues")
@require_roles(*MANAGER_ROLES)
def export_issues() -> Any:
    """The issue list as filtered on the issues page (status, priority, category, channel,
    overdue, escalated, q, created_from/created_to), for an office or a region in scope."""
    fmt = _format()
    status = _choice("status", STATUSES)
    f = issue_queries.IssueFilters(
        status=[status] if status else None,
        priority=_choice("priority", PRIORITIES),
        category=request.args.get("category") or None,
        channel=_choice("channel", tuple(CHANNELS)),
        overdue=request.args.get("overdue") == "1",
        escalated=request.args.get("escalated") == "1",
        q=request.args.get("q") or None,
        created_from=_day("created_from"),
        created_to=_day("created_to"),
        tz=current_app.config["TIMEZONE"],
    )
    ids = _office_ids()
    base = issue_queries.filtered(Scope.for_user(current_user), f, utcnow())
    wanted = base.with_only_columns(Issue.id).where(Issue.office_id.in_(ids))
    _count_or_refuse(wanted)
    stmt = (
        sa.select(
            Issue.id,
            Issue.number,
            Issue.title,
            Office.code,
            Customer.name,
            Category.code,
            Issue.priority,
            Issue.status,
            Issue.escalation_level,
            Issue.received_at,
            Issue.response_due_at,
            Issue.resolve_due_at,
            Issue.first_response_at,
            Issue.resolved_at,
            Issue.closed_at,
            Issue.rating,
            RootCause.code,
            Issue.responsible,
        )
        .join(Office, Office.id == Issue.office_id)
        .join(Customer, Customer.id == Issue.customer_id)
        .join(Category, Category.id == Issue.category_id)
        .outerjoin(RootCause, RootCause.id == Issue.root_cause_id)
        .where(Issue.id.in_(wanted.scalar_subquery()))
    )

    def rows() -> Iterator[list[Any]]:
        for batch in _batches(stmt, Issue.id):
            for r in batch:
                yield [
                    *r[1:9],
                    *(_iso(v) for v in r[9:15]),
                    r[15], r[16], r[17],
                ]  # fmt: skip

    return _respond("issues", ISSUE_HEADERS, rows(), fmt)


@bp.get("/export/voices")
@require_roles(*MANAGER_ROLES)
def export_voices() -> Any:
    """Voices by office or region in scope, channel, kind, sentiment and days
    (`from`/`to`, inclusive, in the configured time zone)."""
    fmt = _format()
    ids = _office_ids()
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    clauses: list[Any] = [Voice.office_id.in_(ids)]
    for name, column, allowed in (
        ("channel", Voice.channel, tuple(CHANNELS)),
        ("kind", Voice.kind, KINDS),
        ("sentiment", Voice.sentiment, SENTIMENTS),
    ):
        value = _choice(name, allowed)
        if value:
            clauses.append(column == value)
    start, end = _day("from"), _day("to")
    if start:
        clauses.append(Voice.occurred_at >= datetime.combine(start, time(0), tzinfo=tz))
    if end:
        clauses.append(
            Voice.occurred_at < datetime.combine(end, time(0), tzinfo=tz) + timedelta(days=1)
        )
    _count_or_refuse(sa.select(Voice.id).where(*clauses))
    repeat = sa.orm.aliased(Voice)
    stmt = (
        sa.select(
            Voice.id,
            Voice.reference,
            Voice.occurred_at,
            Office.code,
            Voice.channel,
            Voice.kind,
            Voice.sentiment,
            Voice.dimension,
            Category.code,
            Customer.name,
            repeat.reference,
            Voice.text,
        )
        .join(Office, Office.id == Voice.office_id)
        .outerjoin(Category, Category.id == Voice.category_id)
        .outerjoin(Customer, Customer.id == Voice.customer_id)
        .outerjoin(repeat, repeat.id == Voice.repeat_of_id)
        .where(*clauses)
    )

    def rows() -> Iterator[list[Any]]:
        for batch in _batches(stmt, Voice.id):
            for r in batch:
                yield [r[1], _iso(r[2]), *r[3:]]

    return _respond("voices", VOICE_HEADERS, rows(), fmt)
