"""The survey design form: title and kind through WTForms (with CSRF), and the question and
indicator rows, which the page can add and remove, read from the posted fields
`q-<n>-<field>` and `i-<n>-<field>`."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.surveys.models import Survey

KIND_CHOICES = [
    SelectChoice("project", _l("Project-based")),
    SelectChoice("third_party", _l("Third-party")),
]
QUESTION_FIELDS = ("key", "type", "text_zh", "text_en", "indicator", "options", "required")
INDICATOR_FIELDS = ("key", "name_zh", "name_en", "weight")
ROW_RE = re.compile(r"^([qi])-(\d{1,3})-([a-z_]+)$")
MAX_ROWS = 120


class SurveyForm(FlaskForm):  # type: ignore[misc]
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default="project")


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes state: CSRF only."""


Rows = list[dict[str, str]]


def _rows(formdata: MultiDict[str, str], prefix: str, names: tuple[str, ...]) -> Rows:
    rows: dict[int, dict[str, str]] = {}
    for name in formdata:
        match = ROW_RE.match(name)
        if match and match.group(1) == prefix and match.group(3) in (*names, "remove"):
            index = int(match.group(2))
            if index not in rows and len(rows) >= MAX_ROWS:
                continue
            rows.setdefault(index, {})[match.group(3)] = formdata.get(name, "")
    out = []
    for index in sorted(rows):
        row = rows[index]
        if row.get("remove"):
            continue
        if not any((row.get(n) or "").strip() for n in names if n not in ("type", "required")):
            continue  # a blank row left over
        out.append({n: row.get(n, "") for n in names})
    return out


def question_rows(formdata: MultiDict[str, str]) -> list[dict[str, str]]:
    return _rows(formdata, "q", QUESTION_FIELDS)


def indicator_rows(formdata: MultiDict[str, str]) -> list[dict[str, str]]:
    return _rows(formdata, "i", INDICATOR_FIELDS)


def design_data(
    form: SurveyForm, questions: list[dict[str, str]], indicators: list[dict[str, str]]
) -> dict[str, Any]:
    """What app.surveys.design checks, from the page's rows (same order, so errors named
    `questions[n]` point at row n)."""
    return {
        "title": form.title.data,
        "kind": form.kind.data,
        "questions": [
            {
                "key": q["key"].strip(),
                "type": q["type"],
                "text": q["text_zh"],
                "text_en": q["text_en"],
                "indicator": q["indicator"].strip() or None,
                "options": [o.strip() for o in q["options"].splitlines() if o.strip()],
                "required": bool(q["required"]),
            }
            for q in questions
        ],
        "indicators": [
            {
                "key": i["key"].strip(),
                "name_zh": i["name_zh"],
                "name_en": i["name_en"],
                "weight": i["weight"],
            }
            for i in indicators
        ],
    }


def rows_of(survey: Survey) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    questions = [
        {
            "key": q.key,
            "type": q.type,
            "text_zh": q.text_zh,
            "text_en": q.text_en,
            "indicator": q.indicator.key if q.indicator else "",
            "options": "\n".join(q.options or []),
            "required": "y" if q.required else "",
        }
        for q in survey.questions
    ]
    indicators = [
        {"key": i.key, "name_zh": i.name_zh, "name_en": i.name_en, "weight": f"{i.weight:g}"}
        for i in survey.indicators
    ]
    return questions, indicators


ByRow = dict[int, list[str]]


def row_errors(fields: dict[str, str]) -> tuple[ByRow, ByRow, list[str]]:
    """Errors by question row, by indicator row, and the rest (title, weights …)."""
    by_q: dict[int, list[str]] = {}
    by_i: dict[int, list[str]] = {}
    other: list[str] = []
    for name, message in fields.items():
        match = re.match(r"^(questions|indicators)\[(\d+)\](?:\.(\w+))?$", name)
        if match is None:
            other.append(f"{name}: {message}")
            continue
        target = by_q if match.group(1) == "questions" else by_i
        target.setdefault(int(match.group(2)), []).append(f"{match.group(3) or ''} {message}")
    return by_q, by_i, other
