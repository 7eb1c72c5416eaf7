"""Campaigns and invitations: audience, contact-frequency rule, tokens, e-mail, jobs that never
send twice and catch up after downtime, reminders, closing, event triggers, API figures."""

from __future__ import annotations

import email
import hashlib
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.contacts import services as contact_services
from app.contacts.models import Contact
from app.core.audit import AuditEvent
from app.core.errors import Forbidden, ValidationFailed
from app.core.mailer import build_message
from app.core.outbox import OutboxMessage
from app.db import utcnow
from app.extensions import db
from app.scheduler.runner import run_job
from app.surveys import campaign_views, campaigns, invitations, services
from app.surveys.models import Campaign, CampaignSkip, Invitation, InvitationToken
from tests.surveys.helpers import design

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def survey(world):
    s = services.create_survey(actor=world.qa, data=design())
    services.activate_survey(actor=world.qa, survey_id=s.id)
    db.session.commit()
    return s


@pytest.fixture
def contacts(world):
    out = {
        "wang": contact_services.add_contact(
            actor=world.agent, customer_id=world.customer.id, name="王", email="wang@example.com"
        ),
        "amy": contact_services.add_contact(
            actor=world.agent,
            customer_id=world.customer.id,
            name="Amy",
            email="amy@example.com",
            language="en",
        ),
        "noemail": contact_services.add_contact(
            actor=world.agent, customer_id=world.customer.id, name="无邮箱"
        ),
        "li": contact_services.add_contact(
            actor=world.agent_gz,
            customer_id=world.customer_gz.id,
            name="李",
            email="li@example.com",
        ),
    }
    db.session.commit()
    return out


def _campaign(world, survey, **kw):
    kw.setdefault("name", "11月交付调查")
    kw.setdefault("now", NOW)
    c = campaigns.create_campaign(actor=world.qa, survey_id=survey.id, **kw)
    db.session.commit()
    return c


def _count(model, *where):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_one_off_campaign_invites_its_audience_once(app, world, survey, contacts):
    c = _campaign(world, survey, audience={"office": "SH"}, send_at=NOW)
    first = run_job(app, "send-invitations", now=NOW)
    assert first.status == "done" and first.result["invited"] == 2
    # a double run in the same period is refused by the claim; the next period finds nothing
    assert run_job(app, "send-invitations", now=NOW).status == "skipped"
    later = run_job(app, "send-invitations", now=NOW + timedelta(minutes=5))
    assert later.result["invited"] == 0
    assert _count(Invitation) == 2 and _count(OutboxMessage) == 2
    invited = set(db.session.scalars(sa.select(Invitation.contact_id)))
    assert invited == {contacts["wang"].id, contacts["amy"].id}  # not GZ, not without e-mail
    assert all(
        i.campaign_id == c.id and i.purpose == "survey"
        for i in db.session.scalars(sa.select(Invitation))
    )


def test_scheduled_campaign_waits_for_send_at_and_catches_up(app, world, survey, contacts):
    _campaign(world, survey, audience={"office": "SH"}, send_at=NOW + timedelta(hours=2))
    assert run_job(app, "send-invitations", now=NOW).result["invited"] == 0
    # the server was down at send_at; the first run afterwards sends
    assert run_job(app, "send-invitations", now=NOW + timedelta(hours=5)).result["invited"] == 2


def test_tokens_are_256_bits_stored_hashed_and_links_use_base_url(app, world, survey, contacts):
    _campaign(world, survey, audience={"contact_ids": [contacts["wang"].id]})
    run_job(app, "send-invitations", now=NOW)
    db.session.rollback()
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    token = re.search(r"/s/([A-Za-z0-9_-]+)", message.body).group(1)
    assert message.body.count(app.config["BASE_URL"] + "/s/" + token) == 1
    assert len(token) >= 43  # 32 random bytes, urlsafe base64
    stored = db.session.scalars(sa.select(InvitationToken.token_hash)).one()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    assert message.subject == "【客户满意度调查】项目交付满意度调查"
    built = build_message(
        sender="noreply@example.com",
        to=message.recipient,
        subject=message.subject,
        body=message.body,
        key=message.idempotency_key,
    )
    raw = built.as_bytes()
    assert b"=?utf-8?" in raw  # RFC 2047, not raw 8-bit in the header
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "【客户满意度调查】项目交付满意度调查"


def test_english_contacts_get_english_mail(app, world, survey, contacts):
    _campaign(world, survey, audience={"contact_ids": [contacts["amy"].id]})
    run_job(app, "send-invitations", now=NOW)
    db.session.rollback()
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert message.subject.startswith("Your opinion on our service") and "Dear Amy" in message.body


def test_header_injection_address_is_skipped_never_sent(app, world, survey, contacts):
    bad = contacts["wang"]
    db.session.execute(
        sa.update(Contact).where(Contact.id == bad.id).values(email="a@b.com\r\nCc: x@evil.example")
    )
    db.session.commit()
    _campaign(world, survey, audience={"contact_ids": [bad.id]})
    result = run_job(app, "send-invitations", now=NOW).result
    assert result["invited"] == 0 and result["skipped"] == 1
    assert _count(OutboxMessage) == 0 and _count(Invitation) == 0
    skip = db.session.scalars(sa.select(CampaignSkip)).one()
    assert skip.reason == "invalid_email"
    assert db.session.get(Contact, bad.id).last_surveyed_at is None  # the claim was undone


def test_nobody_is_surveyed_twice_within_30_days_across_campaigns(app, world, survey, contacts):
    _campaign(world, survey, name="A", audience={"office": "SH"})
    _campaign(world, survey, name="B", audience={"customer_ids": [world.customer.id]})
    result = run_job(app, "send-invitations", now=NOW).result
    # B finds wang and amy surveyed by A; both list the contact without an e-mail
    assert result["invited"] == 2 and result["skipped"] == 4
    skips = db.session.scalars(sa.select(CampaignSkip)).all()
    recent = [s for s in skips if s.reason == "surveyed_recently"]
    assert len(recent) == 2 and all("2026-11-20" in s.detail for s in recent)
    assert {s.contact_id for s in skips if s.reason == "no_email"} == {contacts["noemail"].id}
    # 31 days later a third campaign may survey them again
    _campaign(world, survey, name="C", audience={"office": "SH"}, now=NOW + timedelta(days=31))
    later = run_job(app, "send-invitations", now=NOW + timedelta(days=31)).result
    assert later["invited"] == 2


def test_the_interval_is_a_setting(app, world, survey, contacts, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_CONTACT_INTERVAL_DAYS", 3)
    _campaign(world, survey, name="A", audience={"office": "SH"})
    run_job(app, "send-invitations", now=NOW)
    _campaign(world, survey, name="B", audience={"office": "SH"}, now=NOW + timedelta(days=4))
    assert run_job(app, "send-invitations", now=NOW + timedelta(days=4)).result["invited"] == 2


def test_reminders_go_after_n_days_at_most_twice_never_to_who_answered(
    app, world, survey, contacts
):
    c = _campaign(world, survey, audience={"office": "SH"}, remind_after_days=3)
    run_job(app, "send-invitations", now=NOW)
    db.session.rollback()
    answered = db.session.scalars(
        sa.select(Invitation).where(Invitation.contact_id == contacts["amy"].id)
    ).one()
    answered.responded_at = NOW + timedelta(days=1)
    db.session.commit()
    assert run_job(app, "send-reminders", now=NOW + timedelta(days=2)).result["reminded"] == 0
    day3 = run_job(app, "send-reminders", now=NOW + timedelta(days=3, minutes=1))
    assert day3.result["reminded"] == 1
    assert (
        run_job(app, "send-reminders", now=NOW + timedelta(days=3, minutes=1)).status == "skipped"
    )
    assert (
        run_job(app, "send-reminders", now=NOW + timedelta(days=3, hours=1)).result["reminded"] == 0
    )
    assert (
        run_job(app, "send-reminders", now=NOW + timedelta(days=6, hours=1)).result["reminded"] == 1
    )
    assert run_job(app, "send-reminders", now=NOW + timedelta(days=20)).result["reminded"] == 0
    subjects = db.session.scalars(sa.select(OutboxMessage.subject).order_by(OutboxMessage.id)).all()
    assert len(subjects) == 4 and subjects[2].startswith("【提醒】")
    # each reminder carries a fresh link to the same invitation, and is in the audit trail
    assert _count(InvitationToken) == 4
    assert _count(AuditEvent, AuditEvent.action == "remind") == 2
    assert c.id


def test_close_campaigns_closes_once_and_stops_sending(app, world, survey, contacts):
    c = _campaign(
        world,
        survey,
        audience={"office": "SH"},
        close_at=NOW + timedelta(days=2),
        remind_after_days=3,
    )
    assert run_job(app, "send-invitations", now=NOW).result["invited"] == 2
    db.session.rollback()
    assert {i.expires_at for i in db.session.scalars(sa.select(Invitation))} == {
        NOW + timedelta(days=2)
    }
    assert run_job(app, "close-campaigns", now=NOW).result["closed"] == 0
    assert run_job(app, "close-campaigns", now=NOW + timedelta(days=2)).result["closed"] == 1
    assert (
        run_job(app, "close-campaigns", now=NOW + timedelta(days=2, minutes=5)).result["closed"]
        == 0
    )
    assert (
        run_job(app, "send-reminders", now=NOW + timedelta(days=3, hours=1)).result["reminded"] == 0
    )
    db.session.rollback()
    assert db.session.get(Campaign, c.id).status == "closed"
    assert _count(OutboxMessage) == 2


def test_recurring_campaign_sends_each_occurrence_once(app, world, survey, contacts, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_CONTACT_INTERVAL_DAYS", 1)
    _campaign(world, survey, audience={"contact_ids": [contacts["wang"].id]}, cron="0 9 * * 1")
    # Friday 2026-11-20: nothing until Monday 09:00 Shanghai (01:00 UTC on the 23rd)
    assert run_job(app, "send-invitations", now=NOW).result["invited"] == 0
    monday = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert run_job(app, "send-invitations", now=monday).result["invited"] == 1
    assert (
        run_job(app, "send-invitations", now=monday + timedelta(minutes=5)).result["invited"] == 0
    )
    # down for three weeks: one catch-up wave, not three
    later = monday + timedelta(days=21, minutes=10)
    assert run_job(app, "send-invitations", now=later).result["invited"] == 1
    assert _count(Invitation) == 2


def test_milestone_done_invites_the_project_contacts_at_once(app, world, survey, contacts):
    _campaign(world, survey, event="milestone_done", audience={"office": "SH"})
    project = contact_services.add_project(actor=world.om, customer_id=world.customer.id, name="P")
    milestone = contact_services.add_milestone(actor=world.om, project_id=project.id, name="验收")
    db.session.commit()
    contact_services.mark_milestone_done(
        actor=world.om, milestone_id=milestone.id, now=NOW + timedelta(hours=1)
    )
    db.session.commit()
    assert _count(Invitation) == 2
    waves = set(db.session.scalars(sa.select(Invitation.wave)))
    assert waves == {f"milestone:{milestone.id}"}
    # the job's catch-up finds the same event and changes nothing
    run_job(app, "send-invitations", now=NOW + timedelta(hours=1, minutes=5))
    assert _count(Invitation) == 2 and _count(OutboxMessage) == 2


def test_issue_resolved_campaign_is_fed_by_the_job(app, world, survey, contacts, new_issue, client):
    _campaign(
        world,
        survey,
        event="issue_resolved",
        audience={"office": "SH"},
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    issue = new_issue()
    h = world.h["handler"]
    assert (
        client.post(f"/api/v1/issues/{issue['id']}/handle", json={}, headers=h).status_code == 200
    )
    resolved = client.post(
        f"/api/v1/issues/{issue['id']}/resolve",
        json={"resolution": "更换电源", "root_cause": "manufacturing", "responsible": "供应商"},
        headers=h,
    )
    assert resolved.status_code == 200, resolved.get_json()
    now = datetime.now(UTC) + timedelta(minutes=1)
    assert run_job(app, "send-invitations", now=now).result["invited"] == 2
    assert set(db.session.scalars(sa.select(Invitation.wave))) == {f"issue:{issue['id']}"}


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"audience": {"office": "NOPE"}}, "audience.office"),
        ({"audience": {"tier": "Z"}}, "audience.tier"),
        ({"audience": {"contact_ids": ["x"]}}, "audience.contact_ids"),
        ({"audience": {"colour": "red"}}, "audience"),
        ({"cron": "every day"}, "cron"),
        ({"cron": "0 9 * * *", "send_at": NOW}, "send_at"),
        ({"remind_after_days": 0}, "remind_after_days"),
        ({"reminders": 3, "remind_after_days": 2}, "reminders"),
        ({"reminders": 1}, "reminders"),
        ({"close_at": NOW - timedelta(days=1)}, "close_at"),
        ({"send_at": datetime(2026, 12, 1)}, "send_at"),  # noqa: DTZ001  (naive on purpose)
        ({"name": ""}, "name"),
    ],
)
def test_bad_campaigns_are_refused(world, survey, kw, field):
    kw.setdefault("name", "x")
    with pytest.raises(ValidationFailed) as err:
        campaigns.create_campaign(actor=world.qa, survey_id=survey.id, now=NOW, **kw)
    assert field in err.value.fields


def test_a_draft_survey_cannot_be_sent_and_managers_cannot_send(world):
    draft = services.create_survey(actor=world.qa, data=design())
    with pytest.raises(ValidationFailed) as err:
        campaigns.create_campaign(actor=world.qa, survey_id=draft.id, name="x", now=NOW)
    assert "activate" in err.value.fields["survey_id"]
    with pytest.raises(Forbidden):
        campaigns.create_campaign(actor=world.om, survey_id=draft.id, name="x", now=NOW)


def test_campaign_api_create_and_figures(app, client, world, survey, contacts):
    body = {
        "survey_id": survey.id,
        "name": "API 调查",
        "audience": {"office": "SH"},
        "send_at": "2026-11-20T10:00:00+08:00",
        "remind_after_days": 5,
    }
    created = client.post("/api/v1/campaigns", json=body, headers=world.h["qa"])
    assert created.status_code == 201, created.get_json()
    cid = created.get_json()["id"]
    assert created.get_json()["reminders"] == 2
    run_job(app, "send-invitations", now=NOW)
    got = client.get(f"/api/v1/campaigns/{cid}", headers=world.h["om"]).get_json()
    # queued is not delivered: no response rate before an e-mail has left
    assert (got["invited"], got["delivered"], got["responded"]) == (2, 0, 0)
    assert got["response_rate"] is None
    # the outbox's own clock: the e-mails were queued at the real time
    assert run_job(app, "send-outbox", now=utcnow() + timedelta(minutes=1)).result["sent"] == 2
    got = client.get(f"/api/v1/campaigns/{cid}", headers=world.h["om"]).get_json()
    assert (got["invited"], got["delivered"], got["response_rate"]) == (2, 2, 0)
    assert got["nps"] is None and got["index"] is None
    assert set(got["margin_of_error"]) == {"nps", "csat", "index"}
    # another office's manager does not see an SH campaign; agents may not read campaigns
    om_gz = client.get(f"/api/v1/campaigns/{cid}", headers=world.h["agent_gz"])
    assert om_gz.status_code == 403
    bad = client.post(
        "/api/v1/campaigns", json={**body, "send_at": "2026-11-20T10:00:00"}, headers=world.h["qa"]
    )
    assert bad.status_code == 422 and "send_at" in bad.get_json()["error"]["fields"]
    assert client.post("/api/v1/campaigns", json=body, headers=world.h["om"]).status_code == 403


def test_campaign_of_another_office_is_404(client, world, survey, make_user, api_headers):
    c = _campaign(world, survey, audience={"office": "SH"})
    om_gz = make_user("office_manager", office=world.gz)
    assert client.get(f"/api/v1/campaigns/{c.id}", headers=api_headers(om_gz)).status_code == 404
    assert client.get(f"/api/v1/campaigns/{c.id}", headers=world.h["rm"]).status_code == 200
    listed = client.get("/api/v1/campaigns", headers=api_headers(om_gz)).get_json()
    assert listed["items"] == []


def test_skipped_contacts_are_listed_with_reason_in_the_api(app, client, world, survey, contacts):
    _campaign(world, survey, name="A", audience={"office": "SH"})
    c2 = _campaign(world, survey, name="B", audience={"office": "SH"})
    run_job(app, "send-invitations", now=NOW)
    got = client.get(f"/api/v1/campaigns/{c2.id}", headers=world.h["qa"]).get_json()
    assert got["skipped"] == 3
    reasons = {s["name"]: s["reason"] for s in got["skipped_contacts"]}
    assert reasons == {"王": "surveyed_recently", "Amy": "surveyed_recently", "无邮箱": "no_email"}
    recent = next(s for s in got["skipped_contacts"] if s["reason"] == "surveyed_recently")
    assert date(2026, 11, 20).isoformat() in recent["detail"]


def test_inactive_and_unreachable_contacts_are_listed_not_left_out(
    app, client, world, survey, contacts, login_as
):
    contact_services.update_contact(actor=world.agent, contact_id=contacts["amy"].id, active=False)
    db.session.commit()
    c = _campaign(world, survey, audience={"office": "SH"})
    result = run_job(app, "send-invitations", now=NOW).result
    assert result["invited"] == 1 and result["skipped"] == 2
    skipped = {
        s.contact_id: (s.reason, s.wave) for s in db.session.scalars(sa.select(CampaignSkip))
    }
    assert skipped == {
        contacts["amy"].id: ("inactive", "once"),
        contacts["noemail"].id: ("no_email", "once"),
    }
    # nobody unreachable had the frequency rule's clock taken
    assert db.session.get(Contact, contacts["amy"].id).last_surveyed_at is None
    assert db.session.get(Contact, contacts["noemail"].id).last_surveyed_at is None
    got = client.get(f"/api/v1/campaigns/{c.id}", headers=world.h["qa"]).get_json()
    assert got["skipped"] == 2
    assert sorted((s["name"], s["reason"]) for s in got["skipped_contacts"]) == [
        ("Amy", "inactive"),
        ("无邮箱", "no_email"),
    ]
    login_as(world.qa)
    html = client.get(f"/surveys/campaigns/{c.id}").get_data(as_text=True)
    assert "联系人已停用" in html and "无电子邮箱" in html
    english = client.get(f"/surveys/campaigns/{c.id}?lang=en").get_data(as_text=True)
    assert "Contact inactive" in english and "No e-mail address" in english
    assert set(campaign_views.SKIP_REASONS) == set(invitations.SKIP_REASONS)  # each one named


def test_an_event_catch_up_lists_an_unreachable_contact_once(app, world, survey, contacts):
    _campaign(world, survey, event="milestone_done", audience={"office": "SH"})
    project = contact_services.add_project(actor=world.om, customer_id=world.customer.id, name="P")
    milestone = contact_services.add_milestone(actor=world.om, project_id=project.id, name="验收")
    db.session.commit()
    contact_services.mark_milestone_done(
        actor=world.om, milestone_id=milestone.id, now=NOW + timedelta(hours=1)
    )
    db.session.commit()
    # the job reads the same event again (its look-back): nothing new to list
    again = run_job(app, "send-invitations", now=NOW + timedelta(hours=1, minutes=5)).result
    assert again["invited"] == 0 and again["skipped"] == 0
    skips = db.session.scalars(sa.select(CampaignSkip)).all()
    assert [(s.contact_id, s.reason, s.wave) for s in skips] == [
        (contacts["noemail"].id, "no_email", f"milestone:{milestone.id}")
    ]


def test_campaign_pages(app, client, world, survey, contacts, login_as, post_form):
    login_as(world.qa)
    form = client.get("/surveys/campaigns/new").get_data(as_text=True)
    assert "项目交付满意度调查 v1" in form
    bad = post_form(
        "/surveys/campaigns/new",
        {
            "survey": str(survey.id),
            "name": "页面调查",
            "office": "SH",
            "cron": "nonsense",
            "reminders": "2",
        },
    )
    assert bad.status_code == 200 and "five-field crontab" in bad.get_data(as_text=True)
    ok = post_form(
        "/surveys/campaigns/new",
        {
            "survey": str(survey.id),
            "name": "页面调查",
            "office": "SH",
            "contact_ids": f"{contacts['wang'].id}, {contacts['amy'].id}",
            "send_at": "2026-11-20T10:00",
            "remind_after_days": "3",
            "reminders": "1",
        },
    )
    assert ok.status_code == 302, ok.get_data(as_text=True)
    c = db.session.scalars(sa.select(Campaign)).one()
    assert c.send_at == NOW and c.reminders == 1 and c.office_id == world.sh.id
    db.session.rollback()  # end the test's read before the job writes
    run_job(app, "send-invitations", now=NOW)
    db.session.rollback()
    login_as(world.om)
    html = client.get(f"/surveys/campaigns/{c.id}").get_data(as_text=True)
    assert "页面调查" in html and "尚无答卷" in html and "95 %" in html
    assert "页面调查" in client.get("/surveys/campaigns/").get_data(as_text=True)
    assert client.get("/surveys/campaigns/new").status_code == 403
