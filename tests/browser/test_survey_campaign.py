"""A quality admin, in the real pages, designs a survey with weighted indicators, activates it
and schedules a campaign through the campaign form (audience by office, send time, two
reminders after three days, close date); the campaign is listed; the scheduled jobs run in
process at the send time and three days later; the pages then show the progress (invited,
delivered, reminders) and the contact skipped by the contact-frequency rule, with its reason."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.contacts import services as contact_services
from app.contacts.models import Contact
from app.db import utcnow
from app.extensions import db
from app.scheduler.runner import run_job
from app.surveys.models import Campaign, Survey
from tests.browser.test_issues import sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def audience(world):
    """Three SH contacts with e-mail; one was surveyed five days ago (by another campaign)."""
    made = {
        name: contact_services.add_contact(
            actor=world.agent, customer_id=world.customer.id, name=name, email=email
        )
        for name, email in (
            ("王经理", "wang@example.com"),
            ("张工", "zhang@example.com"),
            ("刘总", "liu@example.com"),
        )
    }
    made["刘总"].last_surveyed_at = utcnow() - timedelta(days=5)
    db.session.commit()
    return made


def local(moment):
    """A datetime-local input's value, in the company's time zone."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def cells(page, selector):
    return [c.strip() for c in page.locator(selector).all_inner_texts()]


def test_quality_admin_designs_and_schedules_a_campaign(app, page, world, audience):
    sign_in(page, "qa@example.com")

    # design: two indicators weighted 70/30, a rating question for each
    page.goto("/surveys/new")
    page.fill("#title", "交付满意度（浏览器）")
    page.fill("#i-0-key", "quality")
    page.fill("#i-0-name_zh", "交付质量")
    page.fill("#i-0-weight", "70")
    page.get_by_role("button", name="添加指标").click()
    second = page.locator("#indicator-rows tr").last
    second.locator("input[name$='-key']").fill("service")
    second.locator("input[name$='-name_zh']").fill("服务态度")
    second.locator("input[name$='-weight']").fill("30")
    assert page.locator("#weight-total").inner_text() == "100 %"
    page.fill("#q-0-key", "q_quality")
    page.fill("#q-0-text_zh", "您对交付质量满意吗？")
    page.fill("#q-0-indicator", "quality")
    page.get_by_role("button", name="添加题目").click()
    row = page.locator("#question-rows tr").last
    row.locator("input[name$='-key']").fill("q_service")
    row.locator("textarea[name$='-text_zh']").fill("您对服务态度满意吗？")
    row.locator("input[name$='-indicator']").fill("service")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/surveys/\d+$"))
    with page.expect_navigation():
        page.get_by_role("button", name="启用").click()
    db.session.rollback()
    survey = db.session.scalars(sa.select(Survey)).one()
    assert survey.status == "active" and survey.weights() == {"quality": 70.0, "service": 30.0}

    # schedule: office SH, in an hour, two reminders three days apart, closing in two weeks
    send_at = (utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)
    page.goto("/surveys/campaigns/")
    page.get_by_role("link", name="新建调查活动").click()
    page.wait_for_url(re.compile(r".*/surveys/campaigns/new$"))
    page.select_option("#survey", str(survey.id))
    page.fill("#name", "12月交付回访")
    page.select_option("#office", "SH")
    page.fill("#send_at", local(send_at))
    page.fill("#close_at", local(send_at + timedelta(days=14)))
    page.fill("#remind_after_days", "3")
    page.select_option("#reminders", "2")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/surveys/campaigns/\d+$"))
    db.session.rollback()
    campaign = db.session.scalars(sa.select(Campaign)).one()
    assert campaign.send_at == send_at and campaign.audience == {"office": "SH"}
    assert (campaign.reminders, campaign.remind_after_days) == (2, 3)
    assert campaign.close_at == send_at + timedelta(days=14)

    # listed, nothing sent before the send time
    page.goto("/surveys/campaigns/")
    listed = page.locator("tr", has_text="12月交付回访")
    assert cells(listed, "td.num") == ["0", "0", "0"]
    assert (
        run_job(app, "send-invitations", now=send_at - timedelta(minutes=5)).result["invited"] == 0
    )

    # the send time passes: the job invites, the outbox delivers (no MAIL_SERVER: logged)
    sent = run_job(app, "send-invitations", now=send_at + timedelta(minutes=1))
    assert (sent.result["invited"], sent.result["skipped"]) == (2, 1)
    assert run_job(app, "send-outbox", now=utcnow() + timedelta(minutes=1)).result["sent"] == 2
    page.reload()
    assert cells(page.locator("tr", has_text="12月交付回访"), "td.num") == ["2", "2", "0"]

    with page.expect_navigation():
        page.get_by_role("link", name="12月交付回访").click()
    progress = page.locator("#progress tbody tr").first
    # invited, delivered, sending, failed, bounced, opened, answered, reminders sent
    assert cells(progress, "td") == ["2", "2", "0", "0", "0", "0", "0", "0"]
    skipped = page.locator("tr", has_text="刘总")
    assert "近期已调查" in skipped.inner_text()

    # three days later the first reminder goes to both (nobody answered)
    reminded = run_job(app, "send-reminders", now=send_at + timedelta(days=3, hours=1))
    assert reminded.result["reminded"] == 2
    page.reload()
    assert cells(page.locator("#progress tbody tr").first, "td")[-1] == "2"
    db.session.rollback()
    assert db.session.get(Contact, audience["刘总"].id).last_surveyed_at < send_at
