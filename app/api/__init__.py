"""/api/v1: bearer-token JSON API over the same services as the UI.

OpenAPI comes from the marshmallow schemas that validate input (flask-smorest), served at
/api/v1/openapi.json. Errors are always the envelope from app.core.web (its handler is
registered after this one, so it replaces smorest's own).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_smorest import Api

from app.api.auth import Unauthorized, api_user, authenticate_request
from app.api.parsing import ApiBlueprint, DatabaseIdConverter
from app.extensions import csrf

__all__ = ["PREFIX", "Unauthorized", "api_user", "init_api", "make_blueprint", "page_args"]

PREFIX = "/api/v1"


def make_blueprint(name: str, url_prefix: str, description: str) -> ApiBlueprint:
    """A blueprint under /api/v1 whose every request needs a bearer token."""
    blp = ApiBlueprint(name, __name__, url_prefix=PREFIX + url_prefix, description=description)
    blp.before_request(authenticate_request)
    return blp


def init_api(app: Flask) -> Api:
    # Every <int:...> registered from here on (API and pages alike) refuses ids no column holds.
    app.url_map.converters["int"] = DatabaseIdConverter
    api = Api(
        app,
        spec_kwargs={
            "info": {"description": "Customer voice, issues, surveys and reports."},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    from app.api import (
        actions,
        customers,
        issue_schemas,
        issues,
        org,
        reports,
        surveys,
        voice_classify,
        voice_import,
        voices,
        warnings,
    )

    for module in (
        org,
        customers,
        issues,
        voices,
        voice_classify,
        voice_import,
        surveys,
        reports,
        actions,
        warnings,
    ):
        for blp in module.BLUEPRINTS:
            csrf.exempt(blp)
            api.register_blueprint(blp)
    # what a marshmallow schema cannot say, said in openapi.json once the schemas are in it
    issue_schemas.document_create_rule(api.spec)

    return api


def page_args(args: dict[str, Any]) -> tuple[int, str | None]:
    limit = int(args.get("limit") or current_app.config["API_PAGE_DEFAULT"])
    return limit, args.get("cursor") or None
