"""Edits of one event racing each other through a real server (two processes): none is undone."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests import factories
from tests.registrations.helpers import person
from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.tables import Registration

Request = tuple[str, str, dict[str, Any]]


async def fire(
    base_url: str, auth: dict[str, str], requests: list[Request]
) -> list[httpx.Response]:
    """Send every request at once, each on its own connection, as one organiser."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=base_url, headers=auth, limits=limits, timeout=120
    ) as client:
        return await asyncio.gather(
            *[client.request(method, url, json=body) for method, url, body in requests]
        )


def register_people(base_url: str, slug: str, count: int) -> None:
    """One by one, so that the first ones hold the seats and the rest wait in order."""
    for _ in range(count):
        response = httpx.post(
            f"{base_url}/api/v1/events/{slug}/registrations",
            json=person(),
        )
        assert response.status_code == 201, response.text


async def counts_by_status(event_id: int) -> dict[str, int]:
    rows = await Registration.select(Registration.status).where(Registration.event == event_id)
    found: dict[str, int] = {}
    for row in rows:
        found[row["status"]] = found.get(row["status"], 0) + 1
    return found


async def stored(event_id: int) -> dict[str, Any]:
    row = (
        await Event.select(Event.capacity, Event.seats_taken, Event.sequence, Event.status)
        .where(Event.id == event_id)
        .first()
    )
    assert row is not None
    return row


def test_raising_capacity_among_simultaneous_title_edits_keeps_the_new_capacity(
    live_server: str,
) -> None:
    owner, auth = asyncio.run(factories.organiser_with_token())
    event = asyncio.run(factories.event(owner, capacity=20, waitlist=True))
    register_people(live_server, event.slug, 30)
    url = f"/api/v1/events/{event.slug}"
    edits: list[Request] = [("PATCH", url, {"title": f"Neuer Titel {n}"}) for n in range(8)]
    edits.insert(3, ("PATCH", url, {"capacity": 50}))

    responses = asyncio.run(fire(live_server, auth, edits))

    assert [r.status_code for r in responses] == [200] * 9
    after = asyncio.run(stored(event.id))
    assert (after["capacity"], after["seats_taken"]) == (50, 30)
    assert asyncio.run(counts_by_status(event.id)) == {"confirmed": 30}


def test_an_edit_racing_a_cancellation_never_changes_the_cancelled_event(
    live_server: str,
) -> None:
    owner, auth = asyncio.run(factories.organiser_with_token())
    event = asyncio.run(factories.event(owner, capacity=20))
    register_people(live_server, event.slug, 3)
    url = f"/api/v1/events/{event.slug}"
    edits: list[Request] = [
        ("PATCH", url, {"venue": {"name": f"Saal {n}", "city": "Dresden"}}) for n in range(8)
    ]
    edits.insert(4, ("POST", f"{url}/cancel", {"reason": "Die Referentin ist erkrankt."}))

    responses = asyncio.run(fire(live_server, auth, edits))

    cancellation = responses.pop(4)
    assert cancellation.status_code == 200, cancellation.text
    outcomes = [
        (r.status_code, r.json()["status"] if r.status_code == 200 else r.json()["code"])
        for r in responses
    ]
    assert set(outcomes) <= {(200, "published"), (409, "event_cancelled")}, outcomes
    edited_before = outcomes.count((200, "published"))
    assert asyncio.run(stored(event.id))["sequence"] == edited_before + 1
    kinds = asyncio.run(
        OutboxMessage.select(OutboxMessage.kind)
        .where(OutboxMessage.event == event.id)
        .order_by(OutboxMessage.id)
        .output(as_list=True)
        .run()
    )
    assert "event_updated" not in kinds[kinds.index("event_cancelled") :], kinds


def test_of_two_simultaneous_edits_valid_alone_but_not_together_one_is_refused(
    live_server: str,
) -> None:
    owner, auth = asyncio.run(factories.organiser_with_token())
    starts, ends = "2030-06-12T08:00:00+00:00", "2030-06-12T11:00:00+00:00"
    events = [asyncio.run(factories.event(owner, starts_at=starts, ends_at=ends)) for _ in range(4)]
    edits: list[Request] = []
    for event in events:
        url = f"/api/v1/events/{event.slug}"
        edits += [
            ("PATCH", url, {"starts_at": "2030-06-12T10:00:00+00:00"}),
            ("PATCH", url, {"ends_at": "2030-06-12T09:00:00+00:00"}),
        ]

    responses = asyncio.run(fire(live_server, auth, edits))

    for later, earlier in zip(responses[::2], responses[1::2], strict=True):
        assert sorted([later.status_code, earlier.status_code]) == [200, 422]
    for event in events:
        stored_event = httpx.get(f"{live_server}/api/v1/events/{event.slug}").json()
        assert stored_event["starts_at"] < stored_event["ends_at"]
