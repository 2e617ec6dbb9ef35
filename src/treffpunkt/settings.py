"""Settings, read once from the environment, with safe defaults for development."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parents[1]


def _shipped(name: str) -> Path:
    """A top-level folder of the checkout, or its copy inside an installed wheel.

    The wheel carries `templates/` and `migrations/` inside the package (hatch_build.py);
    a checkout and an editable install read the checkout's own folders.
    """
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PROJECT_ROOT / name


TEMPLATES_DIR = _shipped("templates")
MIGRATIONS_DIR = _shipped("migrations")
STATIC_DIR = PACKAGE_DIR / "static"
LOCALE_DIR = PACKAGE_DIR / "locale"

DEFAULT_TIMEZONE = "Europe/Berlin"
LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"

DEVELOPMENT_SECRET_FILE = ".treffpunkt-secret"  # noqa: S105 - a file name, not a secret


class SettingsError(RuntimeError):
    """A setting is missing or malformed; raised at start-up, never per request."""


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from exc


def _development_secret() -> str:
    """Generated once and kept beside the development database, so links survive restarts."""
    path = Path.cwd() / DEVELOPMENT_SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        secret = secrets.token_urlsafe(32)
        path.touch(mode=0o600)
        path.write_text(secret)
        return secret


@dataclass(frozen=True)
class Settings:
    database_url: str
    base_url: str
    secret_key: str
    smtp_url: str | None
    mail_from: str
    production: bool
    secure_cookies: bool
    log_level: str
    db_pool_size: int
    registration_rate_limit: int
    login_rate_limit: int
    reminder_hours: int
    check_in_opens_hours: int
    run_mail_worker: bool
    catalogue_cache_seconds: int
    # How long the link in an invitation to a new organiser works.
    invite_days: int = 7
    # The bearer token a Prometheus scraper sends to /metrics; unset: no metrics.
    metrics_token: str | None = None
    # How long a write waits for another process's SQLite write lock before answering 503.
    sqlite_busy_timeout: int = 60

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def load_settings() -> Settings:
    production = _flag("TREFFPUNKT_PRODUCTION", False)
    secret_key = os.environ.get("TREFFPUNKT_SECRET_KEY", "")
    if not secret_key:
        if production:
            raise SettingsError(
                "TREFFPUNKT_SECRET_KEY is required when TREFFPUNKT_PRODUCTION is on"
            )
        secret_key = os.environ.setdefault("TREFFPUNKT_SECRET_KEY", _development_secret())
    elif len(secret_key) < 32:
        raise SettingsError("TREFFPUNKT_SECRET_KEY must be at least 32 characters long")
    base_url = os.environ.get("TREFFPUNKT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    log_level = os.environ.get("TREFFPUNKT_LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError(
            f"TREFFPUNKT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {log_level!r}"
        )
    database_url = os.environ.get(
        "TREFFPUNKT_DATABASE_URL", f"sqlite:///{Path.cwd() / 'treffpunkt.sqlite3'}"
    )
    if not database_url.startswith(("sqlite:///", "postgres://", "postgresql://")):
        raise SettingsError(
            "TREFFPUNKT_DATABASE_URL must start with sqlite:///, postgres:// or postgresql://"
        )
    return Settings(
        database_url=database_url,
        base_url=base_url,
        secret_key=secret_key,
        smtp_url=os.environ.get("TREFFPUNKT_SMTP_URL") or None,
        mail_from=os.environ.get("TREFFPUNKT_MAIL_FROM", "treffpunkt@localhost"),
        production=production,
        secure_cookies=_flag("TREFFPUNKT_SECURE_COOKIES", base_url.startswith("https://")),
        log_level=log_level,
        db_pool_size=_int("TREFFPUNKT_DB_POOL_SIZE", 10),
        registration_rate_limit=_int("TREFFPUNKT_REGISTRATION_RATE_LIMIT", 30),
        login_rate_limit=_int("TREFFPUNKT_LOGIN_RATE_LIMIT", 10),
        reminder_hours=_int("TREFFPUNKT_REMINDER_HOURS", 24),
        check_in_opens_hours=_int("TREFFPUNKT_CHECK_IN_OPENS_HOURS", 2),
        run_mail_worker=_flag("TREFFPUNKT_MAIL_WORKER", False),
        catalogue_cache_seconds=_int("TREFFPUNKT_CATALOGUE_CACHE_SECONDS", 1),
        invite_days=_int("TREFFPUNKT_INVITE_DAYS", 7),
        metrics_token=os.environ.get("TREFFPUNKT_METRICS_TOKEN") or None,
        sqlite_busy_timeout=_int("TREFFPUNKT_SQLITE_BUSY_TIMEOUT", 60),
    )


@cache
def get_settings() -> Settings:
    return load_settings()
