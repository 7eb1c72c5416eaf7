"""The `early-warning` job's refresh, the watch list page and API, and their scope."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.outbox import OutboxMessage
from app.customers.services import create_customer
from app.extensions import db
from app.scheduler.registry import load_jobs
from app.warnings import services
from app.warnings.models import CustomerWarning
from tests.conftest import csrf_from
from tests.warnings.conftest import NOW


def _expiring(customer, days=20):
    customer.contract_end = date(2026, 11, 25) + timedelta(days=days)
    db.session.flush()


def _audits(action):
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def test_refresh_raises_once_and_tells_the_office_manager_once(world):
    _expiring(world.customer)
    _expiring(world.customer_gz, 5)
    first = services.refresh(NOW)
    db.session.commit()
    assert first.summary() == {"raised": 2, "updated": 0, "cleared": 0}
    again = services.refresh(NOW + timedelta(hours=1))
    db.session.commit()
    assert again.summary() == {"raised": 0, "updated": 0, "cleared": 0}
    assert db.session.scalar(sa.select(sa.func.count(CustomerWarning.id))) == 2
    assert [e.entity_id for e in _audits("warning_raised")] == sorted(
        [world.customer.id, world.customer_gz.id]
    )
    mail = db.session.scalars(sa.select(OutboxMessage)).all()
    # SH has an office manager; GZ has none in this world
    assert [m.recipient for m in mail] == ["om@sh.example.com"]
    assert "张伟" in mail[0].body and "合同即将到期" in mail[0].body
    assert "/warnings/?office=SH" in mail[0].body


def test_changed_figures_update_and_a_reason_gone_clears(world):
    _expiring(world.customer, 20)
    services.refresh(NOW)
    warning = db.session.scalars(sa.select(CustomerWarning)).one()
    raised_at = warning.raised_at
    result = services.refresh(NOW + timedelta(days=1))
    assert result.summary() == {"raised": 0, "updated": 1, "cleared": 0}
    db.session.refresh(warning)
    assert warning.last_seen_at == NOW + timedelta(days=1)
    assert warning.details["days_left"] == 19 and warning.raised_at == raised_at
    world.customer.contract_end = date(2027, 12, 31)  # renewed
    db.session.flush()
    assert services.refresh(NOW + timedelta(days=2)).summary()["cleared"] == 1
    db.session.refresh(warning)
    assert warning.cleared_at == NOW + timedelta(days=2)
    assert [e.changes for e in _audits("warning_cleared")] == [{"reason": "contract_expiring"}]
    # expiring again later is a new warning; the cleared one stays as history
    _expiring(world.customer, 10)
    assert services.refresh(NOW + timedelta(days=3)).summary()["raised"] == 1
    assert db.session.scalar(sa.select(sa.func.count(CustomerWarning.id))) == 2


def test_the_job_is_registered_and_runs_the_refresh(world):
    job = load_jobs()["early-warning"]
    _expiring(world.customer)
    assert job.func(NOW) == {"raised": 1, "updated": 0, "cleared": 0}
    assert job.period(NOW, "Asia/Shanghai") == "2026-11-25"


def test_api_lists_customers_at_risk_within_scope(world, client):
    _expiring(world.customer)
    _expiring(world.customer_gz, 5)
    services.refresh(NOW)
    db.session.commit()
    om = client.get("/api/v1/warnings", headers=world.h["om"])
    assert om.status_code == 200
    items = om.get_json()["items"]
    assert [i["customer"]["id"] for i in items] == [world.customer.id]
    reason = items[0]["reasons"][0]
    assert reason["code"] == "contract_expiring" and reason["details"]["days_left"] == 20
    assert reason["message"] and reason["acknowledged_at"] is None
    assert items[0]["customer"]["office"] == "SH"
    # company sees both; another office by code is not found for an office manager
    qa = client.get("/api/v1/warnings", headers=world.h["qa"]).get_json()["items"]
    assert {i["customer"]["id"] for i in qa} == {world.customer.id, world.customer_gz.id}
    only_gz = client.get("/api/v1/warnings?office=GZ", headers=world.h["qa"]).get_json()
    assert [i["customer"]["id"] for i in only_gz["items"]] == [world.customer_gz.id]
    assert client.get("/api/v1/warnings?office=GZ", headers=world.h["om"]).status_code == 404
    assert client.get("/api/v1/warnings?office=NOPE", headers=world.h["qa"]).status_code == 404
    assert client.get("/api/v1/warnings?reason=nope", headers=world.h["qa"]).status_code == 422
    assert client.get("/api/v1/warnings", headers=world.h["agent"]).status_code == 403


def test_api_pages_with_a_cursor(world, client):
    for n in range(3):
        customer = create_customer(
            actor=world.agent, name=f"客户{n}", office_code=None, contract_end=date(2026, 12, 1)
        )
        assert customer.id
    services.refresh(NOW)
    db.session.commit()
    first = client.get("/api/v1/warnings?limit=2", headers=world.h["om"]).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(
        f"/api/v1/warnings?limit=2&cursor={first['next_cursor']}", headers=world.h["om"]
    ).get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


def test_acknowledge_once_within_scope(world, client):
    _expiring(world.customer)
    _expiring(world.customer_gz)
    services.refresh(NOW)
    db.session.commit()
    sh, gz = (
        db.session.scalar(sa.select(CustomerWarning.id).where(CustomerWarning.customer_id == c.id))
        for c in (world.customer, world.customer_gz)
    )
    url = f"/api/v1/warnings/{sh}/acknowledge"
    done = client.post(url, json={"note": "王经理今天回访"}, headers=world.h["om"])
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["acknowledge_note"] == "王经理今天回访"
    second = client.post(url, json={}, headers=world.h["rm"])
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "conflict"
    out = client.post(f"/api/v1/warnings/{gz}/acknowledge", json={}, headers=world.h["om"])
    assert out.status_code == 404
    long = client.post(
        f"/api/v1/warnings/{gz}/acknowledge", json={"note": "x" * 501}, headers=world.h["qa"]
    )
    assert long.status_code == 422 and "note" in long.get_json()["error"]["fields"]
    assert [e.actor_id for e in _audits("warning_acknowledged")] == [world.om.id]


def test_page_shows_reasons_escaped_and_acknowledges_by_form(world, client, login_as):
    world.customer.name = "<script>alert(1)</script>"
    _expiring(world.customer)
    services.refresh(NOW)
    db.session.commit()
    login_as(world.om)
    page = client.get("/warnings/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "2026-12-15" in html  # the contract end in the reason's sentence
    warning_id = db.session.scalar(sa.select(CustomerWarning.id))
    done = client.post(
        f"/warnings/{warning_id}/acknowledge",
        data={"note": "已安排回访", "csrf_token": csrf_from(html), "next": "/warnings/?open=1"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/warnings/?open=1")
    assert "已安排回访" in client.get("/warnings/").get_data(as_text=True)
    # followed up: gone from the "not yet followed up" filter
    assert "已安排回访" not in client.get("/warnings/?open=1").get_data(as_text=True)
    no_csrf = client.post(f"/warnings/{warning_id}/acknowledge", data={"note": "x"})
    assert no_csrf.status_code == 400


def test_page_scope_and_roles(world, client, login_as):
    _expiring(world.customer_gz)
    services.refresh(NOW)
    db.session.commit()
    login_as(world.om)
    assert "李娜" not in client.get("/warnings/").get_data(as_text=True)
    assert client.get("/warnings/?office=GZ").status_code == 404
    warning_id = db.session.scalar(sa.select(CustomerWarning.id))
    html = client.get("/warnings/").get_data(as_text=True)
    out = client.post(
        f"/warnings/{warning_id}/acknowledge", data={"note": "", "csrf_token": csrf_from(html)}
    )
    assert out.status_code == 404
    login_as(world.agent)
    assert client.get("/warnings/").status_code == 403


def test_customer_page_shows_the_risk_to_every_staff_member(world, client, login_as):
    _expiring(world.customer)
    services.refresh(NOW)
    db.session.commit()
    login_as(world.agent)
    html = client.get(f"/customers/{world.customer.id}").get_data(as_text=True)
    assert 'id="warnings"' in html and "2026-12-15" in html
    other = client.get(f"/customers/{world.customer_gz.id}")
    assert other.status_code == 404


def test_hotline_caller_panel_names_the_risk(world, client, login_as):
    _expiring(world.customer)
    services.refresh(NOW)
    db.session.commit()
    login_as(world.agent)
    panel = client.get(f"/issues/customer-panel/{world.customer.id}.json").get_json()
    assert [w["code"] for w in panel["warnings"]] == ["contract_expiring"]
    assert "2026-12-15" in panel["warnings"][0]["message"]
