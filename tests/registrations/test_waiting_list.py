"""Invariant 2: first come, first served; a freed seat goes to the head of the list at once."""

from __future__ import annotations

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import (
    id_of,
    organiser_call,
    problem_code,
    register_ok,
    roster,
    seats_left,
    statuses,
    token_of,
)
from treffpunkt.events.services import EventView

pytestmark = pytest.mark.anyio


async def full_event_with_queue(
    client: httpx.AsyncClient, seats: int = 1, waiting: int = 3
) -> tuple[EventView, dict[str, str]]:
    """An event whose `seats` are taken by seated0@, … and `waiting` people queued: w1@, w2@, …"""
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=seats, waitlist=True)
    for number in range(seats):
        await register_ok(client, event.slug, email=f"seated{number}@example.org")
    for number in range(1, waiting + 1):
        await register_ok(client, event.slug, email=f"w{number}@example.org")
    return event, auth


async def test_self_service_cancel_promotes_only_the_head_of_the_list(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await full_event_with_queue(client)
    token = await token_of(client, event.slug, auth, "seated0@example.org")

    response = await client.delete(f"/api/v1/registrations/{token}")

    assert response.status_code == 200
    assert await statuses(client, event.slug, auth) == {
        "seated0@example.org": ("cancelled", None),
        "w1@example.org": ("confirmed", None),
        "w2@example.org": ("waitlisted", 1),
        "w3@example.org": ("waitlisted", 2),
    }
    assert await seats_left(client, event.slug) == 0


async def test_organiser_cancel_promotes_only_the_head_of_the_list(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await full_event_with_queue(client)
    seated = await id_of(client, event.slug, auth, "seated0@example.org")

    response = await organiser_call(client, event.slug, auth, seated, "cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert await statuses(client, event.slug, auth) == {
        "seated0@example.org": ("cancelled", None),
        "w1@example.org": ("confirmed", None),
        "w2@example.org": ("waitlisted", 1),
        "w3@example.org": ("waitlisted", 2),
    }


async def test_declining_a_confirmed_person_promotes_only_the_head_of_the_list(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await full_event_with_queue(client)
    seated = await id_of(client, event.slug, auth, "seated0@example.org")

    response = await organiser_call(client, event.slug, auth, seated, "decline")

    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    assert await statuses(client, event.slug, auth) == {
        "seated0@example.org": ("declined", None),
        "w1@example.org": ("confirmed", None),
        "w2@example.org": ("waitlisted", 1),
        "w3@example.org": ("waitlisted", 2),
    }


async def test_raising_capacity_promotes_exactly_the_freed_seats_in_order(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await full_event_with_queue(client, waiting=4)

    response = await client.patch(
        f"/api/v1/events/{event.slug}", json={"capacity": 3}, headers=auth
    )

    assert response.status_code == 200
    assert response.json()["seats_left"] == 0
    assert await statuses(client, event.slug, auth) == {
        "seated0@example.org": ("confirmed", None),
        "w1@example.org": ("confirmed", None),
        "w2@example.org": ("confirmed", None),
        "w3@example.org": ("waitlisted", 1),
        "w4@example.org": ("waitlisted", 2),
    }


async def test_raising_capacity_beyond_the_queue_promotes_everyone_and_leaves_seats(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await full_event_with_queue(client, waiting=2)

    response = await client.patch(
        f"/api/v1/events/{event.slug}", json={"capacity": 10}, headers=auth
    )

    assert response.json()["seats_left"] == 7
    assert {status for status, _ in (await statuses(client, event.slug, auth)).values()} == {
        "confirmed"
    }


async def test_making_capacity_unlimited_promotes_everyone_waiting(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await full_event_with_queue(client, waiting=3)

    response = await client.patch(
        f"/api/v1/events/{event.slug}", json={"capacity": None}, headers=auth
    )

    assert response.json()["seats_left"] is None
    assert await statuses(client, event.slug, auth) == {
        "seated0@example.org": ("confirmed", None),
        "w1@example.org": ("confirmed", None),
        "w2@example.org": ("confirmed", None),
        "w3@example.org": ("confirmed", None),
    }


async def test_cancelling_a_waitlisted_person_promotes_nobody_and_closes_the_gap(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await full_event_with_queue(client, waiting=4)
    token = await token_of(client, event.slug, auth, "w2@example.org")

    response = await client.delete(f"/api/v1/registrations/{token}")

    assert response.status_code == 200
    assert response.json()["waitlist_position"] is None
    assert await statuses(client, event.slug, auth) == {
        "seated0@example.org": ("confirmed", None),
        "w1@example.org": ("waitlisted", 1),
        "w2@example.org": ("cancelled", None),
        "w3@example.org": ("waitlisted", 2),
        "w4@example.org": ("waitlisted", 3),
    }
    assert await seats_left(client, event.slug) == 0


async def test_a_newcomer_queues_behind_the_closed_gap(client: httpx.AsyncClient) -> None:
    event, auth = await full_event_with_queue(client, waiting=3)
    token = await token_of(client, event.slug, auth, "w1@example.org")
    await client.delete(f"/api/v1/registrations/{token}")

    receipt = await register_ok(client, event.slug, email="late@example.org")

    assert (receipt["status"], receipt["waitlist_position"]) == ("waitlisted", 3)


async def test_move_up_swaps_with_the_person_ahead(client: httpx.AsyncClient) -> None:
    event, auth = await full_event_with_queue(client, waiting=3)
    third = await id_of(client, event.slug, auth, "w3@example.org")

    response = await organiser_call(client, event.slug, auth, third, "move-up")

    assert response.status_code == 200
    assert response.json()["waitlist_position"] == 2
    assert await statuses(client, event.slug, auth) == {
        "seated0@example.org": ("confirmed", None),
        "w1@example.org": ("waitlisted", 1),
        "w2@example.org": ("waitlisted", 3),
        "w3@example.org": ("waitlisted", 2),
    }


async def test_move_up_of_the_head_keeps_the_order(client: httpx.AsyncClient) -> None:
    event, auth = await full_event_with_queue(client, waiting=2)
    head = await id_of(client, event.slug, auth, "w1@example.org")

    response = await organiser_call(client, event.slug, auth, head, "move-up")

    assert response.status_code == 200
    assert response.json()["waitlist_position"] == 1
    assert await statuses(client, event.slug, auth) == {
        "seated0@example.org": ("confirmed", None),
        "w1@example.org": ("waitlisted", 1),
        "w2@example.org": ("waitlisted", 2),
    }


async def test_move_up_of_a_confirmed_person_is_refused(client: httpx.AsyncClient) -> None:
    event, auth = await full_event_with_queue(client, waiting=1)
    seated = await id_of(client, event.slug, auth, "seated0@example.org")

    response = await organiser_call(client, event.slug, auth, seated, "move-up")

    assert response.status_code == 409
    assert problem_code(response) == "not_waitlisted"


async def test_a_freed_seat_goes_to_whoever_was_moved_to_the_head(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await full_event_with_queue(client, waiting=2)
    second = await id_of(client, event.slug, auth, "w2@example.org")
    await organiser_call(client, event.slug, auth, second, "move-up")
    seated = await id_of(client, event.slug, auth, "seated0@example.org")

    await organiser_call(client, event.slug, auth, seated, "cancel")

    assert await statuses(client, event.slug, auth) == {
        "seated0@example.org": ("cancelled", None),
        "w1@example.org": ("waitlisted", 1),
        "w2@example.org": ("confirmed", None),
    }


async def test_cancelling_while_over_capacity_promotes_nobody(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await full_event_with_queue(client, waiting=1)
    added = await client.post(
        f"/api/v1/events/{event.slug}/roster",
        json={
            "name": "Extra",
            "email": "extra@example.org",
            "organisation": "Landtag",
            "stakeholder_group": "politics",
            "consent": True,
            "exceed_capacity": True,
        },
        headers=auth,
    )
    assert added.json()["status"] == "confirmed"
    seated = await id_of(client, event.slug, auth, "seated0@example.org")

    await organiser_call(client, event.slug, auth, seated, "cancel")

    assert await statuses(client, event.slug, auth) == {
        "seated0@example.org": ("cancelled", None),
        "extra@example.org": ("confirmed", None),
        "w1@example.org": ("waitlisted", 1),
    }
    assert await seats_left(client, event.slug) == 0


async def test_seats_left_matches_confirmed_count_through_a_busy_day(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await full_event_with_queue(client, seats=3, waiting=3)
    first = await token_of(client, event.slug, auth, "seated0@example.org")
    await client.delete(f"/api/v1/registrations/{first}")
    second = await id_of(client, event.slug, auth, "seated1@example.org")
    await organiser_call(client, event.slug, auth, second, "decline")
    waiting = await token_of(client, event.slug, auth, "w3@example.org")
    await client.delete(f"/api/v1/registrations/{waiting}")
    await client.patch(f"/api/v1/events/{event.slug}", json={"capacity": 5}, headers=auth)
    await register_ok(client, event.slug, email="late@example.org")

    confirmed = (await roster(client, event.slug, auth, status="confirmed"))["total"]

    assert confirmed == 4
    assert await seats_left(client, event.slug) == 5 - confirmed
