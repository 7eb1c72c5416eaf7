"""The survey sections of the monthly quality review: index by indicator with its 12-month trend,
NPS and CSAT with margins and n against the previous month and the same month last year, the
latest third-party wave against competitors; in the page, the API, the exports and the
snapshots; a month without answers is empty, not an error."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import sqlalchemy as sa
from openpyxl import load_workbook

from app.core.scoping import Scope
from app.extensions import db
from app.reports.dto import MonthlyReview
from app.reports.models import ReportSnapshot
from app.reports.periods import Month, resolve_review_scope
from app.reports.review import monthly_review
from app.scheduler.runner import run_job
from app.surveys import services
from app.surveys.models import Answer, Campaign, Response, Survey, ThirdPartyAnswer
from tests.surveys.helpers import design

OCT = datetime(2026, 10, 10, 4, 0, tzinfo=UTC)
SEP = datetime(2026, 9, 10, 4, 0, tzinfo=UTC)
OCT_LAST_YEAR = datetime(2025, 10, 10, 4, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def review_for(user, region=None, month="2026-10"):
    scope = resolve_review_scope(Scope.for_user(user), region=region)
    return monthly_review(scope, Month.parse(month), NOW)


def _answers(world, answer):
    for _ in range(3):  # October in SH: quality 5, speed 4, NPS 10
        answer(world.sh, OCT, quality=5, speed=4, nps=10)
    answer(world.sh, OCT, quality=1, speed=None, nps=0)  # speed skipped
    answer(world.sh, SEP, quality=3, speed=3, nps=7)
    answer(world.sh, OCT_LAST_YEAR, quality=2, speed=2, nps=5)
    answer(world.gz, OCT, quality=1, speed=1, nps=0)  # another region
    db.session.commit()


def _third_party(world, at, name, ours, theirs):
    tp = db.session.scalars(sa.select(Survey).where(Survey.kind == "third_party")).first()
    if tp is None:
        tp = services.create_survey(actor=world.qa, data=design(kind="third_party", title="=三方"))
        services.activate_survey(actor=world.qa, survey_id=tp.id)
    wave = Campaign(survey_id=tp.id, name=name, send_at=at)
    db.session.add(wave)
    db.session.flush()
    quality = next(q for q in tp.questions if q.key == "quality")
    for row, (company, value) in enumerate(
        [(None, v) for v in ours] + [("竞品甲", v) for v in theirs]
    ):
        db.session.add(
            ThirdPartyAnswer(
                campaign_id=wave.id,
                row_key=str(row),
                company=company,
                question_id=quality.id,
                question_type="rating5",
                indicator_id=quality.indicator_id,
                value=value,
            )
        )
    db.session.commit()
    return wave


def _figure(section, key):
    return next(f for f in section.figures if f.key == key)


def test_survey_figures_against_previous_month_and_last_year(world, answer):
    _answers(world, answer)
    review = review_for(world.rm)  # EAST: SH only
    (section,) = review.surveys
    assert section.family == "transactional" and section.responses == 4
    nps = _figure(section, "nps")
    assert (nps.current.n, nps.previous.n, nps.last_year.n) == (4, 1, 1)
    assert nps.current.value == 50.0 and nps.current.margin is not None
    assert nps.current.small_sample
    assert nps.previous.value == 0.0 and nps.last_year.value == -100.0
    assert nps.change == 50.0 and nps.change_last_year == 150.0
    csat = _figure(section, "csat")
    # October ratings: 5,4 ×3 and 1 → 6 of 7 are 4–5; skipped speed counts nowhere
    assert csat.current.n == 7 and round(csat.current.value, 1) == round(6 / 7 * 100, 1)
    speed = _figure(section, "indicator:speed")
    assert speed.current.n == 3 and speed.current.value == 75.0
    # the 12-month trend ends with October; every answer of the year is in it
    assert [p.period for p in section.trend][-2:] == ["2026-09", "2026-10"]
    assert len(section.trend) == 12
    assert sum(p.responses for p in section.trend) == db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Response)
        .where(
            Response.office_id == world.sh.id,
            Response.submitted_at >= datetime(2025, 10, 31, 16, tzinfo=UTC),
            Response.submitted_at < datetime(2026, 10, 31, 16, tzinfo=UTC),
        )
    )
    company = review_for(world.qa).surveys[0]
    assert _figure(company, "nps").current.n == 5  # GZ's answer counts for the company
    assert _figure(company, "nps").current.n == db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .where(
            Answer.question_type == "nps",
            Response.submitted_at >= datetime(2026, 9, 30, 16, tzinfo=UTC),
            Response.submitted_at < datetime(2026, 10, 31, 16, tzinfo=UTC),
        )
    )


def test_third_party_against_competitors(world, answer):
    _third_party(world, datetime(2026, 7, 15, tzinfo=UTC), "Q3 2026", [3, 3], [5])
    _third_party(world, datetime(2026, 10, 5, tzinfo=UTC), "Q4 2026", [5, 5, 4], [3, 3])
    _third_party(world, datetime(2026, 11, 20, tzinfo=UTC), "later", [1], [1])  # after October
    review = review_for(world.qa)
    (third,) = review.third_party
    assert (third.wave, third.previous_wave, third.competitors) == (
        "Q4 2026",
        "Q3 2026",
        ["竞品甲"],
    )
    quality = next(r for r in third.rows if r.key == "indicator:quality")
    assert quality.ours.n == 3 and round(quality.ours.value, 1) == round((14 / 3 - 1) * 25, 1)
    assert quality.competitors["竞品甲"].value == 50.0 and quality.competitors["竞品甲"].n == 2
    assert quality.ours_previous_wave.value == 50.0
    assert review.surveys == []  # third-party answers are never a transactional score


def test_a_month_without_survey_answers_is_empty(world, answer, client, login_as):
    answer(world.sh, OCT, nps=10)
    db.session.commit()
    review = review_for(world.qa, month="2026-11")
    (section,) = review.surveys  # answered within the trend's year
    nps = _figure(section, "nps")
    assert (nps.current.value, nps.current.n) == (None, 0)
    assert review_for(world.qa, month="2024-06").surveys == []
    login_as(world.qa)
    html = client.get("/reports/quality?month=2024-06&lang=en").get_data(as_text=True)
    assert 'id="no-survey-answers"' in html
    html = client.get("/reports/quality?month=2026-11&lang=en").get_data(as_text=True)
    assert "no answers yet" in html


def test_page_api_exports_and_snapshot_carry_the_survey_sections(
    app, world, answer, client, login_as
):
    _answers(world, answer)
    _third_party(world, datetime(2026, 10, 5, tzinfo=UTC), "=HYPERLINK(1)", [5, 4], [3])
    login_as(world.qa)
    html = client.get("/reports/quality?month=2026-10&lang=en").get_data(as_text=True)
    assert 'id="survey-results"' in html and 'data-survey-figure="indicator:quality"' in html
    assert 'id="chart-survey_trend_0"' in html and 'id="chart-competitors_0"' in html
    assert html.count('class="chart"') == html.count('class="table-view"')
    api = client.get("/api/v1/reports/quality?month=2026-10", headers=world.h["qa"]).get_json()
    nps = next(f for f in api["surveys"][0]["figures"] if f["key"] == "nps")
    assert nps["current"]["n"] == 5 and nps["change"] is not None
    assert api["third_party"][0]["rows"][1]["competitors"]["竞品甲"]["n"] == 1
    data = client.get("/reports/quality?month=2026-10&format=csv").get_data(as_text=True)
    cells = [c for row in csv.reader(io.StringIO(data.lstrip("\ufeff"))) for c in row]
    assert not any(c.startswith("=") for c in cells)
    assert any("HYPERLINK" in c for c in cells)
    book = load_workbook(io.BytesIO(client.get("/reports/quality?month=2026-10&format=xlsx").data))
    values = [
        str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value
    ]
    assert not any(v.startswith("=") for v in values)
    assert any(ws.title.startswith(("Survey results", "满意度调查结果")) for ws in book.worksheets)
    # the kept snapshot has the survey sections as they were
    outcome = run_job(app, "monthly-review", now=datetime(2026, 11, 1, 8, tzinfo=UTC))
    assert outcome.status == "done", outcome.error
    kept = db.session.scalars(
        sa.select(ReportSnapshot).where(ReportSnapshot.scope_key == "company")
    ).one()
    answer(world.sh, OCT, nps=10)
    db.session.commit()
    then = MonthlyReview.from_dict(kept.data)
    assert _figure(then.surveys[0], "nps").current.n == 5
    assert _figure(review_for(world.qa).surveys[0], "nps").current.n == 6
    assert then.third_party[0].rows[1].competitors["竞品甲"].n == 1
    page = client.get(f"/reports/snapshots/{kept.id}?lang=en").get_data(as_text=True)
    assert "Snapshot" in page and 'id="survey-results"' in page


def test_an_old_snapshot_without_survey_sections_still_reads(world):
    review = review_for(world.qa)
    data = review.to_dict()
    data.pop("surveys")
    data.pop("third_party")
    assert MonthlyReview.from_dict(data).surveys == []


def test_region_review_leaves_other_regions_answers_out(world, answer):
    _answers(world, answer)
    south = review_for(world.qa, region="SOUTH").surveys[0]
    assert _figure(south, "nps").current.n == 1 and _figure(south, "nps").current.value == -100.0
