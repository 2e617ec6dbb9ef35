"""Registering through the public API: seats, the waiting list, refusals and repeats."""

from __future__ import annotations

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import (
    PROBLEM_JSON,
    age_outbox,
    error_fields,
    from_now,
    id_of,
    iso,
    move_event_into_the_past,
    organiser_call,
    outbox,
    outbox_kinds,
    person,
    problem_code,
    register,
    register_ok,
    registration_count,
    roster,
    seats_left,
    statuses,
    token_of,
)
from treffpunkt.registrations.services import RESEND_PAUSE

pytestmark = pytest.mark.anyio


async def test_register_with_seats_left_confirms_the_person(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=2)

    response = await register(client, event.slug)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["waitlist_position"] is None
    assert body["address_confirmation_required"] is False
    assert body["event"] == event.slug


async def test_register_takes_one_seat(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=2)

    await register_ok(client, event.slug)

    assert await seats_left(client, event.slug) == 1


async def test_register_when_full_puts_people_on_the_waiting_list_in_order(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=True)
    await register_ok(client, event.slug)

    receipts = [await register_ok(client, event.slug) for _ in range(3)]

    assert [(r["status"], r["waitlist_position"]) for r in receipts] == [
        ("waitlisted", 1),
        ("waitlisted", 2),
        ("waitlisted", 3),
    ]
    assert await seats_left(client, event.slug) == 0


async def test_register_when_full_without_waiting_list_answers_event_full(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=False)
    await register_ok(client, event.slug)

    response = await register(client, event.slug)

    assert response.status_code == 409
    assert problem_code(response) == "event_full"


async def test_register_with_unlimited_capacity_always_confirms(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=None, waitlist=False)

    receipts = [await register_ok(client, event.slug) for _ in range(5)]

    assert [r["status"] for r in receipts] == ["confirmed"] * 5
    assert await seats_left(client, event.slug) is None


async def test_register_without_consent_is_refused_naming_consent(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await register(client, event.slug, consent=False)

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == ["consent"]


async def test_register_without_stakeholder_group_is_refused(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)
    body = person()
    del body["stakeholder_group"]

    response = await client.post(f"/api/v1/events/{event.slug}/registrations", json=body)

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == ["stakeholder_group"]


async def test_register_with_unknown_stakeholder_group_is_refused(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await register(client, event.slug, stakeholder_group="lobbyists")

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == ["stakeholder_group"]


async def test_register_normalises_the_email_in_the_receipt_and_roster(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await register(client, event.slug, email="  Anna.Schmidt@Example.ORG ")

    assert response.status_code == 201
    rows = (await roster(client, event.slug, auth))["items"]
    assert [row["email"] for row in rows] == ["anna.schmidt@example.org"]


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "anna@example",
        "anna schmidt@example.org",
        "@example.org",
        "anna@example.org\nBcc: everyone@example.org",
        "anna@exam\r\nple.org",
        "anna@example.test",
        "anna@[192.0.2.1]",
        '"anna schmidt"@example.org',
    ],
)
async def test_register_with_invalid_email_is_refused_naming_email(
    client: httpx.AsyncClient, email: str
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await register(client, event.slug, email=email)

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert response.json()["errors"] == [{"field": "email", "message": "must be an email address"}]


async def test_registering_again_answers_exactly_what_a_new_address_is_told(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=5)
    await register_ok(client, event.slug, email="anna@example.org")

    again = await register(client, event.slug, email="ANNA@Example.org")
    newcomer = await register(client, event.slug, email="ben@example.org")

    assert (again.status_code, again.json()) == (newcomer.status_code, newcomer.json())
    assert again.status_code == 201
    assert again.json()["status"] == "confirmed"


async def test_registering_again_when_full_answers_the_waiting_list_place_a_newcomer_gets(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=True)
    await register_ok(client, event.slug, email="anna@example.org")
    await register_ok(client, event.slug, email="ben@example.org")

    again = await register(client, event.slug, email="anna@example.org")

    assert again.status_code == 201
    assert (again.json()["status"], again.json()["waitlist_position"]) == ("waitlisted", 2)
    assert await statuses(client, event.slug, auth) == {
        "anna@example.org": ("confirmed", None),
        "ben@example.org": ("waitlisted", 1),
    }


async def test_registering_again_when_full_without_waiting_list_answers_event_full_and_mails(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=False)
    await register_ok(client, event.slug, email="anna@example.org")
    await age_outbox(RESEND_PAUSE)

    again = await register(client, event.slug, email="anna@example.org")
    newcomer = await register(client, event.slug, email="ben@example.org")

    assert (again.status_code, problem_code(again)) == (409, "event_full")
    assert again.json() == newcomer.json()
    assert await outbox_kinds() == [
        ("registration_confirmed", "anna@example.org"),
        ("registration_resent", "anna@example.org"),
    ]
    assert await statuses(client, event.slug, auth) == {"anna@example.org": ("confirmed", None)}


async def test_registering_again_at_an_event_with_approval_answers_pending(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, requires_approval=True)
    await register_ok(client, event.slug, email="anna@example.org")
    registration_id = await id_of(client, event.slug, auth, "anna@example.org")
    approved = await organiser_call(client, event.slug, auth, registration_id, "approve")
    assert approved.status_code == 200

    again = await register(client, event.slug, email="anna@example.org")

    assert again.status_code == 201
    assert again.json()["status"] == "pending"
    assert await statuses(client, event.slug, auth) == {"anna@example.org": ("confirmed", None)}


async def test_registering_again_adds_no_roster_row(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=5)
    await register_ok(client, event.slug, email="anna@example.org", name="Anna")

    await register(client, event.slug, email="Anna@Example.org", name="Someone Else")

    page = await roster(client, event.slug, auth)
    assert page["total"] == 1
    assert [(row["email"], row["name"]) for row in page["items"]] == [("anna@example.org", "Anna")]
    assert await seats_left(client, event.slug) == 4


async def test_registering_again_after_a_pause_resends_the_confirmation_to_that_address(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org", language="en")
    await age_outbox(RESEND_PAUSE)

    await register(client, event.slug, email="ANNA@example.org", language="de")

    registration_id = await id_of(client, event.slug, auth, "anna@example.org")
    assert (await outbox())[1:] == [
        {
            "kind": "registration_resent",
            "recipient": "anna@example.org",
            "language": "en",
            "registration": registration_id,
        }
    ]


async def test_registering_again_right_after_the_first_mail_sends_no_second_one(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")

    response = await register(client, event.slug, email="anna@example.org")

    assert response.status_code == 201
    assert await outbox_kinds() == [("registration_confirmed", "anna@example.org")]


async def test_registering_again_never_reveals_the_secret_link(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")
    token = await token_of(client, event.slug, auth, "anna@example.org")

    response = await register(client, event.slug, email="anna@example.org")

    assert token not in response.text
    assert "/registrations/" not in response.text
    assert set(response.json()) == {
        "event",
        "status",
        "waitlist_position",
        "address_confirmation_required",
        "message",
    }


async def test_after_cancelling_the_same_email_may_register_again(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")
    token = await token_of(client, event.slug, auth, "anna@example.org")
    assert (await client.delete(f"/api/v1/registrations/{token}")).status_code == 200

    response = await register(client, event.slug, email="anna@example.org")

    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"
    rows = (await roster(client, event.slug, auth, sort="created_at"))["items"]
    assert [(row["email"], row["status"]) for row in rows] == [
        ("anna@example.org", "cancelled"),
        ("anna@example.org", "confirmed"),
    ]


@pytest.mark.parametrize(
    ("field", "length"),
    [("name", 201), ("organisation", 201), ("role", 201), ("notes", 2_001)],
)
async def test_register_with_too_long_text_is_refused(
    client: httpx.AsyncClient, field: str, length: int
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await register(client, event.slug, **{field: "x" * length})

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == [field]
    assert await registration_count() == 0


@pytest.mark.parametrize(("field", "length"), [("name", 200), ("notes", 2_000)])
async def test_register_with_text_at_the_limit_is_accepted(
    client: httpx.AsyncClient, field: str, length: int
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await register(client, event.slug, **{field: "x" * length})

    assert response.status_code == 201


async def test_register_for_a_draft_answers_event_not_found(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, publish=False)

    response = await register(client, event.slug)

    assert response.status_code == 404
    assert problem_code(response) == "event_not_found"


async def test_register_for_an_unknown_event_answers_event_not_found(
    client: httpx.AsyncClient,
) -> None:
    response = await register(client, "no-such-event")

    assert response.status_code == 404
    assert problem_code(response) == "event_not_found"


async def test_register_for_a_cancelled_event_answers_event_cancelled(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    cancelled = await client.post(
        f"/api/v1/events/{event.slug}/cancel", json={"reason": "Krankheit"}, headers=auth
    )
    assert cancelled.status_code == 200

    response = await register(client, event.slug)

    assert response.status_code == 409
    assert problem_code(response) == "event_cancelled"


async def test_register_for_a_finished_event_answers_event_finished(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)
    await move_event_into_the_past(event.slug)

    response = await register(client, event.slug)

    assert response.status_code == 409
    assert problem_code(response) == "event_finished"


async def test_register_before_the_window_opens_answers_registration_not_open(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, registration_opens_at=iso(from_now(days=2)))

    response = await register(client, event.slug)

    assert response.status_code == 409
    assert problem_code(response) == "registration_not_open"


async def test_register_after_the_window_closes_answers_registration_closed(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, registration_closes_at=iso(from_now(hours=-1)))

    response = await register(client, event.slug)

    assert response.status_code == 409
    assert problem_code(response) == "registration_closed"


async def test_register_inside_the_window_confirms(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(
        owner,
        registration_opens_at=iso(from_now(hours=-1)),
        registration_closes_at=iso(from_now(days=1)),
    )

    response = await register(client, event.slug)

    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"


async def test_register_errors_are_problem_details_with_type_and_code(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=0, waitlist=False)

    response = await register(client, event.slug)

    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["code"] == "event_full"
    assert body["type"] == "urn:treffpunkt:problem:event_full"
    assert body["status"] == 409


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "confirmed"), ("exceed_capacity", True), ("waitlist_position", 1)],
)
async def test_register_refuses_fields_only_the_system_or_organiser_sets(
    client: httpx.AsyncClient, field: str, value: object
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=0, waitlist=True)

    response = await register(client, event.slug, **{field: value})

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert await registration_count() == 0


async def test_the_documented_answer_has_no_field_telling_an_address_is_registered(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/schema/openapi.json")).json()

    receipt = schema["components"]["schemas"]["Receipt"]
    operation = schema["paths"]["/api/v1/events/{slug}/registrations"]["post"]
    assert "already_registered" not in receipt["properties"]
    assert set(operation["responses"]) >= {"201"}
    assert "200" not in operation["responses"]
