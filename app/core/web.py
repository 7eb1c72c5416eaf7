"""Error pages that answer HTML to browsers and the JSON envelope under /api/."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.core.errors import Conflict, DomainError
from app.extensions import db

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "server_error",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(
    status: int, code: str, message: str, fields: dict[str, Any] | None = None
) -> Any:
    if wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        response = jsonify(body)
        response.status_code = status
        return response
    return render_template("errors/error.html", status=status, message=message), status


def _page_message(status: int) -> str:
    messages: dict[int, str] = {
        403: _("You are not allowed to see this page."),
        404: _("The page or record you asked for does not exist, or is not yours to see."),
        405: _("This action is not allowed here."),
        413: _("What you sent is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. It has been logged."),
    }
    return str(messages.get(status, _("The request could not be processed.")))


def handle_domain_error(exc: DomainError) -> Any:
    db.session.rollback()
    return error_response(exc.status, exc.code, exc.message, exc.fields)


def handle_http_exception(exc: HTTPException) -> Any:
    """Every HTTP error (routing, webargs/smorest validation, size limits) as our page or
    envelope. Registered after flask-smorest's own handler, so it replaces it."""
    status = exc.code or 500
    if exc.response is not None and not wants_json():
        return exc.response
    code = HTTP_CODES.get(status, "error")
    fields, notes = _webargs_messages(getattr(exc, "data", None))
    if not wants_json():
        return error_response(status, code, _page_message(status), fields)
    if status == 422:
        message = "Some fields are not valid."
    elif notes:  # e.g. webargs' "Invalid JSON body." says more than the generic 400 text
        message = " ".join(notes)
    else:
        message = exc.description or code
    return error_response(status, code, message, fields)


def _webargs_messages(data: Any) -> tuple[dict[str, str], list[str]]:
    """webargs nests messages by location (json/query/form): flatten them to field → first
    message; a location's plain list of messages (not about one field) comes back as notes."""
    fields: dict[str, str] = {}
    notes: list[str] = []
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, dict):
        return fields, notes
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            for name, errs in location_errors.items():
                fields[str(name)] = _first(errs)
        elif location_errors:
            notes.append(_first(location_errors))
    return fields, notes


def _first(errs: Any) -> str:
    while isinstance(errs, list | tuple) and errs:
        errs = errs[0]
    if isinstance(errs, dict):
        return "; ".join(f"{k}: {_first(v)}" for k, v in errs.items())
    return str(errs)


def handle_integrity(exc: IntegrityError) -> Any:
    """Validation catches bad input before the database does, so a constraint that still
    fires at commit means a concurrent change got there first."""
    db.session.rollback()
    log.info("integrity conflict on %s %s: %s", request.method, request.path, exc.orig)
    return handle_domain_error(Conflict())


NUL_MESSAGE = "The request contains a NUL character (U+0000), which no text can hold."


def handle_data_error(exc: DataError) -> Any:
    """PostgreSQL text cannot hold NUL, and psycopg refuses a statement with one before sending
    it. The fields people write are checked first (app.core.fields) and answer 422 naming the
    field; a NUL anywhere else (a search term, a code looked up) is bad input too: 400, not a
    500. Any other DataError is a bug of ours and stays one."""
    db.session.rollback()
    if "NUL" not in str(exc.orig):
        raise exc
    log.info("NUL in a request on %s %s", request.method, request.path)
    message = NUL_MESSAGE if wants_json() else _page_message(400)
    return error_response(400, "bad_request", message)


def handle_stale(exc: StaleDataError) -> Any:
    db.session.rollback()
    return handle_domain_error(Conflict())


def handle_unexpected(exc: Exception) -> Any:
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "server_error", _page_message(500))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(StaleDataError, handle_stale)
    app.register_error_handler(IntegrityError, handle_integrity)
    app.register_error_handler(DataError, handle_data_error)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
