"""Control characters in what staff and integrations write: a 422 naming the field, on SQLite
as on PostgreSQL (whose text cannot hold NUL: psycopg refused the statement, a 500), and
nothing is stored. Tab, line feed and carriage return are text."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.issues.models import Issue, IssueContact, IssueNote

NUL = "must not contain control characters (found U+0000)"


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_issue_intake_refuses_control_characters_field_by_field(client, world, new_issue):
    base = {
        "customer_id": world.customer.id,
        "title": "设备无法开机",
        "channel": "hotline",
        "category": "product_quality",
    }
    for extra, field in [
        ({"title": "设备\x00无法开机"}, "title"),
        ({"description": "客户来电\x00"}, "description"),
        ({"commitment": {"text": "明天\x1b回电", "due_at": None}}, "commitment_text"),
    ]:
        r = client.post("/api/v1/issues", json={**base, **extra}, headers=world.h["agent"])
        assert r.status_code == 422, extra
        assert set(r.get_json()["error"]["fields"]) == {field}
    assert count(Issue) == 0
    issue = new_issue(description="第一行\r\n第二行\t完")
    assert issue["description"] == "第一行\r\n第二行\t完"


def test_edits_notes_and_contacts_refuse_them_too(client, world, new_issue):
    issue = new_issue()
    url, h = f"/api/v1/issues/{issue['id']}", world.h["agent"]
    r = client.patch(url, json={"version": issue["version"], "title": "改\x00"}, headers=h)
    assert r.status_code == 422 and r.get_json()["error"]["fields"] == {"title": NUL}
    r = client.post(f"{url}/notes", json={"text": "备注\x00", "internal": True}, headers=h)
    assert r.status_code == 422 and r.get_json()["error"]["fields"] == {"text": NUL}
    contact = {"direction": "out", "channel": "phone", "text": "回电\x00"}
    r = client.post(f"{url}/contacts", json=contact, headers=h)
    assert r.status_code == 422 and r.get_json()["error"]["fields"] == {"text": NUL}
    assert count(IssueNote) == 0 and count(IssueContact) == 0


def test_customers_refuse_them(client, world):
    body = {"name": "王\x00五", "office": "SH", "company": "公司\x07", "phones": ["13700137000"]}
    r = client.post("/api/v1/customers", json=body, headers=world.h["agent"])
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {
        "name": NUL,
        "company": "must not contain control characters (found U+0007)",
    }


def test_the_hotline_screen_names_the_field(client, world, login_as, post_form):
    login_as(world.agent)
    response = post_form(
        "/issues/new",
        {
            "customer_id": str(world.customer.id),
            "title": "设备\x00无法开机",
            "category": "product_quality",
            "priority": "normal",
            "channel": "hotline",
        },
    )
    assert response.status_code == 422 and NUL in response.get_data(as_text=True)
    assert count(Issue) == 0
