"""Domain errors. Services raise them; the web layer turns them into pages or JSON envelopes."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    status = 400
    code = "bad_request"
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, fields: Mapping[str, str] | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.fields: dict[str, str] = dict(fields or {})


class NotFound(DomainError):
    # Also what callers get for objects outside their scope: never confirm they exist.
    status = 404
    code = "not_found"
    default_message = "Not found."


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = "You are not allowed to do this."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = "Someone else changed this record; reload and try again."


class InvalidTransitionError(DomainError):
    status = 409
    code = "invalid_transition"
    default_message = "This action is not possible in the current state."


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"
    default_message = "Some fields are not valid."


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests; please wait and try again."
