"""Measurement across campaigns by period and segment: totals equal direct counts, periods in
the office's time zone, segments (office, region, tier, project), scope (404 out of it), the
three survey types never merged, the API and the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.contacts.models import Contact, Milestone, Project
from app.core.errors import ValidationFailed
from app.core.scoping import Scope
from app.customers.models import Customer
from app.extensions import db
from app.issues.models import Issue
from app.reports.periods import resolve_scope
from app.surveys import services
from app.surveys.measurement import measurement, parse_period
from app.surveys.models import Answer, Campaign, Invitation, Response, ThirdPartyAnswer
from tests.surveys.helpers import design
from tests.surveys.measure_fixtures import NOV

OCT = datetime(2026, 10, 10, 4, 0, tzinfo=UTC)
TODAY = date(2026, 11, 29)


def _company(world):
    return resolve_scope(Scope.for_user(world.qa))


def _direct(question_type, start, end, office_id=None):
    stmt = (
        sa.select(Answer.value, sa.func.count())
        .join(Response, Response.id == Answer.response_id)
        .where(
            Answer.question_type == question_type,
            Response.submitted_at >= start,
            Response.submitted_at < end,
        )
        .group_by(Answer.value)
    )
    if office_id is not None:
        stmt = stmt.where(Response.office_id == office_id)
    return dict(db.session.execute(stmt).all())


# --- periods -----------------------------------------------------------------------------------


def test_periods_parse_months_quarters_years_and_ranges():
    assert parse_period("2026-11", today=TODAY).key == "2026-11"
    q = parse_period("2026-q4", today=TODAY)
    assert (q.kind, q.key, q.first, q.end) == (
        "quarter",
        "2026-Q4",
        date(2026, 10, 1),
        date(2027, 1, 1),
    )
    y = parse_period("2025", today=TODAY)
    assert (y.first, y.last_day) == (date(2025, 1, 1), date(2025, 12, 31))
    r = parse_period(None, "2026-01-05", "2026-02-20", today=TODAY)
    assert r.kind == "range" and [p.key for p in r.trend()] == ["2026-01", "2026-02"]
    assert r.trend()[0].first == date(2026, 1, 5) and r.trend()[-1].end == date(2026, 2, 21)
    assert parse_period(None, today=TODAY).key == "2026-11"
    assert [p.key for p in q.trend()][-2:] == ["2026-Q3", "2026-Q4"] and len(q.trend()) == 8
    assert len(parse_period("2026-11", today=TODAY).trend()) == 12
    for bad in ("2026-13", "2026-Q5", "26", "<script>", "2026-11-01"):
        with pytest.raises(ValidationFailed):
            parse_period(bad, today=TODAY)
    with pytest.raises(ValidationFailed):
        parse_period(None, "2026-02-20", "2026-01-05", today=TODAY)
    with pytest.raises(ValidationFailed):
        parse_period(None, "2020-01-01", "2026-01-05", today=TODAY)


# --- totals, segments, periods -------------------------------------------------------------------


def test_totals_and_segments_equal_direct_counts(world, answer):
    for i in range(3):
        answer(world.sh, NOV + timedelta(hours=i), quality=5, speed=3, nps=10)
    answer(world.sh, NOV, quality=2, speed=None, nps=None)  # skipped questions count nowhere
    answer(world.gz, NOV, quality=4, speed=4, nps=6)
    answer(world.gz, OCT, quality=1, speed=1, nps=0)  # October: not in November
    db.session.commit()
    result = measurement(_company(world), "project", parse_period("2026-11", today=TODAY))
    start, end = datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC)
    nps = _direct("nps", start, end)
    assert result.total.measures.nps.n == sum(nps.values()) == 4
    ratings = _direct("rating5", start, end)
    assert result.total.measures.csat.n == sum(ratings.values()) == 9
    assert result.total.responses == 5
    by_office = {r.key: r for r in result.segments}
    assert set(by_office) == {"SH", "GZ"}
    assert by_office["SH"].measures.nps.n == sum(_direct("nps", start, end, world.sh.id).values())
    assert by_office["SH"].responses == 4 and by_office["GZ"].responses == 1
    # SH: NPS 3 promoters of 3 answers; quality mean (5+5+5+2)/4 → 81.25, speed 3 → 50
    sh = by_office["SH"].measures
    assert sh.nps.value == 100.0 and sh.nps.small_sample
    scores = {s.key: s.score for s in sh.indicators}
    assert scores["quality"].n == 4 and scores["speed"].n == 3
    assert round(sh.index.value, 2) == round(0.6 * 81.25 + 0.4 * 50, 2)
    # the trend ends with November and has October's wave in its 11th month
    assert [r.key for r in result.trend][-2:] == ["2026-10", "2026-11"]
    assert result.trend[-2].measures.nps.value == -100.0 and result.trend[-2].responses == 1
    assert result.trend[-1].measures.nps.n == 4
    assert sum(r.responses for r in result.trend) == db.session.scalar(
        sa.select(sa.func.count()).select_from(Response)
    )


def test_period_edges_are_in_the_offices_time_zone(world, answer):
    # 2026-10-31 17:00 UTC is 2026-11-01 01:00 in Shanghai: November there
    answer(world.sh, datetime(2026, 10, 31, 17, 0, tzinfo=UTC), nps=10)
    # 2026-11-30 15:59 UTC is 23:59 on the 30th: still November
    answer(world.sh, datetime(2026, 11, 30, 15, 59, tzinfo=UTC), nps=10)
    answer(world.sh, datetime(2026, 11, 30, 16, 0, tzinfo=UTC), nps=10)  # December
    db.session.commit()
    result = measurement(_company(world), "project", parse_period("2026-11", today=TODAY))
    assert result.total.measures.nps.n == 2
    quarter = measurement(_company(world), "project", parse_period("2026-Q4", today=TODAY))
    assert quarter.total.measures.nps.n == 3


def test_segments_by_region_tier_and_project(world, answer):
    project = Project(customer_id=world.customer.id, office_id=world.sh.id, name="地铁二期")
    db.session.add(project)
    db.session.flush()
    milestone = Milestone(project_id=project.id, name="验收")
    db.session.add(milestone)
    db.session.flush()
    answer(world.sh, NOV, wave=f"milestone:{milestone.id}", nps=10)
    answer(world.sh, NOV, nps=3)
    answer(world.gz, NOV, nps=9)
    db.session.commit()
    period = parse_period("2026-11", today=TODAY)
    scope = _company(world)
    regions = {r.key: r for r in measurement(scope, "project", period, "region").segments}
    assert {k: r.measures.nps.n for k, r in regions.items()} == {"EAST": 2, "SOUTH": 1}
    tiers = {
        r.key: r.measures.nps.n for r in measurement(scope, "project", period, "tier").segments
    }
    expected = dict(
        db.session.execute(
            sa.select(Customer.tier, sa.func.count())
            .select_from(Response)
            .join(Contact, Contact.id == Response.contact_id)
            .join(Customer, Customer.id == Contact.customer_id)
            .group_by(Customer.tier)
        ).all()
    )
    assert tiers == expected
    projects = {r.key: r for r in measurement(scope, "project", period, "project").segments}
    assert projects[str(project.id)].name == "地铁二期"
    assert projects[str(project.id)].measures.nps.value == 100.0
    assert projects["none"].measures.nps.n == 2


def test_a_period_without_answers_is_empty_not_an_error(world, measured_survey):
    result = measurement(_company(world), "project", parse_period("2024-02", today=TODAY))
    assert result.total.responses == 0
    assert result.total.measures.nps.value is None and result.total.measures.nps.n == 0
    assert [r.key for r in result.segments] == ["GZ", "SH"]
    assert all(r.responses == 0 for r in result.trend)


# --- scope ---------------------------------------------------------------------------------------


def test_an_office_manager_sees_only_their_office(world, answer, client):
    answer(world.sh, NOV, nps=10)
    answer(world.gz, NOV, nps=0)
    db.session.commit()
    r = client.get(
        "/api/v1/surveys/measurement", query_string={"period": "2026-11"}, headers=world.h["om"]
    )
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    assert data["scope"] == {"kind": "office", "code": "SH", "name": world.sh.name}
    assert data["total"]["nps"]["n"] == 1 and [s["key"] for s in data["segments"]] == ["SH"]
    for query in ({"office": "GZ"}, {"region": "SOUTH"}, {"region": "EAST"}, {"office": "XX"}):
        r = client.get(
            "/api/v1/surveys/measurement",
            query_string={"period": "2026-11", **query},
            headers=world.h["om"],
        )
        assert r.status_code == 404, query
    # a regional manager: their region only
    r = client.get(
        "/api/v1/surveys/measurement",
        query_string={"period": "2026-11", "region": "SOUTH"},
        headers=world.h["rm"],
    )
    assert r.status_code == 404
    r = client.get(
        "/api/v1/surveys/measurement", query_string={"period": "2026-11"}, headers=world.h["rm"]
    )
    assert r.get_json()["total"]["nps"]["n"] == 1
    # agents read no results
    r = client.get("/api/v1/surveys/measurement", headers=world.h["agent"])
    assert r.status_code == 403


def test_page_is_scoped_and_has_charts_with_table_views(world, answer, client, login_as):
    answer(world.sh, NOV, nps=10)
    db.session.commit()
    login_as(world.om)
    html = client.get("/surveys/measurement", query_string={"period": "2026-11"}).get_data(
        as_text=True
    )
    assert 'id="denominators"' in html and 'id="measure-segments"' in html
    assert html.count('class="chart"') == html.count('class="table-view"') == 2
    assert "small sample" in html or "样本较小" in html
    assert client.get("/surveys/measurement", query_string={"office": "GZ"}).status_code == 404
    r = client.get("/surveys/measurement", query_string={"period": "2026-13"})
    assert r.status_code == 422
    login_as(world.agent)
    assert client.get("/surveys/measurement").status_code == 403


# --- types are never merged ----------------------------------------------------------------------


def test_types_are_measured_apart(world, answer, client):
    answer(world.sh, NOV, nps=10)
    tp = services.create_survey(actor=world.qa, data=design(kind="third_party"))
    services.activate_survey(actor=world.qa, survey_id=tp.id)
    wave = Campaign(survey_id=tp.id, name="第三方 2026", send_at=NOV)
    db.session.add(wave)
    db.session.flush()
    nps_q = next(q for q in tp.questions if q.type == "nps")
    for row, (company, value) in enumerate([(None, 0), (None, 0), ("竞品", 10)]):
        db.session.add(
            ThirdPartyAnswer(
                campaign_id=wave.id,
                row_key=str(row),
                company=company,
                question_id=nps_q.id,
                question_type="nps",
                value=value,
            )
        )
    db.session.add(
        Issue(
            number="SH-R-1",
            office_id=world.sh.id,
            customer_id=world.customer.id,
            title="t",
            description="",
            channel="hotline",
            category_id=db.session.scalar(sa.text("SELECT id FROM categories LIMIT 1")),
            priority="normal",
            status="closed",
            escalation_level=0,
            received_at=NOV - timedelta(days=2),
            response_due_at=NOV,
            resolve_due_at=NOV,
            response_target_minutes=60,
            resolve_target_minutes=600,
            closed_at=NOV,
            rating=2,
        )
    )
    db.session.commit()
    scope, period = _company(world), parse_period("2026-11", today=TODAY)
    project = measurement(scope, "project", period, "company")
    assert project.family == "transactional" and project.total.measures.nps.n == 1
    assert project.total.measures.nps.value == 100.0  # the third-party zeros are not in it
    third = measurement(scope, "third_party", period)
    assert third.family == "relationship"
    by_company = {r.key: r for r in third.segments}
    assert by_company[""].measures.nps.value == -100.0 and by_company[""].responses == 2
    assert by_company["竞品"].measures.nps.value == 100.0
    assert third.total.measures.nps.n == 2  # ours
    ratings = measurement(scope, "issue_rating", period, "office")
    assert ratings.total.measures.csat.n == 1 and ratings.total.measures.csat.value == 0.0
    assert ratings.total.measures.nps.n == 0
    with pytest.raises(ValidationFailed):
        measurement(scope, "issue_rating", period, "project")
    with pytest.raises(ValidationFailed):
        measurement(scope, "third_party", period, "office")
    r = client.get(
        "/api/v1/surveys/measurement",
        query_string={"type": "nonsense"},
        headers=world.h["qa"],
    )
    assert r.status_code == 422 and "type" in r.get_json()["error"]["fields"]


# --- reach: invited, delivered, responded, response rate (own surveys) ---------------------------


@pytest.fixture
def reached(world, answer, invited):
    """November: SH invited five (two answered, one delivered and silent, one whose e-mail never
    left, one bounced back), GZ two (one answered, one silent). October: SH invited two, one of
    them answered only in November."""
    answer(world.sh, NOV)
    answer(world.sh, NOV + timedelta(hours=1))
    invited(world.sh, NOV)
    invited(world.sh, NOV, delivered=False)
    invited(world.sh, NOV, bounced=True)
    answer(world.gz, NOV)
    invited(world.gz, NOV)
    invited(world.sh, OCT)
    answer(world.sh, NOV + timedelta(days=1), sent=OCT)
    db.session.commit()


def _reach(row):
    r = row.reach
    return (r.invited, r.delivered, r.responded, r.response_rate)


def test_reach_counts_the_invitations_sent_in_the_period(world, reached):
    result = measurement(_company(world), "project", parse_period("2026-11", today=TODAY))
    # four answers came in November, one of them to an October invitation
    assert result.total.responses == 4
    # the rate is of November's invitations: 3 answered of 5 delivered
    assert _reach(result.total) == (7, 5, 3, 60.0)
    by_office = {r.key: r for r in result.segments}
    invited_sh, delivered_sh, responded_sh, rate_sh = _reach(by_office["SH"])
    assert (invited_sh, delivered_sh, responded_sh) == (5, 3, 2)
    assert rate_sh == pytest.approx(200 / 3)
    assert _reach(by_office["GZ"]) == (2, 2, 1, 50.0)
    assert [_reach(r) for r in result.trend[-2:]] == [(2, 2, 1, 50.0), (7, 5, 3, 60.0)]
    regions = {
        r.key: _reach(r)
        for r in measurement(
            _company(world), "project", parse_period("2026-11", today=TODAY), "region"
        ).segments
    }
    assert regions == {"EAST": _reach(by_office["SH"]), "SOUTH": (2, 2, 1, 50.0)}
    tiers = measurement(_company(world), "project", parse_period("2026-11", today=TODAY), "tier")
    assert sum(r.reach.invited for r in tiers.segments) == 7
    # nothing sent in a quiet month: no rate, not 0 %
    quiet = measurement(_company(world), "project", parse_period("2026-09", today=TODAY))
    assert _reach(quiet.total) == (0, 0, 0, None)


def test_reach_by_project_follows_the_milestone(world, invited, answer):
    project = Project(customer_id=world.customer.id, office_id=world.sh.id, name="地铁二期")
    db.session.add(project)
    db.session.flush()
    milestone = Milestone(project_id=project.id, name="验收")
    db.session.add(milestone)
    db.session.flush()
    answer(world.sh, NOV, wave=f"milestone:{milestone.id}")
    invited(world.sh, NOV, wave=f"milestone:{milestone.id}")
    invited(world.sh, NOV)
    db.session.commit()
    period = parse_period("2026-11", today=TODAY)
    projects = {
        r.key: r for r in measurement(_company(world), "project", period, "project").segments
    }
    assert _reach(projects[str(project.id)]) == (2, 2, 1, 50.0)
    assert _reach(projects["none"]) == (1, 1, 0, 0.0)


def test_reach_of_rating_links(world, new_issue):
    issue = new_issue()
    contact = Contact(customer_id=world.customer.id, name="王", email="w@example.com")
    db.session.add(contact)
    db.session.flush()
    kinds = {
        "rated": {"delivered_at": NOV, "responded_at": NOV + timedelta(days=1)},
        "pending": {"delivered_at": NOV},
        "withdrawn": {"delivered_at": NOV, "withdrawn_at": NOV + timedelta(days=2)},
        "queued": {},
    }
    for n, values in enumerate(kinds.values()):
        db.session.add(
            Invitation(
                purpose="issue_rating",
                issue_id=issue["id"],
                contact_id=contact.id,
                office_id=world.sh.id,
                wave=f"rating:{n}",
                sent_at=NOV,
                expires_at=NOV + timedelta(days=14),
                **values,
            )
        )
    db.session.commit()
    result = measurement(_company(world), "issue_rating", parse_period("2026-11", today=TODAY))
    # a withdrawn link asks for nothing any more, a queued one reached nobody
    assert _reach(result.total) == (4, 2, 1, 50.0)
    assert _reach(next(r for r in result.segments if r.key == "SH")) == (4, 2, 1, 50.0)


def test_reach_in_the_api_and_the_page_for_own_surveys_only(world, reached, client, login_as):
    query = {"period": "2026-11"}
    data = client.get(
        "/api/v1/surveys/measurement", query_string=query, headers=world.h["qa"]
    ).get_json()
    total = data["total"]
    assert (total["invited"], total["delivered"], total["responded"]) == (7, 5, 3)
    assert total["response_rate"] == 60.0
    sh = next(s for s in data["segments"] if s["key"] == "SH")
    assert (sh["invited"], sh["delivered"], sh["responded"], sh["response_rate"]) == (
        5,
        3,
        2,
        66.7,
    )
    assert data["trend"][-1]["response_rate"] == 60.0
    tp = services.create_survey(actor=world.qa, data=design(kind="third_party"))
    services.activate_survey(actor=world.qa, survey_id=tp.id)
    db.session.commit()
    third = client.get(
        "/api/v1/surveys/measurement",
        query_string={**query, "type": "third_party"},
        headers=world.h["qa"],
    ).get_json()
    assert "response_rate" not in third["total"] and "invited" not in third["total"]
    assert all("response_rate" not in s for s in third["segments"])

    login_as(world.qa)
    html = client.get("/surveys/measurement", query_string=query).get_data(as_text=True)
    assert '<dd id="reach-invited">7</dd>' in html
    assert '<dd id="reach-delivered">5</dd>' in html
    assert '<dd id="reach-rate">60.0 %</dd>' in html
    assert html.count('class="num reach-rate"') == 2  # GZ and SH
    assert 'id="reach-hint"' in html and "回复率" in html
    page = client.get("/surveys/measurement", query_string={**query, "type": "third_party"})
    assert 'id="reach-rate"' not in page.get_data(as_text=True)
