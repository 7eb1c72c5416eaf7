"""Token auth, the error envelope for everything under /api/, OpenAPI, health."""

from __future__ import annotations

from app.auth.tokens import revoke_token
from app.extensions import db


def test_missing_and_invalid_tokens_are_401(client):
    response = client.get("/api/v1/customers")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    bad = client.get("/api/v1/customers", headers={"Authorization": "Bearer vt_nope"})
    assert bad.status_code == 401
    basic = client.get("/api/v1/customers", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert basic.status_code == 401


def test_revoked_token_is_401(client, make_office, make_user, api_headers):
    user = make_user("agent", office=make_office())
    headers = api_headers(user)
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    from app.auth.models import ApiToken

    token = db.session.query(ApiToken).one()
    revoke_token(token.id)
    db.session.commit()
    assert client.get("/api/v1/customers", headers=headers).status_code == 401


def test_session_cookie_alone_does_not_authenticate_api(client, make_office, make_user, login_as):
    user = make_user("agent", office=make_office())
    login_as(user)
    assert client.get("/api/v1/customers").status_code == 401


def test_inactive_user_token_is_401(client, make_office, make_user, api_headers):
    user = make_user("agent", office=make_office())
    headers = api_headers(user)
    user.active = False
    db.session.commit()
    assert client.get("/api/v1/customers", headers=headers).status_code == 401


def test_unknown_endpoint_and_method_use_the_envelope(client, make_office, make_user, api_headers):
    headers = api_headers(make_user("agent", office=make_office()))
    missing = client.get("/api/v1/nothing-here", headers=headers)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    wrong_method = client.delete("/api/v1/customers", headers=headers)
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"


def test_org_writes_are_admin_only(client, make_region, make_office, make_user, api_headers):
    agent = make_user("agent", office=make_office())
    admin = make_user("admin")
    refused = client.post(
        "/api/v1/regions", json={"code": "N", "name": "北"}, headers=api_headers(agent)
    )
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    headers = api_headers(admin)
    region = client.post(
        "/api/v1/regions", json={"code": "north", "name": "华北地区部"}, headers=headers
    )
    assert region.status_code == 201 and region.get_json()["code"] == "NORTH"
    office = client.post(
        "/api/v1/offices",
        json={"code": "BJ", "name": "北京代表处", "region": "NORTH"},
        headers=headers,
    )
    assert office.status_code == 201 and office.get_json()["region"] == "NORTH"
    duplicate = client.post("/api/v1/regions", json={"code": "NORTH", "name": "x"}, headers=headers)
    assert duplicate.status_code == 422 and "code" in duplicate.get_json()["error"]["fields"]
    unknown_region = client.post(
        "/api/v1/offices", json={"code": "TJ", "name": "天津", "region": "NOPE"}, headers=headers
    )
    assert "region" in unknown_region.get_json()["error"]["fields"]
    listed = client.get("/api/v1/offices", headers=headers).get_json()["items"]
    assert [o["code"] for o in listed] == ["BJ", "SH"]


def test_offices_list_is_scoped(client, make_region, make_office, make_user, api_headers):
    sh = make_office("SH", region=make_region("EAST"))
    make_office("GZ", region=make_region("SOUTH"))
    agent = make_user("agent", office=sh)
    listed = client.get("/api/v1/offices", headers=api_headers(agent)).get_json()["items"]
    assert [o["code"] for o in listed] == ["SH"]


def test_users_api_creates_without_exposing_password(client, make_office, make_user, api_headers):
    make_office("SH")
    admin_headers = api_headers(make_user("admin"))
    body = {
        "email": "New.Agent@Example.com",
        "name": "新坐席",
        "role": "agent",
        "office": "SH",
        "password": "long enough password",
    }
    created = client.post("/api/v1/users", json=body, headers=admin_headers)
    assert created.status_code == 201
    data = created.get_json()
    assert data["email"] == "new.agent@example.com" and "password" not in data
    wrong_place = client.post(
        "/api/v1/users",
        json={**body, "email": "x@example.com", "office": None, "region": None},
        headers=admin_headers,
    )
    assert "office" in wrong_place.get_json()["error"]["fields"]
    agent_headers = api_headers(make_user("agent", office=make_office("HZ")))
    assert client.post("/api/v1/users", json=body, headers=agent_headers).status_code == 403


def test_openapi_document_describes_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/regions",
        "/api/v1/offices",
        "/api/v1/users",
    ):
        assert path in spec["paths"], path
    assert "Customer" in spec["components"]["schemas"]


def test_a_body_that_is_not_json_is_415(client, make_office, make_user, api_headers):
    headers = api_headers(make_user("agent", office=make_office()))
    for content_type in ("application/x-www-form-urlencoded", "text/plain"):
        response = client.post(
            "/api/v1/customers",
            data="name=张伟",
            headers={**headers, "Content-Type": content_type},
        )
        assert response.status_code == 415, content_type
        assert response.get_json()["error"]["code"] == "unsupported_media_type"
    malformed = client.post(
        "/api/v1/customers",
        data=b"\xff\xfe{",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.get_json()["error"]["code"] == "bad_request"


def test_ids_no_column_can_hold_are_404_not_500(client, make_office, make_user, api_headers):
    headers = api_headers(make_user("agent", office=make_office()))
    huge = "9" * 30
    assert client.get(f"/api/v1/customers/{huge}", headers=headers).status_code == 404
    patch = client.patch(f"/api/v1/customers/{huge}", json={"version": 1}, headers=headers)
    assert patch.status_code == 404 and patch.get_json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/customers/{2**63 - 1}", headers=headers).status_code == 404


def test_html_pages_keep_their_error_pages(client):
    # flask-smorest registers its own JSON error handler; outside /api/ ours must still win
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<html" in response.get_data(as_text=True)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_openapi_documents_auth_errors_and_input_schemas(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearer": []}]
    create = spec["paths"]["/api/v1/customers"]["post"]
    body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = spec["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert "name" in body["required"] and "phone" in body["properties"]
    listing = spec["paths"]["/api/v1/customers"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 200 and "cursor" in params and "q" in params
    patch = spec["paths"]["/api/v1/customers/{customer_id}"]["patch"]
    assert "422" in patch["responses"]
    for path in spec["paths"]:
        assert path.startswith("/api/v1/"), path
