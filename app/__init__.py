"""Application factory. It configures and registers; it opens no sockets and starts no threads."""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any

from flask import Flask, g, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from app import extensions as ext
from app.config import Config
from app.db_pool import ping_after_idle

# Never bind the name `db` here: it would shadow the `app.db` module for Alembic scripts.

# Blueprints whose pages are for customers, not staff (no navigation, no roles in templates)
PUBLIC_BLUEPRINTS = frozenset({"surveys_public"})


def create_app(config: type[Config] | None = None, **overrides: Any) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    config = config or Config
    app.config.from_object(config)
    app.config.update(config.from_env(app.instance_path))
    app.config.update(overrides)

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        # behind N proxies of our own, the client is the N-th address from the right of
        # X-Forwarded-For; without this setting the header is ignored (a client can write it)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)  # type: ignore[method-assign]
    from app.api import PREFIX as API_PREFIX
    from app.core.cookie_session import CookieSessionInterface

    app.session_interface = CookieSessionInterface(unread_prefix=API_PREFIX + "/")
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)

    from app.core.web import register_error_handlers

    register_error_handlers(app)

    @app.before_request
    def _begin_mode() -> None:
        read_only = request.method in ("GET", "HEAD", "OPTIONS")
        g.sqlite_begin_token = sqlite_begin.set("BEGIN" if read_only else "BEGIN IMMEDIATE")

    @app.teardown_request
    def _reset_begin_mode(_exc: BaseException | None) -> None:
        token = g.pop("sqlite_begin_token", None)
        if token is not None:
            sqlite_begin.reset(token)

    @app.context_processor
    def inject_layout() -> dict[str, Any]:
        from flask_babel import get_locale

        from app.auth.roles import Role, role_label
        from app.core.nav import nav_for

        if has_request_context() and request.blueprint in PUBLIC_BLUEPRINTS:
            # a customer's page has no staff navigation: skip 36 translations per page; and
            # its strings are looked up in the request's catalogue found once per page
            from app.core.i18n import page_gettext

            return {"current_locale": str(get_locale() or "zh"), "gettext": page_gettext()}
        user = current_user
        signed_in = getattr(user, "is_authenticated", False)
        return {
            "current_locale": str(get_locale() or "zh"),
            "nav_links": nav_for(user),
            "role_label": role_label(user.role) if signed_in else "",
            "role_names": {r.value: role_label(r) for r in Role},
        }

    return app


def select_locale() -> str:
    supported = ("zh", "en")
    lang = request.args.get("lang")
    if lang in supported:
        return lang
    if session.get("lang") in supported:
        return str(session["lang"])
    if current_user and getattr(current_user, "is_authenticated", False):
        locale = getattr(current_user, "locale", None)
        if locale in supported:
            return str(locale)
    return "zh"


def register_extensions(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_size": 10, "max_overflow": 5})
    ext.db.init_app(app)
    from app import models  # noqa: F401  (complete metadata before Alembic looks)

    with app.app_context():
        if ext.db.engine.dialect.name == "sqlite":
            configure_sqlite(ext.db.engine)
        else:
            ping_after_idle(ext.db.engine, app.config["DB_PING_AFTER_IDLE_SECONDS"])
    ext.migrate.init_app(
        app,
        ext.db,
        directory=os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations"
        ),
    )
    ext.csrf.init_app(app)
    ext.babel.init_app(app, locale_selector=select_locale, default_timezone=app.config["TIMEZONE"])
    login_manager = ext.login_manager
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # the server-side session row is the protection

    from app.auth.sessions import load_session_user

    login_manager.user_loader(load_session_user)


# Reads (GET/HEAD) begin DEFERRED so they never hold the write lock; everything else (writes,
# jobs, CLI) begins IMMEDIATE so that two writers queue on the lock instead of one failing with
# SQLITE_BUSY when it upgrades a read snapshot to a write.
sqlite_begin: ContextVar[str] = ContextVar("sqlite_begin", default="BEGIN IMMEDIATE")
# A bulk writer (a voice import) asks for a bigger page cache, in KiB, for the transactions it
# begins: inserting into indexes on random keys (references, dedup hashes) otherwise spills and
# rereads pages all through a batch. The connection gets its own size back when it returns to
# the pool, so no request that reads a report later keeps the import's memory.
sqlite_cache_kib: ContextVar[int | None] = ContextVar("sqlite_cache_kib", default=None)


SQLITE_DEFAULT_CACHE = -2000  # SQLite's own default: 2,000 KiB per connection


def configure_sqlite(engine: Any) -> None:
    """WAL, foreign keys and a busy timeout on our engine, and explicit BEGINs (the pysqlite
    transaction workaround from the SQLAlchemy SQLite dialect docs)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(sqlite_begin.get())
        cache = sqlite_cache_kib.get()
        if cache is not None:
            conn.exec_driver_sql(f"PRAGMA cache_size=-{int(cache)}")
            conn.connection.info["bulk_cache"] = True

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None and record.info.pop("bulk_cache", False):
            dbapi_connection.execute(f"PRAGMA cache_size={SQLITE_DEFAULT_CACHE}")


def register_blueprints(app: Flask) -> None:
    from app.core.views import bp as core_bp

    app.register_blueprint(core_bp)

    from app.auth.views import bp as auth_bp

    app.register_blueprint(auth_bp)

    from app.api import init_api

    init_api(app)

    from app.customers.views import bp as customers_bp

    app.register_blueprint(customers_bp)

    from app.issues import settings_views  # noqa: F401  (its routes join the issues blueprint)
    from app.issues.views import bp as issues_bp

    app.register_blueprint(issues_bp)

    from app.admin.views import bp as admin_bp

    app.register_blueprint(admin_bp)

    from app.voice.rules_views import bp as voice_rules_bp

    app.register_blueprint(voice_rules_bp)

    from app.voice.public import bp as feedback_bp

    app.register_blueprint(feedback_bp)

    from app.contacts.views import bp as contacts_bp

    app.register_blueprint(contacts_bp)

    from app.surveys import (
        campaign_views,  # noqa: F401  (its routes join the surveys blueprint)
        measurement_views,  # noqa: F401  (idem)
    )
    from app.surveys.views import bp as surveys_bp

    app.register_blueprint(surveys_bp)

    from app.surveys.public import bp as surveys_public_bp

    app.register_blueprint(surveys_public_bp)

    from app.voice.import_views import bp as voice_import_bp

    app.register_blueprint(voice_import_bp)

    from app.voice.views import bp as voice_bp

    app.register_blueprint(voice_bp)

    from app.actions.views import bp as actions_bp

    app.register_blueprint(actions_bp)

    from app.warnings.views import bp as warnings_bp

    app.register_blueprint(warnings_bp)

    from app.reports import (  # noqa: F401  (their routes join the reports blueprint)
        list_exports,
        review_views,
    )
    from app.reports.views import bp as reports_bp

    app.register_blueprint(reports_bp)


def register_commands(app: Flask) -> None:
    from app.auth.cli import users_cli

    app.cli.add_command(users_cli)

    from app.scheduler.cli import jobs_cli

    app.cli.add_command(jobs_cli)

    from app.seed.cli import seed_demo

    app.cli.add_command(seed_demo)

    from app.issues.cli import issues_cli

    app.cli.add_command(issues_cli)

    from app.voice.rules_cli import voice_rules_cli

    app.cli.add_command(voice_rules_cli)

    from app.voice.cli import voices_cli

    app.cli.add_command(voices_cli)

    from app.surveys.cli import surveys_cli

    app.cli.add_command(surveys_cli)
