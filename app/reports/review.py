"""The monthly quality review (月度问题质量分析) of a region or the company: every figure beside
the previous month and the same month last year, Paretos with cumulative shares, escalations
by office and level, responsible departments, and the CSAT of closed issues over 12 months.

CSAT here is the share of ratings 4–5 among the issues closed (Issue.rating), with its 95 %
margin of error and n. The survey sections (app.reports.surveys) add each transactional
questionnaire's satisfaction index, NPS and CSAT and its indicators with n and margins, against
the previous month and the same month last year with a 12-month trend, and the latest
third-party wave against competitors.
"""

from __future__ import annotations

import math
from datetime import datetime

from app.core import timeutils
from app.issues.models import Issue
from app.reports import queries
from app.reports.actions import review_actions
from app.reports.dto import EscalationRow, MonthFigure, MonthlyReview, MonthPoint, ParetoItem
from app.reports.periods import Month, ReportScope
from app.reports.services import _figures, _rows, _sum
from app.reports.surveys import survey_sections, third_party_sections

TREND_MONTHS = 12
PARETO_TOP = 15
Z95 = 1.96


def margin(share: float | None, n: int) -> float | None:
    """The 95 % margin of error of a share from n answers (normal approximation)."""
    if share is None or n <= 0:
        return None
    return round(Z95 * math.sqrt(share * (1 - share) / n), 4)


def _month_figures(
    current: dict[str, list[int]], last_year: dict[str, list[int]]
) -> dict[str, MonthFigure]:
    now = _figures(current)
    then = _figures(last_year)
    out: dict[str, MonthFigure] = {}
    for name, f in now.items():
        ly = then[name]
        out[name] = MonthFigure(
            f.value, f.previous, f.n, f.n_previous, last_year=ly.value, n_last_year=ly.n
        )
    csat = out["csat"]
    csat.margin = margin(csat.value if isinstance(csat.value, float) else None, csat.n or 0)
    return out


def pareto(
    current: queries.Breakdown,
    last_year: queries.Breakdown,
    names: dict[str, tuple[str, str, str]] | None = None,
    top: int = PARETO_TOP,
) -> list[ParetoItem]:
    """Largest first, with each bar's share of this month's total and the running share; keys
    with nothing this month but something before are kept after them (value 0)."""
    keys = set(current) | set(last_year)
    total = sum(v[1] for v in current.values())
    ordered = sorted(
        keys,
        key=lambda k: (-current.get(k, [0, 0])[1], -current.get(k, [0, 0])[0], str(k)),
    )
    items: list[ParetoItem] = []
    running = 0
    for key in ordered[:top]:
        prev, cur = current.get(key, [0, 0])
        running += cur
        code, zh, en = (names or {}).get(str(key), (None, None, None)) if key else (None,) * 3
        items.append(
            ParetoItem(
                key=code or (str(key) if key is not None else "none"),
                value=cur,
                share=round(cur / total, 4) if total else 0.0,
                cumulative=round(running / total, 4) if total else 0.0,
                previous=prev,
                last_year=last_year.get(key, [0, 0])[1],
                name_zh=zh,
                name_en=en,
            )
        )
    return items


def _names(kind: str, *breakdowns: queries.Breakdown) -> dict[str, tuple[str, str, str]]:
    keys = {k for b in breakdowns for k in b}
    if kind == "category":
        return queries.category_names(keys)
    return queries.root_cause_names(keys)


def monthly_review(scope: ReportScope, month: Month, now: datetime) -> MonthlyReview:
    edges = scope.edges(lambda tz: [month.shift(-1).start(tz), month.start(tz), month.end(tz)])
    ly = month.shift(-12)
    ly_edges = scope.edges(lambda tz: [ly.shift(-1).start(tz), ly.start(tz), ly.end(tz)])
    ly_only = scope.edges(lambda tz: [ly.start(tz), ly.end(tz)])

    per_office = queries.per_office(scope, edges)
    figures = _month_figures(
        _sum(per_office.values()), _sum(queries.per_office(scope, ly_edges).values())
    )
    links = queries.repeat_links(scope, edges)
    links_ly = queries.repeat_links(scope, ly_only)
    figures["repeat_links"] = MonthFigure(links[1], links[0], last_year=links_ly[0])

    def shifted(b: queries.Breakdown) -> queries.Breakdown:
        """A one-bucket breakdown (last year) as [0, count], like the current ones."""
        return {k: [0, v[0]] for k, v in b.items()}

    causes, responsible = queries.resolved_by_cause_and_responsible(scope, edges)
    causes_ly, responsible_ly = (
        shifted(b) for b in queries.resolved_by_cause_and_responsible(scope, ly_only)
    )
    categories = queries.issues_by(scope, edges, Issue.received_at, Issue.category_id)
    categories_ly = shifted(queries.issues_by(scope, ly_only, Issue.received_at, Issue.category_id))

    by_office = queries.escalations_by_office(scope, edges)
    escalations = [
        EscalationRow(
            o.code,
            o.name,
            [by_office.get(o.id, {}).get(level, [0, 0])[1] for level in (1, 2, 3)],
            sum(v[0] for v in by_office.get(o.id, {}).values()),
        )
        for o in scope.offices
    ]

    first = month.shift(-(TREND_MONTHS - 1))
    trend_edges = scope.edges(
        lambda tz: [first.start(tz)] + [first.shift(i).end(tz) for i in range(TREND_MONTHS)]
    )
    new = queries.counts_per_bucket(scope, trend_edges, Issue.received_at)
    closed = queries.closed_per_bucket(scope, trend_edges)
    trend = [
        MonthPoint(
            first.shift(i).key,
            new[i],
            closed[i][0],
            closed[i][1],
            round(closed[i][2] / closed[i][1], 4) if closed[i][1] else None,
        )
        for i in range(TREND_MONTHS)
    ]

    return MonthlyReview(
        scope_kind=scope.kind,
        scope_code=scope.code,
        scope_name=scope.name,
        period=month.key,
        previous_period=month.shift(-1).key,
        last_year_period=ly.key,
        starts_on=month.first.isoformat(),
        ends_on=month.last_day.isoformat(),
        timezone=scope.timezone,
        generated_at=now.isoformat(),
        figures=figures,
        pareto_root_causes=pareto(causes, causes_ly, _names("cause", causes, causes_ly)),
        pareto_categories=pareto(
            categories, categories_ly, _names("category", categories, categories_ly)
        ),
        responsible=pareto(responsible, responsible_ly),
        escalations_by_office=[e for e in escalations if sum(e.levels) or e.previous],
        trend=trend,
        rows=_rows(scope, per_office),
        actions=review_actions(scope, timeutils.local(now, scope.timezone).date(), now),
        surveys=survey_sections(scope, month),
        third_party=third_party_sections(scope, month),
    )
