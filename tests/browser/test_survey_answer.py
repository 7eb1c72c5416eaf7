"""The customer's answer page on a phone, in Chinese: open the e-mail link, answer the first
page by touch, close the phone, open the link again and find the answers kept, finish, see the
thank-you page, and a second visit to the link says it has been used; nothing is loaded from
another site."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.surveys.models import Answer, Draft, Response
from tests.surveys.conftest import sent  # noqa: F401  (fixture)

PHONE = {"width": 390, "height": 844}


def _phone(browser, live_url):
    context = browser.new_context(
        locale="zh-CN",
        base_url=live_url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def test_answering_on_a_phone_in_chinese(browser, live_url, sent, tmp_path):  # noqa: F811
    link = f"/s/{sent['tokens']['王']}"
    requested: list[str] = []
    errors: list[str] = []

    context, page = _phone(browser, live_url)
    page.on("request", lambda r: requested.append(r.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(link)
    page.wait_for_url(re.compile(r".*/s/\?lang=zh$"))  # the token left the address bar
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "项目交付满意度调查"
    assert "第 1 页，共 2 页" in page.locator(".s-progress").inner_text()
    assert page.locator("#q-channel").count() == 0  # the second page's questions wait
    # fits the phone: nothing scrolls sideways, the scale buttons are big enough to tap
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box = page.locator("#q-quality .s-scale label").first.bounding_box()
    assert box["height"] >= 44

    # next with a required answer missing: the page says which, keeps the rest
    page.locator("#q-quality label:has-text('4')").tap()
    with page.expect_navigation():
        page.locator("button.s-submit").tap()
    assert page.locator("#q-speed .s-error").is_visible()
    assert page.locator("#q-quality input[value='4']").is_checked()

    page.locator("#q-speed label:has-text('5')").tap()
    page.locator("#q-nps label").filter(has_text=re.compile(r"^9$")).tap()
    with page.expect_navigation():
        page.locator("button.s-submit").tap()
    assert "第 2 页，共 2 页" in page.locator(".s-progress").inner_text()
    assert page.locator("#q-channel").is_visible()
    context.close()  # the customer puts the phone away; the cookie goes with the browser

    context, page = _phone(browser, live_url)
    page.on("request", lambda r: requested.append(r.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(link)  # the e-mail link again
    page.wait_for_url(re.compile(r".*/s/\?lang=zh$"))
    assert "第 2 页，共 2 页" in page.locator(".s-progress").inner_text()  # where they left
    with page.expect_navigation():
        page.locator("button.s-back").tap()
    assert "第 1 页，共 2 页" in page.locator(".s-progress").inner_text()
    assert page.locator("#q-quality input[value='4']").is_checked()
    assert page.locator("#q-speed input[value='5']").is_checked()
    assert page.locator("#q-nps input[value='9']").is_checked()
    with page.expect_navigation():
        page.locator("button.s-submit").tap()

    page.locator("#q-channel label:has-text('朋友')").tap()
    page.fill("#a-comment", "工程师很专业")
    page.screenshot(path=str(tmp_path / "survey_phone.png"), full_page=True)
    with page.expect_navigation():
        page.locator("button.s-submit").tap()
    assert "感谢您的反馈" in page.locator("h1").inner_text()

    # a second visit to the link: used, the one generic page that says so
    page.goto(link)
    assert "已被使用" in page.locator("main").inner_text()

    assert all(u.startswith(live_url) for u in requested), requested
    assert not errors
    context.close()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0
    values = dict(db.session.execute(sa.select(Answer.question_type, Answer.value)).all())
    assert values["nps"] == 9 and values["rating5"] in (4, 5)
    text = db.session.scalar(sa.select(Answer.text).where(Answer.question_type == "text"))
    assert text == "工程师很专业"
