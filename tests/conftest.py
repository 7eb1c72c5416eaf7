"""Fixtures shared by the whole suite.

The database is built once per run by the real migrations (so every run tests them), on SQLite
by default or on PostgreSQL when TEST_DATABASE_URL is set (a fresh, uniquely named database
that is dropped afterwards). Each test starts from empty tables.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import TestConfig, normalise_database_url
from app.extensions import db

pytest_plugins = ["tests.issue_fixtures", "tests.surveys.measure_fixtures"]


def _postgres_database(base_url: str) -> tuple[str, Callable[[], None]]:
    url = sa.make_url(normalise_database_url(base_url))
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        url, drop = _postgres_database(base)
        yield url
        drop()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/test.db"


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    os.environ.pop("DATABASE_URL", None)
    application = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=normalise_database_url(database_url),
        SECRET_KEY="test-secret-key",
        SERVER_NAME=None,
    )
    application.test_client_class = IsolatedClient
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _truncate_all() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())
    # what processes keep in memory about those rows goes with them (SQLite reuses the ids)
    from app.surveys.answers import forget_questionnaires
    from app.surveys.ratelimit import forget

    forget_questionnaires()
    forget()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: its own `g` and its own
    database session. The test's session commits first, so what the test set up is visible to
    the request and no transaction of the test's holds a lock or an old snapshot; its objects
    are expired by that commit and reload fresh afterwards."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        from flask import has_app_context

        if has_app_context():  # a thread of a concurrency test has no test session
            db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    from app import sqlite_begin

    # the test's own reads never take SQLite's write lock (requests and threads set their own)
    token = sqlite_begin.set("BEGIN")
    with app.app_context():
        yield
        db.session.remove()
        _truncate_all()
    sqlite_begin.reset(token)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def _no_real_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any real SMTP connection in a test is a bug: the outbox is tested with a fake sender."""
    import smtplib

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a test tried to open a real SMTP connection")

    monkeypatch.setattr(smtplib.SMTP, "connect", refuse)


# --- builders -------------------------------------------------------------------------------


@pytest.fixture
def make_region() -> Callable[..., Any]:
    from app.org.models import Region

    def make(code: str = "EAST", name: str | None = None) -> Region:
        region = Region(code=code, name=name or f"{code} region")
        db.session.add(region)
        db.session.commit()
        return region

    return make


@pytest.fixture
def make_office(make_region: Callable[..., Any]) -> Callable[..., Any]:
    from app.org.models import Office, Region

    def make(code: str = "SH", name: str | None = None, region: Region | None = None) -> Office:
        if region is None:
            region = db.session.scalars(sa.select(Region).order_by(Region.id)).first()
            if region is None:
                region = make_region()
        office = Office(code=code, name=name or f"{code} office", region_id=region.id)
        db.session.add(office)
        db.session.commit()
        return office

    return make


DEFAULT_PASSWORD = "correct horse battery"
_FAST_HASH: dict[str, str] = {}


@pytest.fixture
def make_user() -> Callable[..., Any]:
    from app.auth.models import User
    from app.auth.passwords import hash_password

    def make(
        role: str = "agent",
        *,
        office: Any = None,
        region: Any = None,
        email: str | None = None,
        name: str = "Test User",
        password: str = DEFAULT_PASSWORD,
    ) -> User:
        if password not in _FAST_HASH:
            _FAST_HASH[password] = hash_password(password)
        user = User(
            email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.com",
            name=name,
            role=role,
            office_id=office.id if office is not None else None,
            region_id=region.id if region is not None else None,
            password_hash=_FAST_HASH[password],
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[..., FlaskClient]:
    """Sign `user` in on the test client through a real server-side session row."""
    from app.auth.sessions import start_session

    def login(user: Any, on: FlaskClient | None = None) -> FlaskClient:
        target = on or client
        key = start_session(user)
        db.session.commit()
        with target.session_transaction() as sess:
            sess["_user_id"] = key
            sess["_fresh"] = True
        return target

    return login


@pytest.fixture
def api_headers() -> Callable[..., dict[str, str]]:
    from app.auth.tokens import issue_token

    def headers(user: Any) -> dict[str, str]:
        _, plaintext = issue_token(user)
        db.session.commit()
        return {"Authorization": f"Bearer {plaintext}"}

    return headers


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def post_form(client: FlaskClient) -> Callable[..., Any]:
    """GET a page for its CSRF token, then POST the form to `action` (default: same URL)."""

    def post(url: str, data: dict[str, Any], action: str | None = None, **kw: Any) -> Any:
        page = client.get(url)
        token = csrf_from(page.get_data(as_text=True))
        return client.post(action or url, data={**data, "csrf_token": token}, **kw)

    return post
