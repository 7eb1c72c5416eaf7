"""The issue lifecycle in the real UI: keyboard-only intake, handling, rating, conflicts."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.customers.services import create_customer
from app.extensions import db
from app.issues import services
from app.issues.models import Issue
from tests.conftest import DEFAULT_PASSWORD


def sign_in(page, email):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", DEFAULT_PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(re.compile(r".*/customers/$"))


def sign_out(page):
    page.context.clear_cookies()


def _focus_is(page, element_id):
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.id === id", arg=element_id
    )


def test_agent_logs_calls_by_keyboard_alone(page, world):
    """After the page loads, only keys: the locators below wait and read, they never click,
    fill or focus."""
    earlier = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="上次的问题",
        description="",
        channel="hotline",
        category="billing",
        priority="normal",
    )
    services.log_contact(
        actor=world.agent,
        issue_id=earlier.id,
        direction="in",
        channel="phone",
        text="客户上周来电催促",
    )
    db.session.commit()
    sign_in(page, "agent@sh.example.com")
    page.goto("/issues/new")
    # autofocus can land just after the load event; keys typed before it would go nowhere
    _focus_is(page, "caller-search")
    hints = page.locator("#shortcuts").inner_text()
    assert all(key in hints for key in ("F2", "Alt+N", "新建客户", "Enter", "Ctrl+Enter"))
    kb = page.keyboard

    # a known caller: part of the phone, Enter picks; the panel shows their recent contacts
    kb.type("13800")
    page.locator("#caller-suggestions li").first.wait_for()
    kb.press("Enter")
    page.locator("#caller-chosen").wait_for()
    assert "张伟" in page.locator("#caller-chosen").inner_text()
    page.locator("#caller-contacts li", has_text="客户上周来电催促").wait_for()
    assert earlier.number in page.locator("#caller-open").inner_text()
    _focus_is(page, "title")
    kb.type("设备无法开机")
    kb.press("Enter")  # on to the description, not a half-filled submit
    _focus_is(page, "description")
    kb.type("通电后指示灯不亮")
    with page.expect_navigation():
        kb.press("Control+Enter")  # submit, and the next call starts
    assert page.locator("#last-issue .issue-number").inner_text() == "SH-2026-000002"

    # an unknown caller: nobody matches, so the search offers only "new customer"; Enter
    # opens the inline form with the typed name, and Enter walks on to the title
    _focus_is(page, "caller-search")
    kb.type("赵敏")
    page.locator("#caller-suggestions li.create.active", has_text="新建客户").wait_for()
    kb.press("Enter")
    _focus_is(page, "new_customer_name")
    assert page.locator("#new_customer_name").input_value() == "赵敏"
    kb.press("Enter")
    _focus_is(page, "new_customer_phone")
    kb.type("186 1234 5678")
    kb.press("Enter")
    kb.type("宁波港务")
    kb.press("Enter")
    _focus_is(page, "title")
    kb.type("发货延迟")
    with page.expect_navigation():
        kb.press("Control+Enter")
    assert page.locator("#last-issue .issue-number").inner_text() == "SH-2026-000003"

    # Alt+N straight from the search: a typed number goes to the phone field
    _focus_is(page, "caller-search")
    kb.type("139 1111 2222")
    kb.press("Alt+N")
    _focus_is(page, "new_customer_name")
    assert page.locator("#caller-suggestions").is_hidden()
    assert page.locator("#new_customer_phone").input_value() == "139 1111 2222"
    kb.type("钱七")
    kb.press("Tab")  # Tab works as well: phone, company, then the title
    kb.press("Tab")
    kb.press("Tab")
    _focus_is(page, "title")
    kb.type("咨询合作事宜")
    with page.expect_navigation():
        kb.press("Control+Enter")
    assert page.locator("#last-issue .issue-number").inner_text() == "SH-2026-000004"

    db.session.rollback()  # end the test's read snapshot: the server has written since
    issues = db.session.scalars(sa.select(Issue).order_by(Issue.id)).all()
    assert [(i.customer.name, i.title) for i in issues] == [
        ("张伟", "上次的问题"),
        ("张伟", "设备无法开机"),
        ("赵敏", "发货延迟"),
        ("钱七", "咨询合作事宜"),
    ]
    assert issues[1].description == "通电后指示灯不亮"
    assert [p.number for p in issues[2].customer.phones] == ["18612345678"]
    assert issues[2].customer.company == "宁波港务"
    assert [p.number for p in issues[3].customer.phones] == ["13911112222"]


def test_caller_panel_shows_typed_markup_as_text(page, world):
    name, title, said = (
        "<img src=x onerror=alert(1)>",
        "<script>alert(2)</script>",
        "<svg onload=alert(3)>",
    )
    customer = create_customer(
        actor=world.agent, name=name, office_code=None, phones=["13700137000"]
    )
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=customer.id,
        title=title,
        description="",
        channel="hotline",
        category="billing",
        priority="normal",
    )
    services.log_contact(
        actor=world.agent, issue_id=issue.id, direction="in", channel="phone", text=said
    )
    db.session.commit()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "agent@sh.example.com")
    page.goto("/issues/new")
    _focus_is(page, "caller-search")
    page.keyboard.type("13700")
    page.locator("#caller-suggestions li", has_text=name).wait_for()
    page.keyboard.press("Enter")
    page.locator("#caller-contacts li", has_text=said).wait_for()
    assert title in page.locator("#caller-open").inner_text()
    assert name in page.locator("#caller-chosen").inner_text()
    injected = page.locator(
        "#intake-form img, #caller-panel img, svg, iframe, #caller-panel script"
    )
    assert injected.count() == 0 and dialogs == []


def _act(page, label):
    summary = page.locator("details.action summary", has_text=label)
    details = summary.locator("xpath=..")
    if details.get_attribute("open") is None:
        summary.click()
    return details


def _submit(page, locator):
    with page.expect_navigation():
        locator.click()


def test_handle_wait_resume_resolve_then_rate(page, world):
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="打印机卡纸",
        description="",
        channel="hotline",
        category="product_quality",
        priority="normal",
    )
    db.session.commit()
    sign_in(page, "handler@sh.example.com")
    page.goto(f"/issues/{issue.id}")
    _submit(page, _act(page, "接手").locator("button"))
    assert "处理中" in page.locator(".badges").inner_text()
    details = _act(page, "等待客户")
    details.locator("textarea").fill("等客户提供序列号")
    _submit(page, details.locator("button"))
    assert "等待客户" in page.locator(".badges").inner_text()
    _submit(page, _act(page, "接手").locator("button"))
    details = _act(page, "解决")
    details.locator("textarea[name=resolution]").fill("更换搓纸轮")
    details.locator("select[name=root_cause]").select_option("manufacturing")
    details.locator("input[name=responsible]").fill("生产部")
    _submit(page, details.locator("button"))
    assert "已解决" in page.locator(".badges").inner_text()

    sign_out(page)
    sign_in(page, "agent@sh.example.com")
    page.goto(f"/issues/{issue.id}")
    details = _act(page, "关闭并评价")
    details.locator("input[name=rating][value='2']").check()
    details.locator("textarea[name=comment]").fill("还是经常卡纸")
    _submit(page, details.locator("button"))
    assert "已重新打开" in page.locator(".badges").inner_text()  # a low rating reopens it
    timeline = page.locator("#timeline").inner_text()
    assert "已关闭并评价" in timeline and "已重新打开" in timeline


def test_agent_closes_with_a_good_rating(page, world):
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="发票金额有误",
        description="",
        channel="hotline",
        category="billing",
        priority="normal",
    )
    services.handle_issue(actor=world.handler, issue_id=issue.id)
    services.resolve_issue(
        actor=world.handler,
        issue_id=issue.id,
        resolution="已重开发票",
        root_cause="process",
        responsible="财务部",
    )
    db.session.commit()
    sign_in(page, "agent@sh.example.com")
    page.goto(f"/issues/{issue.id}")
    details = _act(page, "关闭并评价")
    details.locator("input[name=rating][value='4']").check()
    details.locator("textarea[name=comment]").fill("处理及时")
    details.locator("input[name=callback]").check()
    _submit(page, details.locator("button"))
    badges = page.locator(".badges").inner_text()
    assert "已关闭" in badges and "已重新打开" not in badges  # 4 of 5 closes it for good
    assert "★★★★☆" in page.locator(".facts").inner_text()
    timeline = page.locator("#timeline").inner_text()
    assert "已关闭并评价" in timeline and "已重新打开" not in timeline
    # closed: nothing left to do here but reopen
    assert page.locator("details.action summary").all_inner_texts() == ["重新打开"]
    db.session.rollback()  # end the test's read snapshot: the server has written since
    closed = db.session.get(Issue, issue.id)
    assert (closed.status, closed.rating, closed.rating_comment, closed.callback_done) == (
        "closed",
        4,
        "处理及时",
        True,
    )


def test_stale_edit_shows_the_conflict(page, world):
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="原标题",
        description="",
        channel="hotline",
        category="billing",
        priority="normal",
    )
    db.session.commit()
    sign_in(page, "agent@sh.example.com")
    page.goto(f"/issues/{issue.id}/edit")
    services.update_issue(
        actor=world.om, issue_id=issue.id, version=1, changes={"title": "经理改过的标题"}
    )
    db.session.commit()
    page.fill("#title", "坐席的新标题")
    _submit(page, page.locator("form.form-grid button[type=submit]"))
    alert = page.locator(".flash-warning").inner_text()
    assert "经理改过的标题" in alert
    assert page.locator("#title").input_value() == "坐席的新标题"
