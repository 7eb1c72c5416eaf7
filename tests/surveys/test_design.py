"""The questionnaire rules, pure: weights, keys, types, options, indicators."""

from __future__ import annotations

import pytest

from app.surveys.design import check_design
from tests.surveys.helpers import design


def test_a_valid_design_is_clean():
    clean, errors = check_design(design())
    assert errors == {}
    assert [i.key for i in clean.indicators] == ["quality", "speed"]
    assert {i.key: i.weight for i in clean.indicators} == {"quality": 60, "speed": 40}
    assert clean.questions[1].text_en == "How satisfied are you with our speed?"
    assert clean.questions[2].text_en == clean.questions[2].text_zh  # English falls back
    assert clean.questions[4].required is False


def test_weights_not_summing_to_100_are_refused_with_the_total():
    data = design()
    data["questions"][1]["weight"] = 30
    clean, errors = check_design(data)
    assert clean is None and "sum to 100" in errors["weights"] and "90" in errors["weights"]


def test_declared_indicators_carry_names_and_weights():
    data = design(
        indicators=[{"key": "quality", "name_zh": "质量", "name_en": "Quality", "weight": 60}]
    )
    clean, errors = check_design(data)
    assert errors == {} and clean.indicators[0].name_zh == "质量"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["questions"][0].update(key="Bad Key"), "questions[0].key"),
        (lambda d: d["questions"][1].update(key="quality"), "questions[1].key"),
        (lambda d: d["questions"][0].update(type="stars"), "questions[0].type"),
        (lambda d: d["questions"][0].update(text=""), "questions[0].text"),
        (lambda d: d["questions"][0].update(text="x" * 1001), "questions[0].text"),
        (lambda d: d["questions"][0].pop("indicator"), "questions[0].indicator"),
        (lambda d: d["questions"][2].update(indicator="quality"), "questions[2].indicator"),
        (lambda d: d["questions"][3].update(options=["只有一个"]), "questions[3].options"),
        (lambda d: d["questions"][3].update(options=["a", "a"]), "questions[3].options"),
        (lambda d: d["questions"][2].update(options=["a", "b"]), "questions[2].options"),
        (lambda d: d["questions"][0].update(weight="lots"), "questions[0].weight"),
        (lambda d: d.update(kind="internal"), "kind"),
        (lambda d: d.update(title=""), "title"),
        (lambda d: d.update(questions=[]), "questions"),
        (lambda d: d.update(questions=["not an object"]), "questions[0]"),
        (
            lambda d: d.update(indicators=[{"key": "unused", "weight": 0}]),
            "indicators",
        ),
        (lambda d: d["questions"][1].update(weight=-40), "weights"),
    ],
)
def test_bad_designs_name_the_field(mutate, field):
    data = design()
    mutate(data)
    clean, errors = check_design(data)
    assert clean is None and field in errors, errors


def test_conflicting_weights_for_one_indicator_are_refused():
    data = design()
    data["questions"].append(
        {"key": "q6", "type": "rating5", "text": "再问质量", "indicator": "quality", "weight": 50}
    )
    _, errors = check_design(data)
    assert "different weights" in errors["weights"]
