"""POST /api/v1/issues with `voice_id`: the issue raised from a voice, as the voice page raises
it. What the body leaves out comes from the voice; what it gives wins; the voice stays the
issue's (its scope, its customer, its office) and raises one issue."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.api.issue_schemas import IssueSchema
from app.extensions import db
from app.issues.models import Issue
from app.voice import services
from app.voice.models import VoiceIssueLink

URL = "/api/v1/issues"
TEXT = "第三批次电源模块退货，开机无反应\n客户要求本周内给出检测结论"
HEARD = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # a Friday, 09:30 in Shanghai


def record(world, actor=None, **kw):
    fields = {
        "channel": "return",
        "text": TEXT,
        "customer_id": world.customer.id,
        "category": "product_quality",
        "occurred_at": HEARD,
        **kw,
    }
    voice = services.record_voice(actor=actor or world.agent, **fields)
    db.session.commit()
    return voice


def raise_by_api(client, world, who="agent", **body):
    return client.post(URL, json=body, headers=world.h[who])


def count(model=Issue):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def dump(issue_id):
    db.session.expire_all()
    return IssueSchema().dump(db.session.get(Issue, issue_id))


def test_only_a_voice_id_carries_the_voice_over_and_links_both_ways(client, world):
    voice = record(world)
    r = raise_by_api(client, world, voice_id=voice.id)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["customer_id"] == world.customer.id and body["office"] == "SH"
    assert body["channel"] == "return"  # voices and issues share the channel codes
    assert body["category"] == "product_quality"
    assert body["description"] == TEXT
    assert body["title"] == "第三批次电源模块退货，开机无反应"  # the first line
    assert body["received_at"] == HEARD.isoformat()  # the SLA clock starts when it was heard
    assert body["priority"] == "normal" and body["voice_id"] == voice.id
    assert body == dump(body["id"])
    link = db.session.scalars(sa.select(VoiceIssueLink)).one()
    assert (link.voice_id, link.issue_id, link.kind) == (voice.id, body["id"], "raised")


def test_a_long_first_line_is_cut_for_the_title(client, world):
    voice = record(world, text="长" * 300)
    body = raise_by_api(client, world, voice_id=voice.id).get_json()
    assert body["title"] == "长" * services.TITLE_FROM_TEXT
    assert body["description"] == "长" * 300


def test_the_api_raises_the_same_issue_as_the_voice_page(client, world, login_as, post_form):
    by_page, by_api = record(world), record(world, external_id="CC-2")
    login_as(world.agent)
    page = client.get(f"/voices/{by_page.id}").get_data(as_text=True)
    title = html.unescape(re.search(r'id="title"[^>]*value="([^"]*)"', page).group(1))
    category = re.search(r'id="category".*?<option selected value="([^"]*)"', page, re.S).group(1)
    response = post_form(
        f"/voices/{by_page.id}",
        {"title": title, "priority": "normal", "category": category},
        action=f"/voices/{by_page.id}/raise",
    )
    assert response.status_code == 302
    from_page = db.session.scalars(sa.select(Issue).where(Issue.voice_id == by_page.id)).one()
    from_api = raise_by_api(client, world, voice_id=by_api.id).get_json()
    differ = {"id", "number", "voice_id", "created_at", "updated_at"}
    page_values = {k: v for k, v in dump(from_page.id).items() if k not in differ}
    api_values = {k: v for k, v in from_api.items() if k not in differ}
    assert page_values == api_values


def test_what_the_body_gives_wins(client, world):
    voice = record(world)
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body = raise_by_api(
        client,
        world,
        voice_id=voice.id,
        title="电源模块批量退货",
        description="已安排检测",
        channel="hotline",
        category="service_attitude",
        priority="urgent",
        received_at=when.isoformat(),
        office="sh",  # the voice's own office, named
        customer_id=world.customer.id,  # the voice's own customer, named
        commitment={"text": "周五前给出检测结论", "due_at": None},
        owner_id=world.handler.id,
    ).get_json()
    assert (body["title"], body["description"]) == ("电源模块批量退货", "已安排检测")
    assert (body["channel"], body["category"], body["priority"]) == (
        "hotline",
        "service_attitude",
        "urgent",
    )
    assert body["received_at"] == when.isoformat()
    assert body["commitment"] == {"text": "周五前给出检测结论", "due_at": None}
    assert body["owner_id"] == world.handler.id and body["voice_id"] == voice.id
    assert body == dump(body["id"])


def test_a_voice_out_of_scope_or_unknown_is_404_and_nothing_is_written(client, world):
    gz = record(world, actor=world.agent_gz, customer_id=world.customer_gz.id)
    assert raise_by_api(client, world, voice_id=gz.id).status_code == 404
    assert raise_by_api(client, world, who="rm", voice_id=gz.id).status_code == 404  # region
    assert raise_by_api(client, world, voice_id=987654321).status_code == 404
    assert count() == 0 and count(VoiceIssueLink) == 0


def test_a_voice_raises_one_issue(client, world, login_as, post_form):
    voice = record(world)
    first = raise_by_api(client, world, voice_id=voice.id).get_json()
    again = raise_by_api(client, world, voice_id=voice.id, title="再来一次")
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "conflict" and first["number"] in error["message"]
    assert error["fields"] == {"voice_id": f"already raised issue {first['number']}"}
    # the voice page no longer offers to raise, and a stale form is refused the same way
    login_as(world.agent)
    page = client.get(f"/voices/{voice.id}").get_data(as_text=True)
    assert 'id="raise-form"' not in page and first["number"] in page
    response = post_form(
        f"/voices/{voice.id}",
        {"title": "再来一次", "priority": "normal"},
        action=f"/voices/{voice.id}/raise",
    )
    assert response.status_code == 409
    assert count() == 1 and count(VoiceIssueLink) == 1


def test_a_voice_linked_as_a_repeat_may_still_raise_its_own_issue(client, world, new_issue):
    earlier = new_issue()
    voice = record(world)
    services.link_repeat_of_issue(actor=world.agent, voice_id=voice.id, issue_id=earlier["id"])
    db.session.commit()
    body = raise_by_api(client, world, voice_id=voice.id).get_json()
    kinds = db.session.execute(
        sa.select(VoiceIssueLink.issue_id, VoiceIssueLink.kind).order_by(VoiceIssueLink.id)
    ).all()
    assert kinds == [(earlier["id"], "repeat"), (body["id"], "raised")]


def test_the_issue_stays_in_the_voices_office_and_about_its_customer(client, world):
    voice = record(world)
    r = raise_by_api(client, world, who="qa", voice_id=voice.id, office="GZ")
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"office": "the voice is of office SH"}
    r = raise_by_api(client, world, who="qa", voice_id=voice.id, customer_id=world.customer_gz.id)
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"voice_id": "the voice is about another customer"}
    # a voice without a customer takes the body's, of the voice's office only
    research = record(
        world, actor=world.qa, channel="market_research", customer_id=None, office_code="SH"
    )
    r = raise_by_api(client, world, who="qa", voice_id=research.id)
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {
        "customer_id": "the voice has no customer; an issue needs one"
    }
    r = raise_by_api(
        client, world, who="qa", voice_id=research.id, customer_id=world.customer_gz.id
    )
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"customer_id": "a customer of office GZ, not of SH"}
    assert count() == 0
    r = raise_by_api(client, world, who="qa", voice_id=research.id, customer_id=world.customer.id)
    assert r.status_code == 201 and r.get_json()["channel"] == "market_research"


def test_without_a_voice_the_four_fields_are_still_required(client, world):
    r = client.post(URL, json={"priority": "high"}, headers=world.h["agent"])
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == dict.fromkeys(
        ("customer_id", "title", "channel", "category"), "Missing data for required field."
    )
    r = client.post(URL, json={"voice_id": None, "title": "x"}, headers=world.h["agent"])
    assert set(r.get_json()["error"]["fields"]) == {"customer_id", "channel", "category"}
