"""The report DTOs: small dataclasses of aggregated numbers, JSON-safe both ways so a
snapshot stores exactly what the live view shows (`to_dict` / `from_dict`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

Number = int | float | None


@dataclass
class Figure:
    """A figure beside the previous period's; `n` is the sample behind a rate."""

    value: Number
    previous: Number
    n: int | None = None
    n_previous: int | None = None

    @property
    def change(self) -> Number:
        if self.value is None or self.previous is None:
            return None
        diff = self.value - self.previous
        return round(diff, 4) if isinstance(diff, float) else diff


@dataclass
class Item:
    """A labelled count: a category, a root cause, a channel, an ageing bucket, a level...
    Reference rows carry their names in both languages; codes are translated when shown."""

    key: str
    value: int
    previous: int = 0
    name_zh: str | None = None
    name_en: str | None = None


@dataclass
class TrendPoint:
    period: str
    open: int
    new: int
    closed: int


@dataclass
class ScopeRow:
    """One office of a region's report, or one region of the company's."""

    kind: str  # office | region
    code: str
    name: str
    figures: dict[str, Figure] = field(default_factory=dict)


@dataclass
class IssueLine:
    id: int
    number: str
    title: str
    office_code: str
    status: str
    escalation_level: int
    resolve_due_at: str  # ISO 8601
    overdue: bool
    category_zh: str
    category_en: str
    # the office's time zone: due times are shown in it (snapshots older than this field: UTC)
    timezone: str = ""

    @property
    def due_local(self) -> str:
        """The due time in the office's time zone, e.g. "2026-11-20 18:00 (Asia/Shanghai)"."""
        due = datetime.fromisoformat(self.resolve_due_at)
        zone = self.timezone or "UTC"
        return f"{due.astimezone(ZoneInfo(zone)).strftime('%Y-%m-%d %H:%M')} ({zone})"


@dataclass
class ActionLine:
    """An improvement action as a report shows it; the effect only in the monthly review."""

    id: int
    title: str
    dimension: str
    status: str
    owner: str
    place: str
    due_on: str
    overdue: bool
    metric: str
    before: float | None = None
    after: float | None = None
    n_before: int = 0
    n_after: int | None = None
    improved: bool | None = None


@dataclass
class WeeklyReport:
    scope_kind: str
    scope_code: str | None
    scope_name: str
    period: str
    previous_period: str
    starts_on: str
    ends_on: str
    timezone: str
    generated_at: str
    figures: dict[str, Figure]
    escalations_by_level: list[Item]
    ageing: list[Item]
    backlog: list[TrendPoint]
    categories: list[Item]
    root_causes: list[Item]
    ratings: list[Item]
    voices_by_channel: list[Item]
    voices_by_kind: list[Item]
    voices_by_sentiment: list[Item]
    rows: list[ScopeRow]
    discuss: list[IssueLine]
    actions_overdue: list[ActionLine] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WeeklyReport:
        items = (
            "escalations_by_level",
            "ageing",
            "categories",
            "root_causes",
            "ratings",
            "voices_by_channel",
            "voices_by_kind",
            "voices_by_sentiment",
        )
        values = dict(data)
        values["figures"] = figures_from(data["figures"])
        for name in items:
            values[name] = [Item(**i) for i in data[name]]
        values["backlog"] = [TrendPoint(**p) for p in data["backlog"]]
        values["rows"] = [
            ScopeRow(r["kind"], r["code"], r["name"], figures_from(r["figures"]))
            for r in data["rows"]
        ]
        values["discuss"] = [IssueLine(**i) for i in data["discuss"]]
        values["actions_overdue"] = [ActionLine(**a) for a in data.get("actions_overdue", [])]
        return cls(**values)


def figures_from(data: dict[str, Any]) -> dict[str, Figure]:
    return {name: Figure(**f) for name, f in data.items()}


@dataclass
class MonthFigure(Figure):
    """A monthly figure: also the same month last year, and a 95 % margin for shares."""

    last_year: Number = None
    n_last_year: int | None = None
    margin: float | None = None

    @property
    def change_last_year(self) -> Number:
        if self.value is None or self.last_year is None:
            return None
        diff = self.value - self.last_year
        return round(diff, 4) if isinstance(diff, float) else diff


@dataclass
class ParetoItem:
    """One bar of a Pareto chart: its count, share of the total and cumulative share (this
    month), beside the previous month and the same month last year."""

    key: str
    value: int
    share: float
    cumulative: float
    previous: int = 0
    last_year: int = 0
    name_zh: str | None = None
    name_en: str | None = None


@dataclass
class MonthPoint:
    period: str
    new: int
    closed: int
    rated: int
    csat: float | None


@dataclass
class EscalationRow:
    office_code: str
    office_name: str
    levels: list[int]  # escalations to level 1, 2, 3 this month
    previous: int  # all levels, the previous month


@dataclass
class Estimate:
    """A survey measure (0–100; NPS −100..100) with its n and 95 % margin; value None: no
    answers."""

    value: float | None = None
    n: int = 0
    margin: float | None = None
    small_sample: bool = True

    @classmethod
    def of(cls, e: Any) -> Estimate:
        """From an app.surveys.scoring.Estimate."""
        d = e.as_dict()
        return cls(d["value"], d["n"], d["margin"], d["small_sample"])


@dataclass
class SurveyFigure:
    """A survey measure this month, the previous month and the same month last year."""

    key: str  # index | nps | csat | indicator:<key>
    name_zh: str
    name_en: str
    current: Estimate
    previous: Estimate
    last_year: Estimate

    @property
    def change(self) -> float | None:
        if self.current.value is None or self.previous.value is None:
            return None
        return round(self.current.value - self.previous.value, 1)

    @property
    def change_last_year(self) -> float | None:
        if self.current.value is None or self.last_year.value is None:
            return None
        return round(self.current.value - self.last_year.value, 1)


@dataclass
class SurveyMonth:
    """One month of a survey's trend: responses, index, NPS, CSAT and each indicator."""

    period: str
    responses: int
    index: Estimate
    nps: Estimate
    csat: Estimate
    indicators: dict[str, Estimate] = field(default_factory=dict)


@dataclass
class SurveySection:
    """A transactional questionnaire's results in the review (all its campaigns)."""

    survey_id: int
    title: str
    family: str  # transactional
    responses: int
    figures: list[SurveyFigure]
    trend: list[SurveyMonth]


@dataclass
class CompetitorRow:
    """One indicator (or the index) of a third-party wave: our score against each competitor,
    and ours in the wave before."""

    key: str
    name_zh: str
    name_en: str
    ours: Estimate
    ours_previous_wave: Estimate
    competitors: dict[str, Estimate] = field(default_factory=dict)


@dataclass
class ThirdPartySection:
    """The latest third-party wave up to the month's end (relationship / benchmark results, never
    merged with the transactional ones)."""

    survey_id: int
    title: str
    wave: str
    wave_on: str  # ISO date
    previous_wave: str | None
    competitors: list[str]
    rows: list[CompetitorRow]


def _estimate(d: dict[str, Any]) -> Estimate:
    return Estimate(**d)


def survey_section_from(d: dict[str, Any]) -> SurveySection:
    return SurveySection(
        survey_id=d["survey_id"],
        title=d["title"],
        family=d["family"],
        responses=d["responses"],
        figures=[
            SurveyFigure(
                f["key"],
                f["name_zh"],
                f["name_en"],
                _estimate(f["current"]),
                _estimate(f["previous"]),
                _estimate(f["last_year"]),
            )
            for f in d["figures"]
        ],
        trend=[
            SurveyMonth(
                p["period"],
                p["responses"],
                _estimate(p["index"]),
                _estimate(p["nps"]),
                _estimate(p["csat"]),
                {k: _estimate(v) for k, v in p["indicators"].items()},
            )
            for p in d["trend"]
        ],
    )


def third_party_from(d: dict[str, Any]) -> ThirdPartySection:
    return ThirdPartySection(
        survey_id=d["survey_id"],
        title=d["title"],
        wave=d["wave"],
        wave_on=d["wave_on"],
        previous_wave=d["previous_wave"],
        competitors=list(d["competitors"]),
        rows=[
            CompetitorRow(
                r["key"],
                r["name_zh"],
                r["name_en"],
                _estimate(r["ours"]),
                _estimate(r["ours_previous_wave"]),
                {k: _estimate(v) for k, v in r["competitors"].items()},
            )
            for r in d["rows"]
        ],
    )


@dataclass
class MonthlyReview:
    scope_kind: str
    scope_code: str | None
    scope_name: str
    period: str
    previous_period: str
    last_year_period: str
    starts_on: str
    ends_on: str
    timezone: str
    generated_at: str
    figures: dict[str, MonthFigure]
    pareto_root_causes: list[ParetoItem]
    pareto_categories: list[ParetoItem]
    responsible: list[ParetoItem]
    escalations_by_office: list[EscalationRow]
    trend: list[MonthPoint]
    rows: list[ScopeRow]
    actions: list[ActionLine] = field(default_factory=list)
    # survey results (snapshots from before surveys were part of the review have none)
    surveys: list[SurveySection] = field(default_factory=list)
    third_party: list[ThirdPartySection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonthlyReview:
        values = dict(data)
        values["figures"] = {n: MonthFigure(**f) for n, f in data["figures"].items()}
        for name in ("pareto_root_causes", "pareto_categories", "responsible"):
            values[name] = [ParetoItem(**i) for i in data[name]]
        values["escalations_by_office"] = [
            EscalationRow(**r) for r in data["escalations_by_office"]
        ]
        values["trend"] = [MonthPoint(**p) for p in data["trend"]]
        values["rows"] = [
            ScopeRow(r["kind"], r["code"], r["name"], figures_from(r["figures"]))
            for r in data["rows"]
        ]
        values["actions"] = [ActionLine(**a) for a in data.get("actions", [])]
        values["surveys"] = [survey_section_from(x) for x in data.get("surveys", [])]
        values["third_party"] = [third_party_from(x) for x in data.get("third_party", [])]
        return cls(**values)
