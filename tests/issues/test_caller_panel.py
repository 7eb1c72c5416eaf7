"""The hotline screen's caller panel (GET /issues/customer-panel/<id>.json): open issues, last
ratings, recent contacts on the customer's issues and recent voices, all within the agent's
scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.issues import services
from app.voice.services import record_voice

CN = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 3, 2, 9, 0, tzinfo=CN)


def accept(world, actor=None, title="设备无法开机", **kw):
    return services.accept_issue(
        actor=actor or world.agent,
        customer_id=world.customer.id,
        title=title,
        description="",
        channel="hotline",
        category="product_quality",
        priority="normal",
        received_at=MON,
        now=MON,
        **kw,
    )


def contact(actor, issue, minutes, text, direction="in", channel="phone"):
    when = MON + timedelta(minutes=minutes)
    return services.log_contact(
        actor=actor,
        issue_id=issue.id,
        direction=direction,
        channel=channel,
        text=text,
        at=when,
        now=when,
    )


def panel(client, customer_id):
    response = client.get(f"/issues/customer-panel/{customer_id}.json")
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture
def other_office_issue(world, make_office):
    """张伟 (an SH customer) also has an issue that the East regional manager logged for the
    HZ office: it belongs to HZ, so SH's agents must not see it or its contacts."""
    make_office("HZ", region=world.east)
    issue = accept(world, actor=world.rm, title="杭州处的问题", office_code="HZ")
    contact(world.rm, issue, 200, "杭州处的回访", direction="out")
    services.resolve_issue(
        actor=world.rm,
        issue_id=issue.id,
        resolution="已处理",
        root_cause="manufacturing",
        responsible="生产部",
        now=MON + timedelta(minutes=300),
    )
    services.close_issue(
        actor=world.rm, issue_id=issue.id, rating=5, now=MON + timedelta(minutes=310)
    )
    db.session.commit()
    return issue


def test_recent_contacts_are_the_last_five_newest_first(client, world, login_as):
    first, second = accept(world, title="第一个问题"), accept(world, title="第二个问题")
    contact(world.agent, first, 10, "客户来电询问进度")
    contact(world.handler, first, 20, "已回电说明原因", direction="out")
    contact(world.handler, second, 30, "发了邮件", direction="out", channel="email")
    contact(world.agent, first, 40, "客户再次来电")
    contact(world.agent, second, 50, "客" * 200)  # a long one: only its start is sent
    contact(world.handler, second, 60, "上门查看", direction="out", channel="visit")
    db.session.commit()
    login_as(world.agent)
    contacts = panel(client, world.customer.id)["recent_contacts"]
    assert [c["text"][:6] for c in contacts] == [
        "上门查看",
        "客" * 6,
        "客户再次来电",
        "发了邮件",
        "已回电说明原",
    ]
    visit, long_one, again, mail, _ = contacts
    assert datetime.fromisoformat(visit.pop("at")) == MON + timedelta(minutes=60)
    assert visit == {
        "at_local": "2026-03-02 10:00",
        "direction": "out",
        "direction_label": "联系客户",
        "channel": "visit",
        "channel_label": "上门拜访",
        "text": "上门查看",
        "issue_number": second.number,
        "issue_url": f"/issues/{second.id}",
    }
    assert long_one["text"] == "客" * 80 + "…"
    assert (again["direction"], again["direction_label"], again["issue_number"]) == (
        "in",
        "来自客户",
        first.number,
    )
    assert mail["channel_label"] == "电子邮箱"


def test_panel_lists_open_issues_ratings_and_voices(client, world, login_as):
    open_issue = accept(world, title="还在处理")
    rated = accept(world, title="已评价")
    services.resolve_issue(
        actor=world.handler,
        issue_id=rated.id,
        resolution="已处理",
        root_cause="manufacturing",
        responsible="生产部",
        now=MON + timedelta(hours=1),
    )
    services.close_issue(
        actor=world.agent, issue_id=rated.id, rating=4, now=MON + timedelta(hours=2)
    )
    record_voice(
        actor=world.agent,
        channel="web",
        text="网站上反馈：希望增加夜间热线",
        customer_id=world.customer.id,
        occurred_at=MON + timedelta(hours=3),
        now=MON + timedelta(hours=3),
    )
    db.session.commit()
    login_as(world.agent)
    data = panel(client, world.customer.id)
    assert [i["number"] for i in data["open_issues"]] == [open_issue.number]
    assert data["open_issues"][0]["time_left"]["target"] == "response"
    assert data["ratings"] == [{"number": rated.number, "rating": 4}]
    assert data["recent_contacts"] == []
    (voice,) = data["recent_voices"]
    assert voice["text"] == "网站上反馈：希望增加夜间热线"
    assert voice["at_local"] == "2026-03-02 12:00" and voice["url"].startswith("/voices/")


def test_panel_shows_only_issues_of_offices_in_scope(client, world, login_as, other_office_issue):
    own = accept(world, title="上海处的问题")
    contact(world.agent, own, 100, "上海处的来电")
    db.session.commit()
    login_as(world.agent)
    sh = panel(client, world.customer.id)
    assert [i["number"] for i in sh["open_issues"]] == [own.number]
    assert [c["text"] for c in sh["recent_contacts"]] == ["上海处的来电"]
    assert sh["ratings"] == []
    assert other_office_issue.number not in str(sh)

    rm = login_as(world.rm)
    region = panel(rm, world.customer.id)
    assert [c["text"] for c in region["recent_contacts"]] == ["杭州处的回访", "上海处的来电"]
    assert region["ratings"] == [{"number": other_office_issue.number, "rating": 5}]
    # another office's agent does not learn the customer exists
    login_as(world.agent_gz)
    assert client.get(f"/issues/customer-panel/{world.customer.id}.json").status_code == 404


def test_panel_costs_the_same_queries_for_a_long_history(client, world, login_as, count_queries):
    issue = accept(world)
    contact(world.agent, issue, 5, "第一次来电")
    db.session.commit()
    login_as(world.agent)
    panel(client, world.customer.id)  # warm the caches
    with count_queries() as short:
        panel(client, world.customer.id)
    for k in range(12):
        more = accept(world, title=f"问题 {k}")
        contact(world.agent, more, 10 + k, f"来电 {k}")
    db.session.commit()
    with count_queries() as long:
        data = panel(client, world.customer.id)
    assert len(data["open_issues"]) == 10 and len(data["recent_contacts"]) == 5
    assert len(long) == len(short)
