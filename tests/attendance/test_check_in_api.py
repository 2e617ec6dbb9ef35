"""The check-in API: scanning tickets, checking in by id, undo, walk-ins, and who may call it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.attendance.helpers import stored_check_in
from tests.registrations.helpers import (
    from_now,
    id_of,
    iso,
    organiser_call,
    outbox_kinds,
    person,
    problem_code,
    register_ok,
    registration_count,
    token_of,
)
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.events.services import EventView, add_co_organiser
from treffpunkt.events.tables import Event
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Door:
    """An organiser's event inside the check-in window, with one confirmed person."""

    owner: CurrentOrganiser
    auth: dict[str, str]
    event: EventView
    registration_id: int

    @property
    def code(self) -> str:
        return check_in_code(self.event.id, self.registration_id)


async def event_at_the_door(owner: CurrentOrganiser, **overrides: Any) -> EventView:
    """A published event starting in an hour: inside the check-in window (2 hours by default)."""
    starts_at = from_now(hours=1)
    return await factories.event(
        owner,
        starts_at=iso(starts_at),
        ends_at=iso(starts_at + timedelta(hours=3)),
        **overrides,
    )


async def registered(
    client: httpx.AsyncClient, event: EventView, auth: dict[str, str], **overrides: Any
) -> int:
    """Register a new person through the public API; their registration id."""
    receipt = await register_ok(client, event.slug, **overrides)
    return await id_of(client, event.slug, auth, receipt["email"])


async def door(client: httpx.AsyncClient, **event_overrides: Any) -> Door:
    owner, auth = await factories.organiser_with_token()
    event = await event_at_the_door(owner, **event_overrides)
    registration_id = await registered(
        client, event, auth, name="Anna Schmidt", organisation="Stadt Leipzig"
    )
    return Door(owner, auth, event, registration_id)


async def scan(
    client: httpx.AsyncClient, at: Door, body: dict[str, Any], auth: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(
        f"/api/v1/events/{at.event.slug}/check-ins",
        json=body,
        headers=at.auth if auth is None else auth,
    )


async def walk_in(
    client: httpx.AsyncClient, at: Door, auth: dict[str, str] | None = None, **overrides: Any
) -> httpx.Response:
    body = person(name="Walter Tür", organisation="Handwerkskammer Dresden", **overrides)
    return await client.post(
        f"/api/v1/events/{at.event.slug}/walk-ins",
        json=body,
        headers=at.auth if auth is None else auth,
    )


async def seats_taken(event_id: int) -> int:
    row = await Event.select(Event.seats_taken).where(Event.id == event_id).first()
    assert row is not None
    return int(row["seats_taken"])


# --- scanning the QR ticket -------------------------------------------------------------------


async def test_first_scan_checks_the_person_in_and_names_them(client: httpx.AsyncClient) -> None:
    at = await door(client)

    response = await scan(client, at, {"code": at.code})

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "registration_id": at.registration_id,
        "already_checked_in": False,
        "checked_in_at": body["checked_in_at"],
        "name": "Anna Schmidt",
        "organisation": "Stadt Leipzig",
        "status": "confirmed",
    }
    assert datetime.fromisoformat(body["checked_in_at"]) == await stored_check_in(
        at.registration_id
    )


async def test_first_scan_records_the_time_of_the_scan(client: httpx.AsyncClient) -> None:
    at = await door(client)
    before = datetime.now(UTC)

    response = await scan(client, at, {"code": at.code})

    after = datetime.now(UTC)
    checked_in_at = datetime.fromisoformat(response.json()["checked_in_at"])
    assert checked_in_at.utcoffset() == timedelta(0)
    assert before <= checked_in_at <= after


async def test_repeat_scan_answers_already_checked_in_with_the_first_time(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    first = await scan(client, at, {"code": at.code})

    again = await scan(client, at, {"code": at.code})

    assert again.status_code == 200
    assert again.json() == {**first.json(), "already_checked_in": True}
    assert again.json()["checked_in_at"] == first.json()["checked_in_at"]


async def test_repeat_scan_keeps_the_stored_first_time(client: httpx.AsyncClient) -> None:
    at = await door(client)
    await scan(client, at, {"code": at.code})
    first_time = await stored_check_in(at.registration_id)

    await scan(client, at, {"code": at.code})

    assert await stored_check_in(at.registration_id) == first_time


async def test_code_typed_in_lower_case_with_spaces_is_read(client: httpx.AsyncClient) -> None:
    at = await door(client)
    typed = " " + at.code.lower().replace("-", " - ", 1) + " "

    response = await scan(client, at, {"code": typed})

    assert response.status_code == 200
    assert response.json()["already_checked_in"] is False


def forged(at: Door, how: str) -> str:
    signature = at.code.rsplit("-", 1)[1]
    if how == "signature":
        return at.code[:-1] + ("B" if at.code[-1] == "A" else "A")
    if how == "registration":
        return f"TP-{at.event.id}-{at.registration_id + 1}-{signature}"
    if how == "made-up":
        return f"TP-{at.event.id}-{at.registration_id}-{'A' * 20}"
    return "https://example.org/ticket/12345"


@pytest.mark.parametrize("how", ["signature", "registration", "made-up", "not-a-ticket"])
async def test_forged_code_is_refused_as_invalid_code(client: httpx.AsyncClient, how: str) -> None:
    at = await door(client)

    response = await scan(client, at, {"code": forged(at, how)})

    assert response.status_code == 422
    assert problem_code(response) == "invalid_code"
    assert await stored_check_in(at.registration_id) is None


async def test_code_of_another_event_is_refused_as_wrong_event(client: httpx.AsyncClient) -> None:
    at = await door(client)
    other = await event_at_the_door(at.owner, title="Anderes Treffen")
    elsewhere = await registered(client, other, at.auth)

    response = await scan(client, at, {"code": check_in_code(other.id, elsewhere)})

    assert response.status_code == 409
    assert problem_code(response) == "wrong_event"
    assert await stored_check_in(elsewhere) is None


async def without_a_seat(client: httpx.AsyncClient, status: str) -> Door:
    """An event at the door and one registration of it in `status`."""
    owner, auth = await factories.organiser_with_token()
    if status == "pending":
        event = await event_at_the_door(owner, requires_approval=True)
        return Door(owner, auth, event, await registered(client, event, auth))
    event = await event_at_the_door(owner, capacity=1, waitlist=True)
    receipt = await register_ok(client, event.slug)
    seated = await id_of(client, event.slug, auth, receipt["email"])
    if status == "waitlisted":
        return Door(owner, auth, event, await registered(client, event, auth))
    if status == "declined":
        assert (
            await organiser_call(client, event.slug, auth, seated, "decline")
        ).status_code == 200
    else:
        token = await token_of(client, event.slug, auth, receipt["email"])
        assert (await client.delete(f"/api/v1/registrations/{token}")).status_code == 200
    return Door(owner, auth, event, seated)


@pytest.mark.parametrize("status", ["cancelled", "declined", "waitlisted", "pending"])
async def test_registration_without_a_seat_is_refused_by_its_status(
    client: httpx.AsyncClient, status: str
) -> None:
    at = await without_a_seat(client, status)

    response = await scan(client, at, {"code": at.code})

    assert response.status_code == 409
    assert problem_code(response) == f"registration_{status}"
    assert await stored_check_in(at.registration_id) is None


async def test_scan_before_the_check_in_window_is_refused_as_not_open(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    starts_at = from_now(hours=2, minutes=10)
    event = await factories.event(
        owner, starts_at=iso(starts_at), ends_at=iso(starts_at + timedelta(hours=2))
    )
    at = Door(owner, auth, event, await registered(client, event, auth))

    response = await scan(client, at, {"code": at.code})

    assert response.status_code == 409
    assert problem_code(response) == "check_in_not_open"
    assert await stored_check_in(at.registration_id) is None


async def test_scan_at_a_cancelled_event_is_refused_as_event_cancelled(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    cancelled = await client.post(
        f"/api/v1/events/{at.event.slug}/cancel", json={"reason": "Sturm"}, headers=at.auth
    )
    assert cancelled.status_code == 200, cancelled.text

    response = await scan(client, at, {"code": at.code})

    assert response.status_code == 409
    assert problem_code(response) == "event_cancelled"
    assert await stored_check_in(at.registration_id) is None


# --- by registration id, and the shape of the request -----------------------------------------


async def test_check_in_by_registration_id_checks_the_person_in(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)

    response = await scan(client, at, {"registration_id": at.registration_id})

    assert response.status_code == 200
    assert response.json()["already_checked_in"] is False
    assert response.json()["name"] == "Anna Schmidt"
    assert datetime.fromisoformat(response.json()["checked_in_at"]) == await stored_check_in(
        at.registration_id
    )


async def test_check_in_by_id_of_another_events_registration_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    other = await event_at_the_door(at.owner, title="Anderes Treffen")
    elsewhere = await registered(client, other, at.auth)

    response = await scan(client, at, {"registration_id": elsewhere})

    assert response.status_code == 404
    assert problem_code(response) == "registration_not_found"
    assert await stored_check_in(elsewhere) is None


@pytest.mark.parametrize("shape", ["neither", "both", "null-code"])
async def test_check_in_needs_exactly_one_of_code_and_registration_id(
    client: httpx.AsyncClient, shape: str
) -> None:
    at = await door(client)
    bodies: dict[str, dict[str, Any]] = {
        "neither": {},
        "both": {"code": at.code, "registration_id": at.registration_id},
        "null-code": {"code": None, "registration_id": None},
    }
    body = bodies[shape]

    response = await scan(client, at, body)

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert await stored_check_in(at.registration_id) is None


# --- undo -------------------------------------------------------------------------------------


async def test_undo_answers_204_and_clears_the_check_in(client: httpx.AsyncClient) -> None:
    at = await door(client)
    await scan(client, at, {"code": at.code})

    response = await client.delete(
        f"/api/v1/events/{at.event.slug}/check-ins/{at.registration_id}", headers=at.auth
    )

    assert response.status_code == 204
    assert response.content == b""
    assert await stored_check_in(at.registration_id) is None


async def test_after_undo_the_next_scan_is_a_first_check_in_again(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    await scan(client, at, {"code": at.code})
    await client.delete(
        f"/api/v1/events/{at.event.slug}/check-ins/{at.registration_id}", headers=at.auth
    )

    response = await scan(client, at, {"code": at.code})

    assert response.status_code == 200
    assert response.json()["already_checked_in"] is False
    assert datetime.fromisoformat(response.json()["checked_in_at"]) == await stored_check_in(
        at.registration_id
    )


async def test_undo_of_another_events_registration_is_not_found_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    other = await event_at_the_door(at.owner, title="Anderes Treffen")
    elsewhere = await registered(client, other, at.auth)
    other_door = Door(at.owner, at.auth, other, elsewhere)
    await scan(client, other_door, {"code": other_door.code})
    checked_in_at = await stored_check_in(elsewhere)

    response = await client.delete(
        f"/api/v1/events/{at.event.slug}/check-ins/{elsewhere}", headers=at.auth
    )

    assert response.status_code == 404
    assert problem_code(response) == "registration_not_found"
    assert checked_in_at is not None
    assert await stored_check_in(elsewhere) == checked_in_at


# --- walk-ins ---------------------------------------------------------------------------------


async def test_walk_in_registers_and_checks_in_at_once(client: httpx.AsyncClient) -> None:
    at = await door(client)

    response = await walk_in(client, at, email="walter@example.org")

    assert response.status_code == 201
    row = (
        await Registration.select(
            Registration.id,
            Registration.status,
            Registration.checked_in_at,
            Registration.added_by_organiser,
        )
        .where(Registration.email == "walter@example.org")
        .first()
    )
    assert row is not None
    assert response.json() == {
        "registration_id": row["id"],
        "already_checked_in": False,
        "checked_in_at": response.json()["checked_in_at"],
        "name": "Walter Tür",
        "organisation": "Handwerkskammer Dresden",
        "status": "confirmed",
    }
    assert row["status"] == "confirmed"
    assert row["added_by_organiser"] is True
    assert datetime.fromisoformat(response.json()["checked_in_at"]) == row["checked_in_at"]


async def test_walk_in_at_a_full_event_is_refused_as_event_full(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client, capacity=1, waitlist=False)

    response = await walk_in(client, at)

    assert response.status_code == 409
    assert problem_code(response) == "event_full"
    assert await registration_count() == 1


async def test_walk_in_refused_at_a_full_event_with_a_waiting_list_leaves_no_registration(
    client: httpx.AsyncClient,
) -> None:
    """A refused request changes nothing (invariant 7): no waiting-list place, no mail."""
    at = await door(client, capacity=1, waitlist=True)
    mail_before = await outbox_kinds()

    response = await walk_in(client, at, email="walter@example.org")

    assert response.status_code == 409
    assert problem_code(response) == "event_full"
    assert await registration_count() == 1
    assert await outbox_kinds() == mail_before


async def test_walk_in_beyond_capacity_is_let_in_with_exceed_capacity(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client, capacity=1, waitlist=True)

    response = await walk_in(client, at, exceed_capacity=True)

    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"
    assert response.json()["already_checked_in"] is False
    assert await seats_taken(at.event.id) == 2


async def test_walk_in_before_the_check_in_window_is_refused_and_registers_nobody(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    at = Door(owner, auth, event, 0)

    response = await walk_in(client, at)

    assert response.status_code == 409
    assert problem_code(response) == "check_in_not_open"
    assert await registration_count() == 0


async def test_walk_in_at_a_cancelled_event_is_refused_and_registers_nobody(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    await client.post(
        f"/api/v1/events/{at.event.slug}/cancel", json={"reason": "Sturm"}, headers=at.auth
    )

    response = await walk_in(client, at)

    assert response.status_code == 409
    assert problem_code(response) == "event_cancelled"
    assert await registration_count() == 1


# --- who may call -----------------------------------------------------------------------------

BODIES = [
    pytest.param("code", id="valid-code"),
    pytest.param({}, id="empty"),
    pytest.param({"bogus": 1}, id="unknown-field"),
    pytest.param([1, 2], id="not-an-object"),
]


def body_for(at: Door, body: Any) -> Any:
    return {"code": at.code} if body == "code" else body


@pytest.mark.parametrize("body", BODIES)
async def test_check_in_without_a_token_is_401_whatever_the_body(
    client: httpx.AsyncClient, body: Any
) -> None:
    at = await door(client)

    response = await client.post(
        f"/api/v1/events/{at.event.slug}/check-ins", json=body_for(at, body)
    )

    assert response.status_code == 401
    assert problem_code(response) == "not_authenticated"
    assert await stored_check_in(at.registration_id) is None


async def test_check_in_with_an_invalid_token_is_401(client: httpx.AsyncClient) -> None:
    at = await door(client)

    response = await scan(client, at, {"code": at.code}, auth={"Authorization": "Bearer nope"})

    assert response.status_code == 401
    assert await stored_check_in(at.registration_id) is None


@pytest.mark.parametrize("body", BODIES)
async def test_check_in_at_another_organisers_event_is_403_whatever_the_body(
    client: httpx.AsyncClient, body: Any
) -> None:
    at = await door(client)
    _, stranger = await factories.organiser_with_token()

    response = await client.post(
        f"/api/v1/events/{at.event.slug}/check-ins", json=body_for(at, body), headers=stranger
    )

    assert response.status_code == 403
    assert problem_code(response) == "forbidden"
    assert await stored_check_in(at.registration_id) is None


@pytest.mark.parametrize("body", [pytest.param("person", id="valid"), pytest.param({}, id="empty")])
async def test_walk_in_at_another_organisers_event_is_403_whatever_the_body(
    client: httpx.AsyncClient, body: Any
) -> None:
    at = await door(client)
    _, stranger = await factories.organiser_with_token()

    response = await client.post(
        f"/api/v1/events/{at.event.slug}/walk-ins",
        json=person() if body == "person" else body,
        headers=stranger,
    )

    assert response.status_code == 403
    assert await registration_count() == 1


async def test_walk_in_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    at = await door(client)

    response = await client.post(f"/api/v1/events/{at.event.slug}/walk-ins", json=person())

    assert response.status_code == 401
    assert await registration_count() == 1


async def test_undo_at_another_organisers_event_is_403_and_keeps_the_check_in(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    await scan(client, at, {"code": at.code})
    _, stranger = await factories.organiser_with_token()

    response = await client.delete(
        f"/api/v1/events/{at.event.slug}/check-ins/{at.registration_id}", headers=stranger
    )

    assert response.status_code == 403
    assert await stored_check_in(at.registration_id) is not None


async def test_undo_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    at = await door(client)
    await scan(client, at, {"code": at.code})

    response = await client.delete(f"/api/v1/events/{at.event.slug}/check-ins/{at.registration_id}")

    assert response.status_code == 401
    assert await stored_check_in(at.registration_id) is not None


async def test_check_in_at_an_unknown_event_is_404(client: httpx.AsyncClient) -> None:
    at = await door(client)

    response = await client.post(
        "/api/v1/events/no-such-event/check-ins", json={"code": at.code}, headers=at.auth
    )

    assert response.status_code == 404
    assert problem_code(response) == "event_not_found"


async def test_a_co_organiser_may_check_people_in(client: httpx.AsyncClient) -> None:
    at = await door(client)
    helper, helper_auth = await factories.organiser_with_token()
    await add_co_organiser(at.event.slug, helper.email)

    response = await scan(client, at, {"code": at.code}, auth=helper_auth)

    assert response.status_code == 200
    assert response.json()["already_checked_in"] is False


async def test_an_admin_may_check_people_in(client: httpx.AsyncClient) -> None:
    at = await door(client)
    _, admin_auth = await factories.organiser_with_token(admin=True)

    response = await scan(client, at, {"code": at.code}, auth=admin_auth)

    assert response.status_code == 200
    assert response.json()["already_checked_in"] is False
