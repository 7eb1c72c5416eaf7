"""The rules admin pages, the correction route and partial, and both classify endpoints."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import render_template

from app.core.audit import history
from app.extensions import db
from app.voice.models import ClassificationRule, Voice
from app.voice.rules import ensure_default_rules
from app.voice.services import record_voice
from tests.conftest import csrf_from


def _rules(world):
    ensure_default_rules()
    db.session.commit()


def test_rules_pages_are_for_admins_and_quality_admins(client, world, make_user, login_as):
    _rules(world)
    login_as(world.om)
    assert client.get("/voices/rules").status_code == 403
    login_as(world.qa)
    page = client.get("/voices/rules?q=死机")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "死机" in html and "invoice" not in html
    assert "/voices/rules" in client.get("/issues/").get_data(as_text=True)  # nav entry
    login_as(make_user("admin"))
    assert client.get("/voices/rules?category=billing").status_code == 200


def test_rules_list_pages_with_a_cursor(client, world, login_as):
    _rules(world)
    login_as(world.qa)
    first = client.get("/voices/rules").get_data(as_text=True)
    assert 'rel="next"' in first

    cursor = re.search(r"cursor=([A-Za-z0-9_\-]+)", first).group(1)
    second = client.get(f"/voices/rules?cursor={cursor}")
    assert second.status_code == 200
    assert client.get("/voices/rules?cursor=@@@").status_code == 400


def test_add_edit_and_deactivate_a_rule(client, world, login_as, post_form):
    _rules(world)
    login_as(world.qa)
    response = post_form(
        "/voices/rules",
        {
            "rule-keyword": "蜂鸣器",
            "rule-category": "product_quality",
            "rule-dimension": "",
            "rule-weight": "2",
            "rule-active": "y",
        },
    )
    assert response.status_code == 302
    rule = db.session.scalars(
        sa.select(ClassificationRule).where(ClassificationRule.keyword == "蜂鸣器")
    ).one()
    assert rule.weight == 2 and rule.created_by_id == world.qa.id
    hint = client.get("/voices/classify", query_string={"text": "蜂鸣器一直响"}).get_json()
    assert hint["category"] == "product_quality"

    response = post_form(
        f"/voices/rules/{rule.id}",
        {
            "rule-keyword": "蜂鸣器响",
            "rule-category": "",
            "rule-dimension": "brand",
            "rule-weight": "1",
            "rule-position": "5",
            "rule-active": "y",
        },
    )
    assert response.status_code == 302
    db.session.refresh(rule)
    assert (rule.keyword, rule.dimension, rule.category_id) == ("蜂鸣器响", "brand", None)

    listing = client.get("/voices/rules").get_data(as_text=True)
    # each row's form sends one toggle-active value (a second, empty one would win)
    assert listing.count('name="toggle-active"') == listing.count('/active"') > 0
    token = csrf_from(listing)
    off = client.post(
        f"/voices/rules/{rule.id}/active", data={"csrf_token": token, "toggle-active": "0"}
    )
    assert off.status_code == 302
    db.session.refresh(rule)
    assert rule.active is False
    actions = [e.action for e in history("classification_rule", rule.id)]
    assert actions == ["create", "update", "deactivate"]
    hint = client.get("/voices/classify", query_string={"text": "蜂鸣器响"}).get_json()
    assert hint["dimension"] is None


def test_rule_forms_refuse_bad_input_and_missing_csrf(client, world, login_as, post_form):
    _rules(world)
    login_as(world.qa)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ClassificationRule))
    dup = post_form(
        "/voices/rules",
        {"rule-keyword": "ＣＲＡＳＨ", "rule-category": "product_quality", "rule-weight": "1"},
    )
    assert dup.status_code == 422
    assert "a rule with this keyword exists already" in dup.get_data(as_text=True)
    none = post_form("/voices/rules", {"rule-keyword": "新词", "rule-weight": "1"})
    assert none.status_code == 422
    no_csrf = client.post(
        "/voices/rules",
        data={"rule-keyword": "新词", "rule-dimension": "brand", "rule-weight": "1"},
    )
    assert no_csrf.status_code in (400, 422)
    rule_id = db.session.scalar(sa.select(ClassificationRule.id).limit(1))
    assert (
        client.post(f"/voices/rules/{rule_id}/active", data={"toggle-active": "0"}).status_code
        == 400
    )
    assert client.get("/voices/rules/999999").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClassificationRule)) == before


def test_classify_endpoint_for_staff(client, world, login_as):
    _rules(world)
    assert client.get("/voices/classify?text=x").status_code == 302  # to the login page
    login_as(world.agent)
    answer = client.get("/voices/classify", query_string={"text": "发票金额开错了，很不满意"})
    assert answer.status_code == 200
    assert answer.get_json() == {
        "dimension": "service",
        "category": "billing",
        "category_label": "账单费用",
        "sentiment": "negative",
        "score": answer.get_json()["score"],
        "matched": ["发票", "金额"],
    }
    assert answer.get_json()["score"] < 0
    en = client.get("/voices/classify", query_string={"text": "invoice", "lang": "en"})
    assert en.get_json()["category_label"] == "Billing"
    blank = client.get("/voices/classify?text=%20").get_json()
    assert blank["dimension"] is None and blank["sentiment"] is None and blank["matched"] == []
    too_long = client.get("/voices/classify", query_string={"text": "好" * 4001})
    assert too_long.status_code == 422
    assert too_long.get_json()["error"]["fields"] == {"text": "at most 4000 characters"}
    assert client.get("/voices/classify").status_code == 422


def test_api_classify(client, world, api_headers):
    _rules(world)
    url = "/api/v1/voices/classify"
    assert client.post(url, json={"text": "死机"}).status_code == 401
    ok = client.post(url, json={"text": "The unit crashes every day"}, headers=world.h["agent"])
    assert ok.status_code == 200
    body = ok.get_json()
    assert body["category"] == "product_quality" and body["dimension"] == "product"
    assert body["matched"] == ["unit", "crash"] and body["sentiment"] == "negative"
    long = client.post(url, json={"text": "x" * 20_001}, headers=world.h["agent"])
    assert long.status_code == 422 and "text" in long.get_json()["error"]["fields"]
    missing = client.post(url, json={}, headers=world.h["agent"])
    assert missing.status_code == 422
    bad = client.post(
        url, data="{", headers={**world.h["agent"], "Content-Type": "application/json"}
    )
    assert bad.status_code == 400
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/voices/classify" in spec["paths"]


def test_staff_correct_a_voice_through_the_form(client, world, login_as):
    _rules(world)
    voice = record_voice(
        actor=world.agent, channel="hotline", text="设备死机", customer_id=world.customer.id
    )
    db.session.commit()
    login_as(world.handler)
    token = csrf_from(client.get("/issues/").get_data(as_text=True))
    response = client.post(
        f"/voices/{voice.id}/classification",
        data={
            "csrf_token": token,
            "cls-dimension": "",
            "cls-category": "spare_parts",
            "cls-sentiment": "neutral",
            "cls-next": "/issues",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/issues")
    voice = db.session.get(Voice, voice.id)
    assert (voice.category.code, voice.dimension, voice.classified_by) == (
        "spare_parts",
        "service",
        "staff",
    )
    assert history("voice", voice.id)[-1].action == "reclassify"

    # a refused correction changes nothing and says why
    refused = client.post(
        f"/voices/{voice.id}/classification",
        data={
            "csrf_token": token,
            "cls-dimension": "brand",
            "cls-category": "billing",
            "cls-next": "//evil.example.com",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 302 and "evil" not in refused.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Voice, voice.id).category.code == "spare_parts"
    # no CSRF: refused
    assert (
        client.post(
            f"/voices/{voice.id}/classification", data={"cls-category": "billing"}
        ).status_code
        == 400
    )


def test_another_offices_voice_is_not_found(client, world, login_as):
    _rules(world)
    voice = record_voice(
        actor=world.agent, channel="hotline", text="设备死机", customer_id=world.customer.id
    )
    db.session.commit()
    login_as(world.agent_gz)
    token = csrf_from(client.get("/issues/").get_data(as_text=True))
    response = client.post(
        f"/voices/{voice.id}/classification",
        data={"csrf_token": token, "cls-category": "billing"},
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Voice, voice.id).category.code == "product_quality"


def test_the_partial_shows_values_source_and_a_form(app, world):
    _rules(world)
    voice = record_voice(
        actor=world.agent,
        channel="web",
        text="<script>alert(1)</script> 发票开错",
        customer_id=world.customer.id,
    )
    db.session.commit()
    with app.test_request_context(f"/voices/{voice.id}"):
        html = render_template("voices/_classification.html", voice=voice)
    assert f'action="/voices/{voice.id}/classification"' in html
    assert 'csrf_token" type="hidden"' in html or "cls-csrf_token" in html
    assert "账单费用" in html
    assert re.search(r'<option selected value="billing"|value="billing" selected', html)
    assert "<script>" not in html
