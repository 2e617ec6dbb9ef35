"""The database engine and Piccolo's app registry (PICCOLO_CONF points here)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from treffpunkt.settings import get_settings


def engine_from_url(url: str) -> Engine:  # type: ignore[type-arg]
    """Build the Piccolo engine that TREFFPUNKT_DATABASE_URL names."""
    if url.startswith("sqlite:///"):
        # A generous timeout: writers wait for each other instead of failing with "locked".
        return SQLiteEngine(path=url.removeprefix("sqlite:///"), timeout=60)
    parts = urlsplit(url)
    return PostgresEngine(
        config={
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "user": unquote(parts.username or "postgres"),
            "password": unquote(parts.password or "") or None,
            "database": parts.path.lstrip("/") or "treffpunkt",
        },
        log_queries=False,
    )


DB = engine_from_url(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "treffpunkt.accounts.piccolo_app",
        "treffpunkt.events.piccolo_app",
    ]
)
