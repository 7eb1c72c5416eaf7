"""The one date-bucketing helper for reports, the same SQL on SQLite and PostgreSQL.

Period edges (ISO weeks, months, ageing limits) are computed in Python, in each office's time
zone, and turned into UTC instants; the database only compares a column with those instants.
`bucket(column, edges)` is a CASE that numbers the half-open interval holding the value
(`edges[i] <= column < edges[i + 1]` → i), so `GROUP BY bucket(...)` counts per period with the
indexes on (office_id, <time column>) and no dialect-specific date function.

Offices in different time zones have different edges for the same week: `ZonedEdges` carries
one list of edges per group of offices sharing a zone, and the CASE picks the group's edges by
office.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class ZonedEdges:
    """Edges per group of offices that share a time zone (`office_ids` None: every office)."""

    groups: tuple[tuple[tuple[int, ...] | None, tuple[datetime, ...]], ...]

    @classmethod
    def single(cls, edges: Sequence[datetime]) -> ZonedEdges:
        return cls(((None, tuple(edges)),))

    @property
    def count(self) -> int:
        """Number of buckets (one fewer than edges)."""
        return len(self.groups[0][1]) - 1

    def first(self) -> datetime:
        return min(edges[0] for _, edges in self.groups)

    def last(self) -> datetime:
        return max(edges[-1] for _, edges in self.groups)


def _office_clause(office_column: Any, office_ids: tuple[int, ...] | None) -> Any:
    return sa.true() if office_ids is None else office_column.in_(office_ids)


def _search(column: Any, edges: tuple[datetime, ...], lo: int, hi: int) -> Any:
    """The bucket index for edges[lo] <= column < edges[hi], by halving: a nested CASE that
    makes about log2(buckets) comparisons per row instead of one per bucket."""
    if hi - lo == 1:
        return sa.literal(lo)
    mid = (lo + hi) // 2
    return sa.case(
        (column < edges[mid], _search(column, edges, lo, mid)),
        else_=_search(column, edges, mid, hi),
    )


def _one_group(column: Any, edges: tuple[datetime, ...]) -> Any:
    inside = sa.and_(column >= edges[0], column < edges[-1])
    return sa.case((inside, _search(column, edges, 0, len(edges) - 1)), else_=sa.null())


def bucket(column: Any, edges: ZonedEdges, office_column: Any = None) -> Any:
    """CASE numbering the interval of `edges` that holds `column` (NULL outside them)."""
    if len(edges.groups) == 1:
        return _one_group(column, edges.groups[0][1])
    whens = [
        (_office_clause(office_column, office_ids), _one_group(column, group_edges))
        for office_ids, group_edges in edges.groups
    ]
    return sa.case(*whens, else_=sa.null())


def within(column: Any, edges: ZonedEdges, office_column: Any = None) -> Any:
    """WHERE clause: `column` lies inside the first and last edge (of its office's group)."""
    clauses = []
    for office_ids, group_edges in edges.groups:
        cond = sa.and_(column >= group_edges[0], column < group_edges[-1])
        if office_ids is not None:
            cond = sa.and_(_office_clause(office_column, office_ids), cond)
        clauses.append(cond)
    return clauses[0] if len(clauses) == 1 else sa.or_(*clauses)


def at_edge(edges: ZonedEdges, index: int, office_column: Any) -> Any:
    """The instant `edges[index]` of each row's office group, as a SQL value."""
    if len(edges.groups) == 1:
        return sa.literal(edges.groups[0][1][index], type_=_utc_type())
    whens = [
        (_office_clause(office_column, ids), sa.literal(group[index], type_=_utc_type()))
        for ids, group in edges.groups
    ]
    return sa.case(*whens)


def _utc_type() -> Any:
    from app.db import UTCDateTime

    return UTCDateTime()


def by_bucket(
    build: Callable[[Any], sa.Select[Any]],
    column: Any,
    edges: ZonedEdges,
    office_column: Any = None,
) -> sa.CompoundSelect[Any]:
    """One SELECT per bucket, restricted to that bucket's range, glued with UNION ALL.

    `build(b)` makes the SELECT (with its own GROUP BY) where `b` is the bucket number as a
    literal column. Counting an index range is what both engines do fastest: this is several
    times faster than `GROUP BY bucket(...)` over many periods, whose CASE is evaluated for
    every row (12 months of a million issues: 80 ms against 700 ms on SQLite).
    """
    parts = []
    for i in range(edges.count):
        ranges = []
        for office_ids, group_edges in edges.groups:
            cond = sa.and_(column >= group_edges[i], column < group_edges[i + 1])
            if office_ids is not None:
                cond = sa.and_(_office_clause(office_column, office_ids), cond)
            ranges.append(cond)
        where = ranges[0] if len(ranges) == 1 else sa.or_(*ranges)
        parts.append(build(sa.literal(i)).where(where))
    return sa.union_all(*parts)
