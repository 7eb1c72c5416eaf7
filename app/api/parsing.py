"""How the API reads requests: JSON bodies only where JSON is expected, ids that fit a column."""

from __future__ import annotations

from typing import Any

import flask
from flask import abort
from flask_smorest import Blueprint
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

    def arguments(self, schema: Any, **kwargs: Any) -> Any:
        """As flask-smorest's, with the schema instantiated once here: given a class, webargs
        builds a new instance (deep-copying every field) on every request. Schemas keep no
        state between loads, so one instance serves all requests and threads."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, **kwargs)


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` that does not match numbers no id column can hold: unbounded, they reach
    the driver and fail there (a 500 for what is only a bad URL). Limiting the digits, not the
    value, keeps it a plain 404 for every method."""

    regex = r"\d{1,18}"  # below 2**63 - 1, the largest BIGINT / SQLite INTEGER
