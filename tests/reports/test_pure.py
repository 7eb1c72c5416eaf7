"""Pure parts: charts from DTOs, formula neutralisation, date bucketing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import sqlalchemy as sa

from app.core.buckets import ZonedEdges, bucket
from app.core.exports import Section, neutralise, to_csv
from app.reports import charts
from app.reports.dto import Figure, Item, TrendPoint, WeeklyReport


class Texts:
    def text(self, key):
        return key

    def item(self, section, item):
        return item.name_en or item.key

    def name(self, zh, en):
        return en


def _report(**kw):
    base = dict(  # noqa: C408
        scope_kind="office",
        scope_code="SH",
        scope_name="Shanghai",
        period="2026-W47",
        previous_period="2026-W46",
        starts_on="2026-11-16",
        ends_on="2026-11-22",
        timezone="Asia/Shanghai",
        generated_at="2026-11-23T00:00:00+00:00",
        figures={n: Figure(i, i + 1) for i, n in enumerate(charts.COUNT_FIGURES)},
        escalations_by_level=[Item("1", 2, 1)],
        ageing=[Item("d0_2", 3)],
        backlog=[TrendPoint("2026-W46", 4, 2, 1), TrendPoint("2026-W47", 5, 3, 2)],
        categories=[Item("a", 5, 1, "甲", "<b>A</b>"), Item("b", 2, 3, "乙", "B")],
        root_causes=[],
        ratings=[Item("5", 1)],
        voices_by_channel=[],
        voices_by_kind=[],
        voices_by_sentiment=[],
        rows=[],
        discuss=[],
    )
    base.update(kw)
    return WeeklyReport(**base)


def test_headline_chart_has_this_and_last_period():
    chart = charts.headline(_report(), Texts())
    prev, cur = chart.figure["data"]
    assert cur["y"] == [0, 1, 2, 3, 4, 5] and prev["y"] == [1, 2, 3, 4, 5, 6]
    assert chart.table.rows[0] == ["new", 0, 1, -1]


def test_category_chart_lists_largest_on_top_and_table_in_order():
    chart = charts.item_bars(
        "categories", "categories", _report().categories, Texts(), horizontal=True
    )
    assert chart.figure["data"][1]["y"] == ["B", "<b>A</b>"]
    assert [r[0] for r in chart.table.rows] == ["<b>A</b>", "B"]


def test_backlog_trend_table_matches_points():
    chart = charts.backlog_trend(_report(), Texts())
    assert chart.table.rows == [["2026-W46", 4, 2, 1], ["2026-W47", 5, 3, 2]]
    assert [t["name"] for t in chart.figure["data"]] == ["open", "new", "closed"]


def test_snapshot_round_trip_keeps_everything():
    report = _report()
    assert WeeklyReport.from_dict(report.to_dict()) == report


def test_neutralise_every_formula_start():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("safe") == "safe" and neutralise(-3) == -3 and neutralise(None) == ""
    data = to_csv([Section("=t", ["=h"], [["=v", 1]])])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["'=h"], ["'=v", "1"]]


def test_bucket_uses_each_office_groups_edges():
    t = sa.table("t", sa.column("at"), sa.column("office_id"))
    e1 = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    e2 = (datetime(2026, 1, 1, 5, tzinfo=UTC), datetime(2026, 1, 2, 5, tzinfo=UTC))
    edges = ZonedEdges((((1,), e1), ((2,), e2)))
    sql = str(bucket(t.c.at, edges, t.c.office_id).compile(compile_kwargs={"literal_binds": False}))
    assert sql.count("office_id IN") == 2


def test_bucket_numbers_intervals_like_bisect():
    import bisect
    import random
    from datetime import timedelta

    from app.db import UTCDateTime

    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    t = sa.Table("t", meta, sa.Column("at", UTCDateTime()))
    meta.create_all(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    edges = [start + timedelta(days=7 * i) for i in range(13)]
    rng = random.Random(1)
    values = [start + timedelta(days=rng.uniform(-10, 100)) for _ in range(300)] + edges
    with engine.begin() as conn:
        conn.execute(t.insert(), [{"at": v} for v in values])
        b = bucket(t.c.at, ZonedEdges.single(edges))
        got = [row[1] for row in conn.execute(sa.select(t.c.at, b).order_by(t.c.at))]
    expected = [
        bisect.bisect_right(edges, v) - 1 if edges[0] <= v < edges[-1] else None
        for v in sorted(values)
    ]
    assert got == expected


def _review():
    from app.reports.dto import EscalationRow, MonthFigure, MonthlyReview, MonthPoint, ParetoItem

    return MonthlyReview(
        scope_kind="region",
        scope_code="EAST",
        scope_name="华东",
        period="2026-10",
        previous_period="2026-09",
        last_year_period="2025-10",
        starts_on="2026-10-01",
        ends_on="2026-10-31",
        timezone="Asia/Shanghai",
        generated_at="2026-11-01T00:00:00+00:00",
        figures={"csat": MonthFigure(0.75, 0.5, 4, 2, last_year=None, margin=0.42)},
        pareto_root_causes=[
            ParetoItem("process", 3, 0.75, 0.75, 1, 0, "流程", "Process"),
            ParetoItem("none", 1, 0.25, 1.0),
        ],
        pareto_categories=[ParetoItem("delivery", 2, 1.0, 1.0, 0, 1, "交付", "<i>D</i>")],
        responsible=[ParetoItem("=cmd", 2, 1.0, 1.0)],
        escalations_by_office=[EscalationRow("SH", "上海", [1, 1, 0], 3)],
        trend=[MonthPoint("2026-09", 2, 1, 1, None), MonthPoint("2026-10", 5, 4, 4, 0.75)],
        rows=[],
    )


def test_every_figure_is_a_valid_plotly_figure():
    import plotly.graph_objects as go

    from app.reports.dto import ScopeRow

    rows = [
        ScopeRow(
            "office",
            "SH",
            "上海",
            {
                n: Figure(1, 0)
                for n in (
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
            },
        )
    ]
    built = charts.weekly_charts(_report(rows=rows), Texts())
    built += charts.monthly_charts(_review(), Texts())
    assert len(built) == 11 + 5  # weekly with its rows chart; monthly without
    for chart in built:
        go.Figure(chart.figure)  # plotly's validators reject unknown or misspelt properties
        assert chart.figure["data"] and chart.figure["layout"]["title"]["text"] == chart.title
        assert all(len(row) == len(chart.table.headers) for row in chart.table.rows)


def test_pareto_has_bars_and_a_cumulative_line():
    chart = charts.pareto_chart("p", "pareto_root_causes", _review().pareto_root_causes, Texts())
    bars, line = chart.figure["data"]
    assert bars["type"] == "bar" and bars["y"] == [3, 1]
    assert line["yaxis"] == "y2" and line["y"] == [75.0, 100.0]
    assert chart.table.rows[0] == ["Process", 3, 0.75, 0.75, 1, 0]


def test_survey_charts_are_valid_plotly_and_their_tables_carry_n_and_margin():
    import plotly.graph_objects as go

    from app.reports.dto import (
        CompetitorRow,
        Estimate,
        SurveyFigure,
        SurveyMonth,
        SurveySection,
        ThirdPartySection,
    )

    e = Estimate(72.5, 12, 8.1, True)
    empty = Estimate()
    section = SurveySection(
        1,
        "<b>问卷</b>",
        "transactional",
        12,
        [SurveyFigure("indicator:quality", "质量", "Quality", e, empty, e)],
        [
            SurveyMonth("2026-09", 0, empty, empty, empty),
            SurveyMonth("2026-10", 12, e, e, e, {"quality": e}),
        ],
    )
    third = ThirdPartySection(
        2,
        "三方",
        "Q4",
        "2026-10-05",
        None,
        ["竞品"],
        [CompetitorRow("index", "指数", "Index", e, empty, {"竞品": e})],
    )
    for chart in (
        charts.survey_trend(section, Texts(), 0),
        charts.survey_indicator_trend(section, Texts(), 0),
        charts.competitors_chart(third, Texts(), 0),
    ):
        go.Figure(chart.figure)
        assert len(chart.table.rows) == len(chart.figure["data"][0]["x"])
    trend = charts.survey_trend(section, Texts(), 0)
    assert trend.table.rows[1][1:5] == [72.5, 8.1, 12, "small_sample"]
    assert trend.table.rows[0][1:5] == [None, None, 0, "small_sample"]
    quality = charts.survey_indicator_trend(section, Texts(), 0)
    assert quality.figure["data"][0]["name"] == "Quality"
