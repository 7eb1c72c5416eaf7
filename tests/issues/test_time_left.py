"""Time left on the lists (queue, customer page, caller panel): working time in the office's
calendar to the next target due, paused while waiting, overdue when late. `now` is fixed in
the middle of the 2026 Spring Festival (15–23 February off, Saturday 14th worked)."""

from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.issues import services
from app.issues.sla_policy import time_left_of

CN = ZoneInfo("Asia/Shanghai")


def at(month, day, hh, mm=0):
    return datetime(2026, month, day, hh, mm, tzinfo=CN)


FRIDAY = at(2, 13, 17)  # one working hour before the weekend and the holiday
NOW = at(2, 18, 10)  # Wednesday, inside the holiday


@pytest.fixture
def holiday(world, monkeypatch):
    """Four issues of 张伟 received on Friday 13 February 17:00 (normal: 4 h to respond, 45 h to
    resolve), seen on Wednesday the 18th."""

    def accept(title):
        return services.accept_issue(
            actor=world.agent,
            customer_id=world.customer.id,
            title=title,
            description="",
            channel="hotline",
            category="product_quality",
            priority="normal",
            received_at=FRIDAY,
            now=FRIDAY,
        )

    h = SimpleNamespace()
    # no response yet: due Saturday 14th 12:00 (the make-up working day), missed by Sat 12–18
    h.unanswered = accept("无人回应的问题")
    # answered at once: the resolution is due on Friday 27th 17:00
    h.handled = accept("处理中的问题")
    services.handle_issue(actor=world.handler, issue_id=h.handled.id, now=at(2, 13, 17, 30))
    # waiting on the customer since Saturday 10:00: the clock stopped there
    h.waiting = accept("等待客户的问题")
    services.handle_issue(actor=world.handler, issue_id=h.waiting.id, now=at(2, 13, 17, 10))
    services.wait_issue(
        actor=world.handler, issue_id=h.waiting.id, reason="等序列号", now=at(2, 14, 10)
    )
    h.resolved = accept("已解决的问题")
    services.resolve_issue(
        actor=world.handler,
        issue_id=h.resolved.id,
        resolution="已处理",
        root_cause="manufacturing",
        responsible="生产部",
        now=at(2, 13, 17, 40),
    )
    db.session.commit()
    monkeypatch.setattr("app.issues.views.utcnow", lambda: NOW)
    monkeypatch.setattr("app.customers.views.utcnow", lambda: NOW)
    return h


# expected (target, working minutes, overdue, paused) at NOW
EXPECTED = {
    "无人回应的问题": ("response", 360, True, False),
    "处理中的问题": ("resolution", 4 * 540 - 60, False, False),
    "等待客户的问题": ("resolution", 45 * 60 - 60 - 60, False, True),
}


def test_time_left_of_an_issue(holiday):
    for issue in (holiday.unanswered, holiday.handled, holiday.waiting):
        db.session.refresh(issue)
        left = time_left_of(issue, NOW)
        assert (left.target, left.minutes, left.overdue, left.paused) == EXPECTED[issue.title]
    assert time_left_of(holiday.resolved, NOW) is None


def _time_left_cells(html, row_pattern=r"<tr[^>]*>(.*?)</tr>"):
    """title → (target, minutes, classes, text) of each row's time-left cell."""
    cells = {}
    for row in re.findall(row_pattern, html, re.S):
        cell = re.search(
            r'<span class="time-left([^"]*)" data-target="(\w+)" data-minutes="(-?\d+)"[^>]*>'
            r"([^<]*)</span>",
            row,
        )
        for title in (*EXPECTED, "已解决的问题"):
            if title in row:
                cells[title] = (
                    (cell.group(2), int(cell.group(3)), cell.group(1).split(), cell.group(4))
                    if cell
                    else None
                )
    return cells


def test_queue_shows_working_time_left_to_the_next_target(client, world, login_as, holiday):
    login_as(world.agent)
    cells = _time_left_cells(client.get("/issues/?view=open").get_data(as_text=True))
    assert cells["无人回应的问题"] == ("response", -360, ["late"], "响应时限：已逾期 6 小时")
    # wall-clock hours to the 27th would be over 200; working hours are 35
    assert cells["处理中的问题"] == ("resolution", 2100, [], "解决时限：剩余 35 小时")
    assert cells["等待客户的问题"] == (
        "resolution",
        2580,
        ["paused"],
        "解决时限：已暂停，剩余 43 小时",
    )
    done = client.get("/issues/?view=done").get_data(as_text=True)
    assert "已解决的问题" in done and _time_left_cells(done)["已解决的问题"] is None


def test_queue_time_left_in_english(client, world, login_as, holiday):
    login_as(world.agent)
    html = client.get("/issues/?view=open&lang=en").get_data(as_text=True)
    assert "Response target: 6 h overdue" in html
    assert "Resolution target: 35 h left" in html
    assert "Resolution target: paused, 43 h left" in html


def test_queue_page_computes_time_left_without_a_query_per_row(
    client, world, login_as, holiday, count_queries
):
    login_as(world.agent)
    client.get("/issues/?view=open")  # warm: the calendar and reference caches
    with count_queries() as three:
        client.get("/issues/?view=open")
    for k in range(5):
        services.accept_issue(
            actor=world.agent,
            customer_id=world.customer.id,
            title=f"再来一个 {k}",
            description="",
            channel="hotline",
            category="billing",
            priority="high",
            received_at=FRIDAY,
            now=FRIDAY,
        )
    db.session.commit()
    with count_queries() as eight:
        html = client.get("/issues/?view=open").get_data(as_text=True)
    assert html.count('class="time-left') == 8
    assert len(eight) == len(three)


def test_caller_panel_shows_time_left_on_open_issues(client, world, login_as, holiday):
    login_as(world.agent)
    data = client.get(f"/issues/customer-panel/{world.customer.id}.json").get_json()
    shown = {
        i["title"]: (
            i["time_left"]["target"],
            i["time_left"]["minutes"],
            i["time_left"]["overdue"],
            i["time_left"]["paused"],
        )
        for i in data["open_issues"]
    }
    assert shown == EXPECTED
    texts = {i["title"]: i["time_left"]["text"] for i in data["open_issues"]}
    assert texts["等待客户的问题"] == "解决时限：已暂停，剩余 43 小时"
    due = {i["title"]: i["time_left"]["due_at"] for i in data["open_issues"]}
    assert datetime.fromisoformat(due["无人回应的问题"]) == at(2, 14, 12)


def test_customer_page_shows_time_left_on_the_customers_open_issues(
    client, world, login_as, holiday, count_queries
):
    login_as(world.agent)
    url = f"/customers/{world.customer.id}"
    html = client.get(url).get_data(as_text=True)
    cells = _time_left_cells(html, r'<li class="tl-issue">(.*?)</li>')
    assert cells == {
        "无人回应的问题": ("response", -360, ["late"], "响应时限：已逾期 6 小时"),
        "处理中的问题": ("resolution", 2100, [], "解决时限：剩余 35 小时"),
        "等待客户的问题": ("resolution", 2580, ["paused"], "解决时限：已暂停，剩余 43 小时"),
        "已解决的问题": None,
    }
    # the deadline in office time, for the tooltip
    assert 'title="到期 2026-02-14 12:00"' in html
    with count_queries() as four:
        client.get(url)
    for k in range(4):
        services.accept_issue(
            actor=world.agent,
            customer_id=world.customer.id,
            title=f"再来一个 {k}",
            description="",
            channel="hotline",
            category="billing",
            priority="high",
            received_at=FRIDAY,
            now=FRIDAY,
        )
    db.session.commit()
    with count_queries() as eight:
        assert client.get(url).get_data(as_text=True).count('class="time-left') == 7
    assert len(eight) == len(four)
