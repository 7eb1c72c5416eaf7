"""Suggest a voice's dimension, category and sentiment from its text.

Keyword rules (ClassificationRule, edited by admins at /voices/rules) point at a category
and/or a dimension with a weight. A text is normalised (NFKC, lower case, full-width →
half-width), every active rule is looked for (English keywords as whole words), overlapping
matches keep the longest keyword, and the weights add up: the dimension with most weight
wins, then the category with most weight within that dimension. Sentiment comes from the
lexicon scorer in app.voice.sentiment.

`classify(text, rules)` is pure. `suggest(text)` adds a per-process cache of the active rules:
one small query per call reads the rules' version stamp (a random token rewritten by every
rule change) and a fingerprint of the categories (their dimension and active flag matter
here); when either differs from the cached one, the rules are loaded again. Bulk callers can
hold one `current_rules()` for a whole batch and call `classify` with it.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.issues.models import Category, Setting
from app.voice.sentiment import Lexicon, score_normalized
from app.voice.textnorm import find_all, needs_boundary, normalize

VERSION_KEY = "voice.rules_version"
MAX_TEXT = 20_000  # the same limit as a voice's text
DIMENSION_ORDER = ("product", "service", "brand")


@dataclass(frozen=True)
class Rule:
    id: int
    keyword: str  # as the admin typed it
    normalized: str
    dimension: str  # the rule's, or its category's
    category_code: str | None
    weight: float
    position: int


@dataclass(frozen=True)
class CategoryInfo:
    id: int
    code: str
    dimension: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class RuleSet:
    version: tuple[Any, ...]
    rules: tuple[Rule, ...]
    categories: dict[str, CategoryInfo] = field(default_factory=dict)

    @cached_property
    def by_first_char(self) -> dict[str, tuple[Rule, ...]]:
        """Rules by the first character of their keyword: a text only needs the rules that
        start with one of its characters."""
        index: dict[str, list[Rule]] = defaultdict(list)
        for rule in self.rules:
            index[rule.normalized[0]].append(rule)
        return {ch: tuple(rules) for ch, rules in index.items()}


@dataclass(frozen=True)
class Suggestion:
    dimension: str | None
    category_code: str | None
    sentiment: str
    score: float
    matched_rules: tuple[str, ...]
    category_id: int | None = None

    def as_json(self, category_label: str | None = None) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "category": self.category_code,
            "category_label": category_label,
            "sentiment": self.sentiment,
            "score": self.score,
            "matched": list(self.matched_rules),
        }


def match_rules(text: str, ruleset: RuleSet) -> list[tuple[Rule, int, int]]:
    """The rules found in normalised `text`, each with its span; where matches overlap, the
    longer keyword wins (故障率高 before 故障), then the rule placed first. In text order."""
    hits: list[tuple[Rule, int, int]] = []
    index = ruleset.by_first_char
    for ch in index.keys() & set(text):  # only the characters some keyword starts with
        for rule in index[ch]:
            keyword = rule.normalized
            if keyword not in text:  # fast pre-filter; find_all checks word boundaries
                continue
            if needs_boundary(keyword):
                hits.extend((rule, start, end) for start, end in find_all(text, keyword))
                continue
            start = text.find(keyword)
            while start != -1:  # CJK keywords: every occurrence, as find_all gives them
                hits.append((rule, start, start + len(keyword)))
                start = text.find(keyword, start + 1)
    if len(hits) < 2:
        return hits
    hits.sort(key=lambda h: (-(h[2] - h[1]), h[0].position, h[1]))
    taken: list[tuple[int, int]] = []
    kept: list[tuple[Rule, int, int]] = []
    for hit in hits:
        _rule, start, end = hit
        for s, e in taken:
            if start < e and end > s:
                break
        else:
            taken.append((start, end))
            kept.append(hit)
    kept.sort(key=lambda h: h[1])
    return kept


def classify(text: str, ruleset: RuleSet, lexicon: Lexicon | None = None) -> Suggestion:
    norm = normalize(text)
    hits = match_rules(norm, ruleset)
    dimension_weight: dict[str, float] = defaultdict(float)
    category_weight: dict[str, float] = defaultdict(float)
    first_seen: dict[str, int] = {}
    for rule, start, _end in hits:
        dimension_weight[rule.dimension] += rule.weight
        first_seen.setdefault(rule.dimension, start)
        if rule.category_code is not None:
            category_weight[rule.category_code] += rule.weight
            first_seen.setdefault(rule.category_code, start)
    dimension = _best(dimension_weight, first_seen)
    category = None
    if dimension is not None:
        category = _best(
            {
                code: weight
                for code, weight in category_weight.items()
                if ruleset.categories[code].dimension == dimension
            },
            first_seen,
        )
    sentiment = score_normalized(norm, lexicon)
    matched = dict.fromkeys(rule.keyword for rule, _start, _end in hits)  # in order, once each
    return Suggestion(
        dimension=dimension,
        category_code=category,
        sentiment=sentiment.label,
        score=sentiment.score,
        matched_rules=tuple(matched),
        category_id=ruleset.categories[category].id if category is not None else None,
    )


def apply_suggestion(
    hint: Suggestion,
    *,
    dimension: str | None,
    category_id: int | None,
    category_dimension: str | None,
    sentiment: str | None,
    by_person: bool = True,
) -> tuple[str | None, int | None, str | None, str | None]:
    """(dimension, category id, sentiment, classified_by) of a voice: what a person gave wins,
    the rules fill the rest. The suggested category is taken when none was given and the given
    dimension, if any, is the suggested one; a category brings its dimension. classified_by is
    "staff" when a person (`by_person`) gave any of the three, "rules" when only the rules
    did, None when neither. Shared by the quick form (record_voice) and the bulk import, so
    both store the same for the same input."""
    given = dimension is not None or category_id is not None or sentiment is not None
    if category_id is None and dimension in (None, hint.dimension) and hint.category_id:
        category_id, category_dimension = hint.category_id, hint.dimension
    if dimension is None:
        dimension = category_dimension or hint.dimension
    sentiment = sentiment or hint.sentiment
    classified = dimension is not None or category_id is not None or sentiment is not None
    by = "staff" if given and by_person else "rules" if classified else None
    return dimension, category_id, sentiment, by


def _best(weights: dict[str, float], first_seen: dict[str, int]) -> str | None:
    """Most weight; on a tie, what the text mentioned first."""
    if not weights:
        return None
    return min(weights, key=lambda k: (-weights[k], first_seen.get(k, 0), k))


# --- the cached rule set ----------------------------------------------------------------

_lock = threading.Lock()
_cached: RuleSet | None = None


def _dimension_code() -> sa.Case[Any]:
    return sa.case(
        {d: i for i, d in enumerate(DIMENSION_ORDER, 1)}, value=Category.dimension, else_=9
    )


@lru_cache(maxsize=1)
def _version_statement() -> sa.Select[Any]:
    """Built once: constructing it costs more than running it."""
    token = sa.select(Setting.value).where(Setting.key == VERSION_KEY).scalar_subquery()
    return sa.select(
        sa.func.count(Category.id),
        sa.func.coalesce(sa.func.sum(sa.case((Category.active, Category.id), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(Category.id * _dimension_code()), 0),
        token,
    )


def rules_version() -> tuple[Any, ...]:
    """What the cache is keyed on: the database, the rules' token and a fingerprint of the
    categories (count, which are active, which dimension each is in). One round trip."""
    row = db.session.connection().execute(_version_statement()).one()
    return (db.engine.url, *row)


def bump_rules_version() -> str:
    """Called by every change to the rules, in the same transaction: other processes see the
    new token when the change commits and reload their cache."""
    token = uuid.uuid4().hex
    row = db.session.get(Setting, VERSION_KEY)
    if row is None:
        db.session.add(Setting(key=VERSION_KEY, value=token))
    else:
        row.value = token
    db.session.flush()
    return token


def load_rules(version: tuple[Any, ...]) -> RuleSet:
    from app.voice.models import ClassificationRule

    categories = {
        c.code: CategoryInfo(c.id, c.code, c.dimension, c.name_zh, c.name_en)
        for c in db.session.scalars(sa.select(Category).where(Category.active.is_(True)))
    }
    by_id = {c.id: c for c in categories.values()}
    rules: list[Rule] = []
    stmt = (
        sa.select(ClassificationRule)
        .where(ClassificationRule.active.is_(True))
        .order_by(ClassificationRule.position, ClassificationRule.id)
    )
    for row in db.session.scalars(stmt):
        category = by_id.get(row.category_id) if row.category_id is not None else None
        if row.category_id is not None and category is None:
            continue  # its category was deactivated: the rule rests with it
        dimension = category.dimension if category is not None else row.dimension
        if dimension is None:
            continue
        rules.append(
            Rule(
                id=row.id,
                keyword=row.keyword,
                normalized=row.normalized,
                dimension=dimension,
                category_code=category.code if category is not None else None,
                weight=float(row.weight),
                position=row.position,
            )
        )
    return RuleSet(version=version, rules=tuple(rules), categories=categories)


def current_rules() -> RuleSet:
    global _cached
    version = rules_version()
    cached = _cached
    if cached is not None and cached.version == version:
        return cached
    fresh = load_rules(version)
    with _lock:
        _cached = fresh
    return fresh


def suggest(text: str, ruleset: RuleSet | None = None) -> Suggestion:
    """Dimension, category (code), sentiment and its score, and the keywords that matched."""
    return classify(text, ruleset if ruleset is not None else current_rules())
