"""The shared counters behind the rate limits: one atomic step per hit, windows that end and
are swept away, in the database (both engines) and in Redis."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import pytest

from tests.web.test_shared_rate_limits import REDIS_URL, redis_answers
from treffpunkt.db import connection_pool
from treffpunkt.ratelimits.counters import (
    DatabaseHitCounter,
    HitCounter,
    RedisHitCounter,
    hit_counter,
)
from treffpunkt.ratelimits.tables import RateLimitCounter

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["database", "redis"])
async def counter(request: pytest.FixtureRequest) -> AsyncIterator[HitCounter]:
    if request.param == "redis" and not redis_answers():
        pytest.skip(f"Redis tests skipped: nothing answers at {REDIS_URL}")
    made = hit_counter(REDIS_URL if request.param == "redis" else None)
    async with connection_pool(4):
        yield made
        await made.close()


def a_key() -> str:
    return f"test:{secrets.token_hex(8)}"


async def test_simultaneous_hits_each_get_their_own_count(counter: HitCounter) -> None:
    key = a_key()

    counts = await asyncio.gather(*(counter.hit(key, 3600) for _ in range(40)))

    assert sorted(hits for hits, _ in counts) == list(range(1, 41))


async def test_keys_are_counted_apart(counter: HitCounter) -> None:
    first, second = a_key(), a_key()
    await counter.hit(first, 3600)
    await counter.hit(first, 3600)

    hits, _ = await counter.hit(second, 3600)

    assert hits == 1


async def test_windows_of_different_lengths_are_counted_apart(counter: HitCounter) -> None:
    key = a_key()
    await counter.hit(key, 3600)

    hits, _ = await counter.hit(key, 86400)

    assert hits == 1


async def test_a_hit_says_how_long_its_window_still_runs(counter: HitCounter) -> None:
    _, seconds_left = await counter.hit(a_key(), 60)

    assert 1 <= seconds_left <= 60


async def test_an_unreachable_redis_counts_nothing_and_refuses_no_one() -> None:
    from tests.conftest import free_port

    counter = RedisHitCounter(f"redis://127.0.0.1:{free_port()}/0")

    hits, _ = await counter.hit(a_key(), 60)

    await counter.close()
    assert hits == 0


@pytest.fixture
async def silent_redis() -> AsyncIterator[str]:
    """A server that accepts connections and never answers, like a Redis dropping packets."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"redis://127.0.0.1:{port}/0"
        for writer in held:
            writer.close()


async def test_a_redis_that_never_answers_counts_nothing_and_holds_up_no_one(
    silent_redis: str,
) -> None:
    counter = RedisHitCounter(silent_redis)

    # Two tries of REDIS_TIMEOUT_SECONDS; redis-py's defaults wait 5 s (8.x), older ones forever.
    async with asyncio.timeout(3):
        hits, _ = await counter.hit(a_key(), 60)

    await counter.close()
    assert hits == 0


def test_the_setting_chooses_the_store() -> None:
    assert isinstance(hit_counter(None), DatabaseHitCounter)
    assert isinstance(hit_counter(REDIS_URL), RedisHitCounter)


async def test_ended_windows_are_swept_from_the_database() -> None:
    counter = DatabaseHitCounter()
    async with connection_pool(4):
        await counter.hit(a_key(), 1)
        await counter.hit(a_key(), 86400)

        await counter.sweep(int(time.time()) + 2)

        left = await RateLimitCounter.select(RateLimitCounter.key)
    assert len(left) == 1


async def test_the_database_store_holds_no_client_address() -> None:
    from treffpunkt.settings import get_settings
    from treffpunkt.web.rate_limits import RateLimits

    limits = RateLimits(get_settings(), DatabaseHitCounter())
    async with connection_pool(4):
        await limits._count("register", 5, 60, "", "203.0.113.77")
        [row] = await RateLimitCounter.select(RateLimitCounter.key)

    assert "203.0.113.77" not in row["key"]


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.77", "203.0.113.77"),
        ("::ffff:203.0.113.77", "203.0.113.77"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:0DB8:1:2:0:0:0:28", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("testclient", "testclient"),
    ],
)
def test_a_client_is_its_ipv4_address_or_its_ipv6_64(address: str, key: str) -> None:
    from treffpunkt.web.rate_limits import client_key

    assert client_key(address) == key
