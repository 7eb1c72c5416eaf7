"""Plotly figures from report DTOs: pure functions, no Flask, no database.

Each chart comes with its table view (the same numbers as rows), for screen readers and for
the printed page. Figures are plotly figure specs ({"data": [traces], "layout": {...}}) passed
through plotly's own JSON encoder (plotly.io.to_json), for the template to embed with `tojson`
(which escapes <, > and &: category names are user text). Words come from a `Texts` object
supplied by the caller, so this module stays language-free.

Why dicts and not graph_objects.Figure at request time: building the eleven figures of a weekly
page as Figure objects costs about 0.7 s on a worker's first request (plotly loads its
validators) and about 100 ms on every later one, and some 25 MB per worker; that alone would
break the page's 300 ms target. The tests build every figure with go.Figure, whose validators
reject any property plotly does not know, so the specs are checked where it costs nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import plotly.io as pio

from app.reports.dto import (
    Estimate,
    Item,
    MonthlyReview,
    ParetoItem,
    ScopeRow,
    SurveySection,
    ThirdPartySection,
    WeeklyReport,
)

CURRENT_COLOUR = "#1f5fa8"
PREVIOUS_COLOUR = "#a9bfd8"
COUNT_FIGURES = ("new", "closed", "open", "overdue", "escalated", "reopened")


class Texts(Protocol):
    def text(self, key: str) -> str: ...

    def item(self, section: str, item: Item | ParetoItem) -> str: ...

    def name(self, zh: str, en: str) -> str: ...


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Any]]
    percent_columns: frozenset[int] = frozenset()  # cells that are shares (0–1), shown as %


@dataclass
class Chart:
    id: str
    title: str
    figure: dict[str, Any]
    table: Table
    notes: list[str] = field(default_factory=list)


def _layout(title: str, *, horizontal: bool = False, height: int = 320) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 15}},
        "barmode": "group",
        "height": height,
        "margin": {"l": 150 if horizontal else 50, "r": 20, "t": 50, "b": 60},
        "legend": {"orientation": "h", "y": -0.2},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"family": "system-ui, sans-serif", "size": 12},
    }


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    """A plotly figure spec, through plotly's JSON encoder (numbers, dates, NaN as plotly.js
    expects them)."""
    fig: dict[str, Any] = json.loads(pio.to_json({"data": data, "layout": layout}, validate=False))
    return fig


def _trace(kind: str, **props: Any) -> dict[str, Any]:
    """A trace spec; `marker_color` is plotly's shorthand for marker.color."""
    trace: dict[str, Any] = {"type": kind}
    for key, value in props.items():
        if key == "marker_color":
            trace["marker"] = {"color": value}
        else:
            trace[key] = value
    return trace


def _bar(**props: Any) -> dict[str, Any]:
    return _trace("bar", **props)


def _scatter(**props: Any) -> dict[str, Any]:
    return _trace("scatter", **props)


def compare_bars(
    chart_id: str,
    title: str,
    labels: list[str],
    current: list[Any],
    previous: list[Any],
    texts: Texts,
    *,
    horizontal: bool = False,
) -> Chart:
    """This period beside the previous one, per label; the table adds the change."""
    now_name, prev_name = texts.text("this_period"), texts.text("previous_period")
    if horizontal:  # largest on top
        labels_r, current_r, previous_r = labels[::-1], current[::-1], previous[::-1]
        traces = [
            _bar(
                name=prev_name,
                y=labels_r,
                x=previous_r,
                orientation="h",
                marker_color=PREVIOUS_COLOUR,
            ),
            _bar(
                name=now_name, y=labels_r, x=current_r, orientation="h", marker_color=CURRENT_COLOUR
            ),
        ]
    else:
        traces = [
            _bar(name=prev_name, x=labels, y=previous, marker_color=PREVIOUS_COLOUR),
            _bar(name=now_name, x=labels, y=current, marker_color=CURRENT_COLOUR),
        ]
    height = max(320, 40 + 28 * len(labels)) if horizontal else 320
    fig = _figure(data=traces, layout=_layout(title, horizontal=horizontal, height=height))
    rows = [
        [label, cur, prev, (cur - prev) if cur is not None and prev is not None else None]
        for label, cur, prev in zip(labels, current, previous, strict=True)
    ]
    headers = ["", now_name, prev_name, texts.text("change")]
    return Chart(chart_id, title, fig, Table(headers, rows))


def item_bars(
    chart_id: str, section: str, items: list[Item], texts: Texts, *, horizontal: bool = False
) -> Chart:
    return compare_bars(
        chart_id,
        texts.text(section),
        [texts.item(section, i) for i in items],
        [i.value for i in items],
        [i.previous for i in items],
        texts,
        horizontal=horizontal,
    )


def headline(report: WeeklyReport, texts: Texts) -> Chart:
    names = list(COUNT_FIGURES)
    return compare_bars(
        "headline",
        texts.text("headline"),
        [texts.text(n) for n in names],
        [report.figures[n].value for n in names],
        [report.figures[n].previous for n in names],
        texts,
    )


def backlog_trend(report: WeeklyReport, texts: Texts) -> Chart:
    periods = [p.period for p in report.backlog]
    series = [
        ("open", [p.open for p in report.backlog], CURRENT_COLOUR),
        ("new", [p.new for p in report.backlog], "#2e8b57"),
        ("closed", [p.closed for p in report.backlog], "#c0392b"),
    ]
    fig = _figure(
        data=[
            _scatter(
                name=texts.text(key),
                x=periods,
                y=values,
                mode="lines+markers",
                line={"color": colour},
            )
            for key, values, colour in series
        ],
        layout=_layout(texts.text("backlog_trend")),
    )
    headers = [texts.text("week")] + [texts.text(key) for key, _, _ in series]
    rows = [[p.period, p.open, p.new, p.closed] for p in report.backlog]
    return Chart("backlog", texts.text("backlog_trend"), fig, Table(headers, rows))


def ageing(report: WeeklyReport, texts: Texts) -> Chart:
    labels = [texts.item("ageing", i) for i in report.ageing]
    values = [i.value for i in report.ageing]
    fig = _figure(
        data=[_bar(name=texts.text("open"), x=labels, y=values, marker_color=CURRENT_COLOUR)],
        layout=_layout(texts.text("ageing")),
    )
    table = Table(
        [texts.text("age"), texts.text("open")],
        [[lb, v] for lb, v in zip(labels, values, strict=True)],
    )
    return Chart("ageing", texts.text("ageing"), fig, table)


def scope_rows(rows: list[ScopeRow], texts: Texts, chart_id: str = "rows") -> Chart:
    labels = [f"{r.code} {r.name}" for r in rows]
    fig = _figure(
        data=[
            _bar(name=texts.text(n), x=labels, y=[r.figures[n].value for r in rows])
            for n in ("new", "closed", "open", "overdue")
        ],
        layout=_layout(texts.text("by_" + (rows[0].kind if rows else "office"))),
    )
    names = (
        "new",
        "closed",
        "open",
        "overdue",
        "escalated",
        "reopened",
        "sla_response_rate",
        "sla_resolution_rate",
        "csat",
        "voices",
    )
    headers = [""] + [texts.text(n) for n in names]
    table_rows = [
        [label] + [r.figures[n].value for n in names] for label, r in zip(labels, rows, strict=True)
    ]
    title = texts.text("by_" + (rows[0].kind if rows else "office"))
    percent = frozenset(i + 1 for i, n in enumerate(names) if n.endswith("rate") or n == "csat")
    return Chart(chart_id, title, fig, Table(headers, table_rows, percent))


def weekly_charts(report: WeeklyReport, texts: Texts) -> list[Chart]:
    charts = [headline(report, texts), backlog_trend(report, texts)]
    if report.rows:
        charts.append(scope_rows(report.rows, texts))
    charts += [
        ageing(report, texts),
        item_bars("escalations", "escalations_by_level", report.escalations_by_level, texts),
        item_bars("categories", "categories", report.categories, texts, horizontal=True),
        item_bars("root_causes", "root_causes", report.root_causes, texts, horizontal=True),
        item_bars("ratings", "ratings", report.ratings, texts),
        item_bars(
            "voices_channel", "voices_by_channel", report.voices_by_channel, texts, horizontal=True
        ),
        item_bars("voices_kind", "voices_by_kind", report.voices_by_kind, texts),
        item_bars("voices_sentiment", "voices_by_sentiment", report.voices_by_sentiment, texts),
    ]
    return charts


# --- the monthly quality review -------------------------------------------------------------


def pareto_chart(chart_id: str, section: str, items: list[ParetoItem], texts: Texts) -> Chart:
    """Bars largest first and the cumulative share on a second axis (the 80 % line drawn)."""
    title = texts.text(section)
    labels = [texts.item(section, i) for i in items]
    fig = _figure(
        data=[
            _bar(
                name=texts.text("this_period"),
                x=labels,
                y=[i.value for i in items],
                marker_color=CURRENT_COLOUR,
            ),
            _scatter(
                name=texts.text("cumulative"),
                x=labels,
                y=[round(i.cumulative * 100, 1) for i in items],
                yaxis="y2",
                mode="lines+markers",
                line={"color": "#c0392b"},
            ),
        ],
        layout={
            **_layout(title),
            "yaxis2": {"overlaying": "y", "side": "right", "range": [0, 105], "ticksuffix": "%"},
            "shapes": [
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "yref": "y2",
                    "y0": 80,
                    "y1": 80,
                    "line": {"dash": "dot", "color": "#888"},
                }
            ],
        },
    )
    headers = [
        "",
        texts.text("this_period"),
        texts.text("share"),
        texts.text("cumulative"),
        texts.text("previous_period"),
        texts.text("last_year"),
    ]
    rows = [
        [label, i.value, i.share, i.cumulative, i.previous, i.last_year]
        for label, i in zip(labels, items, strict=True)
    ]
    return Chart(chart_id, title, fig, Table(headers, rows, frozenset({2, 3})))


def month_trend(review: MonthlyReview, texts: Texts) -> Chart:
    title = texts.text("trend_12_months")
    periods = [p.period for p in review.trend]
    fig = _figure(
        data=[
            _bar(
                name=texts.text("new"),
                x=periods,
                y=[p.new for p in review.trend],
                marker_color=PREVIOUS_COLOUR,
            ),
            _bar(
                name=texts.text("closed"),
                x=periods,
                y=[p.closed for p in review.trend],
                marker_color=CURRENT_COLOUR,
            ),
            _scatter(
                name=texts.text("csat"),
                x=periods,
                y=[None if p.csat is None else round(p.csat * 100, 1) for p in review.trend],
                yaxis="y2",
                mode="lines+markers",
                line={"color": "#2e8b57"},
            ),
        ],
        layout={
            **_layout(title),
            "yaxis2": {"overlaying": "y", "side": "right", "range": [0, 100], "ticksuffix": "%"},
        },
    )
    headers = [
        texts.text("month"),
        texts.text("new"),
        texts.text("closed"),
        texts.text("sample"),
        texts.text("csat"),
    ]
    rows = [[p.period, p.new, p.closed, p.rated, p.csat] for p in review.trend]
    return Chart("trend", title, fig, Table(headers, rows, frozenset({4})))


def escalations_by_office(review: MonthlyReview, texts: Texts) -> Chart:
    title = texts.text("escalations_by_office")
    labels = [r.office_code for r in review.escalations_by_office]
    fig = _figure(
        data=[
            _bar(
                name=f"L{level}",
                x=labels,
                y=[r.levels[level - 1] for r in review.escalations_by_office],
            )
            for level in (1, 2, 3)
        ],
        layout={**_layout(title), "barmode": "stack"},
    )
    headers = [texts.text("office"), "L1", "L2", "L3", texts.text("previous_period")]
    rows = [
        [f"{r.office_code} {r.office_name}", *r.levels, r.previous]
        for r in review.escalations_by_office
    ]
    return Chart("escalations_office", title, fig, Table(headers, rows))


# --- survey results ----------------------------------------------------------------------------


def _values(estimates: list[Estimate]) -> list[float | None]:
    return [e.value for e in estimates]


def _error(estimates: list[Estimate]) -> dict[str, Any]:
    return {"type": "data", "array": [e.margin or 0 for e in estimates], "visible": True}


def _estimate_cells(e: Estimate, texts: Texts) -> list[Any]:
    """value, ± margin, n, and the small-sample mark, as table cells."""
    return [e.value, e.margin, e.n, texts.text("small_sample") if e.small_sample else ""]


def estimate_headers(name: str, texts: Texts) -> list[str]:
    return [name, texts.text("margin"), texts.text("sample"), texts.text("small_sample")]


def estimates_chart(
    chart_id: str,
    title: str,
    labels: list[str],
    series: list[tuple[str, list[Estimate]]],
    texts: Texts,
    *,
    lines: bool = False,
    value_range: tuple[int, int] | None = (0, 100),
) -> Chart:
    """Survey measures with their 95 % margins as error bars (bars, or lines over time), n in
    the hover; the table view has value, margin, n and the small-sample mark of each."""
    data = []
    for name, estimates in series:
        props = {
            "name": name,
            "x": labels,
            "y": _values(estimates),
            "error_y": _error(estimates),
            "customdata": [[e.n] for e in estimates],
            "hovertemplate": "%{x}: %{y} ± %{error_y.array} (n=%{customdata[0]})<extra>"
            + name
            + "</extra>",
        }
        data.append(_scatter(mode="lines+markers", **props) if lines else _bar(**props))
    layout = {**_layout(title), "xaxis": {"type": "category"}}
    if value_range is not None:
        layout["yaxis"] = {"range": list(value_range)}
    headers = [texts.text("period" if lines else "indicator")]
    for name, _estimates in series:
        headers += estimate_headers(name, texts)
    rows = [
        [label, *(cell for _n, est in series for cell in _estimate_cells(est[i], texts))]
        for i, label in enumerate(labels)
    ]
    return Chart(chart_id, title, _figure(data, layout), Table(headers, rows))


def survey_trend(section: SurveySection, texts: Texts, n: int) -> Chart:
    labels = [p.period for p in section.trend]
    return estimates_chart(
        f"survey_trend_{n}",
        f"{texts.text('survey_trend')} · {section.title}",
        labels,
        [
            (texts.text("index"), [p.index for p in section.trend]),
            ("NPS", [p.nps for p in section.trend]),
            (texts.text("csat_survey"), [p.csat for p in section.trend]),
        ],
        texts,
        lines=True,
        value_range=(-100, 100),
    )


def survey_indicator_trend(section: SurveySection, texts: Texts, n: int) -> Chart:
    labels = [p.period for p in section.trend]
    names = {
        f.key.removeprefix("indicator:"): texts.name(f.name_zh, f.name_en)
        for f in section.figures
        if f.key.startswith("indicator:")
    }
    keys = list(names)
    return estimates_chart(
        f"survey_indicators_{n}",
        f"{texts.text('survey_indicators')} · {section.title}",
        labels,
        [(names[k], [p.indicators.get(k, Estimate()) for p in section.trend]) for k in keys],
        texts,
        lines=True,
    )


def competitors_chart(section: ThirdPartySection, texts: Texts, n: int) -> Chart:
    labels = [texts.name(r.name_zh, r.name_en) for r in section.rows]
    series = [(texts.text("ours"), [r.ours for r in section.rows])]
    series += [(name, [r.competitors[name] for r in section.rows]) for name in section.competitors]
    if section.previous_wave:
        series.append(
            (
                f"{texts.text('ours')} · {section.previous_wave}",
                [r.ours_previous_wave for r in section.rows],
            )
        )
    return estimates_chart(
        f"competitors_{n}",
        f"{texts.text('competitors')} · {section.title} · {section.wave} ({section.wave_on})",
        labels,
        series,
        texts,
    )


def survey_charts(review: MonthlyReview, texts: Texts) -> list[Chart]:
    charts: list[Chart] = []
    for i, section in enumerate(review.surveys):
        charts.append(survey_trend(section, texts, i))
        charts.append(survey_indicator_trend(section, texts, i))
    for i, third in enumerate(review.third_party):
        charts.append(competitors_chart(third, texts, i))
    return charts


def monthly_charts(review: MonthlyReview, texts: Texts) -> list[Chart]:
    charts = [
        month_trend(review, texts),
        pareto_chart("pareto_causes", "pareto_root_causes", review.pareto_root_causes, texts),
        pareto_chart("pareto_categories", "pareto_categories", review.pareto_categories, texts),
        pareto_chart("responsible", "responsible", review.responsible, texts),
        escalations_by_office(review, texts),
    ]
    if review.rows:
        charts.append(scope_rows(review.rows, texts))
    return charts + survey_charts(review, texts)
