"""Results by region and office (scoped), trend by wave (never across survey kinds), and
third-party results indicator by indicator against competitors."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.contacts.models import Contact
from app.core.scoping import Scope
from app.db import utcnow
from app.extensions import db
from app.surveys import campaigns, segments, services
from app.surveys.answers import link_for_token, record_response
from app.surveys.invitations import new_token, send_wave
from app.surveys.models import Invitation
from tests.surveys.conftest import GOOD
from tests.surveys.helpers import design
from tests.surveys.test_third_party import CSV

pytestmark = pytest.mark.committing


def _answer(token, **answers):
    link = link_for_token(token, utcnow())
    record_response(link, {**GOOD, **answers}, language="zh", now=utcnow())
    db.session.commit()


def test_results_by_region_and_office_are_scoped(client, sent, world, login_as):
    _answer(sent["tokens"]["王"], quality="5", speed="3", nps="10")
    places = segments.by_office_and_region(sent["campaign"], Scope(kind="company"))
    assert [(p.kind, p.code, p.invited, p.responded) for p in places] == [
        ("region", "EAST", 2, 1),
        ("office", "SH", 2, 1),
    ]
    office = places[1].measures
    assert office.nps.value == 100.0 and office.nps.n == 1 and office.nps.small_sample
    # quality 5 → 100, speed 3 → 50, weights 60/40 → 80
    assert round(office.index.value, 1) == 80.0
    assert (
        segments.by_office_and_region(sent["campaign"], Scope(kind="office", office_id=world.gz.id))
        == []
    )
    login_as(world.om)
    html = client.get(f"/surveys/campaigns/{sent['campaign'].id}").get_data(as_text=True)
    assert 'id="segments"' in html and "EAST" in html


def test_trend_by_wave_measures_each_campaign_of_the_survey(client, sent, world, login_as):
    _answer(sent["tokens"]["王"], quality="2", nps="3")
    db.session.execute(sa.update(Contact).values(last_surveyed_at=utcnow() - timedelta(days=40)))
    now = utcnow()
    second = campaigns.create_campaign(
        actor=world.qa,
        survey_id=sent["survey"].id,
        name="第二波",
        audience={"office": "SH"},
        close_at=now + timedelta(days=5),
        now=now - timedelta(minutes=1),
    )
    db.session.flush()
    send_wave(second, "once", now, now)
    invitation = db.session.scalars(
        sa.select(Invitation).where(
            Invitation.campaign_id == second.id, Invitation.contact_id == sent["wang"].id
        )
    ).one()
    token = new_token(invitation)
    db.session.commit()
    _answer(token, quality="5", nps="10")
    waves = segments.trend(second)
    assert [w.campaign_id for w in waves] == [sent["campaign"].id, second.id]
    assert [w.measures.nps.value for w in waves] == [-100.0, 100.0]
    # a third-party wave of another survey is never part of this trend
    other = services.create_survey(actor=world.qa, data=design(kind="third_party"))
    services.activate_survey(actor=world.qa, survey_id=other.id)
    campaigns.create_campaign(actor=world.qa, survey_id=other.id, name="第三方")
    db.session.commit()
    assert len(segments.trend(second)) == 2
    login_as(world.om)
    html = client.get(f"/surveys/campaigns/{second.id}").get_data(as_text=True)
    assert 'id="trend"' in html and 'id="figure-trend"' in html
    assert "never merged" in html or "不会合并" in html


def test_third_party_results_compare_indicators_with_competitors(client, world, login_as):
    survey = services.create_survey(actor=world.qa, data=design(kind="third_party"))
    services.activate_survey(actor=world.qa, survey_id=survey.id)
    campaign = campaigns.create_campaign(actor=world.qa, survey_id=survey.id, name="2026 第三方")
    db.session.commit()
    response = client.post(
        f"/api/v1/campaigns/{campaign.id}/import",
        data={"file": (io.BytesIO(CSV.encode()), "results.csv")},
        headers=world.h["qa"],
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    measured = segments.companies(campaign)
    assert list(measured) == ["", "竞争对手A"]
    scores = {name: {s.key: s.score.value for s in m.indicators} for name, m in measured.items()}
    # ours: quality 5, 4 → 87.5; speed 4, 4 → 75; theirs: quality 2 → 25, speed 3 → 50
    assert scores == {
        "": {"quality": 87.5, "speed": 75.0},
        "竞争对手A": {"quality": 25.0, "speed": 50.0},
    }
    login_as(world.qa)
    html = client.get(f"/surveys/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="companies"' in html and 'id="figure-companies"' in html and "竞争对手A" in html


def test_campaign_api_carries_progress_loop_segments_and_trend(client, sent, world):
    _answer(sent["tokens"]["王"], nps="2")
    body = client.get(f"/api/v1/campaigns/{sent['campaign'].id}", headers=world.h["om"]).get_json()
    assert body["progress"]["invited"] == 2 and body["progress"]["answered"] == 1
    assert body["closed_loop"] == {"detractors": 1, "fixed": 0, "remeasured": 0, "awaiting": 0}
    assert [s["code"] for s in body["segments"]] == ["EAST", "SH"]
    assert body["segments"][1]["nps"]["n"] == 1
    assert [w["campaign_id"] for w in body["trend"]] == [sent["campaign"].id]
