"""Test set-up: one real database per run (SQLite file or PostgreSQL), migrated, emptied per test.

The engine comes from TREFFPUNKT_DATABASE_URL, which `make test` sets once for SQLite and once
for PostgreSQL; without it the tests use a fresh SQLite file.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

T = TypeVar("T")

_scratch = Path(tempfile.mkdtemp(prefix="treffpunkt-tests-"))
os.environ.setdefault("TREFFPUNKT_DATABASE_URL", f"sqlite:///{_scratch / 'test.sqlite3'}")
os.environ.setdefault("TREFFPUNKT_SECRET_KEY", "test-secret-" + "x" * 40)
os.environ.setdefault("TREFFPUNKT_BASE_URL", "http://testserver")
# Off for the suite (many registrations from one address); its own test switches it on.
os.environ.setdefault("TREFFPUNKT_REGISTRATION_RATE_LIMIT", "0")
os.environ.setdefault("TREFFPUNKT_LOGIN_RATE_LIMIT", "0")
os.environ.setdefault("TREFFPUNKT_REGISTRATION_EVENT_SHARE", "0")
# Off for the suite, whose factories change data behind the app's back; tests/web/
# test_public_cache.py switches it on.
os.environ.setdefault("TREFFPUNKT_CATALOGUE_CACHE_SECONDS", "0")

import httpx  # noqa: E402
from litestar import Litestar  # noqa: E402

from treffpunkt.settings import get_settings  # noqa: E402

# Child tables first, so that emptying never trips a foreign key.
TABLES = (
    "audit_entry",
    "privacy_erasure",
    "feedback_response",
    "feedback_question",
    "outbox_message",
    "registration_question",
    "registration",
    "event_organiser",
    "event_sector",
    "event",
    "api_token",
    "organiser",
    "rate_limit_counter",
)


def is_postgres() -> bool:
    return get_settings().is_postgres


async def _recreate_postgres_database(url: str) -> None:
    import asyncpg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def _recreate_database() -> None:
    url = get_settings().database_url
    if is_postgres():
        asyncio.run(_recreate_postgres_database(url))
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)


# Before any test module imports the engine, which would ask a missing database its version.
_recreate_database()


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> None:
    """Argon2 at production cost takes a third of a second; tests hash hundreds of passwords."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from treffpunkt.accounts import services

    services._hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture(scope="session", autouse=True)
def database() -> None:
    from treffpunkt.cli import apply_migrations

    assert asyncio.run(apply_migrations(quiet=True)), "migrations failed"


async def empty_tables() -> None:
    from treffpunkt.db import DB

    if is_postgres():
        await DB.run_ddl(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    else:
        for table in TABLES:
            await DB.run_ddl(f"DELETE FROM {table}")  # noqa: S608 - fixed table names


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from sync code, even while Playwright's loop runs here."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, work).result()


@pytest.fixture(autouse=True)
def clean_tables(database: None) -> None:
    run_async(empty_tables())


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def app() -> Litestar:
    """One app for the session: building it costs a tenth of a second; it keeps no state."""
    from treffpunkt.web.app import create_app

    return create_app()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A same-loop client, so the app and the test share one database pool and transaction."""
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        yield http


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The session server delivers no mail: its workers' reminder scans would write rows into other
# tests' outboxes. A test that needs a mail worker starts its own.
LIVE_SERVER_ARGS = ("--workers", "2", "--no-mail-worker")


class ServerProcess:
    """`treffpunkt serve` with these options, in a process group of its own (for SIGKILL).

    It runs on the test database unless `env` says otherwise.
    """

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = _scratch / f"server-{self.port}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "treffpunkt", "serve", "--port", str(self.port), *args],
                env={**os.environ, "TREFFPUNKT_BASE_URL": self.base_url, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_healthy(self) -> str:
        """Its base URL, once /health answers 200."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return self.base_url
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy within 30 s")

    def kill(self) -> None:
        """SIGKILL to the whole process group: the supervisor and every worker at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """Gracefully, so that whatever it was doing is done."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@contextmanager
def served(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`treffpunkt serve` with these options until it is healthy; yields its base URL."""
    server = ServerProcess(*args, env=env)
    try:
        yield server.wait_until_healthy()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_server(database: None) -> Iterator[str]:
    """The real server, two worker processes on the test database; yields its base URL."""
    with served(*LIVE_SERVER_ARGS) as base_url:
        yield base_url


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright; skipped (loudly) when it is not installed.

    One per test: while Playwright's sync API runs, its event loop occupies this thread, and
    async tests after it could not start theirs.
    """
    if not CHROMIUM.exists():
        if os.environ.get("TREFFPUNKT_TEST_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required but {CHROMIUM} is missing")
        pytest.skip(f"browser tests skipped: {CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()
