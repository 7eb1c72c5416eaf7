"""A customer's history: their issues and voices in one list, newest first.

Merged in SQL: each branch selects the same columns (kind, id, time, channel, a short text,
label, status, office time zone), is filtered by the customer, the caller's scope and the
keyset cursor, and is limited on its own (served by ix_issues_customer_id_id and
ix_voices_customer_occurred); UNION ALL of the two, ordered by (time, kind, id) and limited
again, gives the page. Page 50 costs what page 1 costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app.core.pagination import BadCursor, Page, decode_cursor, encode_cursor
from app.core.scoping import Scope
from app.extensions import db
from app.issues.models import Category, Issue
from app.org.models import Office
from app.voice.models import Voice

SHORT = 140  # characters of a voice's text shown in a list
KINDS = ("issue", "voice")


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "issue" or "voice"
    id: int
    at: datetime  # UTC; the issue's received_at or the voice's occurred_at
    timezone: str  # the office's, to show `at` in office time
    channel: str
    text: str  # the issue's title, or the start of the voice's text
    label: str  # the issue number, or the voice reference
    status: str | None  # issues only


def _parse_cursor(cursor: str | None) -> tuple[datetime, str, int] | None:
    if not cursor:
        return None
    at, kind, entry_id = decode_cursor(cursor, 3)
    if kind not in KINDS or not isinstance(entry_id, int) or isinstance(entry_id, bool):
        raise BadCursor()
    try:
        when = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError as exc:
        raise BadCursor() from exc
    if when is None or when.tzinfo is None or not 0 <= entry_id < 2**63:
        raise BadCursor()
    return when, kind, entry_id


def _before(at_col: Any, kind: str, id_col: Any, cursor: tuple[datetime, str, int] | None) -> Any:
    """Rows after the cursor in (at desc, kind desc, id desc) order, for one branch."""
    if cursor is None:
        return sa.true()
    at, cursor_kind, cursor_id = cursor
    same_time: Any = sa.false()
    if kind < cursor_kind:
        same_time = sa.true()
    elif kind == cursor_kind:
        same_time = id_col < cursor_id
    return sa.or_(at_col < at, sa.and_(at_col == at, same_time))


def customer_timeline(
    scope: Scope, customer_id: int, *, limit: int, cursor: str | None = None
) -> Page[TimelineEntry]:
    after = _parse_cursor(cursor)
    issues = (
        sa.select(
            sa.literal("issue", sa.String()).label("kind"),
            Issue.id.label("id"),
            Issue.received_at.label("at"),
            Issue.channel.label("channel"),
            sa.func.substr(Issue.title, 1, SHORT + 1).label("text"),
            Issue.number.label("label"),
            Issue.status.label("status"),
            Office.timezone.label("timezone"),
        )
        .join(Office, Office.id == Issue.office_id)
        .where(
            Issue.customer_id == customer_id,
            scope.office_filter(Issue.office_id),
            _before(Issue.received_at, "issue", Issue.id, after),
        )
        .order_by(Issue.received_at.desc(), Issue.id.desc())
        .limit(limit + 1)
    )
    voices = (
        sa.select(
            sa.literal("voice", sa.String()).label("kind"),
            Voice.id.label("id"),
            Voice.occurred_at.label("at"),
            Voice.channel.label("channel"),
            sa.func.substr(Voice.text, 1, SHORT + 1).label("text"),
            Voice.reference.label("label"),
            sa.null().label("status"),
            Office.timezone.label("timezone"),
        )
        .join(Office, Office.id == Voice.office_id)
        .where(
            Voice.customer_id == customer_id,
            scope.office_filter(Voice.office_id),
            _before(Voice.occurred_at, "voice", Voice.id, after),
        )
        .order_by(Voice.occurred_at.desc(), Voice.id.desc())
        .limit(limit + 1)
    )
    # each branch as a derived table: SQLite allows no ORDER BY/LIMIT inside a compound member
    merged = sa.union_all(
        sa.select(issues.subquery("i")), sa.select(voices.subquery("v"))
    ).subquery("timeline")
    stmt = (
        sa.select(merged)
        .order_by(merged.c.at.desc(), merged.c.kind.desc(), merged.c.id.desc())
        .limit(limit + 1)
    )
    rows = db.session.execute(stmt).all()
    entries = [
        TimelineEntry(
            kind=row.kind,
            id=row.id,
            at=row.at,
            timezone=row.timezone,
            channel=row.channel,
            text=row.text if len(row.text) <= SHORT else row.text[:SHORT] + "…",
            label=row.label,
            status=row.status,
        )
        for row in rows
    ]
    next_cursor = None
    if len(entries) > limit:
        last = entries[limit - 1]
        next_cursor = encode_cursor([last.at.isoformat(), last.kind, last.id])
    return Page(items=entries[:limit], next_cursor=next_cursor)


def recent_voices(scope: Scope, customer_id: int, *, limit: int = 10) -> list[dict[str, Any]]:
    """The customer's latest voices for the API's customer detail."""
    rows = db.session.execute(
        sa.select(Voice, Category.code)
        .outerjoin(Category, Category.id == Voice.category_id)
        .where(Voice.customer_id == customer_id, scope.office_filter(Voice.office_id))
        .order_by(Voice.occurred_at.desc(), Voice.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": voice.id,
            "reference": voice.reference,
            "channel": voice.channel,
            "kind": voice.kind,
            "occurred_at": voice.occurred_at.isoformat(),
            "text": voice.text if len(voice.text) <= SHORT else voice.text[:SHORT] + "…",
            "dimension": voice.dimension,
            "category": category,
            "sentiment": voice.sentiment,
            "repeat_of_id": voice.repeat_of_id,
        }
        for voice, category in rows
    ]
