"""Bearer tokens: who they authenticate, and how often their use is written down."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.api import auth
from app.auth.models import ApiToken
from app.db import utcnow
from app.extensions import db


def token_row():
    db.session.expire_all()
    return db.session.scalars(sa.select(ApiToken)).one()


def count_token_writes():
    writes = []

    def listen(conn, cursor, statement, *args):
        # the request's conditional UPDATE (the test's own edits go by id)
        if statement.lstrip().startswith("UPDATE api_tokens") and "token_hash" in statement:
            writes.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    return writes, lambda: sa.event.remove(db.engine, "before_cursor_execute", listen)


def test_last_used_at_is_written_at_most_once_a_minute(
    client, make_office, make_user, api_headers, monkeypatch
):
    headers = api_headers(make_user("agent", office=make_office()))
    assert token_row().last_used_at is None
    clock = [1000.0]
    monkeypatch.setattr(auth, "_clock", lambda: clock[0])
    writes, stop = count_token_writes()
    try:
        assert client.get("/api/v1/customers", headers=headers).status_code == 200
        first = token_row().last_used_at
        assert first is not None and utcnow() - first < timedelta(seconds=30)
        for _ in range(5):
            assert client.get("/api/v1/customers", headers=headers).status_code == 200
        assert len(writes) == 1  # reads stay reads
        assert token_row().last_used_at == first

        # a minute later the next request records the use again
        row = token_row()
        row.last_used_at = first - timedelta(minutes=2)
        db.session.commit()
        clock[0] += 61
        assert client.get("/api/v1/customers", headers=headers).status_code == 200
        assert token_row().last_used_at > first - timedelta(minutes=2)
        assert len(writes) == 2
    finally:
        stop()


def test_another_process_touching_recently_means_no_new_stamp(
    client, make_office, make_user, api_headers, monkeypatch
):
    headers = api_headers(make_user("agent", office=make_office()))
    recent = utcnow() - timedelta(seconds=10)
    row = token_row()
    row.last_used_at = recent
    db.session.commit()
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    assert token_row().last_used_at == recent


def test_bearer_scheme_is_case_insensitive_and_token_must_follow(
    client, make_office, make_user, api_headers
):
    headers = api_headers(make_user("agent", office=make_office()))
    token = headers["Authorization"].split(" ", 1)[1]
    lower = {"Authorization": f"bearer {token}"}
    assert client.get("/api/v1/customers", headers=lower).status_code == 200
    for value in ("Bearer", "Bearer ", token, f"Token {token}", f"Bearer {token}x"):
        response = client.get("/api/v1/customers", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_writes_need_no_csrf_token_and_cookies_do_not_help(
    client, make_office, make_user, api_headers, login_as
):
    user = make_user("agent", office=make_office())
    login_as(user)
    refused = client.post("/api/v1/customers", json={"name": "张伟"})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    created = client.post("/api/v1/customers", json={"name": "张伟"}, headers=api_headers(user))
    assert created.status_code == 201


def test_an_api_request_leaves_the_session_cookie_unread(
    client, make_office, make_user, api_headers, login_as
):
    """A signed-in browser's cookie is neither read nor rewritten by the API (who asks is the
    token's business); the pages still read it."""
    from flask import session

    user = make_user("agent", office=make_office())
    login_as(user)
    with client:
        response = client.get("/api/v1/customers", headers=api_headers(user))
        assert response.status_code == 200
        assert dict(session) == {}
        assert "Set-Cookie" not in response.headers
    with client:
        assert client.get("/issues/").status_code == 200
        assert "_user_id" in session
