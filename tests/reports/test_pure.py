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
    assert sql.count("WHEN") == 2 and "office_id IN" in sql
