"""What the service is measured against: bare driver loops and a bare Litestar endpoint."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import asyncpg

NAIVE_CLAIM = (
    "UPDATE event SET seats_taken = seats_taken + 1 "
    "WHERE id = $1 AND (capacity IS NULL OR seats_taken < capacity) RETURNING id"
)
INSERT = (
    "INSERT INTO registration (event, name, email, organisation, stakeholder_group, role, notes,"
    " answers, language, status, link_nonce, token_hash, search_text, added_by_organiser,"
    " consent_at, created_at, updated_at)"
    " VALUES ($1, $2, $3::text, 'Bench', 'business', '', '', '{}', 'de', 'confirmed', md5($3::text),"
    " md5('h' || $3::text), '', false, now(), now(), now())"
)
ONE_STATEMENT = (
    "WITH claimed AS (UPDATE event SET seats_taken = seats_taken + 1"
    " WHERE id = $1 AND (capacity IS NULL OR seats_taken < capacity) RETURNING id)"
    " INSERT INTO registration (event, name, email, organisation, stakeholder_group, role, notes,"
    " answers, language, status, link_nonce, token_hash, search_text, added_by_organiser,"
    " consent_at, created_at, updated_at)"
    " SELECT claimed.id, $2, $3::text, 'Bench', 'business', '', '', '{}', 'de', 'confirmed', md5($3::text),"
    " md5('h' || $3::text), '', false, now(), now(), now() FROM claimed"
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


async def driver_loop(
    url: str, event_id: int, *, clients: int, seconds: float, one_statement: bool, tag: str
) -> dict[str, Any]:
    """Registrations as fast as `clients` connections can do them, one transaction each."""
    numbers = itertools.count()
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def client() -> None:
        nonlocal errors
        connection = await asyncpg.connect(url)
        try:
            while time.monotonic() < deadline:
                n = next(numbers)
                email = f"{tag}-{n}@baseline.example"
                started = time.perf_counter()
                try:
                    if one_statement:
                        await connection.execute(ONE_STATEMENT, event_id, f"Baseline {n}", email)
                    else:
                        async with connection.transaction():
                            if await connection.fetchval(NAIVE_CLAIM, event_id) is not None:
                                await connection.execute(INSERT, event_id, f"Baseline {n}", email)
                except asyncpg.PostgresError:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            await connection.close()

    started = time.monotonic()
    await asyncio.gather(*[client() for _ in range(clients)])
    elapsed = time.monotonic() - started
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "errors": errors,
        "non_2xx": 0,
    }
