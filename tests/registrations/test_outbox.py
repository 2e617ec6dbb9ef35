"""Invariants 4 and 7: each change a registrant must hear about writes exactly one outbox
message in its transaction; a refused request writes nothing at all."""

from __future__ import annotations

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import (
    from_now,
    id_of,
    iso,
    organiser_call,
    outbox,
    outbox_kinds,
    register,
    register_ok,
    registration_count,
    token_of,
)

pytestmark = pytest.mark.anyio


async def test_confirmed_registration_writes_one_confirmation_in_the_person_language(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=5)

    await register_ok(client, event.slug, email="anna@example.org", language="en")

    registration_id = await id_of(client, event.slug, auth, "anna@example.org")
    assert await outbox() == [
        {
            "kind": "registration_confirmed",
            "recipient": "anna@example.org",
            "language": "en",
            "registration": registration_id,
        }
    ]


async def test_registration_without_language_is_told_in_german(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=5)

    await register_ok(client, event.slug, email="anna@example.org")

    assert [row["language"] for row in await outbox()] == ["de"]


async def test_waitlisted_registration_writes_one_waitlist_message(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=True)
    await register_ok(client, event.slug, email="first@example.org")

    await register_ok(client, event.slug, email="second@example.org", language="en")

    assert [(r["kind"], r["recipient"], r["language"]) for r in await outbox()] == [
        ("registration_confirmed", "first@example.org", "de"),
        ("registration_waitlisted", "second@example.org", "en"),
    ]


async def test_pending_registration_writes_one_pending_message(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, requires_approval=True)

    await register_ok(client, event.slug, email="anna@example.org")

    assert await outbox_kinds() == [("registration_pending", "anna@example.org")]


async def test_cancelling_a_confirmed_seat_writes_cancellation_and_promotion(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=True)
    await register_ok(client, event.slug, email="first@example.org")
    await register_ok(client, event.slug, email="second@example.org", language="en")
    await register_ok(client, event.slug, email="third@example.org")
    token = await token_of(client, event.slug, auth, "first@example.org")
    before = len(await outbox())

    await client.delete(f"/api/v1/registrations/{token}")

    second_id = await id_of(client, event.slug, auth, "second@example.org")
    first_id = await id_of(client, event.slug, auth, "first@example.org")
    assert sorted(
        [tuple(row.values()) for row in (await outbox())[before:]], key=lambda row: row[0]
    ) == [
        ("registration_cancelled", "first@example.org", "de", first_id),
        ("registration_promoted", "second@example.org", "en", second_id),
    ]


async def test_approving_writes_one_approval_message(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, requires_approval=True, capacity=5)
    await register_ok(client, event.slug, email="anna@example.org", language="en")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")

    await organiser_call(client, event.slug, auth, registration_id, "approve")

    assert [(r["kind"], r["recipient"], r["language"]) for r in await outbox()] == [
        ("registration_pending", "anna@example.org", "en"),
        ("registration_approved", "anna@example.org", "en"),
    ]


async def test_approving_onto_the_waiting_list_writes_one_waitlist_message(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, requires_approval=True, capacity=0, waitlist=True)
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")

    await organiser_call(client, event.slug, auth, registration_id, "approve")

    assert await outbox_kinds() == [
        ("registration_pending", "anna@example.org"),
        ("registration_waitlisted", "anna@example.org"),
    ]


async def test_declining_writes_one_decline_message(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, requires_approval=True)
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")

    await organiser_call(client, event.slug, auth, registration_id, "decline")

    assert await outbox_kinds() == [
        ("registration_pending", "anna@example.org"),
        ("registration_declined", "anna@example.org"),
    ]


async def test_self_service_cancel_writes_one_cancellation(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")
    token = await token_of(client, event.slug, auth, "anna@example.org")

    await client.delete(f"/api/v1/registrations/{token}")

    assert await outbox_kinds() == [
        ("registration_confirmed", "anna@example.org"),
        ("registration_cancelled", "anna@example.org"),
    ]


async def test_organiser_cancel_writes_one_cancellation_to_the_person(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")

    await organiser_call(client, event.slug, auth, registration_id, "cancel")

    assert await outbox_kinds() == [
        ("registration_confirmed", "anna@example.org"),
        ("registration_cancelled", "anna@example.org"),
    ]


async def test_raising_capacity_writes_one_promotion_per_promoted_person(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=True)
    for name in ("first", "second", "third", "fourth"):
        await register_ok(client, event.slug, email=f"{name}@example.org")
    before = len(await outbox())

    await client.patch(f"/api/v1/events/{event.slug}", json={"capacity": 3}, headers=auth)

    assert (await outbox_kinds())[before:] == [
        ("registration_promoted", "second@example.org"),
        ("registration_promoted", "third@example.org"),
    ]


async def test_adding_by_hand_writes_one_confirmation(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    await client.post(
        f"/api/v1/events/{event.slug}/roster",
        json={
            "name": "Anna",
            "email": "anna@example.org",
            "organisation": "Stadt Leipzig",
            "stakeholder_group": "public_administration",
            "consent": True,
        },
        headers=auth,
    )

    assert await outbox_kinds() == [("registration_confirmed", "anna@example.org")]


async def test_invalid_registration_writes_neither_registration_nor_message(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await register(client, event.slug, consent=False)

    assert response.status_code == 422
    assert await registration_count() == 0
    assert await outbox() == []


async def test_registration_for_a_full_event_writes_neither_registration_nor_message(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=False)
    await register_ok(client, event.slug)

    response = await register(client, event.slug)

    assert response.status_code == 409
    assert await registration_count() == 1
    assert [row["kind"] for row in await outbox()] == ["registration_confirmed"]


async def test_registration_after_closing_writes_neither_registration_nor_message(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, registration_closes_at=iso(from_now(hours=-1)))

    response = await register(client, event.slug)

    assert response.status_code == 409
    assert await registration_count() == 0
    assert await outbox() == []


async def test_refused_approval_writes_no_message_and_keeps_the_request_pending(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, requires_approval=True, capacity=0, waitlist=False)
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")

    response = await organiser_call(client, event.slug, auth, registration_id, "approve")

    assert response.status_code == 409
    assert await outbox_kinds() == [("registration_pending", "anna@example.org")]
    rows = (await client.get(f"/api/v1/events/{event.slug}/registrations", headers=auth)).json()[
        "items"
    ]
    assert [row["status"] for row in rows] == ["pending"]
