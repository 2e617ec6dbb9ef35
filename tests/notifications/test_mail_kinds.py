"""What each kind of mail says and carries, and the facts every mail gives."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.helpers import (
    CONTACT,
    PLACE,
    SCHEDULE,
    WHEN_DE,
    calendar_of,
    has_calendar,
    html_of,
    make_due,
    manage_url,
    outbox_rows,
    parts_of_type,
    qr_texts,
    sign_up,
    text_of,
    ticket_of,
    visible_text,
)
from tests.registrations.helpers import age_outbox
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.attendance.codes import CheckInCode, read_code
from treffpunkt.clock import utcnow
from treffpunkt.events.schemas import EventUpdate
from treffpunkt.notifications.worker import drain, schedule_reminders
from treffpunkt.registrations.event_changes import cancel_and_notify, update_and_notify
from treffpunkt.registrations.services import (
    RESEND_PAUSE,
    approve,
    cancel_by_person,
    decline,
    token_for,
)

pytestmark = pytest.mark.anyio

TITLE = "Breitband für Schulen"
NEW_WHEN_DE = "Mittwoch, 19. Juni 2030, 14:00–17:00 CEST"
Organiser = tuple[CurrentOrganiser, dict[str, str]]


def soon(hours: float) -> dict[str, Any]:
    """Start and end of an event that starts in `hours` hours and lasts two."""
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours)
    return {
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
    }


async def test_waitlisted_mail_states_the_position(smtp: Sink, organiser: Organiser) -> None:
    event = await factories.event(organiser[0], capacity=1, waitlist=True, **SCHEDULE)
    await sign_up(event.slug, "first@example.org")
    await sign_up(event.slug, "second@example.org", language="de")
    await sign_up(event.slug, "third@example.org", language="en")

    await drain()

    german, english = smtp.only("second@example.org"), smtp.only("third@example.org")
    assert german["Subject"] == f"Sie stehen auf der Warteliste: {TITLE}"
    assert "daher stehen Sie auf Platz 1 der Warteliste." in text_of(german)
    assert english["Subject"] == f"You are on the waiting list: {TITLE}"
    assert "so you are on the waiting list at position 2." in text_of(english)


async def test_promoted_mail_carries_an_invite_and_a_ticket(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], capacity=1, waitlist=True, **SCHEDULE)
    first = await sign_up(event.slug, "first@example.org")
    second = await sign_up(event.slug, "second@example.org")
    await drain()

    await cancel_by_person(await token_for(first.registration_id), now=utcnow())
    await drain()

    _, promoted = smtp.to("second@example.org")
    assert promoted["Subject"] == f"Ein Platz ist für Sie frei geworden: {TITLE}"
    assert "gute Nachrichten: Ein Platz ist frei geworden" in text_of(promoted)
    assert calendar_of(promoted)["METHOD"] == "REQUEST"
    [code] = qr_texts(ticket_of(promoted))
    assert read_code(code) == CheckInCode(event.id, second.registration_id)


async def test_pending_mail_says_the_organisers_will_decide(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], requires_approval=True, **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")

    await drain()

    mail = smtp.only("anna@example.org")
    assert mail["Subject"] == f"Anmeldung eingegangen, Bestätigung ausstehend: {TITLE}"
    assert (
        "wir haben Ihre Anmeldung erhalten. Das Veranstaltungsteam bestätigt jede Anmeldung "
        "persönlich; wir schreiben Ihnen, sobald entschieden ist."
    ) in text_of(mail)


async def test_approved_mail_carries_an_invite_and_a_ticket(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], requires_approval=True, **SCHEDULE)
    outcome = await sign_up(event.slug, "anna@example.org")
    await drain()

    await approve(event.slug, outcome.registration_id, now=utcnow())
    await drain()

    _, approved = smtp.to("anna@example.org")
    assert approved["Subject"] == f"Anmeldung angenommen: {TITLE}"
    assert "das Veranstaltungsteam hat Ihre Anmeldung angenommen." in text_of(approved)
    assert calendar_of(approved)["METHOD"] == "REQUEST"
    [code] = qr_texts(ticket_of(approved))
    assert read_code(code) == CheckInCode(event.id, outcome.registration_id)


async def test_declined_mail_says_the_request_was_not_accepted(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], requires_approval=True, **SCHEDULE)
    outcome = await sign_up(event.slug, "anna@example.org")
    await drain()

    await decline(event.slug, outcome.registration_id, now=utcnow())
    await drain()

    _, declined = smtp.to("anna@example.org")
    assert declined["Subject"] == f"Anmeldung abgelehnt: {TITLE}"
    assert "leider konnte das Veranstaltungsteam Ihre Anmeldung nicht annehmen." in text_of(
        declined
    )
    assert parts_of_type(declined, "image/png") == []


async def test_cancelled_mail_confirms_the_cancellation_without_a_ticket(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    outcome = await sign_up(event.slug, "anna@example.org")
    await drain()

    await cancel_by_person(await token_for(outcome.registration_id), now=utcnow())
    await drain()

    _, cancelled = smtp.to("anna@example.org")
    assert cancelled["Subject"] == f"Anmeldung storniert: {TITLE}"
    assert "Ihre Anmeldung wurde storniert." in text_of(cancelled)
    assert parts_of_type(cancelled, "image/png") == []
    assert "TP-" not in text_of(cancelled)


async def test_registering_again_resends_the_confirmation_with_the_same_manage_link(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    outcome = await sign_up(event.slug, "anna@example.org")
    await drain()
    await age_outbox(RESEND_PAUSE)

    again = await sign_up(event.slug, " Anna@Example.org ")
    await drain()

    assert again.already_registered is True
    first, resent = smtp.to("anna@example.org")
    link = await manage_url(outcome.registration_id)
    assert re.findall(r"http://testserver/registrations/\S+", text_of(first)) == [link]
    assert re.findall(r"http://testserver/registrations/\S+", text_of(resent)) == [link]
    assert resent["Subject"] == f"Anmeldung bestätigt: {TITLE}"
    assert calendar_of(resent)["METHOD"] == "REQUEST"
    assert qr_texts(ticket_of(resent)) == qr_texts(ticket_of(first))


async def test_registering_again_while_waitlisted_resends_the_waiting_list_mail(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], capacity=0, waitlist=True, **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    await drain()
    await age_outbox(RESEND_PAUSE)

    await sign_up(event.slug, "anna@example.org")
    await drain()

    _, resent = smtp.to("anna@example.org")
    assert resent["Subject"] == f"Sie stehen auf der Warteliste: {TITLE}"
    assert has_calendar(resent) is False
    assert parts_of_type(resent, "image/png") == []


async def test_reminders_are_scheduled_once_per_confirmed_registration(
    organiser: Organiser,
) -> None:
    event = await factories.event(organiser[0], capacity=2, waitlist=True, **soon(hours=12))
    anna = await sign_up(event.slug, "anna@example.org")
    ben = await sign_up(event.slug, "ben@example.org")
    await sign_up(event.slug, "cem@example.org")  # on the waiting list

    await schedule_reminders(utcnow())
    await schedule_reminders(utcnow())

    reminders = [row for row in await outbox_rows() if row["kind"] == "reminder"]
    assert sorted(row["registration"] for row in reminders) == sorted(
        [anna.registration_id, ben.registration_id]
    )


async def test_concurrent_reminder_scans_schedule_one_reminder_each(
    organiser: Organiser,
) -> None:
    event = await factories.event(organiser[0], **soon(hours=12))
    anna = await sign_up(event.slug, "anna@example.org")
    now = utcnow()

    await asyncio.gather(schedule_reminders(now), schedule_reminders(now))

    reminders = [row for row in await outbox_rows() if row["kind"] == "reminder"]
    assert [row["registration"] for row in reminders] == [anna.registration_id]


async def test_reminders_are_not_scheduled_for_cancelled_registrations(
    organiser: Organiser,
) -> None:
    event = await factories.event(organiser[0], **soon(hours=12))
    anna = await sign_up(event.slug, "anna@example.org")
    ben = await sign_up(event.slug, "ben@example.org")
    await cancel_by_person(await token_for(ben.registration_id), now=utcnow())

    await schedule_reminders(utcnow())

    reminders = [row for row in await outbox_rows() if row["kind"] == "reminder"]
    assert [row["registration"] for row in reminders] == [anna.registration_id]


async def test_reminders_are_not_scheduled_for_events_beyond_the_reminder_time(
    organiser: Organiser,
) -> None:
    event = await factories.event(organiser[0], **soon(hours=30))
    await sign_up(event.slug, "anna@example.org")

    await schedule_reminders(utcnow())

    assert [row["kind"] for row in await outbox_rows()] == ["registration_confirmed"]


async def test_reminder_of_someone_who_cancelled_since_is_not_sent(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **soon(hours=12))
    anna = await sign_up(event.slug, "anna@example.org")
    await drain()
    await schedule_reminders(utcnow())

    await cancel_by_person(await token_for(anna.registration_id), now=utcnow())
    await drain()

    assert [str(m["Subject"]) for m in smtp.to("anna@example.org")] == [
        f"Anmeldung bestätigt: {TITLE}",
        f"Anmeldung storniert: {TITLE}",
    ]


async def test_reminder_is_sent_with_the_ticket(smtp: Sink, organiser: Organiser) -> None:
    event = await factories.event(organiser[0], **soon(hours=12))
    anna = await sign_up(event.slug, "anna@example.org")
    await drain()

    await schedule_reminders(utcnow())
    await drain()

    _, reminder = smtp.to("anna@example.org")
    assert reminder["Subject"] == f"Erinnerung: {TITLE}"
    assert "wir erinnern Sie an die Veranstaltung, zu der Sie angemeldet sind." in text_of(reminder)
    [code] = qr_texts(ticket_of(reminder))
    assert read_code(code) == CheckInCode(event.id, anna.registration_id)
    assert f"\n{code}\n" in text_of(reminder)


async def test_organiser_message_goes_to_confirmed_people_only(
    client: httpx.AsyncClient, smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], capacity=2, waitlist=True, **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    ben = await sign_up(event.slug, "ben@example.org")
    await sign_up(event.slug, "cem@example.org")  # waiting list
    await sign_up(event.slug, "dana@example.org")  # waiting list
    await drain()
    await cancel_by_person(await token_for(ben.registration_id), now=utcnow())  # cem moves up
    await drain()
    smtp.clear()

    response = await client.post(
        f"/api/v1/events/{event.slug}/messages",
        json={"subject": "Raumänderung", "body": "Wir treffen uns im Saal 3."},
        headers=organiser[1],
    )
    await drain()

    assert response.status_code == 202, response.text
    assert response.json() == {"recipients": 2}
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == ["anna@example.org", "cem@example.org"]


async def test_organiser_message_carries_the_organisers_subject_and_body(
    client: httpx.AsyncClient, smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "ann@example.org", name="Ann Smith", language="en")
    await drain()

    await client.post(
        f"/api/v1/events/{event.slug}/messages",
        json={
            "subject": "Raumänderung",
            "body": "Wir treffen uns im Saal 3.\n\nBitte den Seiteneingang nehmen.",
        },
        headers=organiser[1],
    )
    await drain()

    _, message = smtp.to("ann@example.org")
    assert message["Subject"] == "Raumänderung"
    assert (
        "Hello Ann Smith,\n\nWir treffen uns im Saal 3.\n\nBitte den Seiteneingang nehmen.\n"
        in text_of(message)
    )
    assert "<p>Wir treffen uns im Saal 3.</p><p>Bitte den Seiteneingang nehmen.</p>" in html_of(
        message
    )


async def test_organiser_message_needs_a_token_of_someone_managing_the_event(
    client: httpx.AsyncClient, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    _, stranger = await factories.organiser_with_token()
    body = {"subject": "Hallo", "body": "Text"}

    anonymous = await client.post(f"/api/v1/events/{event.slug}/messages", json=body)
    foreign = await client.post(
        f"/api/v1/events/{event.slug}/messages", json=body, headers=stranger
    )

    assert (anonymous.status_code, foreign.status_code) == (401, 403)
    assert [row["kind"] for row in await outbox_rows()] == []


async def test_every_mail_gives_manage_link_date_place_and_organiser_contact(
    client: httpx.AsyncClient, smtp: Sink, organiser: Organiser
) -> None:
    """One event through its whole life: every kind of mail, each checked for the four facts."""
    event = await factories.event(
        organiser[0], capacity=1, waitlist=True, requires_approval=True, **SCHEDULE, **CONTACT
    )
    ids = {}
    for name in ("anna", "ben", "cem", "dana"):
        ids[name] = (await sign_up(event.slug, f"{name}@example.org")).registration_id
    await drain()  # pending ×4
    await approve(event.slug, ids["anna"], now=utcnow())  # approved
    await approve(event.slug, ids["ben"], now=utcnow())  # waitlisted
    await decline(event.slug, ids["cem"], now=utcnow())  # declined
    await drain()
    await client.post(
        f"/api/v1/events/{event.slug}/messages",
        json={"subject": "Hinweis", "body": "Bitte pünktlich."},
        headers=organiser[1],
    )  # organiser message
    await drain()
    rescheduled_from = len(smtp.received)
    await update_and_notify(
        event.slug,
        EventUpdate(
            starts_at=datetime(2030, 6, 19, 12, tzinfo=UTC),
            ends_at=datetime(2030, 6, 19, 15, tzinfo=UTC),
        ),
        now=utcnow(),
    )  # changed
    await make_due()
    await drain()
    await cancel_by_person(await token_for(ids["anna"]), now=utcnow())  # cancelled, promoted
    await drain()
    await age_outbox(RESEND_PAUSE)
    await sign_up(event.slug, "ben@example.org")  # resent
    await drain()
    await cancel_and_notify(event.slug, "Die Referentin ist erkrankt.", now=utcnow())  # cancelled
    await drain()

    missing = {}
    for number, received in enumerate(smtp.received):
        when = WHEN_DE if number < rescheduled_from else NEW_WHEN_DE
        [address] = received.rcpt_tos
        text, html = text_of(received.message), visible_text(html_of(received.message))
        link = await manage_url(ids[address.split("@")[0]])
        facts = {
            "manage link": link in text and link in html_of(received.message),
            "date": f"Wann: {when}\n" in text and f"Wann: {when}" in html,
            "place": f"Wo: {PLACE}\n" in text and f"Wo: {PLACE}" in html,
            "contact": "Petra Orga <petra.orga@landkreis.example>" in text
            and "Petra Orga petra.orga@landkreis.example" in html,
        }
        lacking = [fact for fact, present in facts.items() if not present]
        if lacking:
            missing[f"{address}: {received.message['Subject']}"] = lacking
    assert len(smtp.received) == 16, smtp.subjects()
    assert missing == {}


ONLINE: dict[str, Any] = {
    "format": "online",
    "venue": None,
    "online_url": "https://meet.example/breitband",
}


async def test_online_event_confirmation_gives_the_access_link(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **ONLINE, **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")

    await drain()

    mail = smtp.only("anna@example.org")
    assert "\nOnline: https://meet.example/breitband\n" in text_of(mail)
    assert "Wo:" not in text_of(mail)
    assert str(calendar_of(mail).walk("VEVENT")[0]["LOCATION"]) == "online"


async def test_online_event_waiting_list_mail_withholds_the_access_link(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], capacity=0, waitlist=True, **ONLINE, **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")

    await drain()

    mail = smtp.only("anna@example.org")
    assert "\nOnline: Den Zugangslink erhalten Sie mit Ihrer Bestätigung.\n" in text_of(mail)
    assert "meet.example" not in text_of(mail)
    assert "meet.example" not in html_of(mail)


async def test_online_note_in_the_html_says_online_once(smtp: Sink, organiser: Organiser) -> None:
    event = await factories.event(organiser[0], capacity=0, waitlist=True, **ONLINE, **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")

    await drain()

    html = visible_text(html_of(smtp.only("anna@example.org")))
    assert "Online: Den Zugangslink erhalten Sie mit Ihrer Bestätigung." in html
    assert "Online: Online:" not in html


async def test_organiser_message_body_is_escaped_in_the_html(
    client: httpx.AsyncClient, smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    await drain()

    await client.post(
        f"/api/v1/events/{event.slug}/messages",
        json={"subject": "Hinweis", "body": '<script>alert("x")</script> & <b>mehr</b>'},
        headers=organiser[1],
    )
    await drain()

    _, message = smtp.to("anna@example.org")
    assert "<script>" not in html_of(message)
    assert "&lt;script&gt;" in html_of(message)
    assert '<script>alert("x")</script> & <b>mehr</b>' in text_of(message)
