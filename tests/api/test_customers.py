"""The customers API and the conventions of /api/v1 (auth, envelope, paging, limits)."""

from __future__ import annotations

import pytest

from app.extensions import db


@pytest.fixture
def two_offices(make_region, make_office):
    east = make_region("EAST")
    south = make_region("SOUTH")
    return make_office("SH", region=east), make_office("GZ", region=south)


@pytest.fixture
def agent_a(two_offices, make_user):
    return make_user("agent", office=two_offices[0])


@pytest.fixture
def agent_b(two_offices, make_user):
    return make_user("agent", office=two_offices[1])


def create(client, headers, **body):
    payload = {"name": "张伟", "phone": "+86 138-0013-8000", **body}
    return client.post("/api/v1/customers", json=payload, headers=headers)


def assert_envelope(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    return error


def test_create_defaults_to_own_office_and_normalises_phone(client, agent_a, api_headers):
    response = create(client, api_headers(agent_a), company="上海电气")
    assert response.status_code == 201
    body = response.get_json()
    assert body["office"] == "SH"
    assert body["phones"] == ["13800138000"]
    assert body["version"] == 1
    assert "+" in body["created_at"] or body["created_at"].endswith("Z")


def test_full_width_phone_finds_customer(client, agent_a, api_headers):
    headers = api_headers(agent_a)
    create(client, headers)
    found = client.get(
        "/api/v1/customers", query_string={"q": "１３８ ００１３ ８０００"}, headers=headers
    )
    assert [c["phones"] for c in found.get_json()["items"]] == [["13800138000"]]
    prefix = client.get("/api/v1/customers", query_string={"q": "138-00"}, headers=headers)
    assert len(prefix.get_json()["items"]) == 1
    miss = client.get("/api/v1/customers", query_string={"q": "139"}, headers=headers)
    assert miss.get_json()["items"] == []


def test_search_by_name_and_company(client, agent_a, api_headers):
    headers = api_headers(agent_a)
    create(client, headers, name="李娜", company="杭州钢铁", phone="13900000001")
    create(client, headers, name="王芳", company="南京化工", phone="13900000002")
    by_name = client.get("/api/v1/customers?q=李", headers=headers).get_json()["items"]
    by_company = client.get("/api/v1/customers?q=化工", headers=headers).get_json()["items"]
    assert [c["name"] for c in by_name] == ["李娜"]
    assert [c["name"] for c in by_company] == ["王芳"]
    literal = client.get("/api/v1/customers?q=%25", headers=headers).get_json()["items"]
    assert literal == []


def test_other_office_gets_404_and_never_sees_it(client, agent_a, agent_b, api_headers):
    customer = create(client, api_headers(agent_a)).get_json()
    headers_b = api_headers(agent_b)
    response = client.get(f"/api/v1/customers/{customer['id']}", headers=headers_b)
    assert_envelope(response, 404, "not_found")
    patch = client.patch(
        f"/api/v1/customers/{customer['id']}", json={"version": 1, "name": "x"}, headers=headers_b
    )
    assert_envelope(patch, 404, "not_found")
    listing = client.get("/api/v1/customers", headers=headers_b).get_json()
    search = client.get("/api/v1/customers?q=138", headers=headers_b).get_json()
    assert listing["items"] == [] and search["items"] == []


def test_regional_manager_sees_region_only(
    client, two_offices, agent_a, agent_b, make_user, api_headers
):
    sh_customer = create(client, api_headers(agent_a)).get_json()
    gz_customer = create(client, api_headers(agent_b), phone="13700000000").get_json()
    east_manager = make_user("regional_manager", region=two_offices[0].region)
    headers = api_headers(east_manager)
    ids = [c["id"] for c in client.get("/api/v1/customers", headers=headers).get_json()["items"]]
    assert ids == [sh_customer["id"]]
    assert client.get(f"/api/v1/customers/{gz_customer['id']}", headers=headers).status_code == 404


def test_validation_errors_name_the_fields(client, agent_a, api_headers):
    headers = api_headers(agent_a)
    response = client.post(
        "/api/v1/customers",
        json={"name": "", "tier": "Z", "email": "not-an-email", "colour": "red"},
        headers=headers,
    )
    error = assert_envelope(response, 422, "validation_failed")
    assert {"name", "tier", "colour"} <= set(error["fields"])
    bad_phone = create(client, headers, phone="abc")
    assert "phone" in assert_envelope(bad_phone, 422, "validation_failed")["fields"]
    bad_office = create(client, headers, office="GZ")
    assert "office" in assert_envelope(bad_office, 422, "validation_failed")["fields"]


def test_malformed_json_is_400(client, agent_a, api_headers):
    response = client.post(
        "/api/v1/customers",
        data='{"name": "x",',
        headers={**api_headers(agent_a), "Content-Type": "application/json"},
    )
    assert_envelope(response, 400, "bad_request")


def test_oversized_body_is_413(client, agent_a, api_headers):
    response = client.post(
        "/api/v1/customers",
        json={"name": "x", "notes": "长" * 600_000},
        headers=api_headers(agent_a),
    )
    assert_envelope(response, 413, "payload_too_large")


def test_stale_version_is_409_and_changes_nothing(client, agent_a, api_headers):
    headers = api_headers(agent_a)
    customer = create(client, headers).get_json()
    url = f"/api/v1/customers/{customer['id']}"
    first = client.patch(url, json={"version": 1, "name": "张伟（新）"}, headers=headers)
    assert first.status_code == 200 and first.get_json()["version"] == 2
    stale = client.patch(url, json={"version": 1, "name": "覆盖"}, headers=headers)
    assert_envelope(stale, 409, "conflict")
    assert client.get(url, headers=headers).get_json()["name"] == "张伟（新）"


def test_patch_refuses_read_only_fields(client, agent_a, api_headers):
    headers = api_headers(agent_a)
    customer = create(client, headers).get_json()
    response = client.patch(
        f"/api/v1/customers/{customer['id']}", json={"version": 1, "id": 99}, headers=headers
    )
    assert_envelope(response, 422, "validation_failed")


def test_pagination_walks_every_row_once(client, agent_a, api_headers):
    headers = api_headers(agent_a)
    for i in range(7):
        create(client, headers, name=f"客户{i}", phone=f"1380000000{i}")
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/customers", query_string=query, headers=headers).get_json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)
    too_many = client.get("/api/v1/customers?limit=500", headers=headers)
    assert "limit" in assert_envelope(too_many, 422, "validation_failed")["fields"]
    bad_cursor = client.get("/api/v1/customers?cursor=%%%", headers=headers)
    assert_envelope(bad_cursor, 400, "bad_cursor")


def test_detail_reserves_history_lists(client, agent_a, api_headers):
    headers = api_headers(agent_a)
    customer = create(client, headers).get_json()
    detail = client.get(f"/api/v1/customers/{customer['id']}", headers=headers).get_json()
    assert detail["open_issues"] == [] and detail["recent_voices"] == []


def test_customer_html_is_stored_as_typed(client, agent_a, api_headers):
    headers = api_headers(agent_a)
    body = create(client, headers, name="<script>alert(1)</script>").get_json()
    assert body["name"] == "<script>alert(1)</script>"
    db.session.expire_all()
