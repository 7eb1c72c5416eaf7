"""The signed-cookie session (Flask's own), left unread where no request may use it."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's session, except under `unread_prefix`: the token-authenticated JSON API, where
    a request is whoever its bearer token says (app.api.auth) and never whoever a cookie says.
    There every request gets an empty session without the cookie being verified, which cost a
    tenth of an issue intake's CPU (bench/README.md) for nothing. Nothing written to it is
    kept: an empty session sets no cookie."""

    def __init__(self, unread_prefix: str) -> None:
        self.unread_prefix = unread_prefix

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(self.unread_prefix):
            return self.session_class()
        return super().open_session(app, request)
