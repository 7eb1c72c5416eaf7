"""/api/v1/voices: every path, good and bad input, scoping, conflicts, search and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.extensions import db
from app.voice.models import Voice, VoiceIssueLink

URL = "/api/v1/voices"


def post(client, world, who="agent", **body):
    payload = {"channel": "hotline", "text": "打印机卡纸", "customer_id": world.customer.id, **body}
    return client.post(URL, json=payload, headers=world.h[who])


def count(model=Voice):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_create_answers_201_with_kind_and_reference(client, world):
    r = post(
        client,
        world,
        channel="return",
        category="product_quality",
        sentiment="negative",
        details={"batch": "B-7", "reason_code": "DOA"},
        occurred_at="2026-11-20T09:30:00+08:00",
        external_id="CC-1001",
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["kind"] == "passive"
    assert body["reference"].startswith("V-")
    assert body["office"] == "SH"
    assert body["category"] == "product_quality"
    assert body["dimension"] == "product"
    assert body["details"] == {"batch": "B-7", "reason_code": "DOA"}
    assert body["occurred_at"] == "2026-11-20T01:30:00+00:00"
    assert body["external_id"] == "CC-1001"
    active = post(client, world, channel="interview", customer_id=None, office="SH").get_json()
    assert active["kind"] == "active" and active["customer_id"] is None


def test_bad_input_is_422_with_fields_and_nothing_is_stored(client, world):
    cases = [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "长" * 20_001}, "text"),
        ({"channel": "fax"}, "channel"),
        ({"category": "nope"}, "category"),
        ({"dimension": "price"}, "dimension"),
        ({"sentiment": "furious"}, "sentiment"),
        ({"customer_id": world.customer_gz.id}, "customer_id"),
        ({"occurred_at": "2026-11-20T09:30:00"}, "occurred_at"),
        ({"details": {"colour": "red"}}, "details.colour"),
        ({"customer_id": "12"}, "customer_id"),
    ]
    for body, field in cases:
        r = post(client, world, **body)
        assert r.status_code == 422, (body, r.get_json())
        error = r.get_json()["error"]
        assert field in error["fields"], (body, error)
    missing = client.post(URL, json={"channel": "web"}, headers=world.h["agent"])
    assert missing.status_code == 422 and "text" in missing.get_json()["error"]["fields"]
    assert count() == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity_type == "voice")
        )
        == 0
    )


def test_a_customer_of_another_office_than_the_voices_is_422(client, world):
    r = post(client, world, who="qa", office="GZ")  # the SH customer, filed in GZ
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"customer_id": "a customer of office SH, not of GZ"}
    assert count() == 0
    assert post(client, world, who="qa", office="SH").status_code == 201


def test_control_characters_are_422_naming_the_field_on_every_engine(client, world):
    message = "must not contain control characters (found U+0000)"
    for body, field in [
        ({"text": "打印机\x00卡纸"}, "text"),
        ({"contact_name": "王\x00"}, "contact_name"),
        ({"external_id": "CC\x00-1"}, "external_id"),
        ({"details": {"product": "XR\x00200"}}, "details.product"),
    ]:
        r = post(client, world, **body)
        assert r.status_code == 422, body
        assert r.get_json()["error"]["fields"] == {field: message}
    r = post(client, world, text="响铃\x07")
    assert r.get_json()["error"]["fields"] == {
        "text": "must not contain control characters (found U+0007)"
    }
    assert count() == 0
    # tab, line feed and carriage return are text
    body = post(client, world, text="第一行\r\n第二行\t完").get_json()
    assert body["text"] == "第一行\r\n第二行\t完"


def test_text_of_20000_characters_is_accepted(client, world):
    assert post(client, world, text="长" * 20_000).status_code == 201


def test_malformed_json_is_400(client, world):
    r = client.post(
        URL,
        data='{"channel": "web", "text": ',
        headers={**world.h["agent"], "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.get_json()["error"]["code"]


def test_unauthenticated_is_401(client, world):
    assert client.get(URL).status_code == 401
    assert client.post(URL, json={"channel": "web", "text": "x"}).status_code == 401


def test_script_is_stored_as_typed(client, world):
    script = "<script>alert('x')</script> 退货"
    body = post(client, world, text=script).get_json()
    assert body["text"] == script
    again = client.get(f"{URL}/{body['id']}", headers=world.h["agent"]).get_json()
    assert again["text"] == script


def test_external_id_reused_in_office_and_channel_is_409_naming_the_voice(client, world):
    first = post(client, world, external_id="CC-77").get_json()
    r = post(client, world, external_id="CC-77", text="另一通电话")
    assert r.status_code == 409
    error = r.get_json()["error"]
    assert error["code"] == "conflict"
    assert first["reference"] in error["message"]
    assert error["fields"]["external_id"] == f"already used by voice {first['id']}"
    assert count() == 1
    events = db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "voice")
    )
    assert events == 1
    # another channel, or another office, may use the same id
    assert post(client, world, external_id="CC-77", channel="web").status_code == 201
    assert (
        post(
            client, world, who="agent_gz", customer_id=world.customer_gz.id, external_id="CC-77"
        ).status_code
        == 201
    )


def test_another_offices_voice_is_404_on_every_endpoint(client, world):
    gz = post(client, world, who="agent_gz", customer_id=world.customer_gz.id).get_json()
    assert client.get(f"{URL}/{gz['id']}", headers=world.h["agent"]).status_code == 404
    assert client.get(f"{URL}/{gz['id']}", headers=world.h["rm"]).status_code == 404  # other region
    assert client.get(f"{URL}/{gz['id']}", headers=world.h["qa"]).status_code == 200  # company
    listed = client.get(URL, headers=world.h["agent"]).get_json()
    assert gz["id"] not in [v["id"] for v in listed["items"]]
    r = client.get(URL, query_string={"office": "GZ"}, headers=world.h["agent"])
    assert r.status_code == 200 and r.get_json()["items"] == []
    assert client.get(f"{URL}/999999", headers=world.h["agent"]).status_code == 404


def test_detail_shows_links_repeats_and_source(client, world, new_issue):
    voice = post(client, world).get_json()
    issue = new_issue(voice_id=voice["id"])
    again = post(client, world, text="打印机又卡纸了").get_json()
    from app.voice.services import link_repeat_of_voice

    link_repeat_of_voice(actor=world.agent, voice_id=again["id"], other_id=voice["id"])
    db.session.commit()
    body = client.get(f"{URL}/{voice['id']}", headers=world.h["agent"]).get_json()
    assert body["issues"] == [
        {"kind": "raised", "issue_id": issue["id"], "number": issue["number"], "status": "accepted"}
    ]
    assert body["repeats"] == [{"id": again["id"], "reference": again["reference"]}]
    assert body["source"] is None
    other = client.get(f"{URL}/{again['id']}", headers=world.h["agent"]).get_json()
    assert other["repeat_of"] == {"id": voice["id"], "reference": voice["reference"]}


def test_list_filters(client, world):
    post(client, world, channel="return", category="product_quality", sentiment="negative")
    post(client, world, channel="interview", text="服务态度很好", sentiment="positive")
    post(client, world, channel="web", text="网站打不开", occurred_at="2026-10-01T10:00:00+08:00")

    def ids(**query):
        r = client.get(URL, query_string=query, headers=world.h["agent"])
        assert r.status_code == 200, r.get_json()
        return [v["channel"] for v in r.get_json()["items"]]

    assert ids(channel="return") == ["return"]
    assert ids(kind="active") == ["interview"]
    assert ids(sentiment="positive") == ["interview"]
    assert ids(category="product_quality") == ["return"]
    assert ids(dimension="product") == ["return"]
    assert ids(customer_id=world.customer.id, occurred_to="2026-10-01") == ["web"]
    assert "web" not in ids(occurred_from="2026-10-02")
    assert ids(office="SH", channel="web") == ["web"]
    bad = client.get(URL, query_string={"channel": "fax"}, headers=world.h["agent"])
    assert bad.status_code == 422 and "channel" in bad.get_json()["error"]["fields"]
    assert (
        client.get(URL, query_string={"cursor": "@@"}, headers=world.h["agent"]).status_code == 400
    )


def test_chinese_search_with_two_and_four_characters(client, world):
    post(client, world, text="客户投诉设备无法开机，要求上门")
    post(client, world, text="发票抬头开错了")
    post(client, world, text="上门服务人员迟到两个小时")
    post(client, world, text="Printer JAM again")

    def texts(q):
        r = client.get(URL, query_string={"q": q}, headers=world.h["agent"])
        assert r.status_code == 200
        return sorted(v["text"] for v in r.get_json()["items"])

    assert texts("上门") == ["上门服务人员迟到两个小时", "客户投诉设备无法开机，要求上门"]
    assert texts("无法开机") == ["客户投诉设备无法开机，要求上门"]
    assert texts("设备无法开机要求") == []  # a substring, not a bag of words
    assert texts("printer jam") == ["Printer JAM again"]
    assert texts("发") == ["发票抬头开错了"]
    assert texts('50%"') == []  # wildcards and quotes are literal


def test_keyset_pagination_is_complete_and_stable(client, world):
    base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    for i in range(7):
        post(
            client, world, text=f"第{i}条", occurred_at=(base + timedelta(hours=i % 3)).isoformat()
        )
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get(URL, query_string=query, headers=world.h["agent"]).get_json()
        seen += [(v["occurred_at"], v["id"]) for v in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)


def test_issue_from_voice_links_both_ways(client, world, new_issue):
    voice = post(client, world).get_json()
    issue = new_issue(voice_id=voice["id"])
    assert issue["voice_id"] == voice["id"]
    link = db.session.scalars(sa.select(VoiceIssueLink)).one()
    assert (link.voice_id, link.issue_id, link.kind) == (voice["id"], issue["id"], "raised")


def test_issue_with_a_voice_out_of_scope_is_404_of_another_customer_422(client, world):
    gz = post(client, world, who="agent_gz", customer_id=world.customer_gz.id).get_json()
    payload = {
        "customer_id": world.customer.id,
        "title": "t",
        "channel": "hotline",
        "category": "product_quality",
        "voice_id": gz["id"],
    }
    r = client.post("/api/v1/issues", json=payload, headers=world.h["agent"])
    assert r.status_code == 404  # as for any record the caller may not see
    r = client.post(
        "/api/v1/issues", json={**payload, "voice_id": 123456789}, headers=world.h["agent"]
    )
    assert r.status_code == 404
    gz_issue = client.post(
        "/api/v1/issues",
        json={**payload, "customer_id": world.customer_gz.id, "voice_id": None},
        headers=world.h["agent_gz"],
    )
    assert gz_issue.status_code == 201
    mine = post(client, world).get_json()
    r = client.post(
        "/api/v1/issues",
        json={**payload, "customer_id": world.customer_gz.id, "voice_id": mine["id"]},
        headers=world.h["qa"],
    )
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"voice_id": "the voice is about another customer"}
    assert count(VoiceIssueLink) == 0


def test_openapi_documents_the_voice_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/voices", "/api/v1/voices/{voice_id}"} <= set(spec["paths"])
    post_op = spec["paths"]["/api/v1/voices"]["post"]
    assert {"201", "409", "422"} <= set(post_op["responses"])
