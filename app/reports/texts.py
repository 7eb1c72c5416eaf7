"""The words of the reports in the UI language: figure names, section titles and the labels of
codes (channels, sentiments, ageing buckets). charts.py and exports.py receive them from here,
so they stay free of Flask."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.issues import labels as issue_labels
from app.reports.dto import Item, ParetoItem

TEXT: dict[str, Any] = {
    "this_period": _l("This period"),
    "previous_period": _l("Previous period"),
    "change": _l("Change"),
    "week": _l("Week"),
    "age": _l("Age"),
    "headline": _l("Issues this week and last"),
    "backlog_trend": _l("Backlog over 12 weeks"),
    "ageing": _l("Ageing of open issues"),
    "escalations_by_level": _l("Escalations by level"),
    "categories": _l("Top categories (new issues)"),
    "root_causes": _l("Root causes (resolved issues)"),
    "ratings": _l("Ratings of closed issues"),
    "voices_by_channel": _l("Voices by channel"),
    "voices_by_kind": _l("Voices by kind"),
    "voices_by_sentiment": _l("Voices by sentiment"),
    "by_office": _l("By office"),
    "by_region": _l("By region"),
    "discuss": _l("Overdue and escalated issues to discuss"),
    "figures": _l("Figures"),
    "new": _l("New"),
    "closed": _l("Closed"),
    "open": _l("Open at week end"),
    "overdue": _l("Overdue"),
    "escalated": _l("Escalated"),
    "escalated_l1": _l("Escalated to office (L1)"),
    "escalated_l2": _l("Escalated to region (L2)"),
    "escalated_l3": _l("Escalated to company (L3)"),
    "reopened": _l("Reopened"),
    "sla_response_rate": _l("Response SLA met"),
    "sla_resolution_rate": _l("Resolution SLA met"),
    "csat": _l("CSAT (ratings 4–5)"),
    "average_rating": _l("Average rating"),
    "voices": _l("Voices"),
    "repeats": _l("Repeat voices"),
    "figure": _l("Figure"),
    "value": _l("Value"),
    "previous": _l("Previous"),
    "sample": _l("n"),
    "number": _l("Number"),
    "title": _l("Title"),
    "office": _l("Office"),
    "status": _l("Status"),
    "level": _l("Level"),
    "resolve_due": _l("Resolve by"),
    "category": _l("Category"),
    "month": _l("Month"),
    "share": _l("Share"),
    "cumulative": _l("Cumulative share"),
    "last_year": _l("Same month last year"),
    "trend_12_months": _l("New and closed issues and CSAT over 12 months"),
    "pareto_root_causes": _l("Pareto of root causes (resolved issues)"),
    "pareto_categories": _l("Pareto of categories (new issues)"),
    "responsible": _l("Responsible departments (resolved issues)"),
    "escalations_by_office": _l("Escalations by office and level"),
    "repeat_links": _l("Voices and issues linked as repeats"),
    "margin": _l("Margin (95 %)"),
    "open_month": _l("Open at month end"),
    "actions_overdue": _l("Overdue improvement actions"),
    "actions": _l("Improvement actions and their effect"),
    "action_title": _l("Title"),
    "action_dimension": _l("Dimension"),
    "action_place": _l("Where"),
    "action_owner": _l("Owner"),
    "action_due_on": _l("Due date"),
    "action_status": _l("Status"),
    "action_overdue": _l("Overdue"),
    "action_metric": _l("Effect measured by"),
    "action_before": _l("Before"),
    "action_after": _l("After"),
    "action_n_before": _l("n before"),
    "action_n_after": _l("n after"),
    "action_improved": _l("Improved"),
    "surveys": _l("Survey results"),
    "survey_trend": _l("Satisfaction index, NPS and CSAT over 12 months"),
    "survey_indicators": _l("Score by indicator over 12 months"),
    "competitors": _l("Third-party results against competitors"),
    "index": _l("Satisfaction index"),
    "csat_survey": _l("CSAT (survey ratings 4–5)"),
    "small_sample": _l("small sample"),
    "ours": _l("Us"),
    "period": _l("Period"),
    "indicator": _l("Indicator"),
}
AGEING = {
    "d0_2": _l("0–2 days"),
    "d3_7": _l("3–7 days"),
    "d8_14": _l("8–14 days"),
    "d15_30": _l("15–30 days"),
    "gt30": _l("over 30 days"),
}
LEVEL = {"1": _l("L1 office"), "2": _l("L2 region"), "3": _l("L3 company")}
KIND = {"passive": _l("Passive"), "active": _l("Active")}
SENTIMENT = {
    "negative": _l("Negative"),
    "neutral": _l("Neutral"),
    "positive": _l("Positive"),
    "none": _l("Not classified"),
}
NOT_GIVEN = _l("Not given")
KIND_LABELS = {"weekly": _l("Weekly monitoring"), "monthly": _l("Monthly quality review")}
SECTION_CODES: dict[str, dict[str, Any]] = {
    "pareto_root_causes": {"none": NOT_GIVEN},
    "pareto_categories": {"none": NOT_GIVEN},
    "responsible": {"none": NOT_GIVEN},
    "ageing": AGEING,
    "escalations_by_level": LEVEL,
    "voices_by_channel": issue_labels.CHANNEL,
    "voices_by_kind": KIND,
    "voices_by_sentiment": SENTIMENT,
}


class ReportTexts:
    """charts.Texts in the current UI language."""

    def __init__(self) -> None:
        self.english = str(get_locale() or "zh") == "en"

    def text(self, key: str) -> str:
        return str(TEXT.get(key, key))

    def item(self, section: str, item: Item | ParetoItem) -> str:
        if item.name_zh is not None or item.name_en is not None:
            return str((item.name_en if self.english else item.name_zh) or item.key)
        if section == "ratings":
            return f"{item.key} ★"
        if item.key == "none":
            return str(SECTION_CODES.get(section, {}).get("none", NOT_GIVEN))
        return str(SECTION_CODES.get(section, {}).get(item.key, item.key))

    def name(self, zh: str, en: str) -> str:
        return en if self.english else zh
