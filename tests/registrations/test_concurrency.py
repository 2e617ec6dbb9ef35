"""Invariants 1 and 2 under real concurrency: a real server (two processes), many clients."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests import factories
from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.services import token_for
from treffpunkt.registrations.tables import Registration


def person(number: int) -> dict[str, Any]:
    return {
        "name": f"Person {number}",
        "email": f"person{number}@example.org",
        "organisation": "Landkreis Beispiel",
        "stakeholder_group": "public_administration",
        "consent": True,
    }


async def fire(
    base_url: str, requests: list[tuple[str, str, dict[str, Any] | None]]
) -> list[httpx.Response]:
    """Send every request at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        return await asyncio.gather(
            *[client.request(method, url, json=body) for method, url, body in requests]
        )


async def waitlisted_order(event_id: int) -> list[str]:
    rows = (
        await Registration.select(Registration.email)
        .where((Registration.event == event_id) & (Registration.status == "waitlisted"))
        .order_by(Registration.waitlist_ticket)
    )
    return [row["email"] for row in rows]


async def confirmed(event_id: int) -> set[str]:
    rows = await Registration.select(Registration.email).where(
        (Registration.event == event_id) & (Registration.status == "confirmed")
    )
    return {row["email"] for row in rows}


async def seats_taken(event_id: int) -> int:
    row = await Event.select(Event.seats_taken).where(Event.id == event_id).first()
    assert row is not None
    return int(row["seats_taken"])


def test_two_hundred_simultaneous_registrations_fill_fifty_seats_exactly(live_server: str) -> None:
    event = asyncio.run(factories.event(asyncio.run(factories.organiser()), capacity=50))
    url = f"/api/v1/events/{event.slug}/registrations"

    responses = asyncio.run(fire(live_server, [("POST", url, person(n)) for n in range(200)]))

    assert [r.status_code for r in responses] == [201] * 200
    bodies = [r.json() for r in responses]
    assert sum(1 for b in bodies if b["status"] == "confirmed") == 50
    positions = sorted(b["waitlist_position"] for b in bodies if b["status"] == "waitlisted")
    assert positions == list(range(1, 151))
    assert len(asyncio.run(confirmed(event.id))) == 50
    assert asyncio.run(seats_taken(event.id)) == 50
    assert len(asyncio.run(waitlisted_order(event.id))) == 150


def test_simultaneous_cancellations_and_registrations_keep_every_invariant(
    live_server: str,
) -> None:
    event = asyncio.run(factories.event(asyncio.run(factories.organiser()), capacity=20))
    url = f"/api/v1/events/{event.slug}/registrations"
    for number in range(40):  # one by one: 20 confirmed, then 20 waiting in a known order
        assert httpx.post(f"{live_server}{url}", json=person(number)).status_code == 201
    first_waiting = asyncio.run(waitlisted_order(event.id))
    leaving = sorted(asyncio.run(confirmed(event.id)))[:10]

    async def tokens_of(emails: list[str]) -> list[str]:
        rows = await Registration.select(Registration.id).where(
            (Registration.event == event.id) & Registration.email.is_in(emails)
        )
        return [await token_for(row["id"]) for row in rows]

    cancellations = [
        ("DELETE", f"/api/v1/registrations/{t}", None) for t in asyncio.run(tokens_of(leaving))
    ]
    newcomers = [("POST", url, person(number)) for number in range(100, 130)]
    responses = asyncio.run(fire(live_server, cancellations + newcomers))

    assert [r.status_code for r in responses] == [200] * 10 + [201] * 30
    now_confirmed = asyncio.run(confirmed(event.id))
    assert len(now_confirmed) == 20
    assert asyncio.run(seats_taken(event.id)) == 20
    assert set(first_waiting[:10]) <= now_confirmed, "the ten longest waiting were promoted"
    waiting = asyncio.run(waitlisted_order(event.id))
    assert waiting[:10] == first_waiting[10:], "those still waiting kept their order"
    assert len(waiting) == 40
    promotions = asyncio.run(
        OutboxMessage.count()
        .where((OutboxMessage.event == event.id) & (OutboxMessage.kind == "registration_promoted"))
        .run()
    )
    assert promotions == 10
