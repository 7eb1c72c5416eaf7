"""Offices over the API: working hours at creation and by PATCH, and the deadlines that
follow them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.extensions import db
from app.org.models import Office

CN = ZoneInfo("Asia/Shanghai")


def local(value):
    return datetime.fromisoformat(value).astimezone(CN).strftime("%a %d %H:%M")


def err(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def test_an_office_is_created_with_working_hours(client, make_region, make_user, api_headers):
    make_region("WEST")
    headers = api_headers(make_user("admin"))
    created = client.post(
        "/api/v1/offices",
        json={
            "code": "CD",
            "name": "成都代表处",
            "region": "WEST",
            "timezone": "Asia/Shanghai",
            "work_start": "08:30",
            "work_end": "17:30",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert (body["work_start"], body["work_end"], body["version"]) == ("08:30", "17:30", 1)
    default = client.post(
        "/api/v1/offices", json={"code": "XA", "name": "西安", "region": "WEST"}, headers=headers
    ).get_json()
    assert (default["timezone"], default["work_start"], default["work_end"]) == (
        "Asia/Shanghai",
        "09:00",
        "18:00",
    )
    listed = client.get("/api/v1/offices", headers=headers).get_json()["items"]
    assert {o["code"]: o["work_start"] for o in listed} == {"CD": "08:30", "XA": "09:00"}


def test_bad_working_hours_are_422_with_fields(client, make_region, make_user, api_headers):
    make_region("WEST")
    headers = api_headers(make_user("admin"))
    body = {"code": "CD", "name": "成都", "region": "WEST"}
    late = client.post(
        "/api/v1/offices",
        json={**body, "work_start": "18:00", "work_end": "09:00"},
        headers=headers,
    )
    assert "work_end" in err(late, 422)["fields"]
    shape = client.post("/api/v1/offices", json={**body, "work_start": "9am"}, headers=headers)
    assert "work_start" in err(shape, 422)["fields"]
    not_text = client.post("/api/v1/offices", json={**body, "work_end": 1800}, headers=headers)
    assert "work_end" in err(not_text, 422)["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Office)) == 0


def test_patch_changes_hours_with_version_and_audit(client, world, make_user, api_headers):
    admin = make_user("admin")
    headers = api_headers(admin)
    url = f"/api/v1/offices/{world.sh.id}"
    patched = client.patch(
        url, json={"version": 1, "work_start": "08:00", "work_end": "17:00"}, headers=headers
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    body = patched.get_json()
    assert (body["code"], body["work_start"], body["work_end"], body["version"]) == (
        "SH",
        "08:00",
        "17:00",
        2,
    )
    audit = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "office", AuditEvent.action == "update"
        )
    ).one()
    assert audit.actor_id == admin.id and audit.entity_id == world.sh.id
    assert audit.changes == {"work_start": ["09:00", "08:00"], "work_end": ["18:00", "17:00"]}

    stale = client.patch(url, json={"version": 1, "work_end": "20:00"}, headers=headers)
    assert err(stale, 409)["code"] == "conflict"
    bad = client.patch(url, json={"version": 2, "work_end": "07:00"}, headers=headers)
    assert "work_end" in err(bad, 422)["fields"]
    moved = client.patch(url, json={"version": 2, "region": "SOUTH"}, headers=headers)
    assert "region" in err(moved, 422)["fields"]
    no_version = client.patch(url, json={"work_end": "20:00"}, headers=headers)
    assert "version" in err(no_version, 422)["fields"]
    err(client.patch("/api/v1/offices/999999", json={"version": 1}, headers=headers), 404)
    db.session.refresh(world.sh)
    assert (world.sh.work_start, world.sh.work_end, world.sh.version) == ("08:00", "17:00", 2)


def test_only_admins_patch_offices(client, world):
    for who in ("om", "rm", "qa"):
        refused = client.patch(
            f"/api/v1/offices/{world.sh.id}",
            json={"version": 1, "work_start": "08:00"},
            headers=world.h[who],
        )
        assert err(refused, 403)["code"] == "forbidden"
    db.session.refresh(world.sh)
    assert world.sh.work_start == "09:00"


def test_issues_accepted_after_a_patch_get_deadlines_from_the_new_hours(
    client, world, new_issue, make_user, api_headers
):
    monday_8 = "2026-03-02T08:00:00+08:00"
    # high priority: 2 working hours to respond, 18 to resolve
    before = new_issue(received_at=monday_8, priority="high")
    assert local(before["response_due_at"]) == "Mon 02 11:00"
    assert local(before["resolve_due_at"]) == "Tue 03 18:00"
    patched = client.patch(
        f"/api/v1/offices/{world.sh.id}",
        json={"version": 1, "work_start": "08:00", "work_end": "14:00"},
        headers=api_headers(make_user("admin")),
    )
    assert patched.status_code == 200
    after = new_issue(received_at=monday_8, priority="high")
    assert local(after["response_due_at"]) == "Mon 02 10:00"
    # 6 working hours a day: Monday, Tuesday and Wednesday until 14:00
    assert local(after["resolve_due_at"]) == "Wed 04 14:00"
