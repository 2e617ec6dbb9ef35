"""Erasures racing registrations (and each other) on the real server keep invariants 1 and 2."""

from __future__ import annotations

import asyncio

import httpx

from tests import factories
from tests.registrations.test_concurrency import (
    confirmed,
    fire,
    person,
    seats_taken,
    waitlisted_order,
)
from treffpunkt.registrations.services import token_for
from treffpunkt.registrations.tables import Registration


async def tokens_of(event_id: int, count: int) -> list[str]:
    """The links of the first `count` confirmed registrations."""
    rows = (
        await Registration.select(Registration.id)
        .where((Registration.event == event_id) & (Registration.status == "confirmed"))
        .order_by(Registration.id)
        .limit(count)
    )
    return [await token_for(row["id"]) for row in rows]


def test_simultaneous_erasures_and_registrations_keep_every_invariant(live_server: str) -> None:
    event = asyncio.run(factories.event(asyncio.run(factories.organiser()), capacity=10))
    url = f"/api/v1/events/{event.slug}/registrations"
    for number in range(20):  # one by one: 10 confirmed, then 10 waiting in a known order
        assert httpx.post(f"{live_server}{url}", json=person(number)).status_code == 201
    first_waiting = asyncio.run(waitlisted_order(event.id))
    leaving = asyncio.run(tokens_of(event.id, 5))

    # Each link is erased twice at once: exactly one of the two does it.
    erasures = [("POST", f"/api/v1/registrations/{t}/erase", None) for t in leaving * 2]
    newcomers = [("POST", url, person(number)) for number in range(100, 115)]
    responses = asyncio.run(fire(live_server, erasures + newcomers))

    statuses = [r.status_code for r in responses]
    assert sorted(statuses[:10]) == [200] * 5 + [404] * 5
    assert statuses[10:] == [201] * 15
    assert len(asyncio.run(confirmed(event.id))) == 10
    assert asyncio.run(seats_taken(event.id)) == 10
    assert set(first_waiting[:5]) <= asyncio.run(confirmed(event.id)), "the longest waiting"
    waiting = asyncio.run(waitlisted_order(event.id))
    assert waiting[:5] == first_waiting[5:], "those still waiting kept their order"
    assert len(waiting) == 20
