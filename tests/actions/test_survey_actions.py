"""Improvement actions caused by survey results: links to campaigns (with the indicator) and
responses, inside the actor's scope, and the effect measured by an indicator's score before and
after, shown in the monthly review."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app.actions import queries, services
from app.actions.models import ActionLink, ImprovementAction
from app.core.scoping import Scope
from app.extensions import db
from app.reports.periods import Month, resolve_review_scope
from app.reports.review import monthly_review
from tests.conftest import csrf_from

CREATED = datetime(2026, 9, 1, tzinfo=UTC)


def _body(world, survey, **kw):
    return {
        "title": "提升响应速度",
        "dimension": "service",
        "owner_id": world.om.id,
        "due": "2026-12-31",
        "office": "SH",
        "metric": "indicator_score",
        "metric_survey": survey.id,
        "metric_indicator": "speed",
        **kw,
    }


def test_effect_by_indicator_score_before_and_after(world, answer, measured_survey):
    for days in (10, 40):  # before: speed 2 and 3 → mean 2.5 → 37.5
        answer(world.sh, CREATED - timedelta(days=days), speed=(2, 3)[days == 40])
    answer(world.gz, CREATED - timedelta(days=5), speed=5)  # another office: not counted
    answer(world.sh, CREATED - timedelta(days=200), speed=5)  # before the 90-day window
    for days in (35, 50):  # after it was done (day 30): speed 4 and 5 → 87.5
        answer(world.sh, CREATED + timedelta(days=days), speed=(4, 5)[days == 50])
    action = services.create_action(
        actor=world.om,
        title="提升响应速度",
        dimension="service",
        owner_id=world.om.id,
        due_on=date(2026, 10, 1),
        metric="indicator_score",
        metric_survey=measured_survey.id,
        metric_indicator="speed",
        now=CREATED,
    )
    services.update_action(
        actor=world.om,
        action_id=action.id,
        version=1,
        changes={"status": "done"},
        now=CREATED + timedelta(days=30),
    )
    db.session.commit()
    effect = queries.effect(action, CREATED + timedelta(days=120))
    assert (effect.before.n, effect.before.value) == (2, 37.5)
    assert (effect.after.n, effect.after.value) == (2, 87.5)
    assert effect.improved is True
    # the monthly review of the region shows it with the effect
    scope = resolve_review_scope(Scope.for_user(world.rm))
    review = monthly_review(scope, Month.parse("2026-10"), CREATED + timedelta(days=120))
    line = next(a for a in review.actions if a.id == action.id)
    assert (line.metric, line.before, line.after, line.improved) == (
        "indicator_score",
        37.5,
        87.5,
        True,
    )


def test_api_links_campaigns_and_responses_in_scope(world, client, answer, measured_survey):
    mine = answer(world.sh, CREATED)
    theirs = answer(world.gz, CREATED)
    db.session.commit()
    links = {
        "campaigns": [{"id": mine.campaign_id, "indicator": "quality"}],
        "responses": [mine.id],
    }
    r = client.post(
        "/api/v1/actions", json=_body(world, measured_survey, links=links), headers=world.h["om"]
    )
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert (created["metric_survey"], created["metric_indicator"]) == (measured_survey.id, "speed")
    kinds = {(link["type"], link["id"]) for link in created["links"]}
    assert kinds == {("campaign", mine.campaign_id), ("response", mine.id)}
    campaign_link = next(link for link in created["links"] if link["type"] == "campaign")
    assert campaign_link["indicator"] == "quality"
    # another office's campaign or response, an unknown indicator, a missing indicator → 422
    for bad, field in (
        ({"links": {"campaigns": [{"id": theirs.campaign_id}]}}, "campaigns"),
        ({"links": {"responses": [theirs.id]}}, "responses"),
        ({"links": {"campaigns": [{"id": mine.campaign_id, "indicator": "nope"}]}}, "campaigns"),
        ({"metric_indicator": "nope"}, "metric_indicator"),
        ({"metric_survey": None}, "metric_survey"),
    ):
        payload = {k: v for k, v in _body(world, measured_survey, **bad).items() if v is not None}
        r = client.post("/api/v1/actions", json=payload, headers=world.h["om"])
        assert r.status_code == 422, (bad, r.get_json())
        assert field in r.get_json()["error"]["fields"], (bad, r.get_json())
    assert db.session.scalar(sa.select(sa.func.count(ImprovementAction.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(ActionLink.id))) == 2


def test_page_records_an_action_from_a_survey_indicator(
    world, client, login_as, answer, measured_survey
):
    response = answer(world.sh, CREATED)
    db.session.commit()
    login_as(world.om)
    indicator = f"{measured_survey.id}:quality"
    form = client.get(
        "/actions/new", query_string={"indicator": indicator, "campaign": response.campaign_id}
    ).get_data(as_text=True)
    assert f'<option selected value="{indicator}">' in form
    assert f'value="{response.campaign_id}:quality"' in form
    r = client.post(
        "/actions/new",
        data={
            "csrf_token": csrf_from(form),
            "title": "质量改进",
            "dimension": "product",
            "owner_id": str(world.om.id),
            "due_on": "2026-12-31",
            "place": "office:SH",
            "metric": "indicator_score",
            "metric_indicator": indicator,
            "campaigns": f"{response.campaign_id}:quality",
            "responses": str(response.id),
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "quality" in page and f"#{response.id}" in page
    action = db.session.scalars(sa.select(ImprovementAction)).one()
    assert (action.metric, action.metric_indicator) == ("indicator_score", "quality")
