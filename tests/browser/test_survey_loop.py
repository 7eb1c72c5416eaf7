"""The closed loop in the real pages: a customer gives a low score on a phone, a second visit to
the link is refused politely, the office finds the issue in its queue and on the customer's
page, and the campaign page counts the detractor and the delivery progress."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.issues.models import Issue
from tests.browser.test_issues import sign_in
from tests.surveys.conftest import sent  # noqa: F401  (fixture)

PHONE = {"width": 390, "height": 844}


def test_detractor_answer_reaches_the_office_queue(browser, live_url, sent, world):  # noqa: F811
    phone = browser.new_context(locale="zh-CN", base_url=live_url, viewport=PHONE, is_mobile=True)
    page = phone.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"/s/{sent['tokens']['王']}")
    page.wait_for_url(re.compile(r".*/s/\?lang=zh$"))
    page.locator("#q-quality label:has-text('2')").click()
    page.locator("#q-speed label:has-text('3')").click()
    page.locator("#q-nps label").filter(has_text=re.compile(r"^3$")).click()
    with page.expect_navigation():
        page.locator("button.s-submit").click()  # next page
    page.locator("#q-channel label:has-text('展会')").click()
    page.fill("#a-comment", "交付延误两周")
    with page.expect_navigation():
        page.locator("button.s-submit").click()
    assert "感谢您的反馈" in page.locator("h1").inner_text()
    # the same link again: used, refused with the one generic page that says so
    page.goto(f"/s/{sent['tokens']['王']}")
    assert "已被使用" in page.locator("main, body").first.inner_text()
    phone.close()

    db.session.rollback()
    issue = db.session.scalars(sa.select(Issue)).one()
    assert issue.channel == "survey"
    office = browser.new_context(locale="zh-CN", base_url=live_url)
    staff = office.new_page()
    staff.set_default_timeout(10_000)
    sign_in(staff, "om@sh.example.com")
    staff.goto("/issues/")
    assert issue.number in staff.locator("main").inner_text()
    staff.goto(f"/customers/{world.customer.id}")
    panel = staff.locator("#survey-answers")
    assert "答卷测试" in panel.inner_text() and issue.number in panel.inner_text()
    staff.goto(f"/surveys/campaigns/{sent['campaign'].id}")
    loop = staff.locator("#closed-loop").inner_text()
    assert re.search(r"已联系的不满意客户（已立问题）\s*1", loop)
    assert staff.locator("#progress").is_visible()
    office.close()
