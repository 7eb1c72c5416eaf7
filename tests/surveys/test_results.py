"""Campaign results: figures from SQL, charts from the installed plotly, n, margins, small
sample marks, escaped comments; the response rate over delivered invitations only."""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta

import plotly
import pytest
import sqlalchemy as sa

from app.contacts import services as contact_services
from app.contacts.models import Contact
from app.core.outbox import OutboxMessage
from app.core.outbox_service import MAX_ATTEMPTS, enqueue_email, send_due
from app.core.scoping import Scope
from app.db import utcnow
from app.extensions import db
from app.surveys import bounces, campaigns, charts, scoring, segments, services
from app.surveys.answers import link_for_token, record_response
from app.surveys.invitations import invite, invite_audience
from app.surveys.models import Campaign, Invitation
from app.surveys.results import campaign_figures, progress
from tests.surveys.conftest import GOOD
from tests.surveys.helpers import design

pytestmark = pytest.mark.committing


def _answer(sent, name, **answers):
    link = link_for_token(sent["tokens"][name], utcnow())
    record_response(link, {**GOOD, **answers}, language="zh", now=utcnow())
    db.session.commit()


def test_figures_are_aggregated_and_scored(sent):
    _answer(sent, "王", quality="5", speed="3", nps="10")
    _answer(sent, "Amy", quality="4", speed="2", nps="6", comment="<b>慢</b>")
    f = campaign_figures(sent["campaign"])
    assert (f.invited, f.responded, f.response_rate) == (2, 2, 100.0)
    assert f.nps.value == 0.0 and f.nps.n == 2 and f.nps.small_sample
    assert f.csat.n == 4 and f.csat.value == 50.0  # 5, 4 of 5, 3, 2
    # quality mean 4.5 → 87.5, speed mean 2.5 → 37.5, weighted 60/40 → 67.5
    assert round(f.index.value, 1) == 67.5
    assert f.nps_counts == {10: 1, 6: 1} and f.rating_counts == {5: 1, 4: 1, 3: 1, 2: 1}
    body = f.as_dict()
    assert body["index"] == 67.5 and body["measures"]["index"]["small_sample"] is True


def test_charts_are_plain_figure_dicts():
    score = scoring.IndicatorScore("quality", 60, 1.0, 4.5, scoring.Estimate(87.5, 2, 9.8))
    fig = charts.indicator_chart([score], {"quality": "质量"}, "得分")
    assert fig["data"][0]["x"] == ["质量"] and fig["data"][0]["y"] == [87.5]
    assert fig["data"][0]["error_y"]["array"] == [9.8]
    nps = charts.nps_chart({0: 1, 8: 2, 10: 3}, "NPS")
    assert nps["data"][0]["y"] == [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3]
    assert nps["data"][0]["marker"]["color"][0] == charts.DETRACTOR


def test_results_page_shows_charts_margins_and_escaped_comments(client, sent, world, login_as):
    _answer(sent, "王", nps="9", comment='<script>alert("x")</script>')
    login_as(world.om)
    html = client.get(f"/surveys/campaigns/{sent['campaign'].id}").get_data(as_text=True)
    assert f"/surveys/assets/plotly-{plotly.__version__}.min.js" in html
    assert "cdn" not in html.lower()
    assert 'id="figure-indicators"' in html and 'id="figure-nps"' in html
    assert "样本较小" in html and "(n = 1)" in html and "95 %" in html
    assert '<script>alert("x")' not in html and "&lt;script&gt;alert" in html
    js = client.get(f"/surveys/assets/plotly-{plotly.__version__}.min.js")
    assert js.status_code == 200 and b"plotly" in js.get_data()[:2000].lower()
    assert "immutable" in js.headers["Cache-Control"]
    js.close()
    assert client.get("/surveys/assets/plotly-0.0.0.min.js").status_code == 404


def test_no_charts_before_answers(client, sent, world, login_as):
    login_as(world.qa)
    html = client.get(f"/surveys/campaigns/{sent['campaign'].id}").get_data(as_text=True)
    assert "plotly" not in html and "尚无答卷" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("survey_answers"))) == 0


# --- the response rate's denominator: delivered, not queued ------------------------------------


class Refusing:
    """A mail server that refuses some recipients (each attempt fails) and takes the rest."""

    def __init__(self, refused):
        self.refused = set(refused)

    def send(self, message, envelope_from=None):
        if message["To"] in self.refused:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (450, b"try later")})
        return "sent"


@pytest.fixture
def mixed(world):
    """A campaign of six whose e-mails went every way: delivered (ok), delivered and answered
    (answers), bounced back after delivery (bounce), given up on (fail), retrying (retry) and
    still queued, never tried (late)."""
    survey = services.create_survey(actor=world.qa, data=design())
    services.activate_survey(actor=world.qa, survey_id=survey.id)
    names = ("ok", "answers", "bounce", "fail", "retry", "late")
    people = {
        name: contact_services.add_contact(
            actor=world.agent,
            customer_id=world.customer.id,
            name=name,
            email=f"{name}@example.com",
        )
        for name in names
    }
    start = utcnow()
    campaign = campaigns.create_campaign(
        actor=world.qa,
        survey_id=survey.id,
        name="送达测试",
        audience={"contact_ids": [people[n].id for n in names[:-1]]},
        close_at=start + timedelta(days=10),
        now=start - timedelta(minutes=1),
    )
    db.session.flush()
    invite_audience(campaign, "once", start - timedelta(minutes=1))
    db.session.commit()
    # the giving-up one has used all its attempts but the last
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.recipient == "fail@example.com")
        .values(attempts=MAX_ATTEMPTS - 1)
    )
    db.session.commit()
    refusing = Refusing({"fail@example.com", "retry@example.com"})
    counts = send_due(start + timedelta(seconds=1), sender=refusing)
    assert (counts["sent"], counts["failed"], counts["retried"]) == (3, 1, 1)
    # a late bounce for one delivered e-mail
    bounced = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == "bounce@example.com")
    ).one()
    failure = bounces.Failure("hard", "5.1.1", "bounce@example.com", "550 5.1.1 User unknown")
    report = bounces.Report(is_dsn=True, tokens=[bounced.bounce_token], failure=failure)
    assert bounces.record(report, utcnow()) == "hard"
    # one more contact invited afterwards: queued, not sent yet
    db.session.commit()
    assert invite(campaign, people["late"], world.sh.id, "once", utcnow()) == "invited"
    db.session.commit()
    token = _token_of("answers@example.com")
    link = link_for_token(token, utcnow())
    record_response(link, GOOD, language="zh", now=utcnow())
    db.session.commit()
    return db.session.get(Campaign, campaign.id)


def _token_of(recipient):
    body = db.session.scalars(
        sa.select(OutboxMessage.body).where(OutboxMessage.recipient == recipient)
    ).one()
    return re.search(r"/s/([A-Za-z0-9_-]+)", body).group(1)


def test_only_delivered_invitations_are_the_response_rates_denominator(mixed):
    by_name = dict(
        db.session.execute(
            sa.select(Contact.name, Invitation.delivered_at).join(
                Invitation, Invitation.contact_id == Contact.id
            )
        ).all()
    )
    # the outbox stamped the three it handed over, and only those
    assert {n for n, at in by_name.items() if at is not None} == {"ok", "answers", "bounce"}
    f = campaign_figures(mixed)
    # invited six; delivered: ok and answers (bounce came back; fail, retry and late never left)
    assert (f.invited, f.delivered, f.responded, f.response_rate) == (6, 2, 1, 50.0)
    p = progress(mixed.id)
    assert (p.invited, p.delivered, p.failed, p.pending, p.bounced) == (6, 2, 1, 2, 1)
    assert p.delivered + p.failed + p.pending + p.bounced == p.invited


def test_delivered_is_the_same_in_segments_api_and_page(client, mixed, world, login_as):
    office = next(
        s for s in segments.by_office_and_region(mixed, Scope("company")) if s.kind == "office"
    )
    assert (office.invited, office.delivered, office.responded, office.response_rate) == (
        6,
        2,
        1,
        50.0,
    )
    got = client.get(f"/api/v1/campaigns/{mixed.id}", headers=world.h["qa"]).get_json()
    assert (got["invited"], got["delivered"], got["responded"], got["response_rate"]) == (
        6,
        2,
        1,
        50.0,
    )
    assert got["progress"]["delivered"] == 2 and got["progress"]["pending"] == 2
    sh = next(s for s in got["segments"] if s["code"] == "SH")
    assert (sh["invited"], sh["delivered"], sh["response_rate"]) == (6, 2, 50.0)
    login_as(world.qa)
    html = client.get(f"/surveys/campaigns/{mixed.id}").get_data(as_text=True)
    assert '<dd id="figure-invited">6</dd>' in html
    assert '<dd id="figure-delivered">2</dd>' in html
    assert '<dd id="figure-responded">1 (50.0 %)</dd>' in html


def test_a_reminder_that_gets_through_delivers_an_invitation_whose_first_mail_failed(mixed):
    invitation = db.session.scalars(
        sa.select(Invitation).join(Contact).where(Contact.name == "fail")
    ).one()
    enqueue_email(
        key=f"invitation:{invitation.id}:1", to="fail@example.com", subject="提醒", body="…"
    )
    db.session.commit()
    send_due(utcnow() + timedelta(seconds=1), sender=Refusing({"retry@example.com"}))
    db.session.refresh(invitation)
    assert invitation.delivered_at is not None
    p = progress(mixed.id)
    # late's queued e-mail went out in the same run; retry is still refused
    assert (p.delivered, p.failed, p.pending, p.bounced) == (4, 0, 1, 1)
    assert campaign_figures(mixed).delivered == 4
