"""A mail says what is true when it is sent: one whose premise has gone is skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.helpers import SCHEDULE, Clock, make_due, outbox_rows, sign_up
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.clock import utcnow
from treffpunkt.events.schemas import EventUpdate
from treffpunkt.events.services import EventView
from treffpunkt.notifications.worker import drain, schedule_reminders
from treffpunkt.registrations.event_changes import update_and_notify
from treffpunkt.registrations.services import cancel_by_organiser, cancel_by_person, token_for
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

Organiser = tuple[CurrentOrganiser, dict[str, str]]
TITLE = "Breitband für Schulen"
# SCHEDULE runs 08:00–11:00 UTC on 12 June 2030.
DURING = datetime(2030, 6, 12, 9, 0, tzinfo=UTC)
AFTER = datetime(2030, 6, 12, 12, 0, tzinfo=UTC)


def subjects(smtp: Sink, address: str) -> list[str]:
    return [str(mail["Subject"]) for mail in smtp.to(address)]


async def outcomes(kind: str) -> list[tuple[str, str]]:
    """Status and reason of each outbox row of this kind, oldest first."""
    return [
        (row["status"], row["last_error"]) for row in await outbox_rows() if row["kind"] == kind
    ]


async def reminded_registration(organiser: Organiser) -> EventView:
    """Anna at an event twelve hours away, her reminder queued."""
    starts_at = utcnow().replace(microsecond=0) + timedelta(hours=12)
    event = await factories.event(
        organiser[0],
        starts_at=starts_at.isoformat(),
        ends_at=(starts_at + timedelta(hours=2)).isoformat(),
    )
    await sign_up(event.slug, "anna@example.org")
    await schedule_reminders(utcnow())
    return event


async def postpone(event: EventView, by: timedelta) -> None:
    """Move the event, and let its change mail (however it is timed) fall due."""
    changes = EventUpdate(starts_at=event.starts_at + by, ends_at=event.ends_at + by)
    await update_and_notify(event.slug, changes, now=utcnow())
    await make_due()


async def test_a_waitlist_mail_for_someone_promoted_before_it_went_out_is_skipped(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], capacity=1, waitlist=True, **SCHEDULE)
    anna = await sign_up(event.slug, "anna@example.org")
    await sign_up(event.slug, "ben@example.org")
    await cancel_by_person(await token_for(anna.registration_id), now=utcnow())

    await drain()

    assert subjects(smtp, "ben@example.org") == [f"Ein Platz ist für Sie frei geworden: {TITLE}"]
    assert await outcomes("registration_waitlisted") == [
        ("skipped", "registration_waitlisted no longer applies: the registration is confirmed now")
    ]


async def test_no_one_is_promoted_once_the_event_has_started(organiser: Organiser) -> None:
    event = await factories.event(organiser[0], capacity=1, waitlist=True, **SCHEDULE)
    anna = await sign_up(event.slug, "anna@example.org")
    ben = await sign_up(event.slug, "ben@example.org")

    await cancel_by_organiser(event.slug, anna.registration_id, now=DURING)

    row = await Registration.select(Registration.status).where(
        Registration.id == ben.registration_id
    )
    assert row == [{"status": "waitlisted"}]
    assert await outcomes("registration_promoted") == []


async def test_a_place_free_mail_that_would_go_out_after_the_start_is_skipped(
    smtp: Sink, organiser: Organiser, worker_clock: Clock
) -> None:
    event = await factories.event(organiser[0], capacity=1, waitlist=True, **SCHEDULE)
    anna = await sign_up(event.slug, "anna@example.org")
    await sign_up(event.slug, "ben@example.org")
    await drain()
    await cancel_by_person(await token_for(anna.registration_id), now=utcnow())
    worker_clock.set(DURING)

    await drain()

    assert subjects(smtp, "ben@example.org") == [f"Sie stehen auf der Warteliste: {TITLE}"]
    assert await outcomes("registration_promoted") == [
        ("skipped", "registration_promoted no longer applies: the event has begun")
    ]
    assert subjects(smtp, "anna@example.org")[-1] == f"Anmeldung storniert: {TITLE}"


async def test_a_confirmation_that_would_go_out_after_the_event_is_skipped(
    smtp: Sink, organiser: Organiser, worker_clock: Clock
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    worker_clock.set(AFTER)

    await drain()

    assert smtp.received == []
    assert await outcomes("registration_confirmed") == [
        ("skipped", "registration_confirmed no longer applies: the event is over")
    ]


async def test_a_postponed_event_gets_a_reminder_for_its_new_date(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await reminded_registration(organiser)
    await drain()

    await postpone(event, timedelta(hours=6))
    await drain()
    await schedule_reminders(utcnow())
    await drain()

    assert subjects(smtp, "anna@example.org") == [
        f"Anmeldung bestätigt: {TITLE}",
        f"Erinnerung: {TITLE}",
        f"Geändert: {TITLE}",
        f"Erinnerung: {TITLE}",
    ]
    assert await outcomes("reminder") == [("sent", ""), ("sent", "")]


async def test_a_reminder_for_a_date_that_has_since_moved_is_skipped(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await reminded_registration(organiser)

    await postpone(event, timedelta(days=2))
    await drain()

    assert subjects(smtp, "anna@example.org") == [
        f"Anmeldung bestätigt: {TITLE}",
        f"Geändert: {TITLE}",
    ]
    assert await outcomes("reminder") == [
        ("skipped", "reminder no longer applies: made for a start that has since moved")
    ]
