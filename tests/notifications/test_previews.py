"""Before a change mails people, the organiser sees that mail and how many will get it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.notifications.helpers import sign_up
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.clock import utcnow
from treffpunkt.errors import Conflict, ValidationFailed
from treffpunkt.events.schemas import EventUpdate, Venue
from treffpunkt.events.services import EventView, get_event
from treffpunkt.notifications.previews import preview_mail
from treffpunkt.notifications.services import message_to_confirmed
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.event_changes import cancel_and_notify, update_and_notify
from treffpunkt.registrations.services import token_for
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

MOVED_START = datetime(2030, 6, 19, 8, tzinfo=UTC)
MOVED = EventUpdate(starts_at=MOVED_START, ends_at=MOVED_START + timedelta(hours=3))


async def event_with(*addresses: str) -> EventView:
    event = await factories.event(
        await factories.organiser(),
        starts_at="2030-06-12T08:00:00+00:00",
        ends_at="2030-06-12T11:00:00+00:00",
    )
    for address in addresses:
        await sign_up(event.slug, address)
    return event


async def outbox_size() -> int:
    return await OutboxMessage.count()


async def test_a_reschedule_preview_shows_the_update_mail_and_counts_its_recipients() -> None:
    event = await event_with("anna@example.org", "ben@example.org", "cem@example.org")

    preview = await preview_mail(
        event.slug,
        "event_updated",
        lambda: update_and_notify(event.slug, MOVED, now=utcnow()),
        language="de",
        now=utcnow(),
    )

    assert preview is not None
    assert preview.recipients == 3
    assert event.title in preview.subject
    assert "19. Juni 2030" in preview.text


async def test_a_preview_changes_nothing() -> None:
    event = await event_with("anna@example.org")
    mails_before = await outbox_size()

    await preview_mail(
        event.slug,
        "event_updated",
        lambda: update_and_notify(event.slug, MOVED, now=utcnow()),
        language="de",
        now=utcnow(),
    )

    after = await get_event(event.slug)
    assert (after.starts_at, after.sequence) == (event.starts_at, event.sequence)
    assert await outbox_size() == mails_before


async def test_a_preview_is_in_the_language_asked_for_not_the_registrants() -> None:
    event = await event_with("anna@example.org")

    preview = await preview_mail(
        event.slug,
        "event_updated",
        lambda: update_and_notify(event.slug, MOVED, now=utcnow()),
        language="en",
        now=utcnow(),
    )

    assert preview is not None
    assert "June 19, 2030" in preview.text


async def test_a_change_nobody_hears_of_has_no_preview() -> None:
    event = await event_with("anna@example.org")

    preview = await preview_mail(
        event.slug,
        "event_updated",
        lambda: update_and_notify(event.slug, EventUpdate(capacity=80), now=utcnow()),
        language="de",
        now=utcnow(),
    )

    assert preview is None


async def test_an_event_without_registrants_has_no_preview() -> None:
    event = await event_with()

    preview = await preview_mail(
        event.slug,
        "event_updated",
        lambda: update_and_notify(event.slug, MOVED, now=utcnow()),
        language="de",
        now=utcnow(),
    )

    assert preview is None


async def test_a_cancellation_preview_carries_the_reason() -> None:
    event = await event_with("anna@example.org", "ben@example.org")

    preview = await preview_mail(
        event.slug,
        "event_cancelled",
        lambda: cancel_and_notify(event.slug, "Die Referentin ist erkrankt.", now=utcnow()),
        language="de",
        now=utcnow(),
    )

    assert preview is not None
    assert preview.recipients == 2
    assert "Die Referentin ist erkrankt." in preview.text
    assert (await get_event(event.slug)).status == "published"


async def test_a_message_preview_shows_the_organisers_words() -> None:
    event = await event_with("anna@example.org")

    preview = await preview_mail(
        event.slug,
        "organiser_message",
        lambda: message_to_confirmed(event, "Parken", "Bitte nutzen Sie das Parkhaus am Markt."),
        language="de",
        now=utcnow(),
    )

    assert preview is not None
    assert (preview.recipients, preview.subject) == (1, "Parken")
    assert "Parkhaus am Markt" in preview.text


async def test_a_preview_of_an_invalid_change_raises_the_validation_error() -> None:
    event = await event_with("anna@example.org")

    with pytest.raises(ValidationFailed):
        await preview_mail(
            event.slug,
            "event_updated",
            lambda: update_and_notify(
                event.slug, EventUpdate(venue=Venue(name="", city="")), now=utcnow()
            ),
            language="de",
            now=utcnow(),
        )


async def test_a_preview_of_a_refused_change_raises_the_refusal() -> None:
    event = await event_with("anna@example.org")
    await cancel_and_notify(event.slug, "Sturm", now=utcnow())

    with pytest.raises(Conflict):
        await preview_mail(
            event.slug,
            "event_updated",
            lambda: update_and_notify(event.slug, MOVED, now=utcnow()),
            language="de",
            now=utcnow(),
        )


async def test_a_preview_blanks_the_recipients_secret_link_and_check_in_code() -> None:
    event = await event_with("anna@example.org")
    registration = await Registration.select(Registration.id).first()
    assert registration is not None
    token = await token_for(registration["id"])
    code = check_in_code(event.id, registration["id"])

    preview = await preview_mail(
        event.slug,
        "event_updated",
        lambda: update_and_notify(event.slug, MOVED, now=utcnow()),
        language="de",
        now=utcnow(),
    )

    assert preview is not None
    assert "/registrations/…" in preview.text
    assert token not in preview.text
    assert code not in preview.text


async def test_a_second_edit_within_the_minute_previews_the_merged_update_for_everyone() -> None:
    event = await event_with("anna@example.org", "ben@example.org")
    await update_and_notify(event.slug, MOVED, now=utcnow())

    preview = await preview_mail(
        event.slug,
        "event_updated",
        lambda: update_and_notify(
            event.slug, EventUpdate(venue=Venue(name="Kulturpalast", city="Dresden")), now=utcnow()
        ),
        language="de",
        now=utcnow(),
    )

    assert preview is not None
    assert preview.recipients == 2
