"""Field problems as codes with parameters, for messages shown in the reader's language.

A `Problem` is the English message (a plain `str`, so API answers and everything comparing
messages see the same text as before) that also carries a stable `code` and its `params`. The
bulk import stores `{"code", "params"}` beside each row's English message, and the import
report renders them with `localized()` in the page's language (zh or en). Problems stored
before codes existed, or an English message without a code, are shown as they are.

    errors["text"] = problem("required")
    errors["text"] = problem("too_long", limit=20000)   # "at most 20000 characters"
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from app.core.fields import CONTROL_MESSAGE

# code → English template: what the API answers and what the import stores as `errors`
ENGLISH: dict[str, str] = {
    "required": "required",
    "not_text": "must be text",
    "too_long": "at most %(limit)s characters",
    "not_object": "must be an object",
    "one_of": "one of %(choices)s",
    "unknown_field": "unknown field; one of %(choices)s",
    "unknown_channel": "unknown channel; one of %(choices)s",
    "unknown_category": "unknown category",
    "not_a_date": (
        "not a date; write e.g. 2026-11-23 14:05, 2026/11/23, 2026.11.23 or 2026年11月23日"
    ),
    "not_a_real_date": "not a real date or time",
    "needs_offset": "needs a time-zone offset, e.g. 2026-11-23T14:00:00+08:00",
    "in_future": "cannot be in the future",
    "record_cut_off": "the record ends inside a quoted field (the file may be cut short)",
    "field_too_large": "a field is too long",
    "malformed_record": "malformed CSV record: %(detail)s",
    "other_office": "a customer of office %(customer_office)s, not of %(office)s",
    "control_character": CONTROL_MESSAGE,
}


def _translated() -> dict[str, str]:
    """The same templates through gettext (called per render: the request's language)."""
    return {
        "required": _("required"),
        "not_text": _("must be text"),
        "too_long": _("at most %(limit)s characters"),
        "not_object": _("must be an object"),
        "one_of": _("one of %(choices)s"),
        "unknown_field": _("unknown field; one of %(choices)s"),
        "unknown_channel": _("unknown channel; one of %(choices)s"),
        "unknown_category": _("unknown category"),
        "not_a_date": _(
            "not a date; write e.g. 2026-11-23 14:05, 2026/11/23, 2026.11.23 or 2026年11月23日"
        ),
        "not_a_real_date": _("not a real date or time"),
        "needs_offset": _("needs a time-zone offset, e.g. 2026-11-23T14:00:00+08:00"),
        "in_future": _("cannot be in the future"),
        "record_cut_off": _("the record ends inside a quoted field (the file may be cut short)"),
        "field_too_large": _("a field is too long"),
        "malformed_record": _("malformed CSV record: %(detail)s"),
        "other_office": _("a customer of office %(customer_office)s, not of %(office)s"),
        "control_character": _("must not contain control characters (found %(char)s)"),
    }


class Problem(str):
    """An English message that knows its code and parameters."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, **params: Any) -> Problem:
        template = ENGLISH[code]
        obj = super().__new__(cls, template % params if params else template)
        obj.code = code
        obj.params = params
        return obj

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}


def problem(code: str, **params: Any) -> Problem:
    return Problem(code, **params)


def code_of(message: str) -> dict[str, Any] | None:
    """`{"code", "params"}` of a message, None for a message without a code."""
    return message.as_json() if isinstance(message, Problem) else None


def localized(code: Any, params: Any, fallback: str) -> str:
    """A stored problem in the current language; `fallback` (the stored English) when the code
    is unknown or its parameters do not fit the template."""
    if not isinstance(code, str) or code not in ENGLISH:
        return fallback
    template = _translated()[code]
    if not params:
        return template
    if not isinstance(params, dict):
        return fallback
    try:
        return template % params
    except (KeyError, TypeError, ValueError):
        return fallback
