"""Organisers adding someone by hand (POST /api/v1/events/{slug}/roster)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import (
    from_now,
    iso,
    outbox_kinds,
    person,
    problem_code,
    register_ok,
    roster,
    seats_left,
)

pytestmark = pytest.mark.anyio


async def add(
    client: httpx.AsyncClient, slug: str, auth: dict[str, str], **overrides: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/events/{slug}/roster", json=person(**overrides), headers=auth
    )


async def test_adding_by_hand_with_seats_free_confirms(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=2)

    response = await add(client, event.slug, auth, email="anna@example.org")

    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["status"], body["waitlist_position"]) == (
        "anna@example.org",
        "confirmed",
        None,
    )
    assert body["added_by_organiser"] is True
    assert await seats_left(client, event.slug) == 1


async def test_adding_by_hand_when_full_waitlists(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=True)
    await register_ok(client, event.slug)

    response = await add(client, event.slug, auth)

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["waitlist_position"]) == ("waitlisted", 1)


async def test_adding_by_hand_when_full_without_waiting_list_answers_event_full(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=False)
    await register_ok(client, event.slug)

    response = await add(client, event.slug, auth)

    assert response.status_code == 409
    assert problem_code(response) == "event_full"


async def test_adding_by_hand_beyond_capacity_confirms_when_told_to(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=True)
    await register_ok(client, event.slug)

    response = await add(client, event.slug, auth, exceed_capacity=True)

    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"
    assert await seats_left(client, event.slug) == 0
    assert (await roster(client, event.slug, auth, status="confirmed"))["total"] == 2


async def test_exceed_capacity_uses_a_free_seat_when_there_is_one(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=2)

    await add(client, event.slug, auth, exceed_capacity=True)

    assert await seats_left(client, event.slug) == 1


async def test_adding_an_address_already_registered_answers_already_registered(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")

    response = await add(client, event.slug, auth, email="Anna@Example.org")

    assert response.status_code == 409
    assert problem_code(response) == "already_registered"
    assert (await roster(client, event.slug, auth))["total"] == 1
    assert await outbox_kinds() == [("registration_confirmed", "anna@example.org")]


async def test_adding_by_hand_works_after_registration_closed(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, registration_closes_at=iso(from_now(hours=-1)))

    response = await add(client, event.slug, auth)

    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"


async def test_adding_by_hand_works_before_registration_opens(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, registration_opens_at=iso(from_now(days=2)))

    response = await add(client, event.slug, auth)

    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"


async def test_adding_by_hand_to_an_approval_event_confirms_directly(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, requires_approval=True, capacity=3)

    response = await add(client, event.slug, auth)

    assert response.json()["status"] == "confirmed"
    assert await seats_left(client, event.slug) == 2


async def test_adding_by_hand_checks_the_form_like_registering(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await add(client, event.slug, auth, email="no-address")

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert [e["field"] for e in response.json()["errors"]] == ["email"]


async def test_adding_by_hand_needs_a_token(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await add(client, event.slug, {})

    assert response.status_code == 401
    assert problem_code(response) == "not_authenticated"


async def test_adding_by_hand_to_someone_elses_event_is_forbidden(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)
    _, stranger = await factories.organiser_with_token()

    response = await add(client, event.slug, stranger)

    assert response.status_code == 403
    assert problem_code(response) == "forbidden"
