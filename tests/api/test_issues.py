"""The issue API: lifecycle, scoping on every endpoint, bad input, conflicts, notifications."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.outbox import OutboxMessage
from app.extensions import db
from app.issues.models import Escalation, Issue


def err(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def test_accept_returns_number_status_and_deadlines(client, world, new_issue):
    received = "2026-03-02T09:00:00+08:00"  # a Monday morning in Shanghai
    issue = new_issue(
        received_at=received,
        commitment={"text": "明天上午回电", "due_at": "2026-03-03T12:00:00+08:00"},
    )
    assert issue["number"] == "SH-2026-000001"
    assert issue["status"] == "accepted" and issue["version"] == 1
    # high: 2 working hours to respond, 18 to resolve (9 h a day)
    assert issue["response_due_at"].startswith("2026-03-02T03:00:00")
    assert issue["resolve_due_at"].startswith("2026-03-03T10:00:00")  # 18:00 +08 next day
    assert issue["commitment"]["text"] == "明天上午回电"
    second = new_issue(received_at="2026-03-02T10:00:00+08:00")
    assert second["number"] == "SH-2026-000002"
    last_year = new_issue(received_at="2025-12-31T23:30:00+08:00")  # 15:30 UTC, 2025 locally
    assert last_year["number"] == "SH-2025-000001"


def test_full_lifecycle_with_audit(client, world, new_issue):
    issue = new_issue()
    url = f"/api/v1/issues/{issue['id']}"
    h = world.h
    assert (
        client.post(f"{url}/handle", json={}, headers=h["handler"]).get_json()["status"]
        == "handling"
    )
    waited = client.post(f"{url}/wait", json={"reason": "等客户提供序列号"}, headers=h["handler"])
    assert waited.get_json()["status"] == "waiting"
    resumed = client.post(f"{url}/handle", json={}, headers=h["handler"]).get_json()
    assert resumed["status"] == "handling" and resumed["owner_id"] == world.handler.id
    contact = client.post(
        f"{url}/contacts",
        json={"direction": "out", "channel": "phone", "text": "已电话确认故障现象"},
        headers=h["handler"],
    )
    assert contact.status_code == 201
    note = client.post(
        f"{url}/notes", json={"text": "疑似电源板故障", "internal": True}, headers=h["handler"]
    )
    assert note.status_code == 201
    resolved = client.post(
        f"{url}/resolve",
        json={"resolution": "更换电源板", "root_cause": "manufacturing", "responsible": "生产部"},
        headers=h["handler"],
    )
    assert resolved.get_json()["status"] == "resolved"
    closed = client.post(
        f"{url}/close",
        json={"rating": 5, "comment": "很满意", "callback": True},
        headers=h["agent"],
    ).get_json()
    assert closed["status"] == "closed" and closed["rating"] == 5 and closed["callback"] is True
    detail = client.get(url, headers=h["agent"]).get_json()
    actions = [e["action"] for e in detail["history"]]
    assert actions == ["accept", "handle", "wait", "resume", "contact", "note", "resolve", "close"]
    assert detail["history"][1]["changes"]["status"] == ["accepted", "handling"]
    assert len(detail["contacts"]) == 1 and len(detail["notes"]) == 1
    assert detail["first_response_at"] is not None and detail["resolve_minutes"] is not None


def test_invalid_transition_is_409_and_changes_nothing(client, world, new_issue):
    issue = new_issue()
    url = f"/api/v1/issues/{issue['id']}"
    error = err(client.post(f"{url}/close", json={"rating": 4}, headers=world.h["agent"]), 409)
    assert error["code"] == "invalid_transition"
    after = client.get(url, headers=world.h["agent"]).get_json()
    assert after["status"] == "accepted" and after["version"] == 1
    assert [e["action"] for e in after["history"]] == ["accept"]


def test_role_may_not_resolve(client, world, new_issue):
    issue = new_issue()
    response = client.post(
        f"/api/v1/issues/{issue['id']}/resolve",
        json={"resolution": "x", "root_cause": "design", "responsible": "x"},
        headers=world.h["agent"],
    )
    assert err(response, 403)["code"] == "forbidden"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"description": "x" * 20_001}, "description"),
        ({"priority": "critical"}, "priority"),
        ({"category": "nope"}, "category"),
        ({"channel": "fax"}, "channel"),
        ({"received_at": "2026-03-02T09:00:00"}, "received_at"),  # no offset
        ({"received_at": "2099-01-01T09:00:00+08:00"}, "received_at"),
        ({"customer_id": "7"}, "customer_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_422_with_fields(client, world, body, field):
    payload = {
        "customer_id": world.customer.id,
        "title": "t",
        "channel": "hotline",
        "category": "billing",
        "priority": "normal",
        **body,
    }
    error = err(client.post("/api/v1/issues", json=payload, headers=world.h["agent"]), 422)
    assert field in error["fields"], error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Issue)) == 0


def test_customer_of_another_office_is_unknown(client, world):
    payload = {
        "customer_id": world.customer_gz.id,
        "title": "t",
        "channel": "hotline",
        "category": "billing",
        "priority": "normal",
    }
    error = err(client.post("/api/v1/issues", json=payload, headers=world.h["agent"]), 422)
    assert error["fields"] == {"customer_id": "unknown customer"}


def test_malformed_json_is_400(client, world):
    response = client.post(
        "/api/v1/issues", data="{", headers={**world.h["agent"], "Content-Type": "application/json"}
    )
    assert err(response, 400)["code"] == "bad_request"


def test_script_is_stored_as_typed(client, world, new_issue):
    issue = new_issue(title="<script>alert(1)</script>", description="<img src=x onerror=alert(1)>")
    detail = client.get(f"/api/v1/issues/{issue['id']}", headers=world.h["agent"]).get_json()
    assert detail["title"] == "<script>alert(1)</script>"


ENDPOINTS = [
    ("get", "", None),
    ("patch", "", {"version": 1, "title": "x"}),
    ("post", "/handle", {}),
    ("post", "/wait", {"reason": "x"}),
    ("post", "/escalate", {"reason": "x"}),
    ("post", "/resolve", {"resolution": "x", "root_cause": "design", "responsible": "x"}),
    ("post", "/close", {"rating": 3}),
    ("post", "/reopen", {"reason": "x"}),
    ("post", "/notes", {"text": "x"}),
    ("post", "/contacts", {"direction": "in", "channel": "phone", "text": "x"}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), ENDPOINTS)
def test_other_office_gets_404_on_every_endpoint(client, world, new_issue, method, suffix, body):
    issue = new_issue()
    call = getattr(client, method)
    kwargs = {"json": body} if body is not None else {}
    response = call(f"/api/v1/issues/{issue['id']}{suffix}", headers=world.h["agent_gz"], **kwargs)
    assert err(response, 404)["code"] == "not_found"
    listing = client.get("/api/v1/issues", headers=world.h["agent_gz"]).get_json()
    assert listing["items"] == []
    after = client.get(f"/api/v1/issues/{issue['id']}", headers=world.h["agent"]).get_json()
    assert after["version"] == 1 and len(after["history"]) == 1


def test_regional_and_company_roles_see_the_issue(client, world, new_issue):
    issue = new_issue()
    for who in ("rm", "qa", "om"):
        assert client.get(f"/api/v1/issues/{issue['id']}", headers=world.h[who]).status_code == 200


def test_patch_edits_and_refuses_status_fields(client, world, new_issue):
    issue = new_issue()
    url = f"/api/v1/issues/{issue['id']}"
    edited = client.patch(
        url, json={"version": 1, "priority": "urgent", "title": "新标题"}, headers=world.h["agent"]
    )
    assert edited.status_code == 200
    body = edited.get_json()
    assert body["priority"] == "urgent" and body["version"] == 2
    assert body["resolve_due_at"] < issue["resolve_due_at"]  # urgent: 9 h instead of 18
    refused = client.patch(
        url, json={"version": 2, "status": "closed", "rating": 5}, headers=world.h["agent"]
    )
    assert set(err(refused, 422)["fields"]) == {"status", "rating"}
    stale = client.patch(
        url, json={"version": 1, "title": "旧版本的修改"}, headers=world.h["agent"]
    )
    assert err(stale, 409)["code"] == "conflict"
    assert client.get(url, headers=world.h["agent"]).get_json()["title"] == "新标题"


def test_stale_version_on_an_action_is_409(client, world, new_issue):
    issue = new_issue()
    client.patch(
        f"/api/v1/issues/{issue['id']}", json={"version": 1, "title": "x"}, headers=world.h["agent"]
    )
    response = client.post(
        f"/api/v1/issues/{issue['id']}/handle", json={"version": 1}, headers=world.h["handler"]
    )
    assert err(response, 409)["code"] == "conflict"


def test_escalation_levels_notify_each_level_once(client, world, new_issue):
    issue = new_issue()
    url = f"/api/v1/issues/{issue['id']}/escalate"
    for level in (1, 2, 3):
        response = client.post(url, json={"reason": f"客户投诉升级 {level}"}, headers=world.h["om"])
        assert response.get_json()["escalation_level"] == level
    assert err(client.post(url, json={"reason": "again"}, headers=world.h["om"]), 409)
    recipients = sorted(db.session.scalars(sa.select(OutboxMessage.recipient)))
    assert recipients == ["om@sh.example.com", "qa@example.com", "rm@east.example.com"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Escalation)) == 3


def test_low_rating_reopens_and_notifies_office_manager(client, world, new_issue):
    issue = new_issue()
    url = f"/api/v1/issues/{issue['id']}"
    client.post(
        f"{url}/resolve",
        json={"resolution": "已处理", "root_cause": "process", "responsible": "服务部"},
        headers=world.h["handler"],
    )
    rated = client.post(
        f"{url}/close", json={"rating": 2, "comment": "还是不行"}, headers=world.h["agent"]
    ).get_json()
    assert rated["status"] == "reopened" and rated["rating"] == 2 and rated["reopen_count"] == 1
    messages = db.session.scalars(sa.select(OutboxMessage)).all()
    assert [m.recipient for m in messages] == ["om@sh.example.com"]
    history = [e["action"] for e in client.get(url, headers=world.h["agent"]).get_json()["history"]]
    assert history[-2:] == ["close", "reopen"]


def test_list_filters_and_search(client, world, new_issue):
    first = new_issue(title="打印机卡纸", priority="low")
    new_issue(title="发票开错", category="billing")
    h = world.h["agent"]
    by_priority = client.get("/api/v1/issues?priority=low", headers=h).get_json()["items"]
    assert [i["id"] for i in by_priority] == [first["id"]]
    by_text = client.get("/api/v1/issues", query_string={"q": "发票"}, headers=h).get_json()
    assert [i["title"] for i in by_text["items"]] == ["发票开错"]
    by_number = client.get("/api/v1/issues", query_string={"q": first["number"]}, headers=h)
    assert [i["id"] for i in by_number.get_json()["items"]] == [first["id"]]
    by_customer = client.get("/api/v1/issues", query_string={"q": "张"}, headers=h).get_json()
    assert len(by_customer["items"]) == 2
    status = client.get("/api/v1/issues?status=accepted,handling", headers=h).get_json()
    assert len(status["items"]) == 2


def test_overdue_filter(client, world, new_issue):
    new_issue(received_at="2026-01-05T09:00:00+08:00", priority="urgent")
    new_issue()
    overdue = client.get("/api/v1/issues?overdue=true", headers=world.h["agent"]).get_json()
    assert len(overdue["items"]) == 1


@pytest.mark.committing
@pytest.mark.parametrize("action", ["close", "escalate"])
def test_two_concurrent_calls_one_wins(app, client, world, new_issue, action):
    issue = new_issue()
    url = f"/api/v1/issues/{issue['id']}"
    if action == "close":
        client.post(
            f"{url}/resolve",
            json={"resolution": "x", "root_cause": "design", "responsible": "研发"},
            headers=world.h["handler"],
        )
        body, who = {"rating": 2}, "agent"  # low: reopens and tells the office manager
    else:
        client.post(f"{url}/escalate", json={"reason": "L1"}, headers=world.h["om"])
        client.post(f"{url}/escalate", json={"reason": "L2"}, headers=world.h["om"])
        body, who = {"reason": "L3 race"}, "om"
    version = client.get(url, headers=world.h[who]).get_json()["version"]
    statuses = []
    barrier = threading.Barrier(2)

    def call():
        other = app.test_client()
        barrier.wait()
        statuses.append(
            other.post(
                f"{url}/{action}", json={**body, "version": version}, headers=world.h[who]
            ).status_code
        )

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    db.session.expire_all()
    audited = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity_id == issue["id"], AuditEvent.action == action)
    )
    assert audited == (1 if action == "close" else 3)
    # close: the one low-rating message; escalate: levels 1, 2 and the one level 3
    messages = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    assert messages == (1 if action == "close" else 3)
    final = client.get(url, headers=world.h[who]).get_json()
    if action == "close":
        assert (final["status"], final["reopen_count"], final["rating"]) == ("reopened", 1, 2)
    else:
        assert (final["status"], final["escalation_level"]) == ("escalated", 3)


@pytest.mark.committing
def test_numbers_stay_unique_under_concurrent_intake(app, world):
    numbers = []
    barrier = threading.Barrier(10)
    payload = {
        "customer_id": world.customer.id,
        "title": "并发受理",
        "channel": "hotline",
        "category": "billing",
        "priority": "normal",
    }

    def intake():
        other = app.test_client()
        barrier.wait()
        response = other.post("/api/v1/issues", json=payload, headers=world.h["agent"])
        numbers.append(response.get_json()["number"])

    threads = [threading.Thread(target=intake) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    assert sorted(numbers) == [f"SH-{year}-{n:06d}" for n in range(1, 11)]


def test_unknown_issue_is_404(client, world):
    assert err(client.get("/api/v1/issues/999999", headers=world.h["qa"]), 404)["code"] == (
        "not_found"
    )


@pytest.mark.parametrize(
    "query",
    [
        {"status": "accepted,bogus"},
        {"priority": "critical"},
        {"channel": "fax"},
        {"limit": 201},
        {"created_from": "yesterday"},
        {"overdue": "perhaps"},
    ],
)
def test_bad_filters_are_422(client, world, query):
    response = client.get("/api/v1/issues", query_string=query, headers=world.h["agent"])
    assert set(err(response, 422)["fields"]) == set(query)


def test_bad_cursor_is_400(client, world):
    response = client.get("/api/v1/issues?cursor=xyz", headers=world.h["agent"])
    assert err(response, 400)["code"] == "bad_cursor"


def test_pages_through_the_list(client, world, new_issue):
    made = [new_issue()["id"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/issues", query_string=query, headers=world.h["agent"])
        body = page.get_json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)


def test_patch_refuses_owner_and_bad_json(client, world, new_issue):
    issue = new_issue()
    url = f"/api/v1/issues/{issue['id']}"
    owner = client.patch(
        url, json={"version": 1, "owner_id": world.handler.id}, headers=world.h["om"]
    )
    assert err(owner, 422)["fields"] == {"owner_id": "not editable"}
    broken = client.patch(
        url, data='{"version": 1,', headers={**world.h["om"], "Content-Type": "application/json"}
    )
    assert err(broken, 400)["code"] == "bad_request"
    missing = client.patch(url, json={"title": "x"}, headers=world.h["om"])
    assert "version" in err(missing, 422)["fields"]
    assert client.get(url, headers=world.h["om"]).get_json()["version"] == 1


def test_list_queries_do_not_grow_with_the_page(client, world, new_issue, count_queries):
    for _ in range(3):
        new_issue()

    def queries_for_page():
        with count_queries() as statements:
            response = client.get("/api/v1/issues", headers=world.h["agent"])
        assert response.status_code == 200
        return len(statements), len(response.get_json()["items"])

    small = queries_for_page()
    for _ in range(12):
        new_issue(customer_id=world.customer.id)
    large = queries_for_page()
    assert (small[1], large[1]) == (3, 15)
    assert small[0] == large[0]


def test_openapi_documents_every_issue_endpoint(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert set(paths["/api/v1/issues"]) >= {"get", "post"}
    assert set(paths["/api/v1/issues/{issue_id}"]) >= {"get", "patch"}
    for action in ("handle", "wait", "escalate", "resolve", "close", "reopen", "notes", "contacts"):
        operation = paths[f"/api/v1/issues/{{issue_id}}/{action}"]["post"]
        assert "requestBody" in operation
        assert {"404", "422"} <= set(operation["responses"])
    created = paths["/api/v1/issues"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["$ref"].endswith("/Issue")
    issue = spec["components"]["schemas"]["Issue"]["properties"]
    assert {"id", "number", "status", "response_due_at", "resolve_due_at", "version"} <= set(issue)
