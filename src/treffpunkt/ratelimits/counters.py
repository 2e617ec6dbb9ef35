"""Fixed-window hit counters that every app process and machine shares.

Litestar's rate limiter reads a store, adds one and writes it back: two processes reading the
same count both let a request through, so a limit of 30 lets up to 30 per process pass. Here
each hit is one atomic step on the shared store (an upsert that returns the new count, or
Redis INCR), so the limit holds however many processes count.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Protocol

import asyncpg
import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from treffpunkt.db import is_postgres, postgres_write, sqlite_write

logger = structlog.get_logger("treffpunkt")
# Expired windows are swept at most this often per process.
SWEEP_SECONDS = 60
# A Redis that drops packets must not hold up every registration and sign-in: after this long
# (to connect, or for an answer; tried twice) the request passes uncounted.
REDIS_TIMEOUT_SECONDS = 0.5

_HIT_POSTGRES = """
INSERT INTO rate_limit_counter (key, hits, expires_at) VALUES ($1, 1, $2)
ON CONFLICT (key) DO UPDATE SET hits = rate_limit_counter.hits + 1
RETURNING hits
"""
_HIT_SQLITE = _HIT_POSTGRES.replace("$1", "?").replace("$2", "?")
_SWEEP_POSTGRES = "DELETE FROM rate_limit_counter WHERE expires_at < $1"
_SWEEP_SQLITE = _SWEEP_POSTGRES.replace("$1", "?")


class HitCounter(Protocol):
    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one hit of `key`; answers the hits in this window and seconds until its end."""

    async def close(self) -> None:
        """Let go of connections."""


def _window(key: str, window: int, now: float) -> tuple[str, int]:
    """The key of the current window of `window` seconds, and the window's end (epoch)."""
    index = int(now // window)
    return f"{key}:{window}:{index}", (index + 1) * window


class DatabaseHitCounter:
    """Counters in the `rate_limit_counter` table, on SQLite or PostgreSQL."""

    def __init__(self) -> None:
        self._next_sweep = 0.0

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        now = time.time()
        windowed, ends = _window(key, window, now)
        if is_postgres():

            async def count_postgres(connection: asyncpg.Connection) -> int:
                return int(await connection.fetchval(_HIT_POSTGRES, windowed, ends))

            hits = await postgres_write(count_postgres)
        else:

            def count_sqlite(connection: sqlite3.Connection) -> int:
                return int(connection.execute(_HIT_SQLITE, (windowed, ends)).fetchone()[0])

            hits = await sqlite_write(count_sqlite)
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            await self.sweep(int(now))
        return hits, max(1, ends - int(now))

    async def sweep(self, now: int) -> None:
        """Delete the windows that have ended."""
        if is_postgres():

            async def sweep_postgres(connection: asyncpg.Connection) -> None:
                await connection.execute(_SWEEP_POSTGRES, now)

            await postgres_write(sweep_postgres)
        else:

            def sweep_sqlite(connection: sqlite3.Connection) -> None:
                connection.execute(_SWEEP_SQLITE, (now,))

            await sqlite_write(sweep_sqlite)

    async def close(self) -> None:
        return None


class RedisHitCounter:
    """Counters in Redis (or Valkey): INCR on a key that expires with its window."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._redis: Redis | None = None

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        now = time.time()
        windowed, ends = _window(f"treffpunkt:ratelimit:{key}", window, now)
        if self._redis is None:
            # Made on first use, on the event loop that serves; closed with the app.
            self._redis = Redis.from_url(
                self._url,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), retries=1),
            )
        try:
            async with self._redis.pipeline(transaction=True) as pipeline:
                pipeline.incr(windowed)
                pipeline.expireat(windowed, ends + 1)
                hits, _ = await pipeline.execute()
        except RedisError as exc:
            # Registration matters more than its limit: an outage of the counters' store lets
            # requests through uncounted (and says so) rather than refusing everyone.
            logger.warning("rate limit store unavailable", error=type(exc).__name__)
            hits = 0
        return int(hits), max(1, ends - int(now))

    async def close(self) -> None:
        redis, self._redis = self._redis, None
        if redis is not None:
            await redis.aclose()


def hit_counter(redis_url: str | None) -> HitCounter:
    return RedisHitCounter(redis_url) if redis_url else DatabaseHitCounter()
