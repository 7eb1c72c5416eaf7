"""/api/v1: bearer-token JSON API over the same services as the UI.

OpenAPI comes from the marshmallow schemas that validate input (flask-smorest), served at
/api/v1/openapi.json. Errors are always the envelope from app.core.web.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request
from flask_smorest import Api
from flask_smorest import Blueprint as ApiBlueprint

from app.auth.models import User
from app.auth.tokens import authenticate_token
from app.core.errors import DomainError
from app.core.web import error_response
from app.extensions import csrf, db

PREFIX = "/api/v1"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_message = "A valid bearer token is required."


def api_user() -> User:
    user: User = g.api_user
    return user


def _authenticate() -> Any:
    """Only the bearer token counts: a browser's session cookie never authenticates the API."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = authenticate_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        response = error_response(401, Unauthorized.code, Unauthorized.default_message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    g.api_user = user
    # An API request's session ends with the request, so nothing can go stale in it: keep
    # objects loaded after commit instead of reading each one again to build the answer.
    db.session().expire_on_commit = False
    return None


def make_blueprint(name: str, url_prefix: str, description: str) -> ApiBlueprint:
    blp = ApiBlueprint(name, __name__, url_prefix=PREFIX + url_prefix, description=description)
    blp.before_request(_authenticate)
    return blp


def init_api(app: Flask) -> Api:
    api = Api(
        app,
        spec_kwargs={
            "info": {"description": "Customer voice, issues, surveys and reports."},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    from app.api import customers, issues, org

    for module in (org, customers, issues):
        for blp in module.BLUEPRINTS:
            csrf.exempt(blp)
            api.register_blueprint(blp)

    return api


def page_args(args: dict[str, Any]) -> tuple[int, str | None]:
    limit = int(args.get("limit") or current_app.config["API_PAGE_DEFAULT"])
    return limit, args.get("cursor") or None
