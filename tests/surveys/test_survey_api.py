"""POST/GET/PUT /api/v1/surveys: names from API.md, roles, versions, errors."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.audit import history
from app.extensions import db
from app.surveys.models import Survey
from tests.surveys.helpers import design


@pytest.fixture
def created(client, world):
    response = client.post("/api/v1/surveys", json=design(), headers=world.h["qa"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_and_read_use_the_api_names(client, world, created):
    assert created["status"] == "draft" and created["version"] == 1
    assert created["family_id"] == created["id"] and created["kind"] == "project"
    q = created["questions"][0]
    assert {k: q[k] for k in ("key", "type", "text", "indicator", "weight")} == {
        "key": "quality",
        "type": "rating5",
        "text": "您对交付质量满意吗？",
        "indicator": "quality",
        "weight": 60.0,
    }
    assert created["questions"][3]["options"] == ["展会", "朋友"]
    got = client.get(f"/api/v1/surveys/{created['id']}", headers=world.h["om"])
    assert got.status_code == 200 and got.get_json()["questions"] == created["questions"]
    assert [e.action for e in history("survey", created["id"])] == ["create"]


def test_weights_not_100_is_a_422_that_says_so_and_writes_nothing(client, world):
    data = design()
    data["questions"][0]["weight"] = 50
    response = client.post("/api/v1/surveys", json=data, headers=world.h["qa"])
    body = response.get_json()
    assert response.status_code == 422
    assert "sum to 100" in body["error"]["message"] and "weights" in body["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Survey)) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"title": "x", "kind": "project"}, 422),
        ({"title": "x", "kind": "project", "questions": "no"}, 422),
        ({"title": "x", "kind": "project", "questions": [{"key": "a"}]}, 422),
    ],
)
def test_malformed_bodies_get_the_envelope(client, world, body, status):
    response = client.post("/api/v1/surveys", json=body, headers=world.h["qa"])
    assert response.status_code == status and "error" in response.get_json()


def test_roles(client, world, created):
    assert client.post("/api/v1/surveys", json=design(), headers=world.h["om"]).status_code == 403
    assert (
        client.get(f"/api/v1/surveys/{created['id']}", headers=world.h["agent"]).status_code == 403
    )
    assert client.get("/api/v1/surveys/999999", headers=world.h["qa"]).status_code == 404
    assert client.get(f"/api/v1/surveys/{created['id']}").status_code == 401


def test_a_draft_is_edited_in_place_an_active_survey_gets_a_new_version(client, world, created):
    sid, h = created["id"], world.h["qa"]
    put = client.put(f"/api/v1/surveys/{sid}", json=design(title="改名"), headers=h)
    assert put.status_code == 200 and put.get_json()["id"] == sid
    assert (
        client.post(f"/api/v1/surveys/{sid}/activate", headers=h).get_json()["status"] == "active"
    )
    new = client.put(f"/api/v1/surveys/{sid}", json=design(title="第二版"), headers=h).get_json()
    assert new["id"] != sid and new["version"] == 2 and new["status"] == "draft"
    assert new["family_id"] == sid
    old = client.get(f"/api/v1/surveys/{sid}", headers=h).get_json()
    assert old["title"] == "改名" and old["status"] == "active"  # untouched
    again = client.put(f"/api/v1/surveys/{sid}", json=design(), headers=h)
    assert again.status_code == 409  # the draft of version 2 is where edits go
    activated = client.post(f"/api/v1/surveys/{new['id']}/activate", headers=h).get_json()
    assert activated["status"] == "active"
    assert client.get(f"/api/v1/surveys/{sid}", headers=h).get_json()["status"] == "retired"
    assert client.post(f"/api/v1/surveys/{sid}/activate", headers=h).status_code == 409


def test_list_is_keyset_paginated(client, world):
    for n in range(3):
        client.post("/api/v1/surveys", json=design(title=f"S{n}"), headers=world.h["qa"])
    first = client.get("/api/v1/surveys?limit=2", headers=world.h["rm"]).get_json()
    assert [s["title"] for s in first["items"]] == ["S2", "S1"] and first["next_cursor"]
    rest = client.get(
        f"/api/v1/surveys?limit=2&cursor={first['next_cursor']}", headers=world.h["rm"]
    ).get_json()
    assert [s["title"] for s in rest["items"]] == ["S0"] and rest["next_cursor"] is None
    assert client.get("/api/v1/surveys?cursor=zzz", headers=world.h["rm"]).status_code == 400
