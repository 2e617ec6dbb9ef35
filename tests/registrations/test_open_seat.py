"""The quick path: an open event with a free seat admits in one statement (or one write)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from tests import factories
from treffpunkt.db import connection_pool
from treffpunkt.events.services import EventView
from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations import services
from treffpunkt.registrations.open_seat import admit_to_open_seat, event_with_questions
from treffpunkt.registrations.questions import replace_questions
from treffpunkt.registrations.schemas import QuestionSpec, RegistrationForm
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

_numbers = count(1)


@pytest.fixture(autouse=True)
async def pool() -> AsyncIterator[None]:
    """The process's pool, as the app's lifespan opens it; concurrent tests share it."""
    async with connection_pool(4):
        yield


def form(email: str | None = None, **overrides: Any) -> RegistrationForm:
    """A valid registration form; a fresh address unless one is given."""
    fields: dict[str, Any] = {
        "name": "Erika Mustermann",
        "email": email or f"person{next(_numbers)}@example.org",
        "organisation": "Landkreis Meißen",
        "stakeholder_group": "public_administration",
        "consent": True,
    }
    fields.update(overrides)
    return RegistrationForm(**fields)


def stored(email: str, *, now: datetime) -> dict[str, Any]:
    """A new registration's columns, as register() hands them to the quick path."""
    return services._stored(services._checked_form([], form(email)), now=now)


async def an_event(**overrides: Any) -> EventView:
    return await factories.event(await factories.organiser(), **overrides)


async def seats_taken(event_id: int) -> int:
    row = await Event.select(Event.seats_taken).where(Event.id == event_id).first()
    assert row is not None
    return int(row["seats_taken"])


async def footprint(event_id: int) -> tuple[int, int, int]:
    """(seats taken, registrations, outbox messages): what admitting someone changes."""
    return (
        await seats_taken(event_id),
        await Registration.count().where(Registration.event == event_id),
        await OutboxMessage.count().where(OutboxMessage.event == event_id),
    )


async def messages() -> list[dict[str, Any]]:
    return await (
        OutboxMessage.select(
            OutboxMessage.kind,
            OutboxMessage.registration,
            OutboxMessage.recipient,
            OutboxMessage.language,
            OutboxMessage.payload,
            OutboxMessage.status,
            OutboxMessage.next_attempt_at,
        )
        .order_by(OutboxMessage.id)
        .output(load_json=True)
    )


# --- through register() ---------------------------------------------------------------------


async def test_register_at_an_open_event_with_a_free_seat_confirms_and_takes_one_seat() -> None:
    event = await an_event(capacity=5)

    outcome = await services.register(event.slug, form(), now=datetime.now(UTC))

    assert (outcome.status, outcome.waitlist_position, outcome.already_registered) == (
        "confirmed",
        None,
        False,
    )
    assert await seats_taken(event.id) == 1
    row = await Registration.select(Registration.status).where(
        Registration.id == outcome.registration_id
    )
    assert row == [{"status": "confirmed"}]


async def test_register_at_an_open_event_queues_exactly_one_confirmation() -> None:
    event = await an_event(capacity=5)
    now = datetime.now(UTC)

    outcome = await services.register(event.slug, form("Erika@Example.org", language="en"), now=now)

    assert await messages() == [
        {
            "kind": "registration_confirmed",
            "registration": outcome.registration_id,
            "recipient": "erika@example.org",
            "language": "en",
            "payload": {},
            "status": "pending",
            "next_attempt_at": now,
        }
    ]


async def test_register_keeps_the_persons_details_and_answers() -> None:
    event = await an_event(capacity=5)
    await replace_questions(event.id, [QuestionSpec(key="diet", kind="short_text", label="Diät")])
    now = datetime.now(UTC)

    outcome = await services.register(
        event.slug,
        form(
            "erika@example.org",
            role="Kämmerin",
            notes="Rollstuhl",
            answers={"diet": "vegan"},
            language="en",
        ),
        now=now,
    )

    registration = (await services.addressees([outcome.registration_id]))[
        outcome.registration_id
    ].registration
    assert registration is not None
    assert (
        registration.event,
        registration.name,
        registration.email,
        registration.organisation,
        registration.stakeholder_group,
        registration.role,
        registration.notes,
        registration.answers,
        registration.language,
        registration.added_by_organiser,
        registration.waitlist_ticket,
        registration.created_at,
        registration.updated_at,
    ) == (
        event.id,
        "Erika Mustermann",
        "erika@example.org",
        "Landkreis Meißen",
        "public_administration",
        "Kämmerin",
        "Rollstuhl",
        {"diet": "vegan"},
        "en",
        False,
        None,
        now,
        now,
    )


async def test_register_gives_a_secret_link_that_finds_the_registration() -> None:
    event = await an_event(capacity=5)

    outcome = await services.register(event.slug, form(), now=datetime.now(UTC))

    found = await services.by_token(await services.token_for(outcome.registration_id))
    assert found.id == outcome.registration_id


async def test_last_free_seat_goes_to_exactly_one_of_many_simultaneous_registrations() -> None:
    event = await an_event(capacity=1, waitlist=True)
    now = datetime.now(UTC)

    outcomes = await asyncio.gather(
        *[services.register(event.slug, form(), now=now) for _ in range(10)]
    )

    assert sorted(outcome.status for outcome in outcomes) == ["confirmed"] + ["waitlisted"] * 9
    assert sorted(o.waitlist_position for o in outcomes if o.waitlist_position) == list(
        range(1, 10)
    )
    assert await seats_taken(event.id) == 1
    assert await Registration.count().where(Registration.status == "confirmed") == 1
    assert [m["kind"] for m in await messages()].count("registration_confirmed") == 1


async def test_same_address_registering_twice_at_once_keeps_one_active_registration() -> None:
    event = await an_event(capacity=5)
    now = datetime.now(UTC)

    outcomes = await asyncio.gather(
        services.register(event.slug, form("erika@example.org"), now=now),
        services.register(event.slug, form("erika@example.org"), now=now),
    )

    assert sorted(outcome.already_registered for outcome in outcomes) == [False, True]
    assert {outcome.registration_id for outcome in outcomes} == {
        row["id"] for row in await Registration.select(Registration.id)
    }
    assert len({outcome.registration_id for outcome in outcomes}) == 1
    assert [outcome.status for outcome in outcomes] == ["confirmed", "confirmed"]
    assert await seats_taken(event.id) == 1


async def test_same_address_registering_twice_at_once_gets_one_confirmation_and_no_resend() -> None:
    event = await an_event(capacity=5)
    now = datetime.now(UTC)

    await asyncio.gather(
        services.register(event.slug, form("erika@example.org"), now=now),
        services.register(event.slug, form("erika@example.org"), now=now),
    )

    assert [(m["kind"], m["recipient"]) for m in await messages()] == [
        ("registration_confirmed", "erika@example.org"),
    ]


# --- admit_to_open_seat itself --------------------------------------------------------------


async def test_admit_to_open_seat_answers_the_new_registrations_id() -> None:
    event = await an_event(capacity=5)
    now = datetime.now(UTC)

    admitted = await admit_to_open_seat(event.id, stored("erika@example.org", now=now), now=now)

    rows = await Registration.select(Registration.id, Registration.email, Registration.status)
    assert rows == [{"id": admitted, "email": "erika@example.org", "status": "confirmed"}]
    assert await footprint(event.id) == (1, 1, 1)


async def test_admit_to_open_seat_admits_to_an_event_without_capacity() -> None:
    event = await an_event(capacity=None)
    now = datetime.now(UTC)

    admitted = await admit_to_open_seat(event.id, stored("erika@example.org", now=now), now=now)

    assert admitted is not None
    assert await footprint(event.id) == (1, 1, 1)


async def test_admit_to_open_seat_leaves_a_closed_registration_window_alone() -> None:
    closes_at = datetime.now(UTC) + timedelta(days=1)
    event = await an_event(capacity=5, registration_closes_at=closes_at.isoformat())
    now = closes_at + timedelta(minutes=1)

    admitted = await admit_to_open_seat(event.id, stored("erika@example.org", now=now), now=now)

    assert admitted is None
    assert await footprint(event.id) == (0, 0, 0)


async def test_admit_to_open_seat_leaves_a_full_event_alone() -> None:
    event = await an_event(capacity=1, waitlist=True)
    now = datetime.now(UTC)
    await services.register(event.slug, form(), now=now)

    admitted = await admit_to_open_seat(event.id, stored("erika@example.org", now=now), now=now)

    assert admitted is None
    assert await footprint(event.id) == (1, 1, 1)


async def test_admit_to_open_seat_leaves_someone_already_registered_alone() -> None:
    event = await an_event(capacity=5)
    now = datetime.now(UTC)
    await services.register(event.slug, form("erika@example.org"), now=now)

    admitted = await admit_to_open_seat(event.id, stored("erika@example.org", now=now), now=now)

    assert admitted is None
    assert await footprint(event.id) == (1, 1, 1)


@pytest.mark.parametrize(
    "event_settings",
    [
        pytest.param(
            {"registration_opens_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
            id="window-not-yet-open",
        ),
        pytest.param({"requires_approval": True}, id="approval-required"),
        pytest.param({"publish": False}, id="unpublished"),
    ],
)
async def test_admit_to_open_seat_leaves_an_event_not_open_for_the_quick_path_alone(
    event_settings: dict[str, Any],
) -> None:
    event = await an_event(capacity=5, **event_settings)
    now = datetime.now(UTC)

    admitted = await admit_to_open_seat(event.id, stored("erika@example.org", now=now), now=now)

    assert admitted is None
    assert await footprint(event.id) == (0, 0, 0)


async def test_admit_to_open_seat_leaves_a_finished_event_alone() -> None:
    event = await an_event(capacity=5)
    now = event.ends_at + timedelta(minutes=1)

    admitted = await admit_to_open_seat(event.id, stored("erika@example.org", now=now), now=now)

    assert admitted is None
    assert await footprint(event.id) == (0, 0, 0)


# --- event_with_questions -------------------------------------------------------------------


async def test_event_with_questions_answers_id_status_and_questions_in_their_order() -> None:
    event = await an_event()
    questions = [
        QuestionSpec(key="topics", kind="multiple_choice", label="Themen", options=["A", "B"]),
        QuestionSpec(key="diet", kind="short_text", label="Ernährung", help_text="vegan?"),
        QuestionSpec(key="arrival", kind="yes_no", label="Anreise mit dem Auto", required=True),
    ]
    await replace_questions(event.id, questions)

    assert await event_with_questions(event.slug) == (event.id, "published", questions)


async def test_event_with_questions_answers_an_empty_list_for_an_event_without_questions() -> None:
    event = await an_event()

    assert await event_with_questions(event.slug) == (event.id, "published", [])


async def test_event_with_questions_reports_a_draft_as_draft() -> None:
    event = await an_event(publish=False)

    assert await event_with_questions(event.slug) == (event.id, "draft", [])


async def test_event_with_questions_answers_none_for_an_unknown_slug() -> None:
    await an_event()

    assert await event_with_questions("no-such-event") is None
