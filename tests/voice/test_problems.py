"""Field problems as codes: the English the API answers, the same problem in the reader's
language on the import report."""

from __future__ import annotations

import json

import pytest
from flask_babel import force_locale

from app.voice import problems
from app.voice.problems import ENGLISH, Problem, code_of, localized, problem

PARAMS = {
    "too_long": {"limit": 200},
    "one_of": {"choices": "product, service, brand"},
    "unknown_field": {"choices": "batch, model"},
    "unknown_channel": {"choices": "hotline, web"},
    "malformed_record": {"detail": "line contains NUL"},
    "other_office": {"customer_office": "SH", "office": "GZ"},
    "control_character": {"char": "U+0000"},
}


def test_a_problem_is_its_english_message_and_knows_its_code():
    p = problem("too_long", limit=200)
    assert p == "at most 200 characters" and isinstance(p, str)
    assert json.dumps({"text": p}) == '{"text": "at most 200 characters"}'
    assert code_of(p) == {"code": "too_long", "params": {"limit": 200}}
    assert code_of("a message without a code") is None


@pytest.mark.parametrize("code", sorted(ENGLISH))
def test_every_code_speaks_english_and_chinese(app, code):
    params = PARAMS.get(code, {})
    english = Problem(code, **params)
    with app.test_request_context(), force_locale("en"):
        assert problems._translated().keys() == ENGLISH.keys()
        assert localized(code, params, "fallback") == english
    with app.test_request_context(), force_locale("zh"):
        chinese = localized(code, params, "fallback")
    assert chinese != english and chinese != "fallback"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese), chinese
    for value in params.values():
        assert str(value) in chinese


def test_unknown_codes_and_unfit_parameters_fall_back_to_the_stored_message(app):
    with app.test_request_context(), force_locale("zh"):
        assert localized("no_such_code", {}, "as stored") == "as stored"
        assert localized(None, None, "as stored") == "as stored"
        assert localized("too_long", {"wrong": 1}, "as stored") == "as stored"
        assert localized("too_long", ["x"], "as stored") == "as stored"
        assert localized("required", None, "as stored") == "必填"
