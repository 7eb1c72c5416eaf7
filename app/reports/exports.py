"""Report exports: one section per table of the report, built from the same DTOs as the page
(through the chart tables, never from the figures), neutralised by app.core.exports."""

from __future__ import annotations

from app.core.exports import Section
from app.reports.charts import Chart, estimate_headers
from app.reports.dto import ActionLine, MonthlyReview, WeeklyReport
from app.reports.services import HEADLINE
from app.reports.texts import ReportTexts


def figures_section(report: WeeklyReport, texts: ReportTexts) -> Section:
    headers = [
        texts.text("figure"),
        report.period,
        report.previous_period,
        texts.text("change"),
        texts.text("sample"),
    ]
    names = (*HEADLINE, "escalated_l1", "escalated_l2", "escalated_l3")
    rows = [
        [texts.text(n), f.value, f.previous, f.change, f.n]
        for n in names
        for f in [report.figures[n]]
    ]
    return Section(texts.text("figures"), headers, rows)


def discuss_section(report: WeeklyReport, texts: ReportTexts) -> Section:
    headers = [
        texts.text(k)
        for k in ("number", "title", "office", "category", "status", "level", "resolve_due")
    ]
    rows = [
        [
            i.number,
            i.title,
            i.office_code,
            texts.name(i.category_zh, i.category_en),
            i.status,
            i.escalation_level,
            i.due_local,
        ]
        for i in report.discuss
    ]
    return Section(texts.text("discuss"), headers, rows)


def actions_section(
    title_key: str, actions: list[ActionLine], texts: ReportTexts, *, with_effect: bool
) -> Section:
    keys = ["title", "dimension", "place", "owner", "due_on", "status", "overdue"]
    if with_effect:
        keys += ["metric", "before", "after", "n_before", "n_after", "improved"]
    headers = [texts.text("action_" + k) for k in keys]
    rows = [[getattr(a, k) for k in keys] for a in actions]
    return Section(texts.text(title_key), headers, rows)


def weekly_sections(report: WeeklyReport, charts: list[Chart], texts: ReportTexts) -> list[Section]:
    sections = [figures_section(report, texts)]
    sections += [Section(c.title, c.table.headers, c.table.rows) for c in charts]
    sections.append(discuss_section(report, texts))
    sections.append(
        actions_section("actions_overdue", report.actions_overdue, texts, with_effect=False)
    )
    return sections


MONTH_HEADLINE = (*HEADLINE, "repeat_links")


def review_figures_section(review: MonthlyReview, texts: ReportTexts) -> Section:
    headers = [
        texts.text("figure"),
        review.period,
        review.previous_period,
        texts.text("change"),
        review.last_year_period,
        texts.text("change"),
        texts.text("sample"),
        texts.text("margin"),
    ]
    rows = [
        [
            texts.text(n),
            f.value,
            f.previous,
            f.change,
            f.last_year,
            f.change_last_year,
            f.n,
            f.margin,
        ]
        for n in MONTH_HEADLINE
        for f in [review.figures[n]]
    ]
    return Section(texts.text("figures"), headers, rows)


def survey_figures_sections(review: MonthlyReview, texts: ReportTexts) -> list[Section]:
    """Per questionnaire: each measure this month, the previous month and the same month last
    year, each with its margin, n and the small-sample mark."""
    sections = []
    for survey in review.surveys:
        headers = [texts.text("figure")]
        for period in (review.period, review.previous_period, review.last_year_period):
            headers += estimate_headers(period, texts)
        headers += [texts.text("change"), f"{texts.text('change')} ({review.last_year_period})"]
        rows = [
            [
                texts.name(f.name_zh, f.name_en),
                *(
                    cell
                    for e in (f.current, f.previous, f.last_year)
                    for cell in (
                        e.value,
                        e.margin,
                        e.n,
                        texts.text("small_sample") if e.small_sample else "",
                    )
                ),
                f.change,
                f.change_last_year,
            ]
            for f in survey.figures
        ]
        sections.append(Section(f"{texts.text('surveys')} · {survey.title}", headers, rows))
    return sections


def monthly_sections(
    review: MonthlyReview, charts: list[Chart], texts: ReportTexts
) -> list[Section]:
    sections = [review_figures_section(review, texts)]
    sections += survey_figures_sections(review, texts)
    sections += [Section(c.title, c.table.headers, c.table.rows) for c in charts]
    sections.append(actions_section("actions", review.actions, texts, with_effect=True))
    return sections
