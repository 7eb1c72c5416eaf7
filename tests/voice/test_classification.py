"""Keyword rules, the sentiment lexicon, suggest() and its cache, and what record_voice and
reclassify_voice do with them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.audit import history
from app.core.errors import NotFound, ValidationFailed
from app.extensions import db
from app.voice import classification
from app.voice.classification import Rule, RuleSet, classify, current_rules, suggest
from app.voice.classification_services import corrections_report, reclassify_voice
from app.voice.models import ClassificationRule
from app.voice.rules import DEFAULT_RULES, ensure_default_rules, save_rule, set_rule_active
from app.voice.sentiment import parse_lexicon, score
from app.voice.services import record_voice
from app.voice.textnorm import find_all, normalize

# --- pure: normalisation, matching, sentiment -------------------------------------------


def test_normalize_folds_full_width_and_case():
    assert normalize("ＣＲＡＳＨ　Ｎｏｗ！") == "crash now!"
    assert normalize("Don’t  Work") == "don't work"


def test_english_keywords_match_whole_words_with_endings():
    assert find_all("the unit crashed twice", "crash") == [(9, 16)]
    assert find_all("a prudent buyer", "rude") == []
    assert find_all("设备死机了", "死机") == [(2, 4)]


def _ruleset(*rules: tuple[str, str, str | None, float]) -> RuleSet:
    from app.voice.classification import CategoryInfo

    cats = {
        "product_quality": CategoryInfo(1, "product_quality", "product", "产品质量", "Quality"),
        "billing": CategoryInfo(2, "billing", "service", "账单费用", "Billing"),
        "service_attitude": CategoryInfo(3, "service_attitude", "service", "服务态度", "Att"),
    }
    return RuleSet(
        version=("test",),
        rules=tuple(
            Rule(i, kw, normalize(kw), dim, cat, w, i) for i, (kw, dim, cat, w) in enumerate(rules)
        ),
        categories=cats,
    )


def test_weights_add_up_and_the_longest_overlapping_keyword_wins():
    rs = _ruleset(
        ("故障", "product", "product_quality", 1.0),
        ("发票", "service", "billing", 1.0),
        ("发票故障", "service", "billing", 3.0),
        ("态度", "service", "service_attitude", 1.0),
    )
    hint = classify("发票故障，态度也差", rs)
    assert hint.category_code == "billing" and hint.dimension == "service"
    assert hint.matched_rules == ("发票故障", "态度")  # 故障 and 发票 are inside the longer one
    assert hint.category_id == 2


def test_a_text_without_keywords_gets_no_dimension_but_a_sentiment():
    hint = classify("谢谢，一切都很好", _ruleset(("故障", "product", "product_quality", 1.0)))
    assert hint.dimension is None and hint.category_code is None
    assert hint.sentiment == "positive" and hint.score > 0


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("工程师非常专业，很满意", "positive"),
        ("不满意", "negative"),
        ("不太满意", "negative"),
        ("没有问题了", "neutral"),
        ("并没有出现死机", "positive"),
        ("The engineer was not helpful", "negative"),
        ("Not bad at all", "positive"),
        ("请问发票什么时候能开？", "neutral"),
        ("Please send the updated quotation.", "neutral"),
    ],
)
def test_negators_flip_the_next_term(text, label):
    assert score(text).label == label, score(text)


def test_contrast_makes_the_clause_after_it_count_more():
    assert score("价格有点贵，但是质量很好").label == "positive"
    assert score("质量还不错，但是交货太慢了").label == "negative"
    assert score("Support was great but the invoice is wrong").label == "negative"
    assert score("Although delivery was late, the engineer was excellent").label == "positive"


def test_intensifiers_strengthen_and_soften_after_a_negator():
    assert score("很不满意").score < score("不满意").score < score("不太满意").score < 0
    assert score("very good").score > score("good").score > 0


def test_the_lexicon_file_is_checked_when_read():
    with pytest.raises(ValueError, match="unknown section"):
        parse_lexicon("[words]\n好 1\n")
    with pytest.raises(ValueError, match="needs a number"):
        parse_lexicon("[terms]\n好 much\n")
    lex = parse_lexicon("[negators]\nnot\n[terms]\nGood 1\n")
    assert lex.entries == {"not": ("negator", 0.0), "good": ("term", 1.0)}


# --- with the database: defaults, cache, services ----------------------------------------


@pytest.fixture
def rules(world):
    ensure_default_rules()
    db.session.commit()
    return world


def test_default_rules_cover_every_default_category_in_chinese_and_english(rules):
    from app.issues.reference import CATEGORIES

    codes = {c[0] for c in CATEGORIES} - {"other"}
    assert codes <= set(DEFAULT_RULES)
    for code in codes:
        words = [w if isinstance(w, str) else w[0] for w in DEFAULT_RULES[code]]
        assert any(not w.isascii() for w in words), code
        assert any(w.isascii() for w in words), code
    count = db.session.scalar(sa.select(sa.func.count()).select_from(ClassificationRule))
    assert count > 300
    assert ensure_default_rules() == 0  # idempotent
    assert [e.changes for e in history("classification_rule", 0)] == [{"added": count}]


@pytest.mark.parametrize(
    ("text", "dimension", "category"),
    [
        ("设备每天死机两三次", "product", "product_quality"),
        ("你们的工程师态度太差了", "service", "service_attitude"),
        ("上个月的发票金额不对", "service", "billing"),
        ("The unit crashed again after the firmware update", "product", "product_quality"),
        ("Your engineer was rude on the phone", "service", "service_attitude"),
        ("We were overcharged on the last invoice", "service", "billing"),
        ("ＩＮＶＯＩＣＥ number missing", "service", "billing"),
        ("备件到现在还没到", "service", "spare_parts"),
        ("贵司品牌在行业里口碑不错", "brand", "brand_image"),
    ],
)
def test_suggest_with_the_default_rules(rules, text, dimension, category):
    hint = suggest(text)
    assert (hint.dimension, hint.category_code) == (dimension, category), hint


def test_the_rules_cache_reloads_after_an_admin_edit(rules):
    first = current_rules()
    assert current_rules() is first  # unchanged: served from the cache
    assert suggest("客户反映蜂鸣器一直响").category_code is None
    rule = save_rule(actor=rules.qa, keyword="蜂鸣器", category="product_quality", weight=2)
    db.session.commit()
    assert current_rules() is not first
    assert suggest("客户反映蜂鸣器一直响").category_code == "product_quality"
    set_rule_active(actor=rules.qa, rule_id=rule.id, active=False)
    db.session.commit()
    assert suggest("客户反映蜂鸣器一直响").category_code is None
    assert [e.action for e in history("classification_rule", rule.id)] == [
        "create",
        "deactivate",
    ]


def test_a_deactivated_category_takes_its_rules_with_it(rules):
    from app.issues.models import Category

    assert suggest("培训课程安排得太少").category_code == "training"
    db.session.execute(sa.update(Category).where(Category.code == "training").values(active=False))
    db.session.commit()
    assert suggest("培训课程安排得太少").category_code is None


def test_a_rolled_back_rule_change_leaves_no_stale_cache(rules):
    save_rule(actor=rules.qa, keyword="蜂鸣器", category="product_quality")
    assert suggest("蜂鸣器").category_code == "product_quality"
    db.session.rollback()
    assert suggest("蜂鸣器").category_code is None


def test_rule_validation(rules):
    with pytest.raises(ValidationFailed) as err:
        save_rule(actor=rules.qa, keyword="  ", category="nope", weight=0)
    assert set(err.value.fields) == {"keyword", "category", "weight"}
    with pytest.raises(ValidationFailed) as err:
        save_rule(actor=rules.qa, keyword="蜂鸣器", dimension="brand", category="billing")
    assert err.value.fields == {"dimension": "the category belongs to service"}
    save_rule(actor=rules.qa, keyword="ＤＥＡＴＨ", dimension="brand")
    with pytest.raises(ValidationFailed) as err:
        save_rule(actor=rules.qa, keyword="death", dimension="brand")
    assert err.value.fields == {"keyword": "a rule with this keyword exists already"}
    with pytest.raises(ValidationFailed) as err:
        save_rule(actor=rules.qa, keyword="x" * 81, dimension="brand")
    assert "keyword" in err.value.fields


def test_record_voice_fills_what_was_not_given_and_keeps_what_staff_gave(rules):
    auto = record_voice(
        actor=rules.agent,
        channel="hotline",
        text="客户投诉：设备又死机了，非常不满意",
        customer_id=rules.customer.id,
    )
    assert (auto.dimension, auto.category.code, auto.sentiment) == (
        "product",
        "product_quality",
        "negative",
    )
    assert auto.classified_by == "rules"
    assert auto.suggested_category.code == "product_quality" and auto.sentiment_score < 0

    given = record_voice(
        actor=rules.agent,
        channel="hotline",
        text="客户投诉：设备又死机了，非常不满意",
        customer_id=rules.customer.id,
        category="billing",
        external_id="call-2",
    )
    assert given.category.code == "billing" and given.dimension == "service"
    assert given.sentiment == "negative"  # not given: filled in
    assert given.classified_by == "staff"
    assert given.suggested_category.code == "product_quality"  # kept for measuring

    dim_only = record_voice(
        actor=rules.agent,
        channel="hotline",
        text="发票抬头开错了",
        customer_id=rules.customer.id,
        dimension="product",
    )
    # staff said product: the rules' service category is not forced onto it
    assert dim_only.dimension == "product" and dim_only.category_id is None


def test_reclassify_is_audited_scoped_and_marks_staff(rules):
    voice = record_voice(
        actor=rules.agent, channel="web", text="设备死机", customer_id=rules.customer.id
    )
    db.session.commit()
    reclassify_voice(rules.handler, voice.id, None, "installation", "neutral")
    db.session.commit()
    assert (voice.dimension, voice.category.code, voice.sentiment) == (
        "service",
        "installation",
        "neutral",
    )
    assert voice.classified_by == "staff"
    event = history("voice", voice.id)[-1]
    assert event.action == "reclassify" and event.actor_id == rules.handler.id
    assert event.changes == {
        "dimension": ["product", "service"],
        "category": ["product_quality", "installation"],
        "sentiment": ["negative", "neutral"],
        "classified_by": ["rules", "staff"],
    }
    with pytest.raises(NotFound):
        reclassify_voice(rules.agent_gz, voice.id, None, "billing", None)
    with pytest.raises(ValidationFailed) as err:
        reclassify_voice(rules.handler, voice.id, "brand", "billing", "furious")
    assert set(err.value.fields) == {"category", "sentiment"}


def test_corrections_report_counts_agreement_per_field(rules):
    a = record_voice(actor=rules.agent, channel="web", text="设备死机", office_code="SH")
    b = record_voice(actor=rules.agent, channel="web", text="发票开错了", office_code="SH")
    record_voice(actor=rules.agent, channel="web", text="工程师态度很好", office_code="SH")
    reclassify_voice(rules.handler, a.id, None, "product_quality", "negative")  # agrees
    reclassify_voice(rules.handler, b.id, None, "delivery", "negative")  # category corrected
    db.session.commit()
    report = corrections_report(classification_scope(rules))
    assert report.staff_classified == 2 and report.by_rules == 1
    fields = {f.name: f for f in report.fields}
    assert (fields["category"].agreed, fields["category"].compared) == (1, 2)
    assert fields["category"].confusions == {("billing", "delivery"): 1}
    assert (fields["dimension"].agreed, fields["sentiment"].agreed) == (2, 2)
    gz = corrections_report(classification_scope(rules, office=True))
    assert gz.staff_classified == 0


def classification_scope(world, office: bool = False):
    from app.core.scoping import Scope

    return Scope.for_user(world.agent_gz) if office else Scope.for_user(world.qa)


def test_cache_is_per_database_token(rules, monkeypatch):
    monkeypatch.setattr(classification, "_cached", None)
    one = current_rules()
    assert one.version[-1] is not None and len(one.rules) > 300


def test_cli_adds_defaults_once_and_reports_agreement(world, runner):
    first = runner.invoke(args=["voice-rules", "init"])
    assert first.exit_code == 0 and "added" in first.output
    assert runner.invoke(args=["voice-rules", "init"]).output.strip() == (
        "Classification rules: 0 added."
    )
    voice = record_voice(actor=world.agent, channel="web", text="发票开错了", office_code="SH")
    reclassify_voice(world.handler, voice.id, None, "delivery", "negative")
    db.session.commit()
    report = runner.invoke(args=["voice-rules", "eval"])
    assert report.exit_code == 0
    assert "category   agreed 0/1 (0.0%)" in report.output
    assert "rules billing" in report.output and "staff delivery" in report.output
