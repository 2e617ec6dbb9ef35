"""Self-service by secret link: read, change and cancel one registration (invariant 6)."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import (
    error_fields,
    id_of,
    outbox_kinds,
    problem_code,
    register_ok,
    row_of,
    seats_left,
    token_of,
)
from treffpunkt.events.services import EventView
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

URL_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,}$")


async def registered(
    client: httpx.AsyncClient, *, capacity: int | None = 5, email: str = "anna@example.org"
) -> tuple[EventView, dict[str, str], str]:
    """An event, its organiser's header, and the secret link token of anna@example.org."""
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=capacity, waitlist=True)
    await register_ok(
        client,
        event.slug,
        email=email,
        name="Anna Schmidt",
        organisation="Stadt Leipzig",
        role="Referentin",
        notes="vegetarisch",
    )
    return event, auth, await token_of(client, event.slug, auth, email)


async def test_reading_by_link_shows_status_and_event(client: httpx.AsyncClient) -> None:
    event, _, token = await registered(client)

    response = await client.get(f"/api/v1/registrations/{token}")

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["email"], body["status"], body["waitlist_position"]) == (
        "Anna Schmidt",
        "anna@example.org",
        "confirmed",
        None,
    )
    assert body["event"] == {
        "slug": event.slug,
        "title": "Breitband für Schulen",
        "starts_at": event.local(event.starts_at).isoformat(),
        "ends_at": event.local(event.ends_at).isoformat(),
        "timezone": "Europe/Berlin",
        "status": "published",
        "url": f"http://testserver/events/{event.slug}",
    }


async def test_reading_by_link_shows_the_waiting_list_position(
    client: httpx.AsyncClient,
) -> None:
    event, auth, _ = await registered(client, capacity=1, email="seated@example.org")
    await register_ok(client, event.slug, email="first@example.org")
    await register_ok(client, event.slug, email="second@example.org")
    token = await token_of(client, event.slug, auth, "second@example.org")

    response = await client.get(f"/api/v1/registrations/{token}")

    assert (response.json()["status"], response.json()["waitlist_position"]) == ("waitlisted", 2)


async def test_changing_by_link_updates_the_persons_details(client: httpx.AsyncClient) -> None:
    event, auth, token = await registered(client)
    change = {
        "name": "Anna Schmidt-Weber",
        "organisation": "Landkreis Leipzig",
        "role": "Amtsleiterin",
        "notes": "Rollstuhl",
        "language": "en",
    }

    response = await client.patch(f"/api/v1/registrations/{token}", json=change)

    assert response.status_code == 200
    assert {key: response.json()[key] for key in change} == change
    row = await row_of(client, event.slug, auth, "anna@example.org")
    assert {key: row[key] for key in change} == change


async def test_changing_one_field_by_link_keeps_the_others(client: httpx.AsyncClient) -> None:
    _, _, token = await registered(client)

    response = await client.patch(f"/api/v1/registrations/{token}", json={"role": "Leitung"})

    body = response.json()
    assert (body["name"], body["organisation"], body["role"], body["notes"]) == (
        "Anna Schmidt",
        "Stadt Leipzig",
        "Leitung",
        "vegetarisch",
    )


async def test_changing_details_by_link_keeps_the_seat(client: httpx.AsyncClient) -> None:
    event, _, token = await registered(client, capacity=2)

    response = await client.patch(f"/api/v1/registrations/{token}", json={"name": "Anna S."})

    assert response.json()["status"] == "confirmed"
    assert await seats_left(client, event.slug) == 1


@pytest.mark.parametrize("name", ["", "   "])
async def test_changing_to_an_empty_name_is_refused_naming_name(
    client: httpx.AsyncClient, name: str
) -> None:
    _, _, token = await registered(client)

    response = await client.patch(f"/api/v1/registrations/{token}", json={"name": name})

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == ["name"]
    assert (await client.get(f"/api/v1/registrations/{token}")).json()["name"] == "Anna Schmidt"


async def test_changing_the_email_by_link_is_refused(client: httpx.AsyncClient) -> None:
    _, _, token = await registered(client)

    response = await client.patch(
        f"/api/v1/registrations/{token}", json={"email": "someone@example.org"}
    )

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert (await client.get(f"/api/v1/registrations/{token}")).json()["email"] == (
        "anna@example.org"
    )


async def test_changing_a_cancelled_registration_is_refused(client: httpx.AsyncClient) -> None:
    _, _, token = await registered(client)
    await client.delete(f"/api/v1/registrations/{token}")

    response = await client.patch(f"/api/v1/registrations/{token}", json={"name": "Anna S."})

    assert response.status_code == 409
    assert problem_code(response) == "registration_inactive"


async def test_cancelling_by_link_cancels_and_frees_the_seat(client: httpx.AsyncClient) -> None:
    event, auth, token = await registered(client, capacity=2)

    response = await client.delete(f"/api/v1/registrations/{token}")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert (await row_of(client, event.slug, auth, "anna@example.org"))["status"] == "cancelled"
    assert await seats_left(client, event.slug) == 2


async def test_cancelling_twice_by_link_is_harmless(client: httpx.AsyncClient) -> None:
    event, _, token = await registered(client, capacity=2)
    await client.delete(f"/api/v1/registrations/{token}")

    response = await client.delete(f"/api/v1/registrations/{token}")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert await outbox_kinds() == [
        ("registration_confirmed", "anna@example.org"),
        ("registration_cancelled", "anna@example.org"),
    ]
    assert await seats_left(client, event.slug) == 2


async def test_the_link_still_reads_a_cancelled_registration(client: httpx.AsyncClient) -> None:
    _, _, token = await registered(client)
    await client.delete(f"/api/v1/registrations/{token}")

    response = await client.get(f"/api/v1/registrations/{token}")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_an_unknown_link_answers_registration_not_found(
    client: httpx.AsyncClient, method: str
) -> None:
    await registered(client)

    response = await client.request(
        method,
        "/api/v1/registrations/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        json={"name": "Mallory"} if method == "PATCH" else None,
    )

    assert response.status_code == 404
    assert problem_code(response) == "registration_not_found"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_a_tampered_link_answers_registration_not_found(
    client: httpx.AsyncClient, method: str
) -> None:
    event, auth, token = await registered(client)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    response = await client.request(
        method,
        f"/api/v1/registrations/{tampered}",
        json={"name": "Mallory"} if method == "PATCH" else None,
    )

    assert response.status_code == 404
    assert problem_code(response) == "registration_not_found"
    row = await row_of(client, event.slug, auth, "anna@example.org")
    assert (row["name"], row["status"]) == ("Anna Schmidt", "confirmed")


async def test_the_link_token_has_at_least_22_url_safe_characters(
    client: httpx.AsyncClient,
) -> None:
    _, _, token = await registered(client)

    assert URL_SAFE_TOKEN.match(token), token


async def test_every_registration_gets_its_own_link(client: httpx.AsyncClient) -> None:
    event, auth, token = await registered(client)
    await register_ok(client, event.slug, email="ben@example.org")

    other = await token_of(client, event.slug, auth, "ben@example.org")

    assert other != token


async def test_the_database_keeps_only_a_hash_of_the_link(client: httpx.AsyncClient) -> None:
    event, auth, token = await registered(client)
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")

    stored = await Registration.select().where(Registration.id == registration_id).first()

    assert stored is not None
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert [column for column, value in stored.items() if token in str(value)] == []
