"""The monthly quality review: against the previous month and the same month last year,
Paretos, CSAT with n and margin, scope, bad input, the monthly-review job."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.core.outbox import OutboxMessage
from app.core.scoping import Scope
from app.extensions import db
from app.issues.models import Escalation, Issue
from app.reports.models import ReportSnapshot
from app.reports.periods import Month, resolve_review_scope
from app.reports.review import margin, monthly_review
from app.scheduler.runner import run_job

OCT = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)  # 2026-10-01 00:00 in Shanghai
SEP = datetime(2026, 8, 31, 16, 0, tzinfo=UTC)
OCT_LAST_YEAR = datetime(2025, 9, 30, 16, 0, tzinfo=UTC)
NOV = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def review_for(user, region=None, month="2026-10"):
    scope = resolve_review_scope(Scope.for_user(user), region=region)
    return monthly_review(scope, Month.parse(month), NOW)


@pytest.fixture
def october(world, make_office, make_issue, make_escalation):
    hz = make_office("HZ", region=world.east)
    for i in range(4):  # October: 4 resolved (3 process, 1 product), ratings 5 5 4 1
        make_issue(
            received_at=OCT + (i + 1) * DAY,
            resolved_at=OCT + (i + 2) * DAY,
            closed_at=OCT + (i + 3) * DAY,
            rating=(5, 5, 4, 1)[i],
            root_cause="process" if i < 3 else "design",
            category="product_quality" if i < 2 else "delivery",
        ).responsible = "服务部" if i < 3 else "=cmd|' /C calc'!A0"
    a = make_issue(hz, received_at=OCT + 5 * DAY, customer=world.customer)
    make_escalation(a, 1, OCT + 6 * DAY)
    make_escalation(a, 2, OCT + 7 * DAY)
    make_issue(received_at=SEP + 3 * DAY)  # September
    make_issue(received_at=SEP + 4 * DAY)
    make_issue(
        received_at=OCT_LAST_YEAR + 2 * DAY,
        resolved_at=OCT_LAST_YEAR + 3 * DAY,
        closed_at=OCT_LAST_YEAR + 4 * DAY,
        rating=2,
        root_cause="process",
    )
    make_issue(world.gz, received_at=OCT + DAY)  # another region
    db.session.commit()
    return hz


def test_figures_against_previous_month_and_last_year(world, october):
    r = review_for(world.rm)
    assert (r.period, r.previous_period, r.last_year_period) == ("2026-10", "2026-09", "2025-10")
    new = r.figures["new"]
    assert (new.value, new.previous, new.last_year) == (5, 2, 1)
    assert (new.change, new.change_last_year) == (3, 4)
    csat = r.figures["csat"]
    assert (csat.value, csat.n, csat.last_year, csat.n_last_year) == (0.75, 4, 0.0, 1)
    assert csat.margin == margin(0.75, 4) == round(1.96 * (0.75 * 0.25 / 4) ** 0.5, 4)
    assert r.figures["escalated"].value == 2
    causes = r.pareto_root_causes
    assert [(c.key, c.value, c.share, c.cumulative, c.last_year) for c in causes] == [
        ("process", 3, 0.75, 0.75, 1),
        ("design", 1, 0.25, 1.0, 0),
    ]
    assert [(c.key, c.value) for c in r.pareto_categories][:2] == [
        ("product_quality", 3),
        ("delivery", 2),
    ]
    # last October's issue named nobody: kept after this month's, with 0 now
    assert [(c.key, c.value, c.last_year) for c in r.responsible] == [
        ("服务部", 3, 0),
        ("=cmd|' /C calc'!A0", 1, 0),
        ("none", 0, 1),
    ]
    assert [(e.office_code, e.levels) for e in r.escalations_by_office] == [("HZ", [1, 1, 0])]
    assert [p.period for p in r.trend][-2:] == ["2026-09", "2026-10"]
    assert (r.trend[-1].new, r.trend[-1].rated, r.trend[-1].csat) == (5, 4, 0.75)
    assert [row.code for row in r.rows] == ["HZ", "SH"]


def test_repeat_links_are_counted_in_their_month(world, october, make_voice):
    from app.voice.models import VoiceIssueLink

    issue = db.session.scalars(sa.select(Issue).where(Issue.office_id == world.sh.id)).first()
    for at in (OCT + 3 * DAY, SEP + DAY):
        voice = make_voice(occurred_at=at)
        db.session.add(VoiceIssueLink(voice_id=voice.id, issue_id=issue.id, kind="repeat", at=at))
    db.session.commit()
    f = review_for(world.rm).figures["repeat_links"]
    assert (f.value, f.previous) == (1, 1)
    assert review_for(world.qa, region="SOUTH").figures["repeat_links"].value == 0


def test_totals_equal_direct_counts(world, october):
    def direct(office_ids, start, end):
        return db.session.scalar(
            sa.select(sa.func.count(Issue.id)).where(
                Issue.office_id.in_(office_ids), Issue.received_at >= start, Issue.received_at < end
            )
        )

    company = review_for(world.qa)
    all_ids = [world.sh.id, october.id, world.gz.id]
    assert company.figures["new"].value == direct(all_ids, OCT, NOV)
    assert company.figures["new"].previous == direct(all_ids, SEP, OCT)
    assert company.figures["new"].last_year == direct(
        all_ids, OCT_LAST_YEAR, datetime(2025, 10, 31, 16, 0, tzinfo=UTC)
    )
    assert company.figures["escalated"].value == db.session.scalar(
        sa.select(sa.func.count(Escalation.id)).where(Escalation.at >= OCT, Escalation.at < NOV)
    )
    assert sum(r.figures["new"].value for r in company.rows) == company.figures["new"].value
    assert [r.code for r in company.rows] == ["EAST", "SOUTH"]
    east = review_for(world.qa, region="EAST")
    assert east.figures["new"].value == direct([world.sh.id, october.id], OCT, NOV)


def test_a_month_with_no_data_is_zeros(world):
    r = review_for(world.qa, month="2026-03")
    assert (r.figures["new"].value, r.figures["new"].previous, r.figures["new"].last_year) == (
        0,
        0,
        0,
    )
    assert r.figures["csat"].value is None and r.figures["csat"].margin is None
    assert r.pareto_root_causes == [] and r.escalations_by_office == []


def test_scope_and_bad_input(world, client, login_as):
    api = "/api/v1/reports/quality"
    assert client.get(api, headers=world.h["om"]).status_code == 403
    assert client.get(api + "?region=SOUTH", headers=world.h["rm"]).status_code == 404
    assert client.get(api + "?region=NOPE", headers=world.h["qa"]).status_code == 404
    for bad in ("2026-13", "2026-1", "11-2026", "2026-00", "x"):
        response = client.get(api, query_string={"month": bad}, headers=world.h["rm"])
        assert response.status_code == 422, bad
        assert "month" in response.get_json()["error"]["fields"]
    login_as(world.om)
    assert client.get("/reports/quality").status_code == 403
    login_as(world.rm)
    assert client.get("/reports/quality?region=SOUTH").status_code == 404
    assert client.get("/reports/quality?month=2026-13").status_code == 422


def test_api_quality(world, client, october):
    body = client.get("/api/v1/reports/quality?month=2026-10", headers=world.h["rm"]).get_json()
    assert body["scope"]["code"] == "EAST" and body["source"] == "live"
    assert body["figures"]["new"]["value"] == 5 and body["figures"]["new"]["last_year"] == 1
    assert body["figures"]["csat"]["n"] == 4 and body["figures"]["csat"]["margin"] > 0
    assert body["breakdowns"]["pareto_root_causes"][0]["cumulative"] == 0.75
    assert len(body["trend"]) == 12


def test_page_escapes_and_export_neutralises(world, client, login_as, october):
    db.session.execute(
        sa.update(Issue)
        .where(Issue.responsible.is_not(None), Issue.rating == 1)
        .values(responsible="<script>alert(1)</script>")
    )
    db.session.commit()
    login_as(world.rm)
    html = client.get("/reports/quality?month=2026-10").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert html.count('class="table-view"') >= 5 and 'id="report-mode"' in html
    db.session.execute(
        sa.update(Issue)
        .where(Issue.responsible.like("<script>%"))
        .values(responsible="@SUM(1+1)*cmd")
    )
    db.session.commit()
    response = client.get("/reports/quality?month=2026-10&format=xlsx")
    book = load_workbook(io.BytesIO(response.data))
    texts = [
        c.value for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)
    ]
    assert "'@SUM(1+1)*cmd" in texts
    assert not [t for t in texts if t[0] in "=+-@\t\r"]
    csv = client.get("/reports/quality?month=2026-10&format=csv")
    assert csv.status_code == 200 and b"'@SUM(1+1)*cmd" in csv.data


def test_monthly_review_job_keeps_regions_and_company_once(app, world, october):
    first_of_november = NOV + timedelta(hours=8)
    outcome = run_job(app, "monthly-review", now=first_of_november)
    assert outcome.status == "done", outcome.error
    assert outcome.result == {"periods": ["2026-10"], "snapshots": 3, "emails": 2}
    keys = sorted(db.session.scalars(sa.select(ReportSnapshot.scope_key)))
    assert keys == ["company", "region:EAST", "region:SOUTH"]
    mails = sorted(db.session.scalars(sa.select(OutboxMessage.recipient)))
    assert mails == ["qa@example.com", "rm@east.example.com"]
    body = db.session.scalars(
        sa.select(OutboxMessage.body).where(OutboxMessage.recipient == "rm@east.example.com")
    ).one()
    assert "2026-10" in body and "CSAT" in body and "/reports/snapshots/" in body
    assert run_job(app, "monthly-review", now=first_of_november).status == "skipped"
    # catch-up: December's run was missed; January's keeps November and December
    outcome = run_job(app, "monthly-review", now=datetime(2027, 1, 1, 0, tzinfo=UTC))
    assert outcome.result["periods"] == ["2026-11", "2026-12"]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(ReportSnapshot.id))) == 9


def test_kept_review_shows_as_it_was(app, world, client, login_as, october, make_issue):
    run_job(app, "monthly-review", now=NOV + timedelta(hours=8))
    make_issue(received_at=OCT + 10 * DAY)
    db.session.commit()
    snapshot_id = db.session.scalar(
        sa.select(ReportSnapshot.id).where(ReportSnapshot.scope_key == "region:EAST")
    )
    login_as(world.rm)
    kept = client.get(f"/reports/snapshots/{snapshot_id}?lang=en").get_data(as_text=True)
    live = client.get("/reports/quality?month=2026-10&lang=en").get_data(as_text=True)
    assert "Snapshot" in kept and "Live view" in live
    assert f"/reports/snapshots/{snapshot_id}" in live

    def new_value(html):
        row = html[html.index('data-figure-name="new"') :]
        return row[row.index('class="num value">') + 18 : row.index("</td>")]

    assert (new_value(kept), new_value(live)) == ("5", "6")
    api = client.get(
        "/api/v1/reports/quality?month=2026-10&snapshot=true", headers=world.h["rm"]
    ).get_json()
    assert api["source"] == "snapshot" and api["figures"]["new"]["value"] == 5
