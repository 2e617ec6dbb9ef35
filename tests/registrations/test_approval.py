"""Events that require approval: requests wait for the organiser and hold no seat."""

from __future__ import annotations

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import (
    id_of,
    organiser_call,
    problem_code,
    register,
    register_ok,
    roster,
    seats_left,
    statuses,
)
from treffpunkt.events.services import EventView

pytestmark = pytest.mark.anyio


async def approval_event(
    *, capacity: int | None = 2, waitlist: bool = True
) -> tuple[EventView, dict[str, str]]:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(
        owner, capacity=capacity, waitlist=waitlist, requires_approval=True
    )
    return event, auth


async def test_registration_needing_approval_is_pending(client: httpx.AsyncClient) -> None:
    event, _ = await approval_event()

    response = await register(client, event.slug)

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert response.json()["waitlist_position"] is None


async def test_pending_requests_hold_no_seat(client: httpx.AsyncClient) -> None:
    event, _ = await approval_event(capacity=2)

    for _ in range(3):
        await register_ok(client, event.slug)

    assert await seats_left(client, event.slug) == 2


async def test_approving_with_seats_left_confirms(client: httpx.AsyncClient) -> None:
    event, auth = await approval_event(capacity=2)
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")

    response = await organiser_call(client, event.slug, auth, registration_id, "approve")

    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    assert response.json()["waitlist_position"] is None
    assert await seats_left(client, event.slug) == 1


async def test_approving_when_full_puts_the_person_on_the_waiting_list(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await approval_event(capacity=1, waitlist=True)
    for email in ("first@example.org", "second@example.org", "third@example.org"):
        await register_ok(client, event.slug, email=email)
        await organiser_call(
            client, event.slug, auth, await id_of(client, event.slug, auth, email), "approve"
        )

    assert await statuses(client, event.slug, auth) == {
        "first@example.org": ("confirmed", None),
        "second@example.org": ("waitlisted", 1),
        "third@example.org": ("waitlisted", 2),
    }


async def test_approving_when_full_without_waiting_list_answers_event_full(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await approval_event(capacity=0, waitlist=False)
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")

    response = await organiser_call(client, event.slug, auth, registration_id, "approve")

    assert response.status_code == 409
    assert problem_code(response) == "event_full"
    assert await statuses(client, event.slug, auth) == {"anna@example.org": ("pending", None)}


async def test_approving_beyond_capacity_when_told_to_confirms(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await approval_event(capacity=1, waitlist=False)
    for email in ("first@example.org", "second@example.org"):
        await register_ok(client, event.slug, email=email)
    first = await id_of(client, event.slug, auth, "first@example.org")
    await organiser_call(client, event.slug, auth, first, "approve")
    second = await id_of(client, event.slug, auth, "second@example.org")

    response = await organiser_call(
        client, event.slug, auth, second, "approve", {"exceed_capacity": True}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    assert (await roster(client, event.slug, auth, status="confirmed"))["total"] == 2
    assert await seats_left(client, event.slug) == 0


async def test_approving_a_confirmed_registration_answers_not_pending(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await approval_event()
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")
    await organiser_call(client, event.slug, auth, registration_id, "approve")

    response = await organiser_call(client, event.slug, auth, registration_id, "approve")

    assert response.status_code == 409
    assert problem_code(response) == "not_pending"
    assert await seats_left(client, event.slug) == 1


async def test_approving_a_declined_registration_answers_not_pending(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await approval_event()
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")
    await organiser_call(client, event.slug, auth, registration_id, "decline")

    response = await organiser_call(client, event.slug, auth, registration_id, "approve")

    assert response.status_code == 409
    assert problem_code(response) == "not_pending"


async def test_approving_on_an_event_without_approval_answers_not_pending(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=5)
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")

    response = await organiser_call(client, event.slug, auth, registration_id, "approve")

    assert response.status_code == 409
    assert problem_code(response) == "not_pending"


async def test_declining_a_pending_request_declines_it_and_frees_nothing(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await approval_event(capacity=2)
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")

    response = await organiser_call(client, event.slug, auth, registration_id, "decline")

    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    assert await statuses(client, event.slug, auth) == {"anna@example.org": ("declined", None)}
    assert await seats_left(client, event.slug) == 2


async def test_approving_an_unknown_registration_answers_registration_not_found(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await approval_event()

    response = await organiser_call(client, event.slug, auth, 999_999, "approve")

    assert response.status_code == 404
    assert problem_code(response) == "registration_not_found"


async def test_approving_needs_an_organiser_of_the_event(client: httpx.AsyncClient) -> None:
    event, auth = await approval_event()
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")
    _, stranger = await factories.organiser_with_token()

    response = await organiser_call(client, event.slug, stranger, registration_id, "approve")

    assert response.status_code == 403
    assert problem_code(response) == "forbidden"
    assert await statuses(client, event.slug, auth) == {"anna@example.org": ("pending", None)}


async def test_approving_without_a_token_answers_401(client: httpx.AsyncClient) -> None:
    event, auth = await approval_event()
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")

    response = await organiser_call(client, event.slug, {}, registration_id, "approve")

    assert response.status_code == 401
    assert problem_code(response) == "not_authenticated"
