"""Improvement actions as the reports show them: overdue ones in the weekly monitoring, open
and recently done ones with their effect in the monthly review. Read-only on app.actions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.actions import queries
from app.actions.models import ImprovementAction
from app.reports.dto import ActionLine
from app.reports.periods import ReportScope

DONE_WITHIN = timedelta(days=365)


def _place_args(scope: ReportScope) -> tuple[list[int], list[int], bool]:
    """An office report shows its office's actions; a region's, its own and its offices';
    the company's, all of them."""
    regions = sorted({o.region_id for o in scope.offices}) if scope.kind != "office" else []
    return scope.office_ids, regions, scope.kind == "company"


def _place(action: ImprovementAction) -> str:
    if action.office is not None:
        return str(action.office.code)
    if action.region is not None:
        return str(action.region.code)
    return "company"


def _line(action: ImprovementAction, today: date) -> ActionLine:
    return ActionLine(
        id=action.id,
        title=action.title,
        dimension=action.dimension,
        status=action.status,
        owner=action.owner.name,
        place=_place(action),
        due_on=action.due_on.isoformat(),
        overdue=queries.is_overdue(action, today),
        metric=action.metric,
    )


def overdue_actions(scope: ReportScope, as_of: date) -> list[ActionLine]:
    """Open actions whose due date is before `as_of`."""
    offices, regions, company = _place_args(scope)
    found = queries.for_report(offices, regions, company, overdue_on=as_of)
    return [_line(a, as_of) for a in found]


def review_actions(scope: ReportScope, today: date, now: datetime) -> list[ActionLine]:
    """Open actions and those done within a year, each with its effect (before → after)."""
    offices, regions, company = _place_args(scope)
    lines = []
    for action in queries.for_report(offices, regions, company, done_since=now - DONE_WITHIN):
        line = _line(action, today)
        effect = queries.effect(action, now)
        line.before, line.n_before = effect.before.value, effect.before.n
        if effect.after is not None:
            line.after, line.n_after = effect.after.value, effect.after.n
        line.improved = effect.improved
        lines.append(line)
    lines.sort(key=lambda a: (not a.overdue, a.due_on, a.id))
    return lines
