"""Schemas of /api/v1/voices: shapes in (the service checks the rules and names each field) and
out (also the OpenAPI description)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas import PageArgs, Timestamp, page_schema
from app.voice.channels import CHANNELS, DETAIL_FIELDS, DIMENSIONS, KINDS, SENTIMENTS
from app.voice.services import MAX_TEXT


class VoiceCreateSchema(Schema):
    channel = fields.String(required=True, metadata={"enum": list(CHANNELS)})
    office = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "office code; default: the customer's office"},
    )
    text = fields.String(required=True, metadata={"description": f"1–{MAX_TEXT} characters"})
    customer_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    dimension = fields.String(
        load_default=None, allow_none=True, metadata={"enum": list(DIMENSIONS)}
    )
    category = fields.String(
        load_default=None, allow_none=True, metadata={"description": "category code"}
    )
    sentiment = fields.String(
        load_default=None, allow_none=True, metadata={"enum": list(SENTIMENTS)}
    )
    occurred_at = fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"description": "default now"}
    )
    details = fields.Dict(
        load_default=None,
        allow_none=True,
        metadata={"description": "channel-specific fields: " + ", ".join(DETAIL_FIELDS)},
    )
    external_id = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "the source system's id; unique per office and channel (409)"},
    )
    contact_name = fields.String(load_default=None, allow_none=True)
    contact_phone = fields.String(load_default=None, allow_none=True)
    contact_email = fields.String(load_default=None, allow_none=True)


class VoiceSchema(Schema):
    id = fields.Integer()
    reference = fields.String(
        metadata={"description": "a random code such as V-7K3Q9XPA, shown to whoever gave it"}
    )
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    kind = fields.String(metadata={"enum": list(KINDS)})
    office = fields.Function(lambda v: v.office.code, metadata={"description": "office code"})
    customer_id = fields.Integer(allow_none=True)
    customer_name = fields.Function(lambda v: v.customer.name if v.customer else None)
    occurred_at = Timestamp()
    text = fields.String()
    dimension = fields.String(allow_none=True, metadata={"enum": list(DIMENSIONS)})
    category = fields.Function(
        lambda v: v.category.code if v.category else None,
        metadata={"description": "category code"},
    )
    sentiment = fields.String(allow_none=True, metadata={"enum": list(SENTIMENTS)})
    classified_by = fields.String(allow_none=True, metadata={"enum": ["rules", "staff"]})
    details = fields.Dict()
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    external_id = fields.String(allow_none=True)
    import_id = fields.Integer(allow_none=True)
    import_row = fields.Integer(allow_none=True)
    repeat_of_id = fields.Integer(
        allow_none=True, metadata={"description": "the first voice of its group of repeats"}
    )
    created_by_id = fields.Integer(allow_none=True)
    created_at = Timestamp()


class IssueLinkSchema(Schema):
    kind = fields.String(metadata={"enum": ["raised", "repeat"]})
    issue_id = fields.Integer()
    number = fields.String()
    status = fields.String()


class VoiceRefSchema(Schema):
    id = fields.Integer()
    reference = fields.String()


class VoiceDetailSchema(VoiceSchema):
    issues = fields.List(fields.Nested(IssueLinkSchema))
    repeat_of = fields.Nested(VoiceRefSchema, allow_none=True)
    repeats = fields.List(fields.Nested(VoiceRefSchema), metadata={"description": "newest 50"})
    source = fields.Dict(
        allow_none=True, metadata={"description": "{import_id, filename, row} for imported"}
    )


class VoiceQuery(PageArgs):
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    dimension = fields.String(load_default=None, validate=validate.OneOf(DIMENSIONS))
    category = fields.String(load_default=None, metadata={"description": "category code"})
    sentiment = fields.String(load_default=None, validate=validate.OneOf(SENTIMENTS))
    office = fields.String(load_default=None, metadata={"description": "office code"})
    customer_id = fields.Integer(load_default=None)
    occurred_from = fields.Date(load_default=None, metadata={"description": "office-time day"})
    occurred_to = fields.Date(load_default=None, metadata={"description": "inclusive"})
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=100),
        metadata={"description": "substring of the text; works for Chinese (no segmentation)"},
    )


VoicePage = page_schema(VoiceSchema, "VoicePage")
