"""Double opt-in by mail: before the address is confirmed, the confirm mail is all it gets."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.helpers import (
    CONTACT,
    has_calendar,
    manage_url,
    sign_up,
    text_of,
)
from tests.registrations.helpers import age_outbox
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.clock import utcnow
from treffpunkt.events.schemas import EventUpdate
from treffpunkt.events.services import get_event_by_id
from treffpunkt.notifications.services import message_to_confirmed
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.notifications.worker import drain, run_worker, schedule_reminders
from treffpunkt.registrations.event_changes import cancel_and_notify, update_and_notify
from treffpunkt.registrations.services import (
    RESEND_PAUSE,
    cancel_by_person,
    confirm_address,
    token_for,
)
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

Organiser = tuple[CurrentOrganiser, dict[str, str]]


def starting_in(hours: float) -> dict[str, str]:
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours)
    return {
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
    }


async def test_nothing_but_the_confirm_mail_reaches_an_address_not_confirmed(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(
        organiser[0], requires_address_confirmation=True, **starting_in(5), **CONTACT
    )
    await sign_up(event.slug, "anna@example.org")
    moved = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=6)
    await update_and_notify(
        event.slug, EventUpdate(starts_at=moved, ends_at=moved + timedelta(hours=2)), now=utcnow()
    )
    await message_to_confirmed(event, "Parken", "Bitte nutzen Sie das Parkhaus.")
    await schedule_reminders(utcnow())

    await drain()

    mail = smtp.only("anna@example.org")
    assert mail["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse: Breitband für Schulen"
    assert not has_calendar(mail)
    assert not [part for part in mail.walk() if part.get_content_type() == "image/png"]


async def test_the_confirm_mail_links_to_the_page_with_the_button(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], requires_address_confirmation=True)
    outcome = await sign_up(event.slug, "anna@example.org")

    await drain()

    text = text_of(smtp.only("anna@example.org"))
    assert re.findall(r"http://testserver/registrations/\S+", text) == [
        await manage_url(outcome.registration_id)
    ]
    assert "Bestätigen Sie Ihre E-Mail-Adresse auf dieser Seite" in text


async def test_confirming_brings_the_confirmation_with_invite(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], requires_address_confirmation=True)
    outcome = await sign_up(event.slug, "anna@example.org")
    await drain()

    await confirm_address(await token_for(outcome.registration_id), now=utcnow())
    await drain()

    confirm, confirmed = smtp.to("anna@example.org")
    assert confirmed["Subject"] == "Anmeldung bestätigt: Breitband für Schulen"
    assert has_calendar(confirmed)
    assert not has_calendar(confirm)


async def test_registering_again_before_confirming_sends_the_confirm_mail_again(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], requires_address_confirmation=True)
    await sign_up(event.slug, "anna@example.org")
    await drain()
    await age_outbox(RESEND_PAUSE)

    await sign_up(event.slug, "anna@example.org")
    await drain()

    first, again = smtp.to("anna@example.org")
    assert again["Subject"] == first["Subject"]
    assert not has_calendar(again)


async def test_the_mail_worker_releases_a_hold_that_ran_out(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], requires_address_confirmation=True, capacity=1)
    outcome = await sign_up(event.slug, "anna@example.org")
    await Registration.update(
        {Registration.unconfirmed_until: datetime.now(UTC) - timedelta(minutes=1)}
    ).where(Registration.id == outcome.registration_id)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(stop))

    try:
        for _ in range(400):  # up to 20 s: the first round looks for expired holds at once
            if await status_of(outcome.registration_id) == "cancelled":
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker

    assert await status_of(outcome.registration_id) == "cancelled"
    assert (await get_event_by_id(event.id)).seats_left == 1
    # Released before the round's delivery: the confirm mail no longer applies either.
    assert smtp.to("anna@example.org") == []


async def status_of(registration_id: int) -> str:
    row = (
        await Registration.select(Registration.status)
        .where(Registration.id == registration_id)
        .first()
    )
    assert row is not None
    return str(row["status"])


async def test_a_change_of_the_event_queues_nothing_for_an_address_not_confirmed(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(
        organiser[0], requires_address_confirmation=True, **starting_in(5), **CONTACT
    )
    await sign_up(event.slug, "anna@example.org")
    moved = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=6)

    await update_and_notify(
        event.slug, EventUpdate(starts_at=moved, ends_at=moved + timedelta(hours=2)), now=utcnow()
    )

    queued = await OutboxMessage.select(OutboxMessage.kind).where(
        OutboxMessage.recipient == "anna@example.org"
    )
    assert [row["kind"] for row in queued] == ["address_confirmation"]


async def test_a_cancelled_event_queues_nothing_for_an_address_not_confirmed(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(
        organiser[0], requires_address_confirmation=True, **starting_in(5), **CONTACT
    )
    await sign_up(event.slug, "anna@example.org")

    await cancel_and_notify(event.slug, "Der Raum ist nicht verfügbar.", now=utcnow())

    queued = await OutboxMessage.select(OutboxMessage.kind).where(
        OutboxMessage.recipient == "anna@example.org"
    )
    assert [row["kind"] for row in queued] == ["address_confirmation"]


async def test_cancelling_before_confirming_mails_no_cancellation_of_an_invite_never_sent(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(
        organiser[0], requires_address_confirmation=True, **starting_in(5), **CONTACT
    )
    outcome = await sign_up(event.slug, "anna@example.org")
    await drain()

    await cancel_by_person(await token_for(outcome.registration_id), now=utcnow())
    await drain()

    mail = smtp.only("anna@example.org")
    assert mail["Subject"].startswith("Bitte bestätigen Sie Ihre E-Mail-Adresse")
