"""Voice reads: the inbox (scoped, filtered, searched, keyset-paginated) and one voice with its
links, repeats and source.

Search matches any substring of the text, which is what Chinese needs (no word segmentation).
Queries of 3+ characters use a trigram index: an FTS5 `trigram` table on SQLite, a pg_trgm GIN
index under ILIKE on PostgreSQL (both built by the migration). Shorter queries cannot be
served by trigrams, so they fall back to LIKE over the already filtered, newest-first scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload

from app.core.audit import AuditEvent, history
from app.core.pagination import BadCursor, Page, decode_cursor, encode_cursor
from app.core.scoping import Scope, get_scoped
from app.customers.models import Customer
from app.customers.queries import escape_like
from app.db import UTCDateTime
from app.extensions import db
from app.issues.models import Category, Issue
from app.org.models import Office
from app.voice.models import IssueRepeatLink, Voice, VoiceImport, VoiceIssueLink

MAX_QUERY = 100
TRIGRAM = 3
NEWEST = (Voice.occurred_at.desc(), Voice.id.desc())


@dataclass
class VoiceFilters:
    channel: str | None = None
    kind: str | None = None
    dimension: str | None = None
    category: str | None = None  # category code
    sentiment: str | None = None
    office_code: str | None = None
    customer_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    q: str | None = None
    tz: str = "Asia/Shanghai"


def get_voice(scope: Scope, voice_id: int) -> Voice:
    return get_scoped(Voice, voice_id, scope)


def _day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz))


def _dialect() -> str:
    return str(db.session.get_bind().dialect.name)


def substring_clause(q: str) -> sa.ColumnElement[bool]:
    """`q` anywhere in the text, checked row by row. On PostgreSQL as strpos(lower(...)), which
    no index serves, so the planner cannot swap the window scan for a trigram bitmap scan that
    collects every match of a common phrase."""
    if _dialect() == "postgresql":
        return sa.func.strpos(sa.func.lower(Voice.text), q.lower()) > 0
    return Voice.text.like(f"%{escape_like(q)}%", escape="\\")  # SQLite LIKE ignores ASCII case


def text_clause(q: str) -> sa.ColumnElement[bool]:
    """Voices whose text contains `q` (case-insensitive for Latin letters)."""
    q = q.strip()[:MAX_QUERY]
    dialect = _dialect()
    if dialect == "sqlite" and len(q) >= TRIGRAM:
        # an FTS5 phrase: the trigram tokenizer matches it as a substring
        phrase = '"' + q.replace('"', '""') + '"'
        fts = sa.table("voices_fts", sa.column("rowid"))
        matches = (
            sa.select(fts.c.rowid)
            .where(sa.text("voices_fts MATCH :voice_q"))
            .params(voice_q=phrase)
        )
        return Voice.id.in_(matches)
    pattern = f"%{escape_like(q)}%"
    if dialect == "postgresql":
        return Voice.text.ilike(pattern, escape="\\")  # the GIN trigram index, 3+ characters
    return Voice.text.like(pattern, escape="\\")


def _clauses(f: VoiceFilters) -> list[Any]:
    clauses: list[Any] = []
    if f.channel:
        clauses.append(Voice.channel == f.channel)
    if f.kind:
        clauses.append(Voice.kind == f.kind)
    if f.dimension:
        clauses.append(Voice.dimension == f.dimension)
    if f.sentiment:
        clauses.append(Voice.sentiment == f.sentiment)
    if f.category:
        category = sa.select(Category.id).where(Category.code == f.category)
        clauses.append(Voice.category_id == category.scalar_subquery())
    if f.office_code:
        office = sa.select(Office.id).where(Office.code == f.office_code.strip().upper())
        clauses.append(Voice.office_id == office.scalar_subquery())
    if f.customer_id is not None:
        clauses.append(Voice.customer_id == f.customer_id)
    if f.date_from:
        clauses.append(Voice.occurred_at >= _day_start(f.date_from, f.tz))
    if f.date_to:
        clauses.append(Voice.occurred_at < _day_start(f.date_to + timedelta(days=1), f.tz))
    return clauses


SCAN_WINDOW = 2000  # newest rows of the filtered inbox searched row by row before the index


def _after(stmt: sa.Select[Any], cursor: str | None) -> sa.Select[Any]:
    """Rows after the cursor's (occurred_at, id), newest first."""
    if not cursor:
        return stmt
    at_raw, id_raw = decode_cursor(cursor, 2)
    try:
        at = datetime.fromisoformat(str(at_raw))
        last_id = int(id_raw)
    except (TypeError, ValueError) as exc:
        raise BadCursor() from exc
    if at.tzinfo is None:
        raise BadCursor()
    key = sa.tuple_(Voice.occurred_at, Voice.id)
    bound = sa.tuple_(sa.literal(at, type_=UTCDateTime()), sa.literal(last_id))
    return stmt.where(key < bound)


def _page(stmt: sa.Select[Any], limit: int) -> Page[Voice]:
    stmt = stmt.options(
        joinedload(Voice.office),
        joinedload(Voice.customer).options(lazyload(Customer.phones)),
        joinedload(Voice.category),
    )
    rows = list(db.session.scalars(stmt.order_by(*NEWEST).limit(limit + 1)).unique())
    last = rows[limit - 1] if len(rows) > limit else None
    cursor = encode_cursor([last.occurred_at.isoformat(), last.id]) if last else None
    return Page(items=rows[:limit], next_cursor=cursor)


def list_voices(scope: Scope, f: VoiceFilters, *, limit: int, cursor: str | None) -> Page[Voice]:
    """Newest first, keyset on (occurred_at, id); office, customer and category loaded in the
    page's one query.

    With a text query, the newest SCAN_WINDOW rows of the filtered inbox are searched row by row
    first: a common phrase fills the page from them at once, where the trigram index would have
    to collect every match (hundreds of thousands) before ordering them. Only when the window
    does not fill the page (a rare phrase, or few rows) does the index answer."""
    q = (f.q or "").strip()[:MAX_QUERY]
    base = _after(
        sa.select(Voice).where(scope.office_filter(Voice.office_id), *_clauses(f)), cursor
    )
    if not q:
        return _page(base, limit)
    window = (
        base.with_only_columns(Voice.id).order_by(*NEWEST).limit(SCAN_WINDOW).subquery("window")
    )
    scanned = _page(
        sa.select(Voice).join(window, window.c.id == Voice.id).where(substring_clause(q)), limit
    )
    if scanned.next_cursor is not None:
        return scanned
    in_window = db.session.scalar(sa.select(sa.func.count()).select_from(window))
    if (in_window or 0) < SCAN_WINDOW:
        return scanned  # the window held every row: this is the whole answer
    return _page(base.where(text_clause(q)), limit)


# --- one voice -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueLinkRow:
    kind: str  # raised | repeat
    issue_id: int
    number: str
    title: str
    status: str
    at: datetime


@dataclass(frozen=True)
class VoiceRow:
    id: int
    reference: str
    text: str
    occurred_at: datetime
    channel: str


@dataclass
class VoiceLinks:
    issues: list[IssueLinkRow]
    repeat_of: VoiceRow | None
    repeats: list[VoiceRow]
    source: VoiceImport | None


def _voice_row(v: Voice) -> VoiceRow:
    return VoiceRow(v.id, v.reference, v.text[:200], v.occurred_at, v.channel)


def voice_links(scope: Scope, voice: Voice, *, repeats_limit: int = 50) -> VoiceLinks:
    """Issues it raised or repeats, the voice it repeats, the voices that repeat it (all within
    the caller's scope), and the import it came from."""
    issue_rows = db.session.execute(
        sa.select(VoiceIssueLink.kind, Issue.id, Issue.number, Issue.title, Issue.status)
        .add_columns(VoiceIssueLink.at)
        .join(Issue, Issue.id == VoiceIssueLink.issue_id)
        .where(VoiceIssueLink.voice_id == voice.id, scope.office_filter(Issue.office_id))
        .order_by(VoiceIssueLink.id)
    ).all()
    root = None
    if voice.repeat_of_id is not None:
        root_voice = db.session.scalars(
            sa.select(Voice).where(
                Voice.id == voice.repeat_of_id, scope.office_filter(Voice.office_id)
            )
        ).first()
        root = _voice_row(root_voice) if root_voice is not None else None
    repeats = db.session.scalars(
        sa.select(Voice)
        .where(Voice.repeat_of_id == voice.id, scope.office_filter(Voice.office_id))
        .order_by(Voice.occurred_at.desc(), Voice.id.desc())
        .limit(repeats_limit)
    ).all()
    source = db.session.get(VoiceImport, voice.import_id) if voice.import_id else None
    return VoiceLinks(
        issues=[IssueLinkRow(*row) for row in issue_rows],
        repeat_of=root,
        repeats=[_voice_row(v) for v in repeats],
        source=source,
    )


def voice_history(voice: Voice) -> list[AuditEvent]:
    return history("voice", voice.id)


@dataclass(frozen=True)
class IssueVoice:
    """A voice an issue came from ("raised") or that repeats it, for the issue page."""

    kind: str
    voice_id: int
    reference: str
    channel: str
    occurred_at: datetime
    text: str


def voices_of_issue(scope: Scope, issue_id: int, limit: int = 50) -> list[IssueVoice]:
    rows = db.session.execute(
        sa.select(
            VoiceIssueLink.kind,
            Voice.id,
            Voice.reference,
            Voice.channel,
            Voice.occurred_at,
            sa.func.substr(Voice.text, 1, 200),
        )
        .join(Voice, Voice.id == VoiceIssueLink.voice_id)
        .where(VoiceIssueLink.issue_id == issue_id, scope.office_filter(Voice.office_id))
        .order_by(VoiceIssueLink.kind, Voice.occurred_at)
        .limit(limit)
    ).all()
    return [IssueVoice(*row) for row in rows]


@dataclass(frozen=True)
class RelatedIssue:
    """An issue linked to another as a repeat, for the issue page: `earlier` when the shown
    issue repeats it, else it repeats the shown issue."""

    earlier: bool
    issue_id: int
    number: str
    title: str
    status: str


def repeat_issues_of_issue(scope: Scope, issue_id: int, limit: int = 50) -> list[RelatedIssue]:
    """The earlier issues an issue repeats and the later ones that repeat it, in scope."""

    def related(mine: Any, other: Any, earlier: bool) -> list[RelatedIssue]:
        rows = db.session.execute(
            sa.select(Issue.id, Issue.number, Issue.title, Issue.status)
            .join(IssueRepeatLink, other == Issue.id)
            .where(mine == issue_id, scope.office_filter(Issue.office_id))
            .order_by(Issue.id)
            .limit(limit)
        ).all()
        return [RelatedIssue(earlier, *row) for row in rows]

    return [
        *related(IssueRepeatLink.issue_id, IssueRepeatLink.repeat_of_id, True),
        *related(IssueRepeatLink.repeat_of_id, IssueRepeatLink.issue_id, False),
    ]
