"""The database engine and Piccolo's app registry (PICCOLO_CONF points here)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import unquote, urlsplit

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

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
        "treffpunkt.registrations.piccolo_app",
        "treffpunkt.notifications.piccolo_app",
        "treffpunkt.attendance.piccolo_app",
    ]
)

# SQLite admits one writer at a time; queueing writers here instead of in SQLite's busy
# handler (which sleeps and retries) keeps latency flat under load. One lock per event loop.
_sqlite_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def is_postgres() -> bool:
    return isinstance(DB, PostgresEngine)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction that will write: IMMEDIATE and queued on SQLite, plain on PostgreSQL.

    Inside another transaction it joins that one.
    """
    if DB.current_transaction.get() is not None:
        yield
    elif isinstance(DB, SQLiteEngine):
        writers = _sqlite_writers.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with writers, DB.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with DB.transaction():
            yield
