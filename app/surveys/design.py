"""Checking a questionnaire before it is stored: pure, so the API, the design page and tests
share every rule. Input is plain data (what JSON or a form gives); output is a clean `Design`
or the errors, each named by where it is (`questions[2].options`, `weights`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.surveys.models import QUESTION_TYPES, SURVEY_KINDS
from app.surveys.scoring import weights_valid

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_QUESTIONS = 100
MAX_OPTIONS = 20
MAX_TEXT = 1000
MAX_TITLE = 200


@dataclass
class IndicatorDesign:
    key: str
    name_zh: str
    name_en: str
    weight: float


@dataclass
class QuestionDesign:
    key: str
    type: str
    text_zh: str
    text_en: str
    indicator: str | None
    options: list[str]
    required: bool


@dataclass
class Design:
    title: str
    kind: str
    questions: list[QuestionDesign]
    indicators: list[IndicatorDesign] = field(default_factory=list)


def _str(value: Any, limit: int) -> str | None:
    """Stripped text, or None when it is not text or too long."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if len(value) <= limit else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("%"))
        except ValueError:
            return None
    return None


def _texts(q: dict[str, Any], at: str, errors: dict[str, str]) -> tuple[str, str]:
    text = q.get("text")
    if isinstance(text, dict):  # {"zh": ..., "en": ...}
        zh, en = _str(text.get("zh"), MAX_TEXT), _str(text.get("en"), MAX_TEXT)
    else:
        zh, en = _str(text, MAX_TEXT), _str(q.get("text_en"), MAX_TEXT)
    if not zh:
        errors[f"{at}.text"] = f"required, at most {MAX_TEXT} characters"
    if en is None:
        errors[f"{at}.text_en"] = f"at most {MAX_TEXT} characters"
    return zh or "", en or zh or ""


def _options(q: dict[str, Any], qtype: str, at: str, errors: dict[str, str]) -> list[str]:
    raw = q.get("options")
    if qtype != "choice":
        if raw:
            errors[f"{at}.options"] = "only choice questions have options"
        return []
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_OPTIONS:
        errors[f"{at}.options"] = f"a choice needs 2 to {MAX_OPTIONS} options"
        return []
    options = [_str(o, 200) for o in raw]
    if any(not o for o in options) or len(set(options)) != len(options):
        errors[f"{at}.options"] = "options are distinct texts of 1 to 200 characters"
        return []
    return [o for o in options if o]


def _question(
    q: Any, i: int, seen: set[str], weights: dict[str, list[float]], errors: dict[str, str]
) -> QuestionDesign | None:
    at = f"questions[{i}]"
    if not isinstance(q, dict):
        errors[at] = "an object with key, type and text"
        return None
    key = q.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        errors[f"{at}.key"] = "lower-case letters, digits and _, starting with a letter"
    elif key in seen:
        errors[f"{at}.key"] = "used by another question"
    else:
        seen.add(key)
    qtype = q.get("type")
    if qtype not in QUESTION_TYPES:
        errors[f"{at}.type"] = "one of " + ", ".join(QUESTION_TYPES)
        qtype = "text"
    zh, en = _texts(q, at, errors)
    indicator = q.get("indicator") or None
    if qtype == "rating5":
        if not isinstance(indicator, str) or not KEY_RE.match(indicator):
            errors[f"{at}.indicator"] = "a rating question names its indicator"
            indicator = None
    elif indicator is not None:
        errors[f"{at}.indicator"] = "only rating5 questions count towards an indicator"
        indicator = None
    if q.get("weight") not in (None, ""):
        weight = _number(q.get("weight"))
        if indicator is None or weight is None:
            errors[f"{at}.weight"] = "a number, on a rating5 question with an indicator"
        else:
            weights.setdefault(indicator, []).append(weight)
    return QuestionDesign(
        key=key if isinstance(key, str) else "",
        type=qtype,
        text_zh=zh,
        text_en=en,
        indicator=indicator,
        options=_options(q, qtype, at, errors),
        required=bool(q.get("required", True)),
    )


def _indicators(
    raw: Any, weights: dict[str, list[float]], used: list[str], errors: dict[str, str]
) -> list[IndicatorDesign]:
    declared: dict[str, IndicatorDesign] = {}
    for i, d in enumerate(raw or []):
        at = f"indicators[{i}]"
        key = d.get("key") if isinstance(d, dict) else None
        if not isinstance(key, str) or not KEY_RE.match(key) or key in declared:
            errors[f"{at}.key"] = "a distinct key: lower-case letters, digits and _"
            continue
        name_zh, name_en = _str(d.get("name_zh"), 120), _str(d.get("name_en"), 120)
        if name_zh is None or name_en is None:
            errors[f"{at}.name"] = "at most 120 characters"
        weight = _number(d.get("weight"))
        if weight is None:
            errors[f"{at}.weight"] = "a number (percent)"
            weight = 0.0
        weights.setdefault(key, []).append(weight)
        declared[key] = IndicatorDesign(key, name_zh or key, name_en or name_zh or key, weight)
    for key in used:
        declared.setdefault(key, IndicatorDesign(key, key, key, 0.0))
    for key, stated in weights.items():
        if len(set(stated)) > 1:
            errors["weights"] = f"indicator {key} is given different weights"
        elif key in declared:
            declared[key].weight = stated[0]
    unused = [k for k in declared if k not in used]
    if unused:
        errors["indicators"] = "no rating5 question measures " + ", ".join(unused)
    return list(declared.values())


def check_design(data: dict[str, Any]) -> tuple[Design | None, dict[str, str]]:
    """The clean design, or None and the errors by field."""
    errors: dict[str, str] = {}
    title = _str(data.get("title"), MAX_TITLE)
    if not title:
        errors["title"] = f"required, at most {MAX_TITLE} characters"
    kind = data.get("kind")
    if kind not in SURVEY_KINDS:
        errors["kind"] = "project or third_party"
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not 1 <= len(raw_questions) <= MAX_QUESTIONS:
        errors["questions"] = f"1 to {MAX_QUESTIONS} questions"
        raw_questions = []
    seen: set[str] = set()
    weights: dict[str, list[float]] = {}
    questions = [
        q
        for i, raw in enumerate(raw_questions)
        if (q := _question(raw, i, seen, weights, errors)) is not None
    ]
    used = list(dict.fromkeys(q.indicator for q in questions if q.indicator))
    indicators = _indicators(data.get("indicators"), weights, used, errors)
    if indicators and "weights" not in errors:
        total = sum(i.weight for i in indicators)
        if not weights_valid({i.key: i.weight for i in indicators}):
            errors["weights"] = (
                f"indicator weights must each be above 0 and sum to 100 % (now {total:g} %)"
            )
    if errors:
        return None, errors
    return Design(title or "", str(kind), questions, indicators), {}
