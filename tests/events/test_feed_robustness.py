"""One event's bad data never takes a calendar feed down for everyone else.

The data is written straight into the table, behind the API's back, as rows stored before the
address rule existed would be: the feeds still answer 200 with every other event in them.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from icalendar import Calendar
from structlog.testing import capture_logs

from tests import factories
from tests.registrations.helpers import register_ok
from treffpunkt.events.services import EventView
from treffpunkt.events.tables import Event
from treffpunkt.registrations.services import token_for
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.anyio

BROKEN_CONTACT = "kontakt@example.org\nBcc: everyone@example.org"


async def store_behind_the_apis_back(event: EventView, **columns: Any) -> None:
    await Event.update(columns).where(Event.id == event.id)


async def calendar_at(client: httpx.AsyncClient, url: str) -> Calendar:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    return Calendar.from_ical(response.content)


def organizers_by_uid(calendar: Calendar) -> dict[str, str]:
    return {str(e["UID"]): str(e["ORGANIZER"]) for e in calendar.walk("VEVENT")}


async def two_events(**broken: Any) -> tuple[EventView, EventView]:
    """Two published events; the first gets the broken columns written into its row."""
    owner = await factories.organiser()
    broken_event = await factories.event(owner, days_ahead=5)
    sound_event = await factories.event(owner, days_ahead=6, contact_email="info@köln.de")
    if broken:
        await store_behind_the_apis_back(broken_event, **broken)
    return broken_event, sound_event


async def test_catalogue_feed_with_a_stored_contact_that_fails_the_rule_names_mail_from(
    client: httpx.AsyncClient,
) -> None:
    broken, sound = await two_events(contact_email=BROKEN_CONTACT)

    calendar = await calendar_at(client, "/calendar.ics")

    assert organizers_by_uid(calendar) == {
        broken.calendar_uid: f"mailto:{get_settings().mail_from}",
        sound.calendar_uid: "mailto:info@xn--kln-sna.de",
    }


async def test_event_download_with_a_stored_contact_that_fails_the_rule_answers_200(
    client: httpx.AsyncClient,
) -> None:
    broken, _ = await two_events(contact_email=BROKEN_CONTACT)

    calendar = await calendar_at(client, f"/events/{broken.slug}.ics")

    assert organizers_by_uid(calendar) == {
        broken.calendar_uid: f"mailto:{get_settings().mail_from}"
    }


async def test_personal_feed_with_a_stored_contact_that_fails_the_rule_answers_200(
    client: httpx.AsyncClient,
) -> None:
    broken, sound = await two_events(contact_email=BROKEN_CONTACT)
    await register_ok(client, broken.slug, email="anna@example.org")
    await register_ok(client, sound.slug, email="anna@example.org")
    row = await Registration.select(Registration.id).first()
    assert row is not None

    calendar = await calendar_at(
        client, f"/registrations/{await token_for(row['id'])}/calendar.ics"
    )

    assert set(organizers_by_uid(calendar)) == {broken.calendar_uid, sound.calendar_uid}


async def test_catalogue_feed_leaves_out_an_event_it_cannot_render_and_logs_its_id(
    client: httpx.AsyncClient,
) -> None:
    broken, sound = await two_events(timezone="Mars/Olympus_Mons")

    with capture_logs() as logs:
        calendar = await calendar_at(client, "/calendar.ics")

    assert list(organizers_by_uid(calendar)) == [sound.calendar_uid]
    assert [entry for entry in logs if entry["event"] == "event left out of a calendar"] == [
        {
            "event": "event left out of a calendar",
            "event_id": broken.id,
            "error": "ZoneInfoNotFoundError",
            "log_level": "warning",
        }
    ]


async def test_personal_feed_leaves_out_an_event_it_cannot_render(
    client: httpx.AsyncClient,
) -> None:
    broken, sound = await two_events()
    await register_ok(client, broken.slug, email="anna@example.org")
    await register_ok(client, sound.slug, email="anna@example.org")
    row = await Registration.select(Registration.id).first()
    assert row is not None
    await store_behind_the_apis_back(broken, timezone="Mars/Olympus_Mons")

    calendar = await calendar_at(
        client, f"/registrations/{await token_for(row['id'])}/calendar.ics"
    )

    assert list(organizers_by_uid(calendar)) == [sound.calendar_uid]


async def test_event_download_of_an_event_it_cannot_render_answers_an_empty_calendar(
    client: httpx.AsyncClient,
) -> None:
    broken, _ = await two_events(timezone="Mars/Olympus_Mons")

    calendar = await calendar_at(client, f"/events/{broken.slug}.ics")

    assert calendar.walk("VEVENT") == []
