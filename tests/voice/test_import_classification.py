"""Imported voices are classified like the quick form's: the file's own values win, the keyword
rules and the sentiment lexicon fill what it leaves out, and the suggestion is kept so that the
corrections report compares staff values with what the rules said."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.scoping import Scope
from app.extensions import db
from app.issues.models import Category
from app.voice.classification import suggest
from app.voice.classification_services import corrections_report
from app.voice.models import Voice
from app.voice.rules import ensure_default_rules
from app.voice.services import record_voice
from tests.voice.import_helpers import csv_bytes, do_import


def _voices() -> list[Voice]:
    return list(db.session.scalars(sa.select(Voice).order_by(Voice.import_row)))


def _category(code: str) -> Category:
    return db.session.scalars(sa.select(Category).where(Category.code == code)).one()


def test_rows_without_classification_get_the_rules_suggestion(world):
    ensure_default_rules()
    db.session.commit()
    texts = ["设备死机，非常不满意", "发票开错了", "工程师态度很好", "请问什么时候发货"]
    do_import(world.om, csv_bytes(["内容", *texts]), {"text": "内容"})
    stored = _voices()
    assert [v.text for v in stored] == texts
    for voice in stored:
        hint = suggest(voice.text)
        # the same values and the same bookkeeping as record_voice
        quick = record_voice(actor=None, channel="return", text=voice.text, office_code="SH")
        for name in (
            "dimension",
            "category_id",
            "sentiment",
            "classified_by",
            "suggested_dimension",
            "suggested_category_id",
            "suggested_sentiment",
            "sentiment_score",
        ):
            assert getattr(voice, name) == getattr(quick, name), (voice.text, name)
        assert voice.suggested_sentiment == hint.sentiment and voice.classified_by == "rules"
    db.session.rollback()
    first = stored[0]
    assert (first.dimension, first.sentiment) == ("product", "negative")
    assert first.category_id == _category("product_quality").id


def test_values_from_the_file_win_and_the_rules_fill_the_rest(world):
    ensure_default_rules()
    db.session.commit()
    data = csv_bytes(
        [
            "内容,类别,情感,维度",
            "设备死机，非常不满意,delivery,,",  # category from the file; sentiment suggested
            "设备死机，非常不满意 2,,正面,",  # sentiment from the file; category suggested
            "发票开错了,,,品牌",  # brand given: the rules' service category is not forced on it
            "工程师态度很好,,,",  # nothing given: all suggested
        ]
    )
    mapping = {"text": "内容", "category": "类别", "sentiment": "情感", "dimension": "维度"}
    summary = do_import(world.om, data, mapping)
    assert summary.created == 4 and summary.rejected == []
    given_category, given_sentiment, given_dimension, none_given = _voices()

    delivery = _category("delivery")
    assert given_category.category_id == delivery.id
    assert given_category.dimension == delivery.dimension
    assert given_category.sentiment == "negative"  # the lexicon's
    assert given_category.suggested_category_id == _category("product_quality").id
    assert given_category.classified_by == "staff"

    assert given_sentiment.sentiment == "positive" and given_sentiment.suggested_sentiment == (
        "negative"
    )
    assert given_sentiment.category_id == _category("product_quality").id
    assert given_sentiment.classified_by == "staff"

    assert given_dimension.dimension == "brand" and given_dimension.category_id is None
    assert given_dimension.suggested_dimension == "service"

    assert none_given.classified_by == "rules" and none_given.sentiment == "positive"
    assert none_given.sentiment_score is not None and none_given.sentiment_score > 0


def test_imported_staff_values_count_in_the_corrections_report(world):
    ensure_default_rules()
    db.session.commit()
    data = csv_bytes(["内容,类别", "设备死机,product_quality", "发票开错了,delivery", "服务很好,"])
    do_import(world.om, data, {"text": "内容", "category": "类别"})
    report = corrections_report(Scope.for_user(world.qa))
    assert report.staff_classified == 2 and report.by_rules == 1
    fields = {f.name: f for f in report.fields}
    assert (fields["category"].agreed, fields["category"].compared) == (1, 2)
    assert fields["category"].confusions == {("billing", "delivery"): 1}


def test_without_rules_the_lexicon_still_gives_the_sentiment(world):
    data = csv_bytes(["内容", "非常满意，谢谢", "完全不能用，太失望了"])
    do_import(world.om, data, {"text": "内容"})
    happy, angry = _voices()
    assert (happy.sentiment, angry.sentiment) == ("positive", "negative")
    assert happy.dimension is None and happy.category_id is None
    assert happy.classified_by == "rules"
