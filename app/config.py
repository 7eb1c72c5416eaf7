"""Settings from the environment (documented in .env.example and the README)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw and raw.strip() else default


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and pin the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def load_or_create_secret_key(instance_path: str) -> str:
    """For the zero-setup run only: a random key kept in the instance folder (never committed)."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


class Config:
    TESTING = False
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    MAX_CONTENT_LENGTH = 1 * 1024 * 1024  # JSON and forms; imports raise it per endpoint
    WTF_CSRF_TIME_LIMIT = None  # token bound to the session; agents keep pages open all day
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_SUPPORTED_LOCALES = ("zh", "en")
    LOGIN_THROTTLE_LIMIT = 5  # failed attempts per account (and per client) ...
    LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60  # ... within this window
    API_PAGE_DEFAULT = 50
    API_PAGE_MAX = 200
    SCHEDULER_ENABLED = False
    DB_PING_AFTER_IDLE_SECONDS = 5
    RATELIMIT_ENABLED = True
    # voice imports (app.voice.importers.Limits): file size, rows, columns, XLSX unpacking
    VOICE_IMPORT_MAX_BYTES = 20 * 1024 * 1024
    VOICE_IMPORT_MAX_ROWS = 200_000
    VOICE_IMPORT_MAX_COLUMNS = 200
    VOICE_IMPORT_MAX_UNCOMPRESSED = 256 * 1024 * 1024
    VOICE_IMPORT_MAX_RATIO = 100
    # processes building a big import's rows beside the one writing them (app.voice.import_pool):
    # 0 = one per core, up to four; 1 = none. Files under PARALLEL_ROWS are built in-process.
    VOICE_IMPORT_WORKERS = 0
    VOICE_IMPORT_PARALLEL_ROWS = 10_000
    # early warning (app.warnings.signals.Thresholds): overrides of the signals' thresholds,
    # e.g. {"contract_days": 90}; docs/warnings.md lists them
    WARNING_THRESHOLDS: dict[str, float] = {}

    # flask-smorest / OpenAPI
    API_TITLE = "Customer voice API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    @classmethod
    def from_env(cls, instance_path: str) -> dict[str, Any]:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'app.db'}"
        return {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
            "SECRET_KEY": os.environ.get("SECRET_KEY") or load_or_create_secret_key(instance_path),
            "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
            "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
            "MAIL_PORT": env_int("MAIL_PORT", 25),
            "MAIL_USE_TLS": env_bool("MAIL_USE_TLS"),
            "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
            "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
            "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "noreply@localhost"),
            # envelope sender of outgoing mail, VERP-tagged per message; late bounces come here
            "MAIL_BOUNCE_ADDRESS": os.environ.get("MAIL_BOUNCE_ADDRESS", ""),
            # the mailbox that address delivers to, read by the read-bounces job (IMAP)
            "BOUNCE_MAILBOX_URL": os.environ.get("BOUNCE_MAILBOX_URL", ""),
            "TIMEZONE": os.environ.get("TIMEZONE", "Asia/Shanghai"),
            "SCHEDULER_ENABLED": env_bool("SCHEDULER_ENABLED"),
            "SESSION_COOKIE_SECURE": env_bool("SESSION_COOKIE_SECURE"),
            "BABEL_DEFAULT_LOCALE": os.environ.get("BABEL_DEFAULT_LOCALE", "zh"),
            "FEEDBACK_TRUSTED_PROXIES": env_int("FEEDBACK_TRUSTED_PROXIES", 0),
            # reverse proxies of our own in front of the app: their X-Forwarded-For is believed
            # (werkzeug ProxyFix) for the client address of rate limits and sign-ins
            "TRUSTED_PROXIES": env_int("TRUSTED_PROXIES", 0),
            # PostgreSQL: a pooled connection idle this long is pinged before use (app.db_pool)
            "DB_PING_AFTER_IDLE_SECONDS": env_int("DB_PING_AFTER_IDLE_SECONDS", 5),
            "VOICE_IMPORT_WORKERS": env_int("VOICE_IMPORT_WORKERS", 0),
            "VOICE_IMPORT_PARALLEL_ROWS": env_int("VOICE_IMPORT_PARALLEL_ROWS", 10_000),
            "SURVEY_CONTACT_INTERVAL_DAYS": env_int("SURVEY_CONTACT_INTERVAL_DAYS", 30),
            "SURVEY_RATE_LIMIT_ALL": env_int("SURVEY_RATE_LIMIT_ALL", 120),
            "SURVEY_RATE_LIMIT_BAD": env_int("SURVEY_RATE_LIMIT_BAD", 20),
        }


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = True  # tests that want to skip it say so; CSRF is a feature under test
    LOGIN_THROTTLE_LIMIT = 5
    MAIL_SERVER = ""
