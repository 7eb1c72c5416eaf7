"""Issue pages: hotline intake, queues, the issue page and its actions, conflicts, scoping."""

from __future__ import annotations

import sqlalchemy as sa

from app.customers.models import Customer
from app.extensions import db
from app.issues import services
from app.issues.models import Issue
from tests.conftest import csrf_from


def accept(world, **kw):
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title=kw.pop("title", "屏幕闪烁"),
        description="",
        channel="hotline",
        category="product_quality",
        priority=kw.pop("priority", "normal"),
        **kw,
    )
    db.session.commit()
    return issue


def test_hotline_intake_for_a_known_caller(client, world, login_as, post_form):
    login_as(world.agent)
    response = post_form(
        "/issues/new",
        {
            "customer_id": str(world.customer.id),
            "title": "无法登录",
            "description": "客户反映系统无法登录",
            "category": "product_function",
            "priority": "high",
            "channel": "hotline",
        },
    )
    assert response.status_code == 302 and "last=" in response.headers["Location"]
    issue = db.session.scalars(sa.select(Issue)).one()
    assert issue.customer_id == world.customer.id and issue.created_by_id == world.agent.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert issue.number in page


def test_hotline_intake_creates_an_unknown_caller(client, world, login_as, post_form):
    login_as(world.agent)
    response = post_form(
        "/issues/new",
        {
            "new_customer_name": "赵敏",
            "new_customer_phone": "186 1234 5678",
            "new_customer_company": "宁波港务",
            "title": "发货延迟",
            "category": "delivery",
            "priority": "normal",
            "channel": "hotline",
        },
    )
    assert response.status_code == 302
    customer = db.session.scalars(sa.select(Customer).where(Customer.name == "赵敏")).one()
    assert [p.number for p in customer.phones] == ["18612345678"]
    assert db.session.scalars(sa.select(Issue)).one().customer_id == customer.id


def test_hotline_intake_without_a_caller_explains(client, world, login_as, post_form):
    login_as(world.agent)
    response = post_form(
        "/issues/new",
        {"title": "x", "category": "billing", "priority": "normal", "channel": "hotline"},
    )
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Issue)) == 0


def test_customer_panel_is_scoped(client, world, login_as):
    accept(world)
    login_as(world.agent)
    panel = client.get(f"/issues/customer-panel/{world.customer.id}.json").get_json()
    assert panel["name"] == "张伟" and len(panel["open_issues"]) == 1
    assert client.get(f"/issues/customer-panel/{world.customer_gz.id}.json").status_code == 404


def test_queues(client, world, login_as):
    mine = accept(world, title="分给我的工单")
    services.handle_issue(actor=world.handler, issue_id=mine.id)
    accept(world, title="别人负责的工单")
    overdue = accept(world, title="逾期问题", priority="urgent")
    overdue.resolve_due_at = overdue.received_at.replace(year=2025)
    db.session.commit()
    login_as(world.handler)
    assert "分给我的工单" in client.get("/issues/?view=mine").get_data(as_text=True)
    assert "别人负责的工单" not in client.get("/issues/?view=mine").get_data(as_text=True)
    overdue_page = client.get("/issues/?view=overdue").get_data(as_text=True)
    assert "逾期问题" in overdue_page and "别人负责的工单" not in overdue_page
    search = client.get("/issues/", query_string={"q": "别人负责"}).get_data(as_text=True)
    assert "别人负责的工单" in search and "分给我的工单" not in search


def test_issue_page_shows_only_allowed_actions_and_escapes(client, world, login_as):
    issue = accept(world, title="<script>alert(1)</script>")
    login_as(world.agent)
    html = client.get(f"/issues/{issue.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert f"/issues/{issue.id}/act/escalate" in html
    assert f"/issues/{issue.id}/act/resolve" not in html  # agents do not resolve


def test_lifecycle_through_the_pages(client, world, login_as):
    issue = accept(world)
    login_as(world.handler)

    def act(action, data):
        page = client.get(f"/issues/{issue.id}").get_data(as_text=True)
        version = str(db.session.get(Issue, issue.id).version)
        return client.post(
            f"/issues/{issue.id}/act/{action}",
            data={"csrf_token": csrf_from(page), "version": version, **data},
        )

    assert act("handle", {}).status_code == 302
    assert act("wait", {"reason": "等客户回复"}).status_code == 302
    assert act("handle", {}).status_code == 302
    assert (
        act(
            "resolve",
            {"resolution": "已更换屏幕", "root_cause": "manufacturing", "responsible": "生产部"},
        ).status_code
        == 302
    )
    assert db.session.get(Issue, issue.id).status == "resolved"
    low = act("close", {"rating": "1", "comment": "很失望"})
    assert low.status_code == 302
    refreshed = db.session.get(Issue, issue.id)
    assert refreshed.status == "reopened" and refreshed.rating == 1


def test_invalid_action_shows_message(client, world, login_as):
    issue = accept(world)
    login_as(world.handler)
    page = client.get(f"/issues/{issue.id}").get_data(as_text=True)
    response = client.post(
        f"/issues/{issue.id}/act/close",
        data={"csrf_token": csrf_from(page), "rating": "5", "version": "1"},
    )
    assert response.status_code == 409
    assert db.session.get(Issue, issue.id).status == "accepted"


def test_stale_action_shows_the_conflict(client, world, login_as):
    issue = accept(world)
    login_as(world.handler)
    page = client.get(f"/issues/{issue.id}").get_data(as_text=True)
    services.escalate_issue(actor=world.om, issue_id=issue.id, reason="经理先升级了")
    db.session.commit()
    response = client.post(
        f"/issues/{issue.id}/act/wait",
        data={"csrf_token": csrf_from(page), "version": "1", "reason": "我的原因"},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "我的原因" in html
    assert db.session.get(Issue, issue.id).status == "escalated"


def test_stale_edit_keeps_input(client, world, login_as):
    issue = accept(world)
    login_as(world.agent)
    page = client.get(f"/issues/{issue.id}/edit").get_data(as_text=True)
    services.update_issue(
        actor=world.om, issue_id=issue.id, version=1, changes={"title": "经理改的标题"}
    )
    db.session.commit()
    response = client.post(
        f"/issues/{issue.id}/edit",
        data={
            "csrf_token": csrf_from(page),
            "title": "坐席的标题",
            "category": "billing",
            "priority": "normal",
            "version": "1",
        },
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "经理改的标题" in html and "坐席的标题" in html


def test_other_office_gets_404_pages(client, world, login_as):
    issue = accept(world)
    login_as(world.agent_gz)
    assert client.get(f"/issues/{issue.id}").status_code == 404
    assert client.get(f"/issues/{issue.id}/edit").status_code == 404
    assert "屏幕闪烁" not in client.get("/issues/").get_data(as_text=True)


def test_notes_and_contacts(client, world, login_as):
    issue = accept(world)
    login_as(world.handler)
    page = client.get(f"/issues/{issue.id}").get_data(as_text=True)
    token = csrf_from(page)
    client.post(
        f"/issues/{issue.id}/notes",
        data={"csrf_token": token, "note-text": "内部备注", "note-internal": "y"},
    )
    client.post(
        f"/issues/{issue.id}/contacts",
        data={
            "csrf_token": token,
            "contact-direction": "out",
            "contact-channel": "phone",
            "contact-text": "已回电客户",
        },
    )
    html = client.get(f"/issues/{issue.id}").get_data(as_text=True)
    assert "内部备注" in html and "已回电客户" in html
    assert db.session.get(Issue, issue.id).first_response_at is not None


def test_issue_page_shows_the_issues_mail_and_what_became_of_it(
    client, world, login_as, mailed_issue
):
    login_as(world.handler)
    page = client.get(f"/issues/{mailed_issue.id}").get_data(as_text=True)
    panel = page[page.index('id="notifications"') : page.index('id="timeline"')]
    assert "邮件通知" in panel  # the panel speaks Chinese first
    for recipient, state in (
        ("qa@example.com", "pending"),
        ("rm@east.example.com", "failed"),
        ("om@sh.example.com", "bounced"),
    ):
        assert recipient in panel
        assert f'class="badge mail-{state}"' in panel
    assert "升级至第 2 级" in panel and "失败" in panel and "退信" in panel and "排队中" in panel
    assert "SMTPRecipientsRefused" in panel and "mailbox unavailable" in panel
    assert "<td>8</td>" in panel  # attempts before the outbox gave up
    assert "5.1.1 smtp; 550 5.1.1 user unknown" in panel
    assert "另一个问题" not in panel
    assert "was escalated to level" not in panel  # subjects and kinds, never the bodies


def test_issue_page_without_mail_says_so(client, world, login_as):
    issue = accept(world)
    login_as(world.agent)
    page = client.get(f"/issues/{issue.id}").get_data(as_text=True)
    assert 'id="notifications"' in page and "暂无与此问题相关的邮件" in page


def test_another_offices_staff_do_not_see_the_issue_or_its_mail(
    client, world, login_as, mailed_issue
):
    login_as(world.agent_gz)
    response = client.get(f"/issues/{mailed_issue.id}")
    assert response.status_code == 404
    assert "rm@east.example.com" not in response.get_data(as_text=True)


def test_the_customers_rating_link_is_listed_without_its_secret_link(client, world, login_as):
    from datetime import timedelta

    from app.contacts import services as contact_services
    from app.db import utcnow
    from app.surveys.ratings import send_rating_links

    contact_services.add_contact(
        actor=world.agent, customer_id=world.customer.id, name="王", email="wang@example.com"
    )
    issue = accept(world)
    services.resolve_issue(
        actor=world.handler,
        issue_id=issue.id,
        resolution="更换电源",
        root_cause="manufacturing",
        responsible="生产部",
    )
    db.session.commit()
    assert send_rating_links(utcnow() + timedelta(minutes=1))["sent"] == 1
    db.session.commit()
    login_as(world.handler)
    page = client.get(f"/issues/{issue.id}").get_data(as_text=True)
    panel = page[page.index('id="notifications"') : page.index('id="timeline"')]
    assert "wang@example.com" in panel and "发给客户的评价链接" in panel
    assert "/s/rate/" not in page
