"""Signing in and out: throttle, CSRF, safe redirects, server-side revocation."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.auth.models import UserSession
from app.core.urls import safe_next
from app.extensions import db
from tests.conftest import DEFAULT_PASSWORD


@pytest.fixture
def agent(make_office, make_user):
    return make_user("agent", office=make_office(), email="agent@example.com")


def login(post_form, email="agent@example.com", password=DEFAULT_PASSWORD, next_=""):
    url = "/login" + (f"?next={next_}" if next_ else "")
    return post_form(url, {"email": email, "password": password, "next": next_}, action="/login")


def test_login_page_is_chinese_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in html


def test_login_success_creates_server_session(client, agent, post_form):
    response = login(post_form)
    assert response.status_code == 302
    assert db.session.scalars(select(UserSession)).one().user_id == agent.id
    assert client.get("/customers/").status_code == 200


def test_wrong_password_and_unknown_email_read_the_same(client, agent, post_form):
    wrong = login(post_form, password="nope-nope-nope")
    unknown = login(post_form, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 200
    assert "/customers/" not in wrong.headers.get("Location", "")
    assert client.get("/customers/").status_code == 302


def test_login_without_csrf_is_refused(client, agent):
    response = client.post("/login", data={"email": agent.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert client.get("/customers/").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/ok\r\nLocation: https://evil.example",
        "evil.example",
    ],
)
def test_next_never_leaves_the_site(target):
    assert safe_next(target, "/") == "/"


def test_next_keeps_local_paths(client, agent, post_form):
    assert safe_next("/customers/?q=1", "/") == "/customers/?q=1"
    response = login(post_form, next_="/customers/?q=138")
    assert response.headers["Location"].endswith("/customers/?q=138")


def test_open_redirect_refused_on_login(client, agent, post_form):
    response = login(post_form, next_="//evil.example")
    assert "evil.example" not in response.headers["Location"]


def test_throttle_blocks_after_limit(app, client, agent, post_form):
    limit = app.config["LOGIN_THROTTLE_LIMIT"]
    for _ in range(limit):
        assert login(post_form, password="wrong-password").status_code == 200
    blocked = login(post_form)  # even the right password is refused while throttled
    assert blocked.status_code == 429
    assert client.get("/customers/").status_code == 302


def test_throttle_holds_under_concurrent_attempts(app, agent, monkeypatch):
    """20 parallel wrong guesses: no more than the limit may reach the password check."""
    from app.auth import services
    from app.auth.services import BadCredentials, authenticate
    from app.core.errors import RateLimited

    checks = []
    real_verify = services.verify_password

    def counting_verify(password_hash, password):
        checks.append(1)
        return real_verify(password_hash, password)

    monkeypatch.setattr(services, "verify_password", counting_verify)
    outcomes = []
    barrier = threading.Barrier(20)

    def guess(i):
        with app.app_context():
            barrier.wait()
            try:
                authenticate("agent@example.com", f"wrong-{i}", client_ip=f"10.0.0.{i}")
            except (BadCredentials, RateLimited) as exc:
                outcomes.append(type(exc).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 20
    assert len(checks) <= app.config["LOGIN_THROTTLE_LIMIT"]
    assert outcomes.count("RateLimited") >= 20 - app.config["LOGIN_THROTTLE_LIMIT"]


def test_logout_revokes_the_session_even_if_cookie_replayed(app, client, agent, post_form):
    login(post_form)
    stolen = client.get_cookie("session").value
    page = client.get("/customers/").get_data(as_text=True)
    from tests.conftest import csrf_from

    client.post("/logout", data={"csrf_token": csrf_from(page)})
    assert db.session.scalars(select(UserSession)).one().revoked_at is not None
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/customers/").status_code == 302


def test_logout_requires_post_with_csrf(client, agent, post_form):
    login(post_form)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/customers/").status_code == 200


def test_password_change_signs_out_other_sessions(app, client, agent, post_form, login_as):
    other = login_as(agent, on=app.test_client())
    assert other.get("/customers/").status_code == 200
    login(post_form)
    response = post_form(
        "/account/password",
        {
            "current": DEFAULT_PASSWORD,
            "new": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 200  # this browser stays signed in
    assert other.get("/customers/").status_code == 302  # the other one is signed out


def test_password_change_checks_current_password(client, agent, post_form):
    login(post_form)
    response = post_form(
        "/account/password",
        {"current": "wrong", "new": "another passphrase", "confirm": "another passphrase"},
    )
    assert response.status_code == 200
    assert "另一个" not in response.get_data(as_text=True)


def test_language_switch_is_remembered(client, agent, post_form):
    login(post_form)
    page = client.get("/customers/").get_data(as_text=True)
    from tests.conftest import csrf_from

    response = client.post("/lang/en", data={"csrf_token": csrf_from(page), "next": "/customers/"})
    assert response.headers["Location"].endswith("/customers/")
    assert 'lang="en"' in client.get("/customers/").get_data(as_text=True)
    db.session.refresh(agent)
    assert agent.locale == "en"


def test_inactive_user_cannot_sign_in(client, agent, post_form):
    agent.active = False
    db.session.commit()
    login(post_form)
    assert client.get("/customers/").status_code == 302
