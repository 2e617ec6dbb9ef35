"""Invariant 5: whatever an invite shows, once changed, raises SEQUENCE and updates every invite.

An organiser who saves several edits within a minute causes one update mail per person, due a
minute after the last save.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import factories
from tests.notifications.helpers import sign_up
from treffpunkt.events.schemas import EventUpdate, Venue
from treffpunkt.events.services import EventView, get_event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.event_changes import update_and_notify

pytestmark = pytest.mark.anyio

SAVED_AT = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
A_MINUTE = timedelta(minutes=1)
PEOPLE = ("anna@example.org", "ben@example.org")
INVITE_CHANGES: dict[str, EventUpdate] = {
    "title": EventUpdate(title="Glasfaser für Schulen"),
    "summary": EventUpdate(summary="Glasfaser für alle"),
    "description": EventUpdate(description="Ein Workshop für Schulträger und Kämmerer."),
    "venue": EventUpdate(venue=Venue(name="Kulturpalast", city="Dresden")),
    "online link": EventUpdate(format="hybrid", online_url="https://meet.example.org/breitband"),
    "times": EventUpdate(
        starts_at=datetime(2030, 6, 19, 8, tzinfo=UTC),
        ends_at=datetime(2030, 6, 19, 11, tzinfo=UTC),
    ),
    "contact": EventUpdate(contact_name="Petra Orga"),
}


async def event_with_people(**overrides: Any) -> EventView:
    event = await factories.event(
        await factories.organiser(),
        starts_at="2030-06-12T08:00:00+00:00",
        ends_at="2030-06-12T11:00:00+00:00",
        **overrides,
    )
    for address in PEOPLE:
        await sign_up(event.slug, address)
    return event


async def updates(event: EventView) -> list[dict[str, Any]]:
    """The event's pending update mails: recipient and when each is due."""
    return list(
        await OutboxMessage.select(
            OutboxMessage.recipient, OutboxMessage.next_attempt_at, OutboxMessage.payload
        )
        .where(
            (OutboxMessage.event == event.id)
            & (OutboxMessage.kind == "event_updated")
            & (OutboxMessage.status == "pending")
        )
        .order_by(OutboxMessage.recipient)
        .output(load_json=True)
    )


@pytest.mark.parametrize("change", INVITE_CHANGES.values(), ids=INVITE_CHANGES.keys())
async def test_a_change_of_what_the_invite_shows_raises_the_sequence(change: EventUpdate) -> None:
    event = await event_with_people()

    changed = await update_and_notify(event.slug, change, now=SAVED_AT)

    assert changed.sequence == event.sequence + 1


async def test_a_title_change_queues_one_update_per_confirmed_person_due_a_minute_later() -> None:
    event = await event_with_people()

    await update_and_notify(event.slug, EventUpdate(title="Glasfaser für Schulen"), now=SAVED_AT)

    assert [(row["recipient"], row["next_attempt_at"]) for row in await updates(event)] == [
        (address, SAVED_AT + A_MINUTE) for address in PEOPLE
    ]


async def test_three_saves_within_a_minute_leave_one_update_per_person_due_after_the_last() -> None:
    event = await event_with_people()

    for seconds, title in ((0, "Glasfaser"), (20, "Glasfaser für Schulen"), (40, "WLAN")):
        await update_and_notify(
            event.slug, EventUpdate(title=title), now=SAVED_AT + timedelta(seconds=seconds)
        )

    last_save = SAVED_AT + timedelta(seconds=40)
    assert [(row["recipient"], row["next_attempt_at"]) for row in await updates(event)] == [
        (address, last_save + A_MINUTE) for address in PEOPLE
    ]
    assert (await get_event(event.slug)).sequence == event.sequence + 3


async def test_an_update_merged_with_a_later_one_still_tells_the_time_before_both() -> None:
    event = await event_with_people()

    for day in (19, 26):
        await update_and_notify(
            event.slug,
            EventUpdate(
                starts_at=datetime(2030, 6, day, 8, tzinfo=UTC),
                ends_at=datetime(2030, 6, day, 11, tzinfo=UTC),
            ),
            now=SAVED_AT,
        )

    assert {row["payload"]["old_starts_at"] for row in await updates(event)} == {
        "2030-06-12T08:00:00+00:00"
    }


async def test_an_update_already_being_sent_is_followed_by_a_new_one() -> None:
    event = await event_with_people()
    await update_and_notify(event.slug, EventUpdate(title="Glasfaser"), now=SAVED_AT)
    await OutboxMessage.update({OutboxMessage.status: "sending"}).where(
        OutboxMessage.kind == "event_updated"
    )

    await update_and_notify(
        event.slug, EventUpdate(title="WLAN"), now=SAVED_AT + timedelta(seconds=30)
    )

    assert [row["recipient"] for row in await updates(event)] == list(PEOPLE)


async def test_a_capacity_change_keeps_the_sequence_and_queues_no_update() -> None:
    event = await event_with_people()

    changed = await update_and_notify(event.slug, EventUpdate(capacity=40), now=SAVED_AT)

    assert changed.sequence == event.sequence
    assert await updates(event) == []


async def test_a_change_that_repeats_what_the_invite_shows_keeps_the_sequence() -> None:
    event = await event_with_people()

    changed = await update_and_notify(event.slug, EventUpdate(title=event.title), now=SAVED_AT)

    assert changed.sequence == event.sequence
    assert await updates(event) == []


async def test_a_draft_changes_without_raising_its_sequence() -> None:
    draft = await factories.event(await factories.organiser(), publish=False)

    changed = await update_and_notify(draft.slug, EventUpdate(title="Glasfaser"), now=SAVED_AT)

    assert (changed.title, changed.sequence) == ("Glasfaser", 0)
