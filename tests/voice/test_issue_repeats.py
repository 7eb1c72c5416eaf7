"""Repeats of an issue being logged: on the hotline screen the agent links the new issue to a
likely repeat (a voice, or an earlier issue) or dismisses the candidates; both are stored with
the issue, shown on the issue page and counted by the monthly review."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.core.audit import history
from app.core.errors import NotFound, ValidationFailed
from app.core.scoping import Scope
from app.extensions import db
from app.issues.models import Issue
from app.reports.periods import Month, resolve_review_scope
from app.reports.review import monthly_review
from app.voice import services
from app.voice.models import IssueRepeatDismissal, IssueRepeatLink, VoiceIssueLink

AT = datetime(2026, 10, 14, 2, 0, tzinfo=UTC)  # October in Shanghai


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def voice(world, text="打印机卡纸，第三次了", **kw):
    v = services.record_voice(
        actor=kw.pop("actor", world.agent),
        channel="hotline",
        text=text,
        customer_id=kw.pop("customer_id", world.customer.id),
        **kw,
    )
    db.session.commit()
    return v


def log_call(post_form, world, **extra):
    return post_form(
        "/issues/new",
        {
            "customer_id": str(world.customer.id),
            "title": "打印机又卡纸",
            "description": "客户来电：打印机卡纸第三次",
            "category": "product_quality",
            "priority": "normal",
            "channel": "hotline",
            **extra,
        },
    )


def newest_issue():
    return db.session.scalars(sa.select(Issue).order_by(Issue.id.desc())).first()


def test_the_hotline_screen_offers_link_and_keeps_the_choices_in_the_form(client, world, login_as):
    login_as(world.agent)
    page = client.get("/issues/new").get_data(as_text=True)
    assert 'data-mode="intake"' in page and 'data-link="' in page
    start = page.index('id="intake-form"')
    form = page[start : page.index("</form>", start)]
    assert 'id="repeat_target"' in form and 'id="dismissed"' in form


def test_linking_a_voice_and_dismissing_an_issue_while_logging(
    client, world, login_as, post_form, new_issue
):
    heard = voice(world)
    other = new_issue(title="打印机卡纸")
    login_as(world.agent)
    response = log_call(
        post_form,
        world,
        repeat_target=f"voice:{heard.id}",
        dismissed=f"issue:{other['id']},junk",
    )
    assert response.status_code == 302
    issue = newest_issue()
    link = db.session.scalars(sa.select(VoiceIssueLink)).one()
    assert (link.voice_id, link.issue_id, link.kind) == (heard.id, issue.id, "repeat")
    assert link.actor_id == world.agent.id
    dismissal = db.session.scalars(sa.select(IssueRepeatDismissal)).one()
    assert (dismissal.issue_id, dismissal.target_kind, dismissal.target_id) == (
        issue.id,
        "issue",
        other["id"],
    )
    assert [e.action for e in history("issue", issue.id)] == [
        "accept",
        "link_repeat",
        "dismiss_repeat",
    ]
    assert history("issue", issue.id)[1].changes == {"repeats_voice": [None, heard.reference]}
    # both pages show the link
    issue_page = client.get(f"/issues/{issue.id}?lang=en").get_data(as_text=True)
    assert heard.reference in issue_page
    voice_page = client.get(f"/voices/{heard.id}").get_data(as_text=True)
    assert issue.number in voice_page


def test_linking_an_earlier_issue_while_logging(client, world, login_as, post_form, new_issue):
    earlier = new_issue(title="打印机卡纸")
    login_as(world.agent)
    response = log_call(post_form, world, repeat_target=f"issue:{earlier['id']}")
    assert response.status_code == 302
    issue = newest_issue()
    link = db.session.scalars(sa.select(IssueRepeatLink)).one()
    assert (link.issue_id, link.repeat_of_id, link.actor_id) == (
        issue.id,
        earlier["id"],
        world.agent.id,
    )
    assert history("issue", issue.id)[-1].changes == {"repeats_issue": [None, earlier["number"]]}
    page = client.get(f"/issues/{issue.id}?lang=en").get_data(as_text=True)
    section = page[page.index('id="issue-repeats"') :]
    assert re.search(r"Repeats</span>\s*<a[^>]*>" + earlier["number"], section)
    page = client.get(f"/issues/{earlier['id']}?lang=en").get_data(as_text=True)
    section = page[page.index('id="issue-repeats"') :]
    assert re.search(r"Repeated by</span>\s*<a[^>]*>" + issue.number, section)


def test_a_target_out_of_scope_refuses_the_whole_intake(client, world, login_as, post_form):
    gz = voice(world, actor=world.agent_gz, customer_id=world.customer_gz.id)
    login_as(world.agent)
    for choice in (
        {"repeat_target": f"voice:{gz.id}"},
        {"dismissed": f"voice:{gz.id}"},
        {"repeat_target": "issue:999999"},
    ):
        response = log_call(post_form, world, **choice)
        assert response.status_code == 422, choice
        page = response.get_data(as_text=True)
        assert "unknown voice" in page or "unknown issue" in page
    assert count(Issue) == 0 and count(VoiceIssueLink) == 0 and count(IssueRepeatDismissal) == 0


def test_a_call_without_choices_stores_no_repeat_records(client, world, login_as, post_form):
    login_as(world.agent)
    assert log_call(post_form, world).status_code == 302
    assert count(Issue) == 1
    assert count(VoiceIssueLink) + count(IssueRepeatLink) + count(IssueRepeatDismissal) == 0


def test_service_rules(world, new_issue):
    earlier, issue = new_issue(), new_issue(title="打印机又卡纸")
    with pytest.raises(ValidationFailed) as err:
        services.link_issue_repeat(
            actor=world.agent, issue_id=issue["id"], target_kind="issue", target_id=issue["id"]
        )
    assert err.value.fields == {"target": "an issue cannot repeat itself"}
    with pytest.raises(ValidationFailed):
        services.link_issue_repeat(
            actor=world.agent, issue_id=issue["id"], target_kind="action", target_id=1
        )
    with pytest.raises(NotFound):  # the issue itself out of scope
        services.link_issue_repeat(
            actor=world.agent_gz, issue_id=issue["id"], target_kind="issue", target_id=earlier["id"]
        )
    dismiss = {"actor": world.agent, "issue_id": issue["id"], "target_kind": "issue"}
    assert services.dismiss_issue_repeat(**dismiss, target_id=earlier["id"]) is True
    assert services.dismiss_issue_repeat(**dismiss, target_id=earlier["id"]) is False
    assert count(IssueRepeatDismissal) == 1


def test_linked_repeats_of_issues_count_in_the_monthly_review(world, new_issue, make_office):
    earlier = new_issue()
    later = new_issue(title="打印机又卡纸")
    heard = voice(world)
    # the new issue repeats an earlier issue and a voice: two repeats linked in October
    services.record_issue_repeats(
        actor=world.agent,
        issue_id=later["id"],
        linked=f"issue:{earlier['id']}",
        dismissed=None,
        now=AT,
    )
    services.record_issue_repeats(
        actor=world.agent, issue_id=later["id"], linked=f"voice:{heard.id}", dismissed=None, now=AT
    )
    db.session.commit()
    scope = resolve_review_scope(Scope.for_user(world.rm))
    figure = monthly_review(scope, Month.parse("2026-10"), AT).figures["repeat_links"]
    assert (figure.value, figure.previous) == (2, 0)
    south = resolve_review_scope(Scope.for_user(world.qa), region="SOUTH")
    assert monthly_review(south, Month.parse("2026-10"), AT).figures["repeat_links"].value == 0
