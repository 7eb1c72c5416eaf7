"""app.core.fields: the text rules every service shares."""

from __future__ import annotations

import pytest

from app.core.fields import clean_text, control_character, strip_control_characters


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("平常的文字 plain", None),
        ("tab\tnewline\ncarriage\r\n", None),  # what people do type
        ("a\x00b", "U+0000"),
        ("\x07bell", "U+0007"),
        ("vertical\x0btab", "U+000B"),
        ("form\x0cfeed", "U+000C"),
        ("escape\x1b[0m", "U+001B"),
        ("unit\x1fseparator", "U+001F"),
        ("delete\x7f and é and \u200b", None),  # not C0
    ],
)
def test_control_characters_are_c0_but_tab_lf_cr(text, found):
    assert control_character(text) == found
    stripped = strip_control_characters(text)
    assert control_character(stripped) is None
    if found is None:
        assert stripped == text


def test_clean_text_names_the_field_and_the_character():
    errors: dict[str, str] = {}
    assert clean_text(" a\x00b ", "title", errors, limit=10, required=True) == "a\x00b"
    assert errors == {"title": "must not contain control characters (found U+0000)"}
    errors.clear()
    clean_text("第一行\n第二行\t", "description", errors, limit=100, required=False)
    assert errors == {}
