"""Scheduling through the API: drafts, edits, publication, rescheduling, cancellation."""

from __future__ import annotations

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import person, problem_code, register_ok

pytestmark = pytest.mark.anyio


async def test_creating_an_event_answers_201_with_a_draft_and_a_slug(
    client: httpx.AsyncClient,
) -> None:
    _, auth = await factories.organiser_with_token()

    response = await client.post("/api/v1/events", json=factories.event_payload(), headers=auth)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft"
    assert body["slug"].startswith("breitband-fuer-schulen-")
    assert body["seats_left"] == 30
    assert body["sequence"] == 0


async def test_event_times_are_answered_in_the_event_timezone(client: httpx.AsyncClient) -> None:
    _, auth = await factories.organiser_with_token()
    payload = factories.event_payload(
        starts_at="2030-07-01T08:00:00+00:00", ends_at="2030-07-01T10:00:00+00:00"
    )

    body = (await client.post("/api/v1/events", json=payload, headers=auth)).json()

    assert body["starts_at"] == "2030-07-01T10:00:00+02:00"
    assert body["ends_at"] == "2030-07-01T12:00:00+02:00"


async def test_rescheduling_a_published_event_raises_its_sequence(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await client.patch(
        f"/api/v1/events/{event.slug}",
        json={"starts_at": "2030-01-10T09:00:00+01:00", "ends_at": "2030-01-10T12:00:00+01:00"},
        headers=auth,
    )

    assert response.status_code == 200
    assert response.json()["sequence"] == 1
    assert response.json()["starts_at"] == "2030-01-10T09:00:00+01:00"


async def test_a_capacity_change_keeps_the_sequence(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await client.patch(
        f"/api/v1/events/{event.slug}", json={"capacity": 40}, headers=auth
    )

    assert (response.json()["capacity"], response.json()["sequence"]) == (40, 0)


async def lower_capacity_with_three_seats_taken(
    client: httpx.AsyncClient, capacity: int
) -> tuple[str, httpx.Response]:
    """Five seats, three people registered, then the capacity PATCHed to `capacity`."""
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=5)
    for _ in range(3):
        await register_ok(client, event.slug)
    url = f"/api/v1/events/{event.slug}"
    return url, await client.patch(url, json={"capacity": capacity}, headers=auth)


async def test_lowering_capacity_below_the_seats_taken_answers_409_capacity_below_taken(
    client: httpx.AsyncClient,
) -> None:
    url, response = await lower_capacity_with_three_seats_taken(client, 2)

    assert response.status_code == 409
    assert problem_code(response) == "capacity_below_taken"
    assert (await client.get(url)).json()["capacity"] == 5


async def test_lowering_capacity_to_the_seats_taken_leaves_none_free(
    client: httpx.AsyncClient,
) -> None:
    _, response = await lower_capacity_with_three_seats_taken(client, 3)

    assert response.status_code == 200
    assert (response.json()["capacity"], response.json()["seats_left"]) == (3, 0)


async def test_an_event_filled_beyond_capacity_by_hand_can_still_be_renamed(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1)
    await register_ok(client, event.slug)
    await client.post(
        f"/api/v1/events/{event.slug}/roster",
        json={**person(), "exceed_capacity": True},
        headers=auth,
    )

    response = await client.patch(
        f"/api/v1/events/{event.slug}", json={"title": "Neuer Titel"}, headers=auth
    )

    assert (response.status_code, response.json()["title"]) == (200, "Neuer Titel")
