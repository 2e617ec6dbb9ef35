"""The registration limit holds across processes and machines: two real servers of two
worker processes each, on one database (and, when set, one Redis), count as one.

The requests come from this machine (loopback, a trusted proxy by default), each naming its
client in X-Forwarded-For, so a test can be any address; each test picks its own, so that
runs sharing a Redis never count each other's requests.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest

from tests import factories
from tests.conftest import run_async, served
from tests.registrations.helpers import person
from treffpunkt.ratelimits.tables import RateLimitCounter
from treffpunkt.registrations.tables import Registration

LIMIT = 5
ATTEMPTS = 16
REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module", params=["database", "redis"])
def store(request: pytest.FixtureRequest) -> str:
    if request.param == "redis" and not redis_answers():
        if os.environ.get("TREFFPUNKT_TEST_REQUIRE_REDIS"):
            pytest.fail(f"Redis is required but does not answer at {REDIS_URL}")
        pytest.skip(f"Redis tests skipped: nothing answers at {REDIS_URL}")
    return str(request.param)


@pytest.fixture(scope="module")
def two_servers(store: str, database: None) -> Iterator[list[str]]:
    """Two `treffpunkt serve --workers 2` on the test database, allowing LIMIT a minute."""
    with pytest.MonkeyPatch.context() as environment, ExitStack() as servers:
        if store == "redis":
            environment.setenv("TREFFPUNKT_REDIS_URL", REDIS_URL)
        environment.setenv("TREFFPUNKT_REGISTRATION_RATE_LIMIT", str(LIMIT))
        environment.setenv("TREFFPUNKT_REGISTRATION_EVENT_SHARE", "0")
        yield [
            servers.enter_context(served("--workers", "2", "--no-mail-worker")) for _ in range(2)
        ]


def a_client_of_our_own() -> str:
    """An address in a /64 of its own: the limits count an IPv6 client by its /64."""
    return f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::1"


def register(base_url: str, slug: str, client: str) -> int:
    response = httpx.post(
        f"{base_url}/api/v1/events/{slug}/registrations",
        json=person(),
        headers={"X-Forwarded-For": client},
        timeout=30,
    )
    return response.status_code


def not_at_the_end_of_a_minute() -> None:
    """The limit counts per calendar minute: start a burst well inside one."""
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)


def burst(servers: list[str], slug: str, client: str) -> list[int]:
    """ATTEMPTS registrations at once, alternating between the servers, each on a fresh
    connection (so the servers' worker processes share them out)."""
    not_at_the_end_of_a_minute()
    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        return list(
            pool.map(
                lambda number: register(servers[number % 2], slug, client),
                range(ATTEMPTS),
            )
        )


async def rows(table: type[Registration] | type[RateLimitCounter]) -> int:
    return await table.count()


def an_open_event() -> str:
    async def make() -> str:
        return (await factories.event(await factories.organiser(), capacity=100)).slug

    return run_async(make())


def test_the_limit_holds_across_servers_and_worker_processes(two_servers: list[str]) -> None:
    slug = an_open_event()

    statuses = burst(two_servers, slug, a_client_of_our_own())

    assert sorted(statuses) == [201] * LIMIT + [429] * (ATTEMPTS - LIMIT)
    assert run_async(rows(Registration)) == LIMIT


def test_another_client_is_counted_apart(two_servers: list[str]) -> None:
    slug = an_open_event()
    burst(two_servers, slug, a_client_of_our_own())

    statuses = [register(two_servers[1], slug, a_client_of_our_own())]

    assert statuses == [201]


def test_counters_live_where_the_setting_says(two_servers: list[str], store: str) -> None:
    slug = an_open_event()

    burst(two_servers, slug, a_client_of_our_own())

    assert (run_async(rows(RateLimitCounter)) > 0) == (store == "database")
