"""The answer page in pages: each page's answers are kept against the invitation (a draft, not a
response), a customer who comes back with the link continues where they left off, the last
page sends everything at once, and drafts of links that can no longer be answered are out of
reach and purged."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.db import utcnow
from app.extensions import db
from app.surveys import drafts
from app.surveys.models import Answer, Draft, Invitation, Response
from tests.surveys.conftest import GOOD, close_campaign

pytestmark = pytest.mark.committing

PAGE_1 = {"quality": "4", "speed": "5", "nps": "9"}
PAGE_2 = {"channel": "朋友", "comment": "工程师很专业"}


def _open(client, token):
    first = client.get(f"/s/{token}")
    assert first.status_code == 303, first.get_data(as_text=True)
    return first


def _key(html):
    return re.search(r'name="_key" value="([0-9a-f]+)"', html).group(1)


def _draft(invitation_id=None):
    db.session.rollback()
    query = sa.select(Draft)
    if invitation_id is not None:
        query = query.where(Draft.invitation_id == invitation_id)
    return db.session.scalars(query).one_or_none()


def _count(model):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _invitation(contact):
    db.session.rollback()
    return db.session.scalars(
        sa.select(Invitation).where(Invitation.contact_id == contact.id)
    ).one()


def _checked(html, key):
    found = re.search(rf'name="{key}" value="([^"]*)" checked', html)
    return found.group(1) if found else None


def test_the_questionnaire_is_shown_in_pages_of_three(client, sent):
    _open(client, sent["tokens"]["王"])
    html = client.get("/s/").get_data(as_text=True)
    assert "第 1 页，共 2 页" in html and '<progress id="s-progress" value="1" max="2">' in html
    assert 'id="q-quality"' in html and 'id="q-nps"' in html and 'id="q-channel"' not in html
    assert 'value="next"' in html and 'value="send"' not in html and 'value="back"' not in html
    assert "下一页" in html and "每一页的答案都会保存" in html
    second = client.get("/s/?page=2").get_data(as_text=True)
    assert 'id="q-channel"' in second and 'id="q-quality"' not in second
    assert "4. " in second  # numbered across the pages
    assert 'value="send"' in second and 'value="back"' in second and "上一页" in second
    # a page number that is no page lands on the first or the last one
    assert 'id="q-quality"' in client.get("/s/?page=x").get_data(as_text=True)
    assert 'id="q-channel"' in client.get("/s/?page=99").get_data(as_text=True)


def test_next_keeps_the_page_as_a_draft_and_moves_on(client, sent):
    _open(client, sent["tokens"]["王"])
    key = _key(client.get("/s/").get_data(as_text=True))
    moved = client.post("/s/", data={**PAGE_1, "_key": key, "_page": "1", "_action": "next"})
    assert moved.status_code == 303 and moved.headers["Location"].endswith("/s/?page=2&lang=zh")
    invitation = _invitation(sent["wang"])
    draft = _draft(invitation.id)
    assert draft.answers == PAGE_1 and draft.page == 2
    assert _count(Response) == 0 and invitation.responded_at is None  # not a response
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "survey_draft")
    ).one()
    assert event.action == "save" and event.entity_id == invitation.id
    assert event.changes == {"page": [1, 2], "answered": [0, 3]}  # no answer in the audit
    page_two = client.get("/s/?page=2&lang=zh")
    assert page_two.status_code == 200 and 'id="q-channel"' in page_two.get_data(as_text=True)


def test_coming_back_with_the_link_continues_where_the_customer_left_off(app, client, sent):
    token = sent["tokens"]["王"]
    _open(client, token)
    first_key = _key(client.get("/s/").get_data(as_text=True))
    client.post("/s/", data={**PAGE_1, "_key": first_key, "_page": "1", "_action": "next"})

    later = app.test_client()  # the phone was closed: no cookie any more
    _open(later, token)
    html = later.get("/s/?lang=zh").get_data(as_text=True)
    assert "第 2 页，共 2 页" in html and 'id="q-channel"' in html
    back = later.get("/s/?page=1").get_data(as_text=True)
    assert _checked(back, "quality") == "4" and _checked(back, "speed") == "5"
    assert _checked(back, "nps") == "9"

    key = _key(html)
    done = later.post("/s/", data={**PAGE_2, "_key": key, "_page": "2", "_action": "send"})
    assert done.status_code == 200 and "感谢" in done.get_data(as_text=True)
    assert _count(Response) == 1 and _count(Answer) == 5 and _count(Draft) == 0
    answers = dict(
        db.session.execute(
            sa.select(Answer.question_type, sa.func.coalesce(Answer.text, "")).where(
                Answer.question_type.in_(("choice", "text"))
            )
        ).all()
    )
    assert answers == {"choice": "朋友", "text": "工程师很专业"}
    assert db.session.scalar(sa.select(Answer.value).where(Answer.question_type == "nps")) == 9
    # a retry, a double click, the first phone's old tab: the same thank-you, nothing changes
    again = later.post(
        "/s/", data={"channel": "展会", "_key": key, "_page": "2", "_action": "send"}
    )
    assert again.get_data(as_text=True) == done.get_data(as_text=True)
    # (its form carries the key of its own cookie: a cookie taken in another second, as the
    # second phone's was, signs differently, and its key would not match)
    old_tab = client.post("/s/", data={**PAGE_1, "_key": first_key, "_page": "1"})
    assert old_tab.status_code == 200 and _count(Draft) == 0
    assert _count(Response) == 1 and _count(Answer) == 5
    # the link is used up: the same generic page as every other bad link
    assert app.test_client().get(f"/s/{token}").status_code == 404


def test_next_refuses_a_missing_required_answer_and_keeps_the_rest(client, sent):
    _open(client, sent["tokens"]["王"])
    key = _key(client.get("/s/").get_data(as_text=True))
    data = {"quality": "4", "nps": "11", "_key": key, "_page": "1", "_action": "next"}
    refused = client.post("/s/", data=data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "第 1 页，共 2 页" in html
    assert "请回答此题。" in html and "请选择 0 到 10 之间的数字。" in html
    assert _checked(html, "quality") == "4"
    draft = _draft()
    assert draft.answers == {"quality": "4"} and draft.page == 1  # the valid answer only


def test_back_keeps_what_there_is_without_requiring_anything(client, sent):
    _open(client, sent["tokens"]["王"])
    key = _key(client.get("/s/").get_data(as_text=True))
    client.post("/s/", data={**PAGE_1, "_key": key, "_page": "1", "_action": "next"})
    back = client.post(
        "/s/", data={"channel": "展会", "_key": key, "_page": "2", "_action": "back"}
    )
    assert back.status_code == 303 and back.headers["Location"].endswith("/s/?page=1&lang=zh")
    assert _draft().answers == {**PAGE_1, "channel": "展会"} and _draft().page == 1
    # a wrong answer is not kept even on the way back
    bad = client.post("/s/", data={"channel": "别的", "_key": key, "_page": "2", "_action": "back"})
    assert bad.status_code == 422 and _draft().answers["channel"] == "展会"
    # clearing a text removes it from the draft
    client.post("/s/", data={"comment": "先写一点", "_key": key, "_page": "2", "_action": "back"})
    assert _draft().answers["comment"] == "先写一点"
    client.post("/s/", data={"comment": "  ", "_key": key, "_page": "2", "_action": "back"})
    assert "comment" not in _draft().answers


def test_a_page_keeps_only_its_own_questions(client, sent):
    _open(client, sent["tokens"]["王"])
    key = _key(client.get("/s/").get_data(as_text=True))
    data = {
        **PAGE_1,
        "channel": "别的",
        "hacker": "x",
        "_key": key,
        "_page": "1",
        "_action": "next",
    }
    assert client.post("/s/", data=data).status_code == 303
    assert _draft().answers == PAGE_1


def test_sending_with_an_earlier_page_unanswered_shows_that_page(client, sent):
    _open(client, sent["tokens"]["王"])
    key = _key(client.get("/s/?page=2").get_data(as_text=True))  # straight to the last page
    refused = client.post("/s/", data={**PAGE_2, "_key": key, "_page": "2", "_action": "send"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "第 1 页，共 2 页" in html and "请回答此题。" in html
    assert _count(Response) == 0
    draft = _draft()
    assert draft.answers == PAGE_2 and draft.page == 1  # the last page's answers are kept


def test_a_too_long_text_is_refused_and_not_kept(client, sent):
    _open(client, sent["tokens"]["王"])
    key = _key(client.get("/s/").get_data(as_text=True))
    client.post("/s/", data={**PAGE_1, "_key": key, "_page": "1", "_action": "next"})
    data = {"channel": "朋友", "comment": "长" * 20_001, "_key": key, "_page": "2"}
    refused = client.post("/s/", data={**data, "_action": "back"})
    assert refused.status_code == 422 and "20,000" in refused.get_data(as_text=True)
    assert "comment" not in _draft().answers
    sent_anyway = client.post("/s/", data={**data, "_action": "send"})
    assert sent_anyway.status_code == 422 and _count(Response) == 0
    huge = client.post("/s/", data={**data, "comment": "长" * 200_000, "_action": "back"})
    assert huge.status_code == 413


def test_the_draft_of_a_link_that_cannot_be_answered_is_out_of_reach(client, sent):
    token = sent["tokens"]["王"]
    _open(client, token)
    key = _key(client.get("/s/").get_data(as_text=True))
    client.post("/s/", data={**PAGE_1, "_key": key, "_page": "1", "_action": "next"})
    db.session.execute(sa.update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert client.get("/s/?page=1").status_code == 404  # the cookie leads nowhere now
    assert client.get(f"/s/{token}").status_code == 404
    moved = client.post("/s/", data={**PAGE_1, "_key": key, "_page": "1", "_action": "next"})
    assert moved.status_code == 404


def test_a_closed_campaign_hides_the_draft_too(client, sent):
    _open(client, sent["tokens"]["王"])
    key = _key(client.get("/s/").get_data(as_text=True))
    client.post("/s/", data={**PAGE_1, "_key": key, "_page": "1", "_action": "next"})
    close_campaign(sent["campaign"].id)
    assert client.get("/s/").status_code == 404


def test_an_integration_sending_json_discards_the_draft(client, sent):
    token = sent["tokens"]["王"]
    _open(client, token)
    key = _key(client.get("/s/").get_data(as_text=True))
    client.post("/s/", data={**PAGE_1, "_key": key, "_page": "1", "_action": "next"})
    assert client.post(f"/s/{token}", json={"answers": GOOD}).status_code == 200
    assert _count(Draft) == 0 and _count(Response) == 1
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "survey_response")
    ).one()
    assert event.changes["draft_discarded"] is True


def test_a_form_posted_with_the_token_takes_the_draft_too(client, sent):
    token = sent["tokens"]["王"]
    _open(client, token)
    key = _key(client.get("/s/").get_data(as_text=True))
    client.post("/s/", data={**PAGE_1, "_key": key, "_page": "1", "_action": "next"})
    assert client.post(f"/s/{token}", data=PAGE_2).status_code == 200
    assert _count(Answer) == 5 and _count(Draft) == 0


def test_english_pages(client, sent):
    _open(client, sent["tokens"]["Amy"])
    html = client.get("/s/?lang=en").get_data(as_text=True)
    assert "Page 1 of 2" in html and ">Next<" in html and "continue later" in html
    key = _key(html)
    moved = client.post(
        "/s/?lang=en", data={**PAGE_1, "_key": key, "_page": "1", "_action": "next"}
    )
    assert moved.headers["Location"].endswith("/s/?page=2&lang=en")
    page_two = client.get("/s/?page=2&lang=en").get_data(as_text=True)
    assert ">Back<" in page_two and ">Send<" in page_two


def test_purge_deletes_the_drafts_that_can_no_longer_be_sent(client, sent):
    for name in ("王", "Amy"):
        other = client.application.test_client()
        _open(other, sent["tokens"][name])
        key = _key(other.get("/s/").get_data(as_text=True))
        other.post("/s/", data={**PAGE_1, "_key": key, "_page": "1", "_action": "next"})
    assert _count(Draft) == 2
    now = utcnow()
    assert drafts.purge(now) == 0  # both can still be sent
    amy = _invitation(sent["amy"])
    db.session.execute(sa.update(Invitation).where(Invitation.id == amy.id).values(expires_at=now))
    assert drafts.purge(now) == 1
    db.session.commit()
    assert _draft().invitation_id == _invitation(sent["wang"]).id
    assert drafts.purge(now + drafts.KEEP_UNTOUCHED + timedelta(days=1)) == 1  # untouched


def test_the_purge_runs_with_the_daily_counter_purge(runner, sent, client):
    _open(client, sent["tokens"]["王"])
    key = _key(client.get("/s/").get_data(as_text=True))
    client.post("/s/", data={**PAGE_1, "_key": key, "_page": "1", "_action": "next"})
    db.session.execute(sa.update(Invitation).values(responded_at=utcnow()))
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "purge-survey-counters"])
    assert result.exit_code == 0, result.output
    assert _count(Draft) == 0


def test_a_one_page_questionnaire_has_no_pages_and_no_draft(client, world):
    from app.contacts import services as contact_services
    from app.core.outbox import OutboxMessage
    from app.surveys import campaigns, services
    from app.surveys.invitations import invite_audience
    from tests.surveys.helpers import design

    short = design(questions=design()["questions"][:2])
    survey = services.create_survey(actor=world.qa, data=short)
    services.activate_survey(actor=world.qa, survey_id=survey.id)
    contact_services.add_contact(
        actor=world.agent, customer_id=world.customer.id, name="李", email="li@example.com"
    )
    now = utcnow()
    campaign = campaigns.create_campaign(
        actor=world.qa,
        survey_id=survey.id,
        name="短问卷",
        audience={"office": "SH"},
        close_at=now + timedelta(days=3),
        now=now - timedelta(minutes=1),
    )
    invite_audience(campaign, "once", now - timedelta(minutes=1))
    db.session.commit()
    body = db.session.scalars(sa.select(OutboxMessage.body)).one()
    token = re.search(r"/s/([A-Za-z0-9_-]+)", body).group(1)
    _open(client, token)
    html = client.get("/s/").get_data(as_text=True)
    assert "_page" not in html and "第 1 页" not in html and 'value="send"' in html
    done = client.post("/s/", data={"quality": "5", "speed": "5", "_key": _key(html)})
    assert done.status_code == 200 and _count(Response) == 1 and _count(Draft) == 0
