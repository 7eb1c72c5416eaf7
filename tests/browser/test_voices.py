"""Voices in the real UI: an agent logs a voice by keyboard, sees a repeat suggestion and links
it; the hotline screen shows the same suggestions and links the new issue to one."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.voice import services
from app.voice.models import Voice, VoiceIssueLink
from tests.browser.test_issues import sign_in


def test_agent_logs_a_voice_by_keyboard_sees_a_repeat_and_links_it(page, world):
    earlier = services.record_voice(
        actor=world.agent,
        channel="hotline",
        text="打印机卡纸，第三次了",
        customer_id=world.customer.id,
    )
    db.session.commit()
    sign_in(page, "agent@sh.example.com")
    page.goto("/voices/new")
    kb = page.keyboard
    assert page.evaluate("document.activeElement.id") == "channel"
    kb.press("F2")
    kb.type("13800")
    page.locator("#caller-suggestions li").first.wait_for()
    kb.press("Enter")
    page.locator("#caller-chosen").wait_for()
    assert "张伟" in page.locator("#caller-chosen").inner_text()
    assert page.evaluate("document.activeElement.id") == "text"  # picked: on to the text
    kb.type("打印机又卡纸了，第三次")
    suggestion = page.locator("#repeat-list li", has_text=earlier.reference)
    suggestion.wait_for()
    suggestion.locator("button.repeat-link").click()
    assert earlier.reference in page.locator("#repeat-chosen").inner_text()
    page.locator("#text").focus()
    with page.expect_navigation():
        kb.press("Control+Enter")
    reference = page.locator("#last-voice strong").inner_text()
    assert re.fullmatch(r"V-[2-9A-Z]{8}", reference)
    db.session.rollback()  # a fresh snapshot: the server committed meanwhile
    new = db.session.scalars(sa.select(Voice).where(Voice.reference == reference)).one()
    assert new.repeat_of_id == earlier.id and new.customer_id == world.customer.id
    assert new.text == "打印机又卡纸了，第三次"


def test_a_dismissed_suggestion_is_remembered_for_the_new_voice(page, world):
    earlier = services.record_voice(
        actor=world.agent,
        channel="web",
        text="网站登录不了，密码重置失败",
        customer_id=world.customer.id,
    )
    db.session.commit()
    sign_in(page, "agent@sh.example.com")
    page.goto("/voices/new")
    page.locator("#caller-search").fill("13800")
    page.locator("#caller-suggestions li").first.wait_for()
    page.keyboard.press("Enter")
    page.keyboard.type("网站登录不了")
    suggestion = page.locator("#repeat-list li", has_text=earlier.reference)
    suggestion.wait_for()
    suggestion.locator("button.repeat-dismiss").click()
    suggestion.wait_for(state="detached")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    db.session.rollback()  # a fresh snapshot: the server committed meanwhile
    new = db.session.scalars(sa.select(Voice).order_by(Voice.id.desc())).first()
    assert new.id != earlier.id and new.repeat_of_id is None
    page.goto(f"/voices/{new.id}")
    assert "网站登录不了，密码重置失败" not in page.locator("#candidates").inner_text()


def test_the_hotline_screen_suggests_repeats_of_the_call(page, world):
    earlier = services.record_voice(
        actor=world.agent,
        channel="hotline",
        text="设备无法开机，指示灯不亮",
        customer_id=world.customer.id,
    )
    db.session.commit()
    sign_in(page, "agent@sh.example.com")
    page.goto("/issues/new")
    page.keyboard.type("13800")
    page.locator("#caller-suggestions li").first.wait_for()
    page.keyboard.press("Enter")
    page.keyboard.type("设备无法开机")
    suggestion = page.locator("#repeat-list li", has_text=earlier.reference)
    suggestion.wait_for()
    # linked from here too: the new issue is stored as a repeat of the voice
    suggestion.locator("button.repeat-link").click()
    assert earlier.reference in page.locator("#repeat-chosen").inner_text()
    page.locator("#title").focus()
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    number = page.locator("#last-issue .issue-number").inner_text()
    db.session.rollback()  # a fresh snapshot: the server committed meanwhile
    link = db.session.scalars(sa.select(VoiceIssueLink)).one()
    assert (link.voice_id, link.kind, link.issue.number) == (earlier.id, "repeat", number)
