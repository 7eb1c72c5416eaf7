"""A customer on a phone gives web feedback in Chinese and gets a confirmation number."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.voice.models import Voice

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def phone_page(browser: Any, live_url: str) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", base_url=live_url, device_scale_factor=2, **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_customer_sends_feedback_from_a_phone_in_chinese(phone_page, make_region, make_office):
    region = make_region("EAST")
    make_office("SH", name="上海代表处", region=region)
    make_office("HZ", name="杭州代表处", region=region)
    page = phone_page
    page.goto("/feedback")
    assert page.locator("h1").inner_text() == "意见与建议"
    assert no_horizontal_scroll(page)
    submit = page.get_by_role("button", name="提交")
    assert submit.bounding_box()["height"] >= 44
    assert page.locator("#text").bounding_box()["width"] >= 300  # the width of the phone

    text = "XR-200 网关每天掉线两三次，现场工程师还没来，希望尽快处理。"
    page.locator("#text").tap()
    page.keyboard.type(text)
    assert page.locator("#text-count-value").inner_text() == str(len(text))
    page.select_option("#office", label="杭州代表处")
    page.select_option("#about", value="product")
    page.fill("#name", "王先生")
    page.fill("#phone", "138 0013 8000")
    page.wait_for_timeout(2100)  # a person takes a moment; faster is a bot
    with page.expect_navigation():
        submit.tap()

    assert re.search(r"/feedback/thanks$", page.url)
    reference = page.locator("#reference").inner_text()
    assert re.fullmatch(r"V-[2-9A-HJ-NP-Z]{8}", reference)
    assert "已收到您的反馈" in page.content()
    assert no_horizontal_scroll(page)
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "feedback-thanks.png"))
    db.session.expire_all()
    voice = db.session.scalars(sa.select(Voice)).one()
    assert (voice.reference, voice.channel, voice.office.code) == (reference, "web", "HZ")
    assert (voice.text, voice.contact_phone) == (text, "13800138000")


def test_the_english_page_on_a_phone_fits_too(phone_page, make_office):
    make_office("SH", name="上海代表处")
    phone_page.goto("/feedback?office=SH&lang=en")
    assert phone_page.locator("h1").inner_text() == "Tell us what you think"
    assert "上海代表处" in phone_page.locator(".pub-office").inner_text()
    assert no_horizontal_scroll(phone_page)
    if os.environ.get("SCREENSHOT_DIR"):
        phone_page.screenshot(
            path=os.path.join(os.environ["SCREENSHOT_DIR"], "feedback-en.png"), full_page=True
        )
