"""Staff corrections of a voice's classification, and how well the rules did against them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from app.core import audit
from app.core.errors import ValidationFailed
from app.core.scoping import Scope, get_scoped
from app.db import utcnow
from app.extensions import db
from app.issues import labels
from app.issues.models import Category
from app.voice.channels import DIMENSIONS, SENTIMENTS
from app.voice.classification import suggest
from app.voice.models import Voice

if TYPE_CHECKING:
    from app.auth.models import User


def _state(voice: Voice) -> dict[str, Any]:
    return {
        "dimension": voice.dimension,
        "category": voice.category.code if voice.category is not None else None,
        "sentiment": voice.sentiment,
        "classified_by": voice.classified_by,
    }


def reclassify_voice(
    actor: User,
    voice_id: int,
    dimension: str | None,
    category: str | None,
    sentiment: str | None,
) -> Voice:
    """Set what staff say the voice is about. Blank values clear the field; a category alone
    brings its dimension. Another office's voice is not found. Audited with from → to."""
    voice = get_scoped(Voice, voice_id, Scope.for_user(actor), for_update=True)
    errors: dict[str, str] = {}
    dimension = dimension or None
    sentiment = sentiment or None
    if dimension is not None and dimension not in DIMENSIONS:
        errors["dimension"] = "one of " + ", ".join(DIMENSIONS)
    if sentiment is not None and sentiment not in SENTIMENTS:
        errors["sentiment"] = "one of " + ", ".join(SENTIMENTS)
    row = None
    if category:
        row = db.session.scalars(
            sa.select(Category).where(Category.code == category, Category.active.is_(True))
        ).first()
        if row is None:
            errors["category"] = "unknown category"
        elif dimension is not None and dimension != row.dimension:
            errors["category"] = "not a category of this dimension"
    if errors:
        raise ValidationFailed(fields=errors)
    if row is not None and dimension is None:
        dimension = row.dimension
    before = _state(voice)
    voice.dimension = dimension
    voice.category_id, voice.category = (row.id, row) if row is not None else (None, None)
    voice.sentiment = sentiment
    voice.classified_by = "staff"
    db.session.flush()
    audit.record(
        actor_id=actor.id,
        entity_type="voice",
        entity_id=voice.id,
        action="reclassify",
        changes=audit.diff(before, _state(voice)),
        office_id=voice.office_id,
        at=utcnow(),
    )
    return voice


@dataclass
class FieldAgreement:
    name: str
    compared: int = 0
    agreed: int = 0
    # (suggested, set by staff) → count, for the disagreements
    confusions: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


@dataclass
class CorrectionReport:
    staff_classified: int
    by_rules: int
    fields: list[FieldAgreement]


def corrections_report(scope: Scope) -> CorrectionReport:
    """For voices classified by staff, how often what the rules suggested is what staff set,
    per field, counted in SQL. Only voices the rules ran on count (recorded with a suggested
    sentiment, which the rules always give); "no suggestion" against a staff value is a miss."""
    voices = Voice.__table__
    base = sa.and_(
        voices.c.classified_by == "staff",
        voices.c.suggested_sentiment.is_not(None),
        scope.office_filter(voices.c.office_id),
    )
    staff_count = db.session.scalar(sa.select(sa.func.count()).where(base)) or 0
    rules_count = (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                voices.c.classified_by == "rules", scope.office_filter(voices.c.office_id)
            )
        )
        or 0
    )
    suggested_cat = sa.orm.aliased(Category)
    set_cat = sa.orm.aliased(Category)
    pairs = {
        "dimension": (voices.c.suggested_dimension, voices.c.dimension),
        "category": (suggested_cat.code, set_cat.code),
        "sentiment": (voices.c.suggested_sentiment, voices.c.sentiment),
    }
    out: list[FieldAgreement] = []
    for name, (suggested, final) in pairs.items():
        stmt = (
            sa.select(suggested, final, sa.func.count())
            .select_from(voices)
            .outerjoin(suggested_cat, suggested_cat.id == voices.c.suggested_category_id)
            .outerjoin(set_cat, set_cat.id == voices.c.category_id)
            .where(base)
            .group_by(suggested, final)
        )
        agreement = FieldAgreement(name)
        for got_value, want_value, count in db.session.execute(stmt):
            got, want = got_value or "-", want_value or "-"
            agreement.compared += count
            if got == want:
                agreement.agreed += count
            else:
                agreement.confusions[(got, want)] = count
        out.append(agreement)
    return CorrectionReport(staff_classified=staff_count, by_rules=rules_count, fields=out)


def suggestion_answer(text: str) -> dict[str, Any]:
    """What both classify endpoints answer; blank text suggests nothing. The category label is
    in the current UI language."""
    if not text.strip():
        return {
            "dimension": None,
            "category": None,
            "category_label": None,
            "sentiment": None,
            "score": 0.0,
            "matched": [],
        }
    hint = suggest(text)
    label = None
    if hint.category_id is not None:
        row = db.session.get(Category, hint.category_id)
        label = labels.localized(row) if row is not None else None
    return hint.as_json(category_label=label)
