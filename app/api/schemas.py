"""Schemas shared by every resource: pagination and the error envelope."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import Schema, fields, validate


class PageArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


ErrorBody = Schema.from_dict(
    {
        "code": fields.String(required=True),
        "message": fields.String(required=True),
        # "fields" would shadow Schema.fields as a class attribute, hence from_dict
        "fields": fields.Dict(keys=fields.String(), values=fields.String()),
    },
    name="ErrorBody",
)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBody, required=True)


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """A `{"items": [...], "next_cursor": ...}` schema for `item`."""
    attrs: dict[str, Any] = {
        "items": fields.List(fields.Nested(item), required=True),
        "next_cursor": fields.String(allow_none=True, required=True),
    }
    return type(name, (Schema,), attrs)


class Timestamp(fields.DateTime):
    """ISO 8601 in UTC, whatever zone the value was computed in (office times are local)."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is not None and getattr(value, "tzinfo", None) is not None:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)
