"""Improvement actions: recording, scope, status, effect, and how the reports show them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.actions import queries, services
from app.actions.models import ImprovementAction
from app.core.audit import AuditEvent
from app.core.scoping import Scope
from app.extensions import db
from app.reports.periods import Month, Week, resolve_review_scope, resolve_scope
from app.reports.review import monthly_review
from app.reports.services import weekly_report
from tests.conftest import csrf_from
from tests.reports.conftest import make_issue  # noqa: F401  (fixture)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def body(world, **kw):
    return {
        "title": "缩短交付周期",
        "dimension": "service",
        "owner_id": world.om.id,
        "due": "2026-12-31",
        "region": "EAST",
        "metric": "category_volume",
        "metric_category": "delivery",
        **kw,
    }


def test_record_read_and_list_through_the_api(world, client, make_issue):  # noqa: F811
    issue = make_issue()
    db.session.commit()
    response = client.post(
        "/api/v1/actions", json=body(world, links={"issues": [issue.id]}), headers=world.h["qa"]
    )
    assert response.status_code == 201, response.get_json()
    action = response.get_json()
    assert (action["status"], action["region"], action["version"]) == ("planned", "EAST", 1)
    assert action["links"][0]["label"] == issue.number
    assert action["effect"]["metric"] == "category_volume" and action["effect"]["after"] is None
    # the regional manager of EAST sees it; GZ's agent's office and SOUTH don't
    assert client.get(f"/api/v1/actions/{action['id']}", headers=world.h["rm"]).status_code == 200
    items = client.get("/api/v1/actions", headers=world.h["rm"]).get_json()["items"]
    assert [a["id"] for a in items] == [action["id"]]
    assert client.get(f"/api/v1/actions/{action['id']}", headers=world.h["om"]).status_code == 404
    assert client.get("/api/v1/actions", headers=world.h["om"]).get_json()["items"] == []
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "improvement_action")
    ).one()
    assert event.action == "create" and event.actor_id == world.qa.id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"dimension": "price"}, "dimension"),
        ({"owner_id": 999999}, "owner_id"),
        ({"region": "SOUTH"}, "region"),
        ({"metric_category": None}, "metric_category"),
        ({"office": "GZ", "region": None}, "office"),
        ({"due": "31/12/2026"}, "due"),
    ],
)
def test_bad_input_is_422(world, client, change, field):
    payload = {k: v for k, v in body(world, **change).items() if v is not None}
    response = client.post("/api/v1/actions", json=payload, headers=world.h["rm"])
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count(ImprovementAction.id))) == 0


def test_links_outside_scope_are_refused(world, client, make_issue):  # noqa: F811
    other = make_issue(world.gz)
    db.session.commit()
    response = client.post(
        "/api/v1/actions", json=body(world, links={"issues": [other.id]}), headers=world.h["rm"]
    )
    assert response.status_code == 422
    assert "issues" in response.get_json()["error"]["fields"]


def test_agents_may_not_record_actions(world, client):
    response = client.post("/api/v1/actions", json=body(world), headers=world.h["agent"])
    assert response.status_code == 403


def test_status_moves_with_version_and_done_time(world, client):
    created = client.post("/api/v1/actions", json=body(world), headers=world.h["rm"]).get_json()
    url = f"/api/v1/actions/{created['id']}"
    bad = client.patch(url, json={"version": 1, "status": "verified"}, headers=world.h["rm"])
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["fields"]
    done = client.patch(url, json={"version": 1, "status": "done"}, headers=world.h["rm"])
    assert done.status_code == 200 and done.get_json()["done_at"] is not None
    stale = client.patch(url, json={"version": 1, "title": "x"}, headers=world.h["rm"])
    assert stale.status_code == 409
    assert client.get(url, headers=world.h["rm"]).get_json()["title"] == "缩短交付周期"


def test_effect_compares_before_and_after(world, make_issue):  # noqa: F811
    created = datetime(2026, 9, 1, tzinfo=UTC)
    for days in (10, 20, 30):  # 3 delivery issues in the 90 days before
        make_issue(received_at=created - timedelta(days=days), category="delivery")
    make_issue(received_at=created - timedelta(days=5), category="installation")
    make_issue(received_at=created + timedelta(days=40), category="delivery")  # 1 after
    action = services.create_action(
        actor=world.rm,
        title="交付提速",
        dimension="service",
        owner_id=world.om.id,
        due_on=date(2026, 10, 1),
        metric="category_volume",
        metric_category="delivery",
        now=created,
    )
    services.update_action(
        actor=world.rm,
        action_id=action.id,
        version=1,
        changes={"status": "done"},
        now=created + timedelta(days=30),
    )
    db.session.commit()
    effect = queries.effect(action, created + timedelta(days=120))
    assert (effect.before.n, effect.before.value) == (3, 1.0)  # 3 in 90 days = 1 per 30 days
    assert (effect.after.n, effect.after.value) == (1, round(30 / 90, 2))
    assert effect.improved is True


def test_reports_flag_overdue_actions_and_show_effect(world, make_issue):  # noqa: F811
    late = services.create_action(
        actor=world.om,
        title="培训坐席",
        dimension="service",
        owner_id=world.om.id,
        due_on=date(2026, 11, 1),
        metric="csat",
        now=datetime(2026, 10, 1, tzinfo=UTC),
    )
    services.create_action(
        actor=world.qa,
        title="南方备件",
        dimension="product",
        owner_id=world.qa.id,
        due_on=date(2026, 11, 1),
        metric="csat",
        region="SOUTH",
    )
    db.session.commit()
    weekly = weekly_report(resolve_scope(Scope.for_user(world.om)), Week.parse("2026-W47"), NOW)
    assert [(a.id, a.overdue) for a in weekly.actions_overdue] == [(late.id, True)]
    review = monthly_review(
        resolve_review_scope(Scope.for_user(world.rm)), Month.parse("2026-10"), NOW
    )
    assert [a.title for a in review.actions] == ["培训坐席"]
    assert review.actions[0].overdue and review.actions[0].n_before == 0


def test_pages_record_an_action_from_the_review(world, client, login_as, make_issue):  # noqa: F811
    issue = make_issue()
    db.session.commit()
    login_as(world.qa)
    url = "/actions/new?region=EAST&category=delivery"
    page = client.get(url).get_data(as_text=True)
    assert '<option selected value="region:EAST">' in page
    assert '<option selected value="delivery">' in page
    data = {
        "csrf_token": csrf_from(page),
        "title": "<b>交付</b>",
        "dimension": "service",
        "owner_id": str(world.rm.id),
        "due_on": "2026-12-15",
        "place": "region:EAST",
        "metric": "category_volume",
        "metric_category": "delivery",
        "issues": f"{issue.number}, NOPE-1",
        "voices": "",
        "description": "",
    }
    response = client.post("/actions/new", data=data)
    assert response.status_code == 422 and "NOPE-1" in response.get_data(as_text=True)
    data["issues"] = issue.number
    response = client.post("/actions/new", data=data)
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "&lt;b&gt;交付&lt;/b&gt;" in detail and issue.number in detail
    action = db.session.scalars(sa.select(ImprovementAction)).one()
    status_page = client.get(f"/actions/{action.id}").get_data(as_text=True)
    moved = client.post(
        f"/actions/{action.id}/status",
        data={"csrf_token": csrf_from(status_page), "st-status": "in_progress", "st-version": "1"},
    )
    assert moved.status_code == 302
    db.session.expire_all()
    assert db.session.get(ImprovementAction, action.id).status == "in_progress"
    assert "&lt;b&gt;交付" in client.get("/actions/").get_data(as_text=True)
    review = client.get("/reports/quality?region=EAST").get_data(as_text=True)
    assert f"/actions/{action.id}" in review


def test_action_pages_are_scoped(world, client, login_as):
    action = services.create_action(
        actor=world.qa,
        title="南方",
        dimension="brand",
        owner_id=world.qa.id,
        due_on=date(2026, 12, 1),
        metric="csat",
        region="SOUTH",
    )
    db.session.commit()
    login_as(world.rm)
    assert client.get(f"/actions/{action.id}").status_code == 404
    login_as(world.agent)
    assert client.get("/actions/").status_code == 403
