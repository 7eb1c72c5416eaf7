"""The page shell: navigation by role, the language switch, sign-out, error pages."""

from __future__ import annotations

import re

import pytest
from flask import render_template

from app.auth.roles import Role
from app.core import nav
from app.core.nav import NavItem, nav_for


def nav_labels(html: str) -> list[str]:
    block = re.search(r'<nav class="mainnav".*?</nav>', html, re.S)
    return re.findall(r">([^<]+)</a>", block.group(0)) if block else []


@pytest.fixture
def office(make_region, make_office):
    return make_office("SH", region=make_region("EAST"))


def test_agent_sees_staff_entries_only(client, office, make_user, login_as):
    login_as(make_user("agent", office=office, name="王坐席"))
    html = client.get("/customers/").get_data(as_text=True)
    labels = nav_labels(html)
    assert "客户" in labels and "人员" not in labels and "组织" not in labels
    assert "王坐席 · 热线坐席" in html
    assert 'aria-current="page">客户</a>' in html


def test_admin_also_sees_administration(client, make_user, login_as):
    login_as(make_user("admin", name="管理员"))
    html = client.get("/admin/users").get_data(as_text=True)
    labels = nav_labels(html)
    assert {"客户", "人员", "组织"} <= set(labels)
    assert 'aria-current="page">人员</a>' in html and 'aria-current="page">组织' not in html


def test_entries_of_unregistered_blueprints_are_left_out(app, office, make_user, monkeypatch):
    monkeypatch.setattr(
        nav, "NAV", [*nav.NAV, NavItem("Later", "not_yet_built.index", frozenset(Role))]
    )
    agent = make_user("agent", office=office)
    with app.test_request_context("/customers/"):
        links = nav_for(agent)
    assert links and all(link.label != "Later" for link in links)
    assert all(link.url.startswith("/") for link in links)


def test_anonymous_gets_no_navigation(app):
    from flask_login import AnonymousUserMixin

    with app.test_request_context("/login"):
        assert nav_for(AnonymousUserMixin()) == []


def test_topbar_has_language_switch_and_post_sign_out(client, office, make_user, login_as):
    login_as(make_user("agent", office=office))
    html = client.get("/customers/?q=138").get_data(as_text=True)
    # both languages are named; the current one is plain text, the other a POST button
    assert '<span class="current" lang="zh-CN" aria-current="true">中文</span>' in html
    assert 'formaction="/lang/en"' in html and 'formaction="/lang/zh"' not in html
    assert 'name="next" value="/customers/?q=138"' in html
    sign_out = re.search(r'<form method="post" action="/logout".*?</form>', html, re.S)
    assert sign_out and 'name="csrf_token"' in sign_out.group(0)


def test_switching_language_keeps_the_page(client, office, make_user, login_as, post_form):
    login_as(make_user("agent", office=office))
    response = post_form("/customers/", {"next": "/customers/"}, action="/lang/en")
    assert response.status_code == 302 and response.headers["Location"].endswith("/customers/")
    html = client.get("/customers/").get_data(as_text=True)
    assert '<html lang="en">' in html and "Customers" in nav_labels(html)
    assert 'formaction="/lang/zh"' in html


def test_unknown_page_is_a_friendly_404_in_chinese(client):
    response = client.get("/no-such-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "未找到" in html and "返回首页" in html and 'class="topbar"' in html


@pytest.mark.parametrize(
    ("status", "message", "title", "shown"),
    [
        (403, "You are not allowed to do this.", "无权访问", "您无权执行此操作。"),
        (404, "Not found.", "未找到", "不在您的权限范围内"),
        (409, "already escalated to the company level", "已被他人修改", "already escalated"),
        (429, "Too many requests; please wait and try again.", "请求过于频繁", "请稍候"),
        (500, None, "出错", "已记录"),  # None: the message app.core.web passes for a 500
    ],
)
def test_error_pages_speak_the_page_language(app, status, message, title, shown):
    from app.core.web import _page_message

    with app.test_request_context("/"):
        message = message or _page_message(status)
        html = render_template("errors/error.html", status=status, message=message)
    assert f'<p class="error-code" aria-hidden="true">{status}</p>' in html
    assert title in html and shown in html


def test_error_page_escapes_the_message(app):
    with app.test_request_context("/"):
        html = render_template("errors/error.html", status=422, message="<i>x</i>")
    assert "<i>x</i>" not in html and "&lt;i&gt;x&lt;/i&gt;" in html
