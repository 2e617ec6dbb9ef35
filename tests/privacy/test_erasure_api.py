"""Erasure by the secret link: the seat freed like a cancellation, the person gone, counts kept."""

from __future__ import annotations

import json

import httpx
import pytest

from tests import factories
from tests.audit.helpers import entries
from tests.privacy.helpers import anna_registered, feedback_given, registration_row
from tests.registrations.helpers import (
    id_of,
    move_event_into_the_past,
    problem_code,
    register_ok,
    seats_left,
    statuses,
    token_of,
)
from treffpunkt.attendance.feedback import people_to_thank
from treffpunkt.attendance.tables import FeedbackQuestion, FeedbackResponse
from treffpunkt.clock import utcnow
from treffpunkt.errors import NotFound
from treffpunkt.notifications.services import message_to_confirmed
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.privacy.tables import Erasure
from treffpunkt.registrations import services as registrations
from treffpunkt.registrations.schemas import RegistrationChange

pytestmark = pytest.mark.anyio


async def test_erasing_answers_what_was_done(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)

    response = await client.post(f"/api/v1/registrations/{anna.token}/erase")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "erased": True,
        "event": anna.event.slug,
        "previous_status": "confirmed",
        "seat_freed": True,
        "calendar_cancel_sent": True,
    }


async def test_erasing_blanks_every_personal_field(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)

    await client.post(f"/api/v1/registrations/{anna.token}/erase")

    row = await registration_row(anna.registration_id)
    assert row["name"] == "—"
    assert row["email"] == f"erased-{anna.registration_id}@erased.invalid"
    assert (row["organisation"], row["role"], row["notes"], row["search_text"]) == ("", "", "", "")
    assert row["answers"] in ({}, "{}")
    assert row["link_nonce"] == ""
    assert row["erased_at"] is not None


async def test_erasing_keeps_what_reports_count(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)
    before = await registration_row(anna.registration_id)

    await client.post(f"/api/v1/registrations/{anna.token}/erase")

    row = await registration_row(anna.registration_id)
    assert row["status"] == "cancelled"
    assert row["stakeholder_group"] == before["stakeholder_group"] == "public_administration"
    assert row["created_at"] == before["created_at"]
    assert row["event"] == anna.event.id


async def test_the_link_stops_working_on_the_api_and_the_page(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)

    await client.post(f"/api/v1/registrations/{anna.token}/erase")

    api = await client.get(f"/api/v1/registrations/{anna.token}")
    page = await client.get(f"/registrations/{anna.token}")
    assert api.status_code == 404
    assert problem_code(api) == "registration_not_found"
    assert page.status_code == 404


async def test_erasing_twice_answers_not_found_as_problem_details(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)
    await client.post(f"/api/v1/registrations/{anna.token}/erase")

    again = await client.post(f"/api/v1/registrations/{anna.token}/erase")

    assert again.status_code == 404
    assert problem_code(again) == "registration_not_found"


async def test_erasing_frees_the_seat_for_the_head_of_the_waiting_list(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client, capacity=1)
    await register_ok(client, anna.event.slug, email="bernd@example.org")
    await register_ok(client, anna.event.slug, email="cem@example.org")

    await client.post(f"/api/v1/registrations/{anna.token}/erase")

    found = await statuses(client, anna.event.slug, anna.auth)
    assert found["bernd@example.org"] == ("confirmed", None)
    assert found["cem@example.org"] == ("waitlisted", 1)
    assert await seats_left(client, anna.event.slug) == 0


async def test_waiting_mail_to_the_erased_address_is_dropped_and_sent_mail_keeps_no_address(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)
    # The confirmation went out; the reminder still waits.
    await OutboxMessage.update({OutboxMessage.status: "sent"}).where(
        OutboxMessage.registration == anna.registration_id
    )
    await OutboxMessage.insert(
        OutboxMessage(
            kind="reminder",
            event=anna.event.id,
            registration=anna.registration_id,
            recipient="anna@example.org",
        )
    )

    await client.post(f"/api/v1/registrations/{anna.token}/erase")

    rows = await OutboxMessage.select(
        OutboxMessage.kind, OutboxMessage.status, OutboxMessage.recipient
    ).order_by(OutboxMessage.id)
    assert rows == [
        {
            "kind": "registration_confirmed",
            "status": "sent",
            "recipient": f"erased-{anna.registration_id}@erased.invalid",
        },
        {"kind": "registration_erased", "status": "pending", "recipient": "anna@example.org"},
    ]


async def test_a_waitlisted_person_is_erased_without_a_calendar_mail(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=0, waitlist=True)
    await register_ok(client, event.slug, email="wait@example.org")
    token = await token_of(client, event.slug, auth, "wait@example.org")
    registration_id = await id_of(client, event.slug, auth, "wait@example.org")

    response = await client.post(f"/api/v1/registrations/{token}/erase")

    assert response.json()["calendar_cancel_sent"] is False
    assert response.json()["seat_freed"] is False
    kinds = await OutboxMessage.select(OutboxMessage.kind).where(
        OutboxMessage.registration == registration_id
    )
    assert kinds == []


async def test_after_the_event_erasure_keeps_the_status_and_the_check_in(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client, checked_in=True)
    await move_event_into_the_past(anna.event.slug)

    response = await client.post(f"/api/v1/registrations/{anna.token}/erase")

    assert response.json()["seat_freed"] is False
    row = await registration_row(anna.registration_id)
    assert row["status"] == "confirmed"
    assert row["checked_in_at"] is not None
    assert row["name"] == "—"


async def test_an_erasure_is_recorded_with_its_event_and_no_person(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)

    await client.post(f"/api/v1/registrations/{anna.token}/erase")

    records = await Erasure.select(Erasure.event, Erasure.reason, Erasure.registrations)
    assert records == [{"event": anna.event.id, "reason": "person", "registrations": 1}]


async def test_an_unknown_link_cannot_erase_anything(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/registrations/kZ3qVb7XwN2pLr5TgH8sYcAA/erase")

    assert response.status_code == 404
    assert problem_code(response) == "registration_not_found"


async def test_erasure_is_recorded_as_the_persons_own_doing_without_their_data(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)

    await client.post(f"/api/v1/registrations/{anna.token}/erase")

    recorded = [
        (entry["action"], entry["actor_kind"], entry["changes"])
        for entry in await entries(registration_id=anna.registration_id)
        if entry["action"] != "registration.registered"
    ]
    assert recorded == [
        (
            "registration.cancelled",
            "registrant",
            {"status": ["confirmed", "cancelled"]},
        ),
        ("registration.erased", "registrant", {"requested_by": [None, "person"]}),
    ]


async def test_a_change_saved_as_the_erasure_commits_does_not_bring_the_details_back(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = await anna_registered(client)
    read_before_the_erasure = await registrations.by_token(anna.token)
    await client.post(f"/api/v1/registrations/{anna.token}/erase")

    async def stale(token: str) -> registrations.RegistrationView:
        return read_before_the_erasure

    monkeypatch.setattr(registrations, "by_token", stale)
    with pytest.raises(NotFound):
        await registrations.change_registration(
            anna.token, RegistrationChange(name="Anna Neu", notes="Rollstuhl"), now=utcnow()
        )

    row = await registration_row(anna.registration_id)
    assert (row["name"], row["notes"]) == ("—", "")


async def test_erasing_drops_the_free_text_of_the_feedback_and_keeps_the_ratings(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)
    await feedback_given(anna, "Herr Beispiel hat toll moderiert")
    await FeedbackQuestion.insert(
        FeedbackQuestion(event=anna.event.id, key="overall", kind="rating", label="Insgesamt?")
    )
    await FeedbackResponse.update({FeedbackResponse.answers: '{"best": "x", "overall": 5}'}).where(
        FeedbackResponse.registration == anna.registration_id
    )

    await client.post(f"/api/v1/registrations/{anna.token}/erase")

    stored = await FeedbackResponse.select(FeedbackResponse.answers).where(
        FeedbackResponse.registration == anna.registration_id
    )
    answers = stored[0]["answers"]
    assert (json.loads(answers) if isinstance(answers, str) else answers) == {"overall": 5}


async def test_erasing_a_place_whose_address_was_never_confirmed_sends_no_calendar_cancel(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, requires_address_confirmation=True)
    await register_ok(client, event.slug, email="anna@example.org")
    token = await token_of(client, event.slug, auth, "anna@example.org")

    response = await client.post(f"/api/v1/registrations/{token}/erase")

    assert response.json()["calendar_cancel_sent"] is False
    assert await OutboxMessage.count().where(OutboxMessage.kind == "registration_erased") == 0


async def test_nobody_erased_after_the_event_gets_the_organisers_message_or_thanks(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client, checked_in=True)
    await move_event_into_the_past(anna.event.slug)
    await client.post(f"/api/v1/registrations/{anna.token}/erase")

    messaged = await message_to_confirmed(anna.event, "Folien", "Die Folien sind online.")

    assert (messaged, await people_to_thank(anna.event.id)) == (0, 0)
