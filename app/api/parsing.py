"""How the API reads requests: JSON bodies only where JSON is expected, ids that fit a column."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

import flask
import marshmallow as ma
from flask import abort, request
from flask_smorest import Blueprint
from marshmallow import fields
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.routing import IntegerConverter


class ApiParser(FlaskParser):
    """webargs ignores a body that is not declared JSON and reports every field as missing;
    a client that sent a form or text to a JSON endpoint should hear why instead (415)."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            if req.content_length or req.get_data(cache=True):
                abort(
                    415,
                    description="Send the body as JSON with Content-Type: application/json.",
                )
            return core.missing
        return super()._raw_load_json(req)


class ApiBlueprint(Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = ApiParser()

    def arguments(self, schema: Any, *, parse: bool = True, **kwargs: Any) -> Any:
        """As flask-smorest's, with the schema instantiated once here: given a class, webargs
        builds a new instance (deep-copying every field) on every request. Schemas keep no
        state between loads, so one instance serves all requests and threads.

        `parse=False` documents the schema exactly as flask-smorest does but leaves the
        request to the view, which reads it itself with load_json_body() and the same
        schema (for the hot path of issue intake)."""
        if isinstance(schema, type):
            schema = schema()
        document_and_parse = super().arguments(schema, **kwargs)
        if parse:
            return document_and_parse

        def document_only(view: Callable[..., Any]) -> Callable[..., Any]:
            documented = document_and_parse(view)

            @wraps(view)
            def wrapper(*args: Any, **kw: Any) -> Any:
                return view(*args, **kw)

            wrapper._apidoc = documented._apidoc  # type: ignore[attr-defined]
            return wrapper

        return document_only


_PLAIN = "plain"  # a strict Integer or a String without validators: checked here
_OTHER = "other"  # any other field: the schema loads it


class FastLoader:
    """What `schema.load(body)` answers for the plain bodies of a hot endpoint, found without
    running marshmallow; None for anything else, which the schema then loads (so every error
    message and every unusual value is the schema's own).

    Built from the schema, so the two cannot drift: a field present in the body is taken as
    it is only when it is a strict Integer given an int, or a String given a str, with no
    validators; absent fields get the schema's defaults (`load_default`), None is accepted
    where the field allows it; an unknown key, a missing required field or any other value
    goes to the schema. tests/api/test_fast_loader.py holds the two to the same answers."""

    def __init__(self, schema: ma.Schema) -> None:
        if any(schema._hooks.values()):
            raise TypeError(f"{type(schema).__name__} has processors: load it with the schema")
        if schema.unknown != ma.RAISE:
            raise TypeError(f"{type(schema).__name__} does not refuse unknown fields")
        self.schema = schema
        self._fields: list[tuple[str, str, str, ma.fields.Field[Any]]] = []
        for name, field in schema.load_fields.items():
            plain = not field.validators and (
                (type(field) is fields.Integer and field.strict) or type(field) is fields.String
            )
            key = field.data_key if field.data_key is not None else name
            attribute = field.attribute or name
            self._fields.append((key, attribute, _PLAIN if plain else _OTHER, field))
        self._keys = frozenset(key for key, *_ in self._fields)

    def __call__(self, body: Any) -> dict[str, Any] | None:
        if type(body) is not dict or not self._keys.issuperset(body):
            return None
        loaded: dict[str, Any] = {}
        for key, attribute, kind, field in self._fields:
            if key not in body:
                if field.required:
                    return None
                default = field.load_default
                if default is not ma.missing:
                    loaded[attribute] = default() if callable(default) else default
                continue
            value = body[key]
            if value is None:
                if not field.allow_none:
                    return None
                loaded[attribute] = None
            elif kind is _OTHER:
                return None
            elif type(value) is (str if type(field) is fields.String else int):
                loaded[attribute] = value
            else:
                return None
        return loaded


def load_json_body(loader: FastLoader) -> dict[str, Any]:
    """The JSON body loaded by `loader`'s schema, as `arguments(schema)` would give it to the
    view: by the fast loader when it can, else by webargs and the schema, which answer every
    error (400 malformed JSON, 415 not JSON, 422 with the fields) as on any endpoint."""
    if is_json_request(request):
        try:
            body = json.loads(request.get_data(cache=True).decode("utf-8"))
        except ValueError:  # UnicodeDecodeError and JSONDecodeError: webargs answers
            body = None
        else:
            loaded = loader(body)
            if loaded is not None:
                return loaded
    parsed: dict[str, Any] = ApiBlueprint.ARGUMENTS_PARSER.parse(loader.schema, location="json")
    return parsed


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` that does not match numbers no id column can hold: unbounded, they reach
    the driver and fail there (a 500 for what is only a bad URL). Limiting the digits, not the
    value, keeps it a plain 404 for every method."""

    regex = r"\d{1,18}"  # below 2**63 - 1, the largest BIGINT / SQLite INTEGER
