"""Settings, read once from the environment, with safe defaults for development."""

from __future__ import annotations

import ipaddress
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

LOOPBACK = ("127.0.0.0/8", "::1")

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


def _forwarded_allow_ips() -> tuple[str, ...]:
    """Addresses and networks (CIDR) whose X-Forwarded-For is believed, or "*" for any."""
    raw = os.environ.get("TREFFPUNKT_FORWARDED_ALLOW_IPS", "")
    entries = tuple(entry.strip() for entry in raw.split(",") if entry.strip())
    if not entries:
        return LOOPBACK
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise SettingsError(
                "TREFFPUNKT_FORWARDED_ALLOW_IPS must list addresses or networks (CIDR) "
                f"separated by commas, or *, not {entry!r}"
            ) from exc
    return entries


def _positive(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, not {value}")
    return value


def _percent(name: str, default: int) -> int:
    value = _int(name, default)
    if not 0 <= value <= 100:
        raise SettingsError(f"{name} must lie between 0 and 100, not {value}")
    return value


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
    # Days after an event ends until its registrations' personal data is anonymised.
    retention_days: int = 180
    # Who runs this installation, for the legal notice and the privacy notice.
    operator_name: str = ""
    operator_address: str = ""
    operator_email: str = ""
    privacy_contact: str = ""
    # The operator's own notices (Markdown or HTML; `{language}` in the path becomes de or en).
    privacy_notice_file: str | None = None
    legal_notice_file: str | None = None
    # How long an unconfirmed address holds its place at an event with double opt-in.
    address_confirmation_minutes: int = 1440
    # Rate-limit counters live in Redis when set, else in the database (both shared).
    redis_url: str | None = None
    # Peers whose X-Forwarded-For names the client: addresses and networks, or "*".
    forwarded_allow_ips: tuple[str, ...] = LOOPBACK
    # The largest request body taken, in bytes; larger ones answer 413 unread.
    max_request_bytes: int = 1024 * 1024
    # Percent of an event's seats one client address may register for per day.
    registration_event_share: int = 50
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
        registration_rate_limit=_int("TREFFPUNKT_REGISTRATION_RATE_LIMIT", 60),
        login_rate_limit=_int("TREFFPUNKT_LOGIN_RATE_LIMIT", 10),
        reminder_hours=_int("TREFFPUNKT_REMINDER_HOURS", 24),
        check_in_opens_hours=_int("TREFFPUNKT_CHECK_IN_OPENS_HOURS", 2),
        run_mail_worker=_flag("TREFFPUNKT_MAIL_WORKER", False),
        catalogue_cache_seconds=_int("TREFFPUNKT_CATALOGUE_CACHE_SECONDS", 1),
        invite_days=_int("TREFFPUNKT_INVITE_DAYS", 7),
        metrics_token=os.environ.get("TREFFPUNKT_METRICS_TOKEN") or None,
        retention_days=_retention_days(),
        operator_name=os.environ.get("TREFFPUNKT_OPERATOR_NAME", "").strip(),
        operator_address=os.environ.get("TREFFPUNKT_OPERATOR_ADDRESS", "").strip(),
        operator_email=os.environ.get("TREFFPUNKT_OPERATOR_EMAIL", "").strip(),
        privacy_contact=os.environ.get("TREFFPUNKT_PRIVACY_CONTACT", "").strip(),
        privacy_notice_file=os.environ.get("TREFFPUNKT_PRIVACY_NOTICE_FILE") or None,
        legal_notice_file=os.environ.get("TREFFPUNKT_LEGAL_NOTICE_FILE") or None,
        address_confirmation_minutes=_positive("TREFFPUNKT_ADDRESS_CONFIRMATION_MINUTES", 1440),
        redis_url=os.environ.get("TREFFPUNKT_REDIS_URL") or None,
        forwarded_allow_ips=_forwarded_allow_ips(),
        max_request_bytes=_positive("TREFFPUNKT_MAX_REQUEST_BYTES", 1024 * 1024),
        registration_event_share=_percent("TREFFPUNKT_REGISTRATION_EVENT_SHARE", 50),
        sqlite_busy_timeout=_int("TREFFPUNKT_SQLITE_BUSY_TIMEOUT", 60),
    )


def _retention_days() -> int:
    days = _int("TREFFPUNKT_RETENTION_DAYS", 180)
    if days < 0:
        raise SettingsError(f"TREFFPUNKT_RETENTION_DAYS must not be negative, not {days}")
    return days


@cache
def get_settings() -> Settings:
    return load_settings()
