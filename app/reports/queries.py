"""Report figures aggregated in the database: every query is GROUP BY over an indexed range
(office, time column), bucketed by app.core.buckets, and returns a handful of rows.

Definitions (the same for every scope, so a region's totals are the sum of its offices):
- new: issues by received_at (when the customer called) in the period;
- closed: issues by closed_at; ratings and CSAT (share of ratings 4–5) of those closed;
- open at the period end: received before the end and not resolved by then (as the records
  stand: a reopen clears the earlier resolution, so a reopened issue counts as open since it
  was received); overdue: open at the end and past its resolution deadline;
- escalated: escalation rows by `at` (per level); reopened: reopen audit events by `at`;
- response SLA: of first responses given in the period, the share on time; resolution SLA: of
  resolutions in the period, the share by the deadline;
- voices by occurred_at; a repeat is a voice recorded as the repeat of an earlier one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.buckets import ZonedEdges, at_edge, bucket, by_bucket
from app.extensions import db
from app.issues import workflow
from app.issues.models import Category, Escalation, Issue, RootCause
from app.org.models import Office
from app.reports.periods import ReportScope
from app.voice.models import Voice

OPEN = [s.value for s in workflow.OPEN_STATUSES]
AGEING = (("gt30", 10000), ("d15_30", 30), ("d8_14", 14), ("d3_7", 7), ("d0_2", 2))
PerOffice = dict[int, dict[str, list[int]]]  # office → figure → [previous, current]


def _sum_if(cond: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _add(acc: PerOffice, office_id: int, name: str, index: int, value: int) -> None:
    slot = acc[office_id].setdefault(name, [0, 0])
    slot[index] += int(value or 0)


def per_office(scope: ReportScope, edges: ZonedEdges) -> PerOffice:
    """Issue and voice counts per office for the two periods of `edges` (previous, current)."""
    acc: PerOffice = defaultdict(dict)
    office = Issue.office_id

    stmt = by_bucket(
        lambda b: (
            sa.select(office, b, sa.func.count())
            .where(scope.office_filter(office))
            .group_by(office)
        ),
        Issue.received_at,
        edges,
        office,
    )
    for office_id, i, n in db.session.execute(stmt):
        _add(acc, office_id, "new", i, n)

    stmt = by_bucket(
        lambda b: (
            sa.select(
                office,
                b,
                sa.func.count(),
                sa.func.count(Issue.rating),
                _sum_if(Issue.rating >= 4),
                sa.func.coalesce(sa.func.sum(Issue.rating), 0),
            )
            .where(scope.office_filter(office))
            .group_by(office)
        ),
        Issue.closed_at,
        edges,
        office,
    )
    for office_id, i, n, rated, satisfied, rating_sum in db.session.execute(stmt):
        _add(acc, office_id, "closed", i, n)
        _add(acc, office_id, "rated", i, rated)
        _add(acc, office_id, "satisfied", i, satisfied)
        _add(acc, office_id, "rating_sum", i, rating_sum)

    stmt = by_bucket(
        lambda b: (
            sa.select(
                office, b, sa.func.count(), _sum_if(Issue.resolved_at <= Issue.resolve_due_at)
            )
            .where(scope.office_filter(office))
            .group_by(office)
        ),
        Issue.resolved_at,
        edges,
        office,
    )
    for office_id, i, n, on_time in db.session.execute(stmt):
        _add(acc, office_id, "resolved", i, n)
        _add(acc, office_id, "resolved_on_time", i, on_time)

    stmt = by_bucket(
        lambda b: (
            sa.select(
                office,
                b,
                sa.func.count(),
                _sum_if(Issue.first_response_at <= Issue.response_due_at),
            )
            .where(scope.office_filter(office))
            .group_by(office)
        ),
        Issue.first_response_at,
        edges,
        office,
    )
    for office_id, i, n, on_time in db.session.execute(stmt):
        _add(acc, office_id, "responded", i, n)
        _add(acc, office_id, "responded_on_time", i, on_time)

    _open_at_ends(scope, edges, acc)
    _escalations(scope, edges, acc)
    _reopens(scope, edges, acc)
    _voices(scope, edges, acc)
    return acc


def _candidates(scope: ReportScope, edges: ZonedEdges, since: int, until: int) -> sa.Subquery:
    """Issues that can be open at some edge from edges[since] to edges[until]: received before
    edges[until] and not resolved before edges[since]. Written as a UNION ALL of two range
    scans of ix_issues_office_resolved (unresolved; resolved since), because an OR of the two
    makes both engines read every issue the office ever had."""
    office = Issue.office_id
    cols = (Issue.id, office, Issue.received_at, Issue.resolved_at, Issue.resolve_due_at)
    received_before = Issue.received_at < at_edge(edges, until, office)
    unresolved = sa.select(*cols).where(
        scope.office_filter(office), Issue.resolved_at.is_(None), received_before
    )
    resolved_later = sa.select(*cols).where(
        scope.office_filter(office),
        Issue.resolved_at >= at_edge(edges, since, office),
        received_before,
    )
    return sa.union_all(unresolved, resolved_later).subquery("candidates")


def _open_at(c: Any, end: Any) -> Any:
    """Open at `end`: received before it and not resolved by then."""
    return sa.and_(c.received_at < end, sa.or_(c.resolved_at.is_(None), c.resolved_at >= end))


def _open_at_ends(scope: ReportScope, edges: ZonedEdges, acc: PerOffice) -> None:
    c = _candidates(scope, edges, 1, 2).c
    cols = []
    for index in (1, 2):  # the end of the previous period, the end of the current one
        end = at_edge(edges, index, c.office_id)
        cols += [
            _sum_if(_open_at(c, end)),
            _sum_if(sa.and_(_open_at(c, end), c.resolve_due_at < end)),
        ]
    stmt = sa.select(c.office_id, *cols).group_by(c.office_id)
    for office_id, open_prev, overdue_prev, open_cur, overdue_cur in db.session.execute(stmt):
        _add(acc, office_id, "open", 0, open_prev)
        _add(acc, office_id, "open", 1, open_cur)
        _add(acc, office_id, "overdue", 0, overdue_prev)
        _add(acc, office_id, "overdue", 1, overdue_cur)


def _escalations(scope: ReportScope, edges: ZonedEdges, acc: PerOffice) -> None:
    office = Issue.office_id
    stmt = by_bucket(
        lambda b: (
            sa.select(office, b, Escalation.level, sa.func.count())
            .join(Issue, Issue.id == Escalation.issue_id)
            .where(scope.office_filter(office))
            .group_by(office, Escalation.level)
        ),
        Escalation.at,
        edges,
        office,
    )
    for office_id, i, level, n in db.session.execute(stmt):
        _add(acc, office_id, "escalated", i, n)
        _add(acc, office_id, f"escalated_l{level}", i, n)


def _reopens(scope: ReportScope, edges: ZonedEdges, acc: PerOffice) -> None:
    office = AuditEvent.office_id
    stmt = by_bucket(
        lambda b: (
            sa.select(office, b, sa.func.count())
            .where(
                scope.office_filter(office),
                AuditEvent.action == "reopen",
                AuditEvent.entity_type == "issue",
            )
            .group_by(office)
        ),
        AuditEvent.at,
        edges,
        office,
    )
    for office_id, i, n in db.session.execute(stmt):
        _add(acc, office_id, "reopened", i, n)


def _voices(scope: ReportScope, edges: ZonedEdges, acc: PerOffice) -> None:
    office = Voice.office_id
    stmt = by_bucket(
        lambda b: (
            sa.select(office, b, sa.func.count(), sa.func.count(Voice.repeat_of_id))
            .where(scope.office_filter(office))
            .group_by(office)
        ),
        Voice.occurred_at,
        edges,
        office,
    )
    for office_id, i, n, repeats in db.session.execute(stmt):
        _add(acc, office_id, "voices", i, n)
        _add(acc, office_id, "repeats", i, repeats)


# --- breakdowns for the whole scope -----------------------------------------------------------

Breakdown = dict[str | None, list[int]]  # key → [previous, current]


def _breakdown(rows: Iterable[Any]) -> Breakdown:
    out: Breakdown = defaultdict(lambda: [0, 0])
    for key, i, n in rows:
        if i is not None:
            out[None if key is None else str(key)][int(i)] += int(n)
    return dict(out)


def voices_by(scope: ReportScope, edges: ZonedEdges, column: Any) -> Breakdown:
    stmt = by_bucket(
        lambda b: (
            sa.select(column, b, sa.func.count())
            .where(scope.office_filter(Voice.office_id))
            .group_by(column)
        ),
        Voice.occurred_at,
        edges,
        Voice.office_id,
    )
    return _breakdown(db.session.execute(stmt))


def issues_by(scope: ReportScope, edges: ZonedEdges, time_column: Any, column: Any) -> Breakdown:
    """Issues whose `time_column` falls in the periods of `edges`, counted by `column`."""
    stmt = by_bucket(
        lambda b: (
            sa.select(column, b, sa.func.count())
            .where(scope.office_filter(Issue.office_id))
            .group_by(column)
        ),
        time_column,
        edges,
        Issue.office_id,
    )
    return _breakdown(db.session.execute(stmt))


def resolved_by_cause_and_responsible(
    scope: ReportScope, edges: ZonedEdges
) -> tuple[Breakdown, Breakdown]:
    """Resolved issues by root cause and by responsible department, from one scan (grouped by
    both; the few groups are summed each way here)."""
    stmt = by_bucket(
        lambda b: (
            sa.select(Issue.root_cause_id, Issue.responsible, b, sa.func.count())
            .where(
                scope.office_filter(Issue.office_id),
            )
            .group_by(Issue.root_cause_id, Issue.responsible)
        ),
        Issue.resolved_at,
        edges,
        Issue.office_id,
    )
    rows = list(db.session.execute(stmt))
    causes = _breakdown((cause, i, n) for cause, _, i, n in rows)
    responsible = _breakdown((who, i, n) for _, who, i, n in rows)
    return causes, responsible


def escalations_by_level(scope: ReportScope, edges: ZonedEdges) -> Breakdown:
    stmt = by_bucket(
        lambda b: (
            sa.select(Escalation.level, b, sa.func.count())
            .join(Issue, Issue.id == Escalation.issue_id)
            .where(scope.office_filter(Issue.office_id))
            .group_by(Escalation.level)
        ),
        Escalation.at,
        edges,
        Issue.office_id,
    )
    return _breakdown(db.session.execute(stmt))


def ageing(scope: ReportScope, end_of: ZonedEdges) -> dict[str, int]:
    """Open issues at the end of the period (the last edge) by age in days."""

    def limits(end: datetime) -> list[datetime]:
        return [end - timedelta(days=days) for _, days in AGEING] + [end]

    last = len(end_of.groups[0][1]) - 1
    c = _candidates(scope, end_of, last, last).c
    age_edges = ZonedEdges(tuple((ids, tuple(limits(e[-1]))) for ids, e in end_of.groups))
    b = bucket(c.received_at, age_edges, c.office_id)
    stmt = sa.select(b, sa.func.count()).group_by(b)
    counts = {name: 0 for name, _ in AGEING}
    for i, n in db.session.execute(stmt):
        if i is not None:
            counts[AGEING[int(i)][0]] += int(n)
        else:  # older than the oldest limit
            counts["gt30"] += int(n)
    return counts


def counts_per_bucket(scope: ReportScope, edges: ZonedEdges, time_column: Any) -> list[int]:
    stmt = by_bucket(
        lambda b: sa.select(b, sa.func.count()).where(scope.office_filter(Issue.office_id)),
        time_column,
        edges,
        Issue.office_id,
    )
    out = [0] * edges.count
    for i, n in db.session.execute(stmt):
        if i is not None:
            out[int(i)] = int(n)
    return out


def category_names(ids: Iterable[str | None]) -> dict[str, tuple[str, str, str]]:
    """id → (code, name_zh, name_en) for the categories named in a breakdown."""
    wanted = [int(i) for i in ids if i is not None]
    rows = db.session.execute(
        sa.select(Category.id, Category.code, Category.name_zh, Category.name_en).where(
            Category.id.in_(wanted)
        )
    )
    return {str(r.id): (r.code, r.name_zh, r.name_en) for r in rows}


def root_cause_names(ids: Iterable[str | None]) -> dict[str, tuple[str, str, str]]:
    wanted = [int(i) for i in ids if i is not None]
    rows = db.session.execute(
        sa.select(RootCause.id, RootCause.code, RootCause.name_zh, RootCause.name_en).where(
            RootCause.id.in_(wanted)
        )
    )
    return {str(r.id): (r.code, r.name_zh, r.name_en) for r in rows}


DISCUSS_LIMIT = 100


def to_discuss(scope: ReportScope, end: ZonedEdges) -> list[Any]:
    """Open issues at the period end that were overdue or escalated then, most overdue first."""
    last = len(end.groups[0][1]) - 1
    candidates = _candidates(scope, end, last, last)
    c = candidates.c
    e = at_edge(end, last, c.office_id)
    escalated_by_end = (
        sa.select(Escalation.id).where(Escalation.issue_id == c.id, Escalation.at < e).exists()
    )
    stmt = (
        sa.select(
            Issue.id,
            Issue.number,
            Issue.title,
            Office.code,
            Issue.status,
            Issue.escalation_level,
            Issue.resolve_due_at,
            Category.name_zh,
            Category.name_en,
        )
        .select_from(candidates)
        .join(Issue, Issue.id == c.id)
        .join(Office, Office.id == c.office_id)
        .join(Category, Category.id == Issue.category_id)
        .where(sa.or_(c.resolve_due_at < e, escalated_by_end))
        .order_by(c.resolve_due_at, c.id)
        .limit(DISCUSS_LIMIT)
    )
    return list(db.session.execute(stmt))


# --- monthly review -----------------------------------------------------------------------


def escalations_by_office(scope: ReportScope, edges: ZonedEdges) -> dict[int, dict[int, list[int]]]:
    """office → level → [previous, current] escalation counts."""
    office = Issue.office_id
    stmt = by_bucket(
        lambda b: (
            sa.select(office, Escalation.level, b, sa.func.count())
            .join(Issue, Issue.id == Escalation.issue_id)
            .where(scope.office_filter(office))
            .group_by(office, Escalation.level)
        ),
        Escalation.at,
        edges,
        office,
    )
    out: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for office_id, level, i, n in db.session.execute(stmt):
        if i is not None:
            out[office_id][int(level)][int(i)] += int(n)
    return out


def closed_per_bucket(scope: ReportScope, edges: ZonedEdges) -> list[tuple[int, int, int]]:
    """(closed, rated, satisfied) of the issues closed in each bucket of `edges`."""
    stmt = by_bucket(
        lambda b: sa.select(
            b, sa.func.count(), sa.func.count(Issue.rating), _sum_if(Issue.rating >= 4)
        ).where(
            scope.office_filter(Issue.office_id),
        ),
        Issue.closed_at,
        edges,
        Issue.office_id,
    )
    out = [(0, 0, 0)] * edges.count
    for i, closed, rated, satisfied in db.session.execute(stmt):
        if i is not None:
            out[int(i)] = (int(closed), int(rated or 0), int(satisfied or 0))
    return out


def repeat_links(scope: ReportScope, edges: ZonedEdges) -> list[int]:
    """Repeats linked to an issue, per bucket (by the time of the link), in the issue's office:
    voices linked to an issue as a repeat (from the voice, or from the issue while it was
    logged), and issues linked to an earlier issue they repeat while they were logged."""
    from app.voice.models import IssueRepeatLink, VoiceIssueLink

    voices = by_bucket(
        lambda b: (
            sa.select(b, sa.func.count())
            .select_from(VoiceIssueLink)
            .join(Issue, Issue.id == VoiceIssueLink.issue_id)
            .where(
                scope.office_filter(Issue.office_id),
                VoiceIssueLink.kind == "repeat",
            )
        ),
        VoiceIssueLink.at,
        edges,
        Issue.office_id,
    )
    issues = by_bucket(
        lambda b: (
            sa.select(b, sa.func.count())
            .select_from(IssueRepeatLink)
            .join(Issue, Issue.id == IssueRepeatLink.issue_id)
            .where(scope.office_filter(Issue.office_id))
        ),
        IssueRepeatLink.at,
        edges,
        Issue.office_id,
    )
    out = [0] * edges.count
    for stmt in (voices, issues):
        for i, n in db.session.execute(stmt):
            if i is not None:
                out[int(i)] += int(n)
    return out
