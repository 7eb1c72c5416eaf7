"""The queue page's owner and received-date filters: choices from the viewer's scope, wired to
the query layer, kept on the next-page link (keyset pagination), bad values left out."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.issues import services

CN = ZoneInfo("Asia/Shanghai")


def at(month, day, hh, mm=0):
    return datetime(2026, month, day, hh, mm, tzinfo=CN)


def accept(world, title, received, owner=None):
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title=title,
        description="",
        channel="hotline",
        category="billing",
        priority="normal",
        received_at=received,
        now=received,
        owner_id=owner.id if owner else None,
    )
    db.session.commit()
    return issue


def titles(html):
    return re.findall(r'<td class="mono"><a [^>]*>[^<]*</a></td>\s*<td>([^<]*)</td>', html)


def owner_options(html):
    select = re.search(r'<select[^>]*name="owner"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)


@pytest.fixture
def gz_handler(world, make_user):
    return make_user("handler", office=world.gz, email="handler@gz.example.com", name="广州处理人")


def test_owner_choices_are_the_owners_in_the_viewers_scope(client, world, login_as, gz_handler):
    world.handler.name, world.handler2.name, world.om.name = "王工", "李工", "周经理"
    world.handler2.active = False
    db.session.commit()
    login_as(world.agent)
    options = owner_options(client.get("/issues/").get_data(as_text=True))
    assert options == [
        ("", "任何负责人"),
        (str(world.om.id), "周经理"),
        (str(world.handler2.id), "李工 (已停用)"),
        (str(world.handler.id), "王工"),
    ]
    login_as(world.qa)  # the company: both offices, so each name says where
    company = dict(owner_options(client.get("/issues/").get_data(as_text=True)))
    assert company[str(gz_handler.id)] == "广州处理人 · GZ"
    assert company[str(world.handler.id)] == "王工 · SH"
    assert str(world.agent.id) not in company  # agents do not own issues


def test_owner_filter(client, world, login_as, gz_handler):
    accept(world, "王工的问题", at(3, 2, 10), owner=world.handler)
    accept(world, "李工的问题", at(3, 2, 11), owner=world.handler2)
    accept(world, "没人负责的问题", at(3, 2, 12))
    login_as(world.agent)
    html = client.get("/issues/", query_string={"owner": world.handler2.id}).get_data(as_text=True)
    assert titles(html) == ["李工的问题"]
    assert f'<option selected value="{world.handler2.id}">' in html
    # someone outside the scope: refused and left out, the list is not narrowed or widened
    other = client.get("/issues/", query_string={"owner": gz_handler.id}).get_data(as_text=True)
    assert titles(other) == ["没人负责的问题", "李工的问题", "王工的问题"]
    assert 'role="alert"' in other


def test_received_date_filters_use_the_offices_calendar_day(client, world, login_as):
    accept(world, "周一的问题", at(3, 2, 10))
    accept(world, "周四的问题", at(3, 5, 23, 30))  # 15:30 UTC: still Thursday in Shanghai
    accept(world, "周五凌晨的问题", at(3, 6, 0, 30))  # Thursday 16:30 UTC, Friday in Shanghai
    accept(world, "下周的问题", at(3, 9, 10))
    login_as(world.agent)

    def listed(**query):
        return titles(client.get("/issues/", query_string=query).get_data(as_text=True))

    assert listed(received_from="2026-03-03", received_to="2026-03-05") == ["周四的问题"]
    assert listed(received_from="2026-03-06") == ["下周的问题", "周五凌晨的问题"]
    assert listed(received_to="2026-03-02") == ["周一的问题"]
    html = client.get("/issues/?received_from=2026-03-03").get_data(as_text=True)
    assert 'type="date"' in html and 'value="2026-03-03"' in html


def test_bad_dates_are_explained_and_left_out(client, world, login_as):
    accept(world, "周一的问题", at(3, 2, 10))
    accept(world, "下周的问题", at(3, 9, 10))
    login_as(world.agent)
    garbled = client.get("/issues/?received_from=2026-13-45")
    assert garbled.status_code == 200
    assert titles(garbled.get_data(as_text=True)) == ["下周的问题", "周一的问题"]
    backwards = client.get("/issues/?received_from=2026-03-09&received_to=2026-03-02")
    html = backwards.get_data(as_text=True)
    assert "结束日期早于开始日期" in html
    assert titles(html) == ["下周的问题"]  # the start still applies; the impossible end not


def test_filters_stay_on_the_next_page(client, world, login_as, monkeypatch):
    monkeypatch.setattr("app.issues.views.PAGE_SIZE", 2)
    for day in range(2, 7):
        accept(world, f"3月{day}日王工", at(3, day, 10), owner=world.handler)
        accept(world, f"3月{day}日李工", at(3, day, 11), owner=world.handler2)
    login_as(world.agent)
    query = {"owner": world.handler.id, "received_from": "2026-03-03", "received_to": "2026-03-06"}
    seen = []
    url = "/issues/?" + "&".join(f"{k}={v}" for k, v in query.items())
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += titles(html)
        link = re.search(r'<a class="btn" rel="next" href="([^"]+)"', html)
        url = link.group(1).replace("&amp;", "&") if link else None
        if url:
            assert "cursor=" in url and f"owner={world.handler.id}" in url
            assert "received_from=2026-03-03" in url and "received_to=2026-03-06" in url
    assert seen == ["3月6日王工", "3月5日王工", "3月4日王工", "3月3日王工"]
