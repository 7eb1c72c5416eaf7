"""The weekly-report job: one snapshot per (kind, scope, period), catch-up, e-mails once."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from app.core.outbox import OutboxMessage
from app.core.uow import unit_of_work
from app.extensions import db
from app.reports import jobs
from app.reports.models import ReportSnapshot
from app.scheduler.runner import run_job
from tests.reports.conftest import W47_END, W47_START

MONDAY_W48 = W47_END + timedelta(hours=8)  # Monday 2026-11-23 08:00 in Shanghai


def snapshots():
    db.session.expire_all()
    return db.session.execute(
        sa.select(ReportSnapshot.kind, ReportSnapshot.scope_key, ReportSnapshot.period).order_by(
            ReportSnapshot.period, ReportSnapshot.scope_key
        )
    ).all()


def mails():
    db.session.expire_all()
    return sorted(db.session.scalars(sa.select(OutboxMessage.recipient)))


def test_monday_run_keeps_every_scope_and_mails_its_managers(app, world, make_issue):
    make_issue(received_at=W47_START + timedelta(days=1))
    db.session.commit()
    outcome = run_job(app, "weekly-report", now=MONDAY_W48)
    assert outcome.status == "done", outcome.error
    assert outcome.result == {"periods": ["2026-W47"], "snapshots": 5, "emails": 3}
    assert [s[1] for s in snapshots()] == [
        "company",
        "office:GZ",
        "office:SH",
        "region:EAST",
        "region:SOUTH",
    ]
    assert mails() == ["om@sh.example.com", "qa@example.com", "rm@east.example.com"]
    body = db.session.scalars(
        sa.select(OutboxMessage.body).where(OutboxMessage.recipient == "om@sh.example.com")
    ).one()
    assert "2026-W47" in body and "New issues: 1 (+1)" in body and "/reports/snapshots/" in body
    # the same period again: claimed already, nothing new
    assert run_job(app, "weekly-report", now=MONDAY_W48 + timedelta(hours=1)).status == "skipped"
    # and the job body itself finds nothing to do
    with unit_of_work():
        assert jobs.weekly_report(MONDAY_W48)["snapshots"] == 0
    assert len(snapshots()) == 5 and len(mails()) == 3


def test_catch_up_after_downtime(app, world):
    three_weeks_earlier = MONDAY_W48 - timedelta(days=21)
    assert run_job(app, "weekly-report", now=three_weeks_earlier).result["periods"] == ["2026-W44"]
    # the scheduler was down for the next two Mondays
    outcome = run_job(app, "weekly-report", now=MONDAY_W48)
    assert outcome.result["periods"] == ["2026-W45", "2026-W46", "2026-W47"]
    assert sorted({s[2] for s in snapshots()}) == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    assert len(snapshots()) == 4 * 5
    # one mail per manager and week
    assert len(mails()) == 4 * 3


def test_two_concurrent_runs_store_one_snapshot_and_one_mail_per_manager(app, world, make_issue):
    make_issue(received_at=W47_START + timedelta(days=1))
    db.session.commit()
    # a scheduled run and an operator's `jobs run weekly-report --period 2026-W47` hold
    # different claims and race for the same week
    barrier = threading.Barrier(2)
    outcomes = []

    def go(force):
        barrier.wait()
        outcomes.append(run_job(app, "weekly-report", now=MONDAY_W48, force_period=force))

    threads = [threading.Thread(target=go, args=(f,)) for f in (None, "2026-W47")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.status for o in outcomes) == ["done", "done"], [o.error for o in outcomes]
    assert sum(o.result["snapshots"] for o in outcomes) == 5
    assert len(snapshots()) == 5
    assert mails() == ["om@sh.example.com", "qa@example.com", "rm@east.example.com"]


def test_forced_period_must_be_a_complete_week(app, world):
    outcome = run_job(app, "weekly-report", now=MONDAY_W48, force_period="2026-W49")
    assert outcome.status == "failed" and "not complete" in outcome.error
    outcome = run_job(app, "weekly-report", now=MONDAY_W48, force_period="last-week")
    assert outcome.status == "failed" and "not a weekly period" in outcome.error
    assert snapshots() == []


def test_snapshot_shows_figures_as_they_were_and_live_view_now(
    app, world, client, login_as, make_issue
):
    make_issue(received_at=W47_START + timedelta(days=1))
    db.session.commit()
    run_job(app, "weekly-report", now=MONDAY_W48)
    make_issue(received_at=W47_START + timedelta(days=2))  # logged late, after the snapshot
    db.session.commit()
    snapshot_id = db.session.scalar(
        sa.select(ReportSnapshot.id).where(ReportSnapshot.scope_key == "office:SH")
    )
    login_as(world.om)
    live = client.get("/reports/weekly?week=2026-W47&lang=en").get_data(as_text=True)
    assert "Live view" in live and f"/reports/snapshots/{snapshot_id}" in live
    kept = client.get(f"/reports/snapshots/{snapshot_id}?lang=en").get_data(as_text=True)
    assert "Snapshot" in kept and "Figures as they were" in kept

    def new_value(html):
        row = html[html.index('data-figure-name="new"') :]
        return row[row.index('class="num value">') + 18 : row.index("</td>")]

    assert (new_value(live), new_value(kept)) == ("2", "1")
    xlsx = client.get(f"/reports/snapshots/{snapshot_id}?format=xlsx")
    assert xlsx.status_code == 200 and "snapshot" in xlsx.headers["Content-Disposition"]
    index = client.get("/reports/").get_data(as_text=True)
    assert f"/reports/snapshots/{snapshot_id}" in index


def test_snapshots_of_other_scopes_are_404(app, world, client, login_as):
    run_job(app, "weekly-report", now=MONDAY_W48)
    ids = dict(db.session.execute(sa.select(ReportSnapshot.scope_key, ReportSnapshot.id)).all())
    login_as(world.om)
    assert client.get(f"/reports/snapshots/{ids['office:SH']}").status_code == 200
    for key in ("office:GZ", "region:EAST", "company"):
        assert client.get(f"/reports/snapshots/{ids[key]}").status_code == 404
    login_as(world.rm)
    assert client.get(f"/reports/snapshots/{ids['region:EAST']}").status_code == 200
    assert client.get(f"/reports/snapshots/{ids['office:SH']}").status_code == 200
    assert client.get(f"/reports/snapshots/{ids['region:SOUTH']}").status_code == 404


def test_api_gives_the_kept_snapshot_on_request(app, world, client, make_issue):
    url = "/api/v1/reports/weekly?week=2026-W47&snapshot=true"
    assert client.get(url, headers=world.h["om"]).status_code == 404
    make_issue(received_at=W47_START + timedelta(days=1))
    db.session.commit()
    run_job(app, "weekly-report", now=MONDAY_W48)
    make_issue(received_at=W47_START + timedelta(days=2))
    db.session.commit()
    kept = client.get(url, headers=world.h["om"]).get_json()
    live = client.get("/api/v1/reports/weekly?week=2026-W47", headers=world.h["om"]).get_json()
    assert (kept["source"], kept["figures"]["new"]["value"]) == ("snapshot", 1)
    assert (live["source"], live["figures"]["new"]["value"]) == ("live", 2)
