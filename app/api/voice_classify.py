"""/api/v1/voices/classify: what the classification rules and the sentiment lexicon suggest
for a text, the same answer as the staff page's /voices/classify."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from app.api import make_blueprint
from app.api.issue_schemas import ErrorEnvelopeSchema as ErrorSchema
from app.voice.channels import DIMENSIONS, SENTIMENTS
from app.voice.classification import MAX_TEXT
from app.voice.classification_services import suggestion_answer

classify = make_blueprint(
    "voice_classify_api",
    "/voices/classify",
    "Voice classification (声音分类): suggested dimension, category and sentiment for a text",
)
BLUEPRINTS = [classify]


class ClassifyRequestSchema(Schema):
    text = fields.String(
        required=True,
        validate=validate.Length(max=MAX_TEXT),
        metadata={"description": f"the voice's text, at most {MAX_TEXT} characters"},
    )


class ClassifySuggestionSchema(Schema):
    dimension = fields.String(allow_none=True, metadata={"enum": list(DIMENSIONS)})
    category = fields.String(allow_none=True, metadata={"description": "category code"})
    category_label = fields.String(
        allow_none=True, metadata={"description": "the category's name (Accept-Language/lang)"}
    )
    sentiment = fields.String(allow_none=True, metadata={"enum": list(SENTIMENTS)})
    score = fields.Float(metadata={"description": "sentiment score from -1 to 1"})
    matched = fields.List(fields.String(), metadata={"description": "keywords that matched"})


@classify.route("", methods=["POST"])
@classify.arguments(ClassifyRequestSchema)
@classify.response(200, ClassifySuggestionSchema)
@classify.alt_response(400, schema=ErrorSchema, description="malformed JSON")
@classify.alt_response(401, schema=ErrorSchema, description="no or bad bearer token")
@classify.alt_response(422, schema=ErrorSchema, description="text missing or too long")
def classify_text(body: dict[str, Any]) -> dict[str, Any]:
    """Suggest a classification for `text` (nothing is stored)."""
    return suggestion_answer(body["text"])
