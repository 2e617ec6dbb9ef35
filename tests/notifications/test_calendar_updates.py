"""Invariant 5: one UID per event for good, SEQUENCE rising with every change attendees see."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.helpers import (
    SCHEDULE,
    calendar_of,
    calendar_uid,
    has_calendar,
    make_due,
    one_part,
    sequence_of,
    sign_up,
    text_of,
    uid_of,
    vevent_of,
)
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.clock import utcnow
from treffpunkt.events.schemas import EventUpdate
from treffpunkt.events.services import EventView
from treffpunkt.notifications.worker import drain
from treffpunkt.registrations.event_changes import update_and_notify
from treffpunkt.registrations.schemas import Language
from treffpunkt.registrations.services import token_for

pytestmark = pytest.mark.anyio

TITLE = "Breitband für Schulen"
NEW_TIMES: dict[str, Any] = {
    "starts_at": "2030-06-19T12:00:00+00:00",
    "ends_at": "2030-06-19T15:00:00+00:00",
}


@dataclass(frozen=True)
class Scene:
    """A workshop with two confirmed people (de, en) and one on the waiting list."""

    event: EventView
    auth: dict[str, str]
    tokens: dict[str, str]


@pytest.fixture
async def scene(smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]) -> Scene:
    event = await factories.event(organiser[0], capacity=2, waitlist=True, **SCHEDULE)
    tokens = {}
    people: tuple[tuple[str, Language], ...] = (
        ("anna@example.org", "de"),
        ("ben@example.org", "en"),
        ("cem@example.org", "de"),
    )
    for address, language in people:
        outcome = await sign_up(event.slug, address, language=language)
        tokens[address] = await token_for(outcome.registration_id)
    await drain()
    assert [len(smtp.to(a)) for a in tokens] == [1, 1, 1]
    return Scene(event=event, auth=organiser[1], tokens=tokens)


async def reschedule(client: httpx.AsyncClient, scene: Scene) -> None:
    response = await client.patch(
        f"/api/v1/events/{scene.event.slug}", json=NEW_TIMES, headers=scene.auth
    )
    assert response.status_code == 200, response.text
    await make_due()  # the update waits a minute for further edits
    await drain()


async def cancel_event(client: httpx.AsyncClient, scene: Scene) -> None:
    response = await client.post(
        f"/api/v1/events/{scene.event.slug}/cancel",
        json={"reason": "Die Referentin ist erkrankt."},
        headers=scene.auth,
    )
    assert response.status_code == 200, response.text
    await drain()


def latest(smtp: Sink, address: str) -> EmailMessage:
    return smtp.to(address)[-1]


async def test_reschedule_sends_each_confirmed_person_one_change_mail(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    await reschedule(client, scene)

    assert [str(m["Subject"]) for m in smtp.to("anna@example.org")[1:]] == [f"Geändert: {TITLE}"]
    assert [str(m["Subject"]) for m in smtp.to("ben@example.org")[1:]] == [f"Changed: {TITLE}"]


async def test_reschedule_invite_is_a_request_with_the_same_uid(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    await reschedule(client, scene)

    first, update = smtp.to("anna@example.org")
    assert calendar_of(update)["METHOD"] == "REQUEST"
    assert uid_of(update) == uid_of(first)
    assert uid_of(update) == await calendar_uid(scene.event.slug)


async def test_reschedule_invite_has_a_higher_sequence(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    await reschedule(client, scene)

    first, update = smtp.to("ben@example.org")
    assert (sequence_of(first), sequence_of(update)) == (0, 1)


async def test_reschedule_invite_has_the_new_times(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    await reschedule(client, scene)

    update = vevent_of(latest(smtp, "anna@example.org"))
    assert update.DTSTART.isoformat() == "2030-06-19T14:00:00+02:00"
    assert update.DTEND.isoformat() == "2030-06-19T17:00:00+02:00"


async def test_reschedule_text_shows_the_old_and_the_new_time(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    await reschedule(client, scene)

    assert (
        "- When: Wednesday, June 12, 2030, 10:00\u202fAM–1:00\u202fPM CEST"
        " → Wednesday, June 19, 2030, 2:00\u202fPM–5:00\u202fPM CEST"
    ) in text_of(latest(smtp, "ben@example.org"))
    assert (
        "- Wann: Mittwoch, 12. Juni 2030, 10:00–13:00 CEST → Mittwoch, 19. Juni 2030, 14:00–17:00 CEST"
    ) in text_of(latest(smtp, "anna@example.org"))


async def test_reschedule_tells_the_waiting_list_without_a_calendar_entry(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    await reschedule(client, scene)

    [_, news] = smtp.to("cem@example.org")
    assert news["Subject"] == f"Geändert: {TITLE}"
    assert has_calendar(news) is False
    assert "Wann: Mittwoch, 12. Juni 2030" in text_of(news)


async def test_moving_to_another_venue_sends_a_request_with_the_new_location(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    venue = {
        "name": "Kulturpalast",
        "street": "Schloßstraße 2",
        "postal_code": "01067",
        "city": "Dresden",
    }

    response = await client.patch(
        f"/api/v1/events/{scene.event.slug}", json={"venue": venue}, headers=scene.auth
    )
    await make_due()
    await drain()

    assert response.status_code == 200, response.text
    first, update = smtp.to("anna@example.org")
    assert vevent_of(update)["LOCATION"] == "Kulturpalast, Schloßstraße 2, 01067 Dresden"
    assert sequence_of(update) == sequence_of(first) + 1
    assert (
        "- Wo: Rathaus, Markt 1, 01067 Dresden → Kulturpalast, Schloßstraße 2, 01067 Dresden"
        in text_of(update)
    )


async def test_a_title_change_sends_a_request_with_the_new_title(smtp: Sink, scene: Scene) -> None:
    await update_and_notify(
        scene.event.slug, EventUpdate(title="Glasfaser für Schulen"), now=utcnow()
    )
    await make_due()
    await drain()

    first, update = smtp.to("anna@example.org")
    assert update["Subject"] == "Geändert: Glasfaser für Schulen"
    assert vevent_of(update)["SUMMARY"] == "Glasfaser für Schulen"
    assert sequence_of(update) == sequence_of(first) + 1


async def test_event_cancellation_sends_confirmed_people_a_cancel_with_the_same_uid(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    await cancel_event(client, scene)

    first, cancel = smtp.to("anna@example.org")
    assert calendar_of(cancel)["METHOD"] == "CANCEL"
    assert one_part(cancel, "text/calendar").get_param("method") == "CANCEL"
    assert vevent_of(cancel)["STATUS"] == "CANCELLED"
    assert uid_of(cancel) == uid_of(first)
    assert calendar_of(cancel).walk("VALARM") == []


async def test_event_cancellation_sequence_is_above_the_last_update(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    await reschedule(client, scene)
    await cancel_event(client, scene)

    sequences = [sequence_of(m) for m in smtp.to("ben@example.org")]
    assert sequences == [0, 1, 2]


async def test_event_cancellation_mail_gives_the_reason(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    await cancel_event(client, scene)

    cancel = latest(smtp, "anna@example.org")
    assert cancel["Subject"] == f"Abgesagt: {TITLE}"
    assert "Grund: Die Referentin ist erkrankt.\n" in text_of(cancel)


async def test_event_cancellation_tells_the_waiting_list_without_a_calendar_part(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    await cancel_event(client, scene)

    [_, news] = smtp.to("cem@example.org")
    assert news["Subject"] == f"Abgesagt: {TITLE}"
    assert "Grund: Die Referentin ist erkrankt.\n" in text_of(news)
    assert has_calendar(news) is False


async def test_event_cancellation_tells_pending_people_without_a_calendar_part(
    client: httpx.AsyncClient, smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    event = await factories.event(organiser[0], requires_approval=True, **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    await drain()

    response = await client.post(
        f"/api/v1/events/{event.slug}/cancel",
        json={"reason": "Zu wenige Anmeldungen."},
        headers=organiser[1],
    )
    await drain()

    assert response.status_code == 200, response.text
    [_, news] = smtp.to("anna@example.org")
    assert news["Subject"] == f"Abgesagt: {TITLE}"
    assert "Grund: Zu wenige Anmeldungen.\n" in text_of(news)
    assert has_calendar(news) is False


async def test_cancelling_ones_own_registration_sends_a_cancel_with_the_same_uid(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    response = await client.delete(f"/api/v1/registrations/{scene.tokens['anna@example.org']}")
    await drain()

    assert response.status_code == 200, response.text
    first, cancel = smtp.to("anna@example.org")
    assert cancel["Subject"] == f"Anmeldung storniert: {TITLE}"
    assert calendar_of(cancel)["METHOD"] == "CANCEL"
    assert vevent_of(cancel)["STATUS"] == "CANCELLED"
    assert uid_of(cancel) == uid_of(first)
    assert sequence_of(cancel) > sequence_of(first)
    assert one_part(cancel, "application/ics").get_filename() == "cancel.ics"


async def test_registering_again_after_cancelling_gets_a_request_above_the_cancel(
    client: httpx.AsyncClient, smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    outcome = await sign_up(event.slug, "anna@example.org")
    await drain()
    await client.delete(f"/api/v1/registrations/{await token_for(outcome.registration_id)}")
    await drain()

    again = await sign_up(event.slug, "anna@example.org")
    await drain()

    assert again.status == "confirmed"
    _, cancel, request = smtp.to("anna@example.org")
    assert calendar_of(request)["METHOD"] == "REQUEST"
    assert uid_of(request) == uid_of(cancel)
    assert sequence_of(request) > sequence_of(cancel)


async def test_event_cancellation_is_not_sent_to_people_who_cancelled_before(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    await client.delete(f"/api/v1/registrations/{scene.tokens['anna@example.org']}")
    await drain()

    await cancel_event(client, scene)

    assert [str(m["Subject"]) for m in smtp.to("anna@example.org")] == [
        f"Anmeldung bestätigt: {TITLE}",
        f"Anmeldung storniert: {TITLE}",
    ]


async def test_a_change_that_repeats_the_current_times_sends_nothing(
    client: httpx.AsyncClient, smtp: Sink, scene: Scene
) -> None:
    before = len(smtp.messages)

    response = await client.patch(
        f"/api/v1/events/{scene.event.slug}",
        json={"starts_at": "2030-06-12T10:00:00+02:00", "ends_at": "2030-06-12T13:00:00+02:00"},
        headers=scene.auth,
    )
    await make_due()
    await drain()

    assert response.status_code == 200, response.text
    assert len(smtp.messages) == before
