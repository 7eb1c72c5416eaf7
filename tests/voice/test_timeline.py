"""The customer's history: issues and voices merged newest first, paged, scoped, escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import url_for

from app.core.pagination import BadCursor
from app.core.scoping import Scope
from app.customers import views as customer_views
from app.extensions import db
from app.issues.services import accept_issue
from app.voice.queries_timeline import customer_timeline
from app.voice.services import record_voice

T = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def history(world):
    """Two issues and three voices of world.customer, one voice at the same instant as an
    issue, and a voice of another customer that must not show."""

    def issue(title, at):
        return accept_issue(
            actor=world.agent,
            customer_id=world.customer.id,
            title=title,
            description="",
            channel="hotline",
            category="product_quality",
            priority="normal",
            received_at=at,
            now=T,
        )

    def voice(text, at, customer=world.customer, actor=world.agent):
        return record_voice(
            actor=actor,
            channel="web",
            text=text,
            customer_id=customer.id,
            occurred_at=at,
            now=T,
        )

    items = {
        "issue_old": issue("最早的问题", T - timedelta(days=3)),
        "voice_old": voice("第一次来电反映", T - timedelta(days=2)),
        "issue_new": issue("较新的问题", T - timedelta(days=1)),
        "voice_tie": voice("与问题同一时刻", T - timedelta(days=1)),
        "voice_new": voice("<script>alert(1)</script>最新的声音", T),
    }
    voice("别的客户", T, customer=world.customer_gz, actor=world.agent_gz)
    db.session.commit()
    return items


def order(entries):
    return [(e.kind, e.id) for e in entries]


def expected(history):
    h = history
    return [
        ("voice", h["voice_new"].id),
        ("voice", h["voice_tie"].id),  # same instant as issue_new: voices first
        ("issue", h["issue_new"].id),
        ("voice", h["voice_old"].id),
        ("issue", h["issue_old"].id),
    ]


def test_issues_and_voices_merge_newest_first(world, history):
    page = customer_timeline(Scope.for_user(world.agent), world.customer.id, limit=50)
    assert order(page.items) == expected(history) and page.next_cursor is None
    newest = page.items[0]
    assert newest.label == history["voice_new"].reference and newest.channel == "web"
    issue = page.items[2]
    assert (issue.label, issue.status, issue.text) == (
        history["issue_new"].number,
        "accepted",
        "较新的问题",
    )


@pytest.mark.parametrize("size", [1, 2, 3])
def test_keyset_pages_walk_the_same_order_without_gaps_or_repeats(world, history, size):
    scope, seen, cursor = Scope.for_user(world.agent), [], None
    for _ in range(10):
        page = customer_timeline(scope, world.customer.id, limit=size, cursor=cursor)
        seen += order(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected(history)


def test_another_offices_scope_sees_nothing_of_this_customer(world, history):
    page = customer_timeline(Scope.for_user(world.agent_gz), world.customer.id, limit=50)
    assert page.items == []


def test_a_long_voice_is_cut_short(world):
    record_voice(
        actor=world.agent, channel="hotline", text="长" * 500, customer_id=world.customer.id
    )
    [entry] = customer_timeline(Scope.for_user(world.agent), world.customer.id, limit=5).items
    assert entry.text == "长" * 140 + "…"


@pytest.mark.parametrize(
    "cursor", ["garbage", "WyJ4Iiwidm9pY2UiLDFd", "WyIyMDI2LTExLTIwIiwieCIsMV0"]
)
def test_a_bad_cursor_is_refused(world, cursor):
    with pytest.raises(BadCursor):
        customer_timeline(Scope.for_user(world.agent), world.customer.id, limit=5, cursor=cursor)


def test_the_customer_page_shows_the_timeline(client, world, history, login_as):
    login_as(world.agent)
    html = client.get(f"/customers/{world.customer.id}").get_data(as_text=True)
    section = re.search(r'<section class="panel" id="timeline".*?</section>', html, re.S).group(0)
    labels = [history[k].reference for k in ("voice_new", "voice_tie")] + [
        history["issue_new"].number,
        history["voice_old"].reference,
        history["issue_old"].number,
    ]
    positions = [section.index(label) for label in labels]
    assert positions == sorted(positions)
    assert "别的客户" not in section
    # office time, channel and kind labels, the issue's status; user text escaped
    assert '<time datetime="2026-11-20T10:00:00+08:00">2026-11-20 10:00</time>' in section
    assert "网络反馈" in section and "服务热线" in section and "已受理" in section
    assert "<script>alert(1)</script>" not in section and "&lt;script&gt;alert(1)" in section
    issue_url = f"/issues/{history['issue_new'].id}"
    assert f'<a href="{issue_url}">{history["issue_new"].number}</a>' in section
    voice_ref = history["voice_new"].reference
    app = client.application
    if "voice.detail" in app.view_functions:  # the staff voice page, once it is installed
        with app.test_request_context():
            voice_url = url_for("voice.detail", voice_id=history["voice_new"].id)
        assert f'<a href="{voice_url}">{voice_ref}</a>' in section
    else:  # no staff voice page in this installation: the reference is plain text
        assert f'<span class="mono">{voice_ref}</span>' in section


def test_the_customer_page_pages_the_timeline(client, world, history, login_as, monkeypatch):
    monkeypatch.setattr(customer_views, "TIMELINE_PAGE", 2)
    login_as(world.agent)
    url = f"/customers/{world.customer.id}"
    seen = []
    for _ in range(5):
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r'<li class="tl-(issue|voice)">', html)
        more = re.search(r'<a class="btn" rel="next" href="([^"]+)#timeline">', html)
        if not more:
            break
        url = more.group(1).replace("&amp;", "&")
    assert seen == [kind for kind, _ in expected(history)]
    assert "没有更早的记录" not in html
    assert client.get(f"/customers/{world.customer.id}?before=garbage").status_code == 400


def test_the_empty_timeline_says_so(client, world, login_as):
    login_as(world.agent)
    html = client.get(f"/customers/{world.customer.id}").get_data(as_text=True)
    assert "暂无问题或客户声音" in html


def test_another_offices_customer_page_is_404(client, world, history, login_as):
    login_as(world.agent_gz)
    assert client.get(f"/customers/{world.customer.id}").status_code == 404


def test_the_api_customer_detail_lists_recent_voices(client, world, history):
    body = client.get(f"/api/v1/customers/{world.customer.id}", headers=world.h["agent"])
    voices = body.get_json()["recent_voices"]
    refs = [history[k].reference for k in ("voice_new", "voice_tie", "voice_old")]
    assert [v["reference"] for v in voices] == refs
    first = voices[0]
    assert (first["channel"], first["kind"]) == ("web", "passive")
    assert first["occurred_at"].startswith("2026-11-20T02:00:00")
    assert first["text"] == "<script>alert(1)</script>最新的声音"  # JSON carries text as typed
    # the other fields of the detail are untouched
    assert [i["id"] for i in body.get_json()["open_issues"]] == [
        history["issue_new"].id,
        history["issue_old"].id,
    ]
    other = client.get(f"/api/v1/customers/{world.customer.id}", headers=world.h["agent_gz"])
    assert other.status_code == 404


def test_voices_link_to_the_staff_voice_page_once_it_exists(app, world, history, login_as):
    """The view links voices only when an endpoint `voice.detail` is registered: an app with a
    stand-in for it shows the links (and the one under test, if it has the page, does too)."""
    from flask import Blueprint

    from app import create_app
    from app.config import TestConfig
    from tests.conftest import IsolatedClient

    other = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY=app.config["SECRET_KEY"],
    )
    if "voice.detail" not in other.view_functions:
        stand_in = Blueprint("voice", __name__)
        stand_in.add_url_rule("/voices/<int:voice_id>", "detail", lambda voice_id: "")
        other.register_blueprint(stand_in)
    other.test_client_class = IsolatedClient
    # read what the test needs now: inside the other app's context the test's own session
    # would load through (and keep) that app's engine
    voice_id, reference = history["voice_old"].id, history["voice_old"].reference
    try:
        browser = login_as(world.agent, on=other.test_client())
        html = browser.get(f"/customers/{world.customer.id}").get_data(as_text=True)
        with other.test_request_context():
            url = url_for("voice.detail", voice_id=voice_id)
        assert f'<a href="{url}">{reference}</a>' in html
    finally:
        with other.app_context():
            db.engine.dispose()
