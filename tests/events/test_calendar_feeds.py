"""Calendar downloads and feeds: one event's .ics, the catalogue feed, the personal feed, links.

Read back with icalendar as a client would; caching checked the way iOS, Outlook and Google
poll (If-None-Match, If-Modified-Since).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from icalendar import Calendar, Component

from tests import factories
from tests.registrations.helpers import move_event_into_the_past, register_ok
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events import services
from treffpunkt.events.schemas import EventUpdate
from treffpunkt.events.services import EventView
from treffpunkt.events.tables import Event
from treffpunkt.ical.calendars import PRODID
from treffpunkt.registrations.services import cancel_by_person, token_for
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.anyio

FEED = "/calendar.ics"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
ONLINE = {"format": "online", "venue": None, "online_url": "https://meet.example.org/room"}


# --- helpers -------------------------------------------------------------------------------


async def fetch(client: httpx.AsyncClient, path: str, **headers: str) -> httpx.Response:
    return await client.get(path, headers=headers)


async def calendar_at(client: httpx.AsyncClient, url: str, **params: str) -> Calendar:
    response = await client.get(url, params=params or None)
    assert response.status_code == 200, response.text
    return Calendar.from_ical(response.content)


async def uids_at(client: httpx.AsyncClient, url: str, **params: str) -> list[str]:
    """The UIDs of the VEVENTs a calendar URL answers, in its order."""
    return [str(e["UID"]) for e in (await calendar_at(client, url, **params)).walk("VEVENT")]


def only_event(calendar: Calendar) -> Component:
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def lines(body: bytes) -> list[bytes]:
    """The physical lines of a calendar, after checking that the last one ends in CRLF."""
    assert body.endswith(b"\r\n")
    return body.removesuffix(b"\r\n").split(b"\r\n")


def unfolded(body: bytes) -> list[bytes]:
    return body.replace(b"\r\n ", b"").removesuffix(b"\r\n").split(b"\r\n")


async def backdate(event: EventView, hours: int = 1) -> EventView:
    """Pretend the event last changed `hours` ago, so a change now is a later second."""
    await Event.update({Event.updated_at: datetime.now(UTC) - timedelta(hours=hours)}).where(
        Event.id == event.id
    )
    return await services.get_event(event.slug)


async def edit(event: EventView, **changes: Any) -> EventView:
    edit = await services.update_event(event.slug, EventUpdate(**changes), now=datetime.now(UTC))
    return edit.after


async def cancel(event: EventView) -> EventView:
    return await services.cancel_event(event.slug, "Krankheit", now=datetime.now(UTC))


async def registration_id(event: EventView, email: str) -> int:
    row = (
        await Registration.select(Registration.id)
        .where((Registration.event == event.id) & (Registration.email == email))
        .first()
    )
    assert row is not None, f"{email} is not registered for {event.slug}"
    return int(row["id"])


async def token_of(client: httpx.AsyncClient, event: EventView, email: str) -> str:
    """Register `email` for the event through the API and return the secret link's token."""
    await register_ok(client, event.slug, email=email)
    return await token_for(await registration_id(event, email))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def links(html: str, start: str) -> list[str]:
    """Every link on the page whose address starts with `start`, entities decoded."""
    parser = _Links()
    parser.feed(html)
    return [href for href in parser.hrefs if href.startswith(start)]


def the_link(html: str, start: str) -> str:
    found = links(html, start)
    assert len(found) == 1, f"expected one link starting {start}, found {found}"
    return found[0]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


@pytest.fixture
async def owner() -> CurrentOrganiser:
    return await factories.organiser()


# --- GET /events/{slug}.ics ----------------------------------------------------------------


async def test_event_ics_answers_200_as_utf8_text_calendar(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    response = await fetch(client, f"/events/{event.slug}.ics")

    assert response.status_code == 200
    assert response.headers["content-type"] == CALENDAR_TYPE


async def test_event_ics_is_an_attachment_named_after_the_event(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    response = await fetch(client, f"/events/{event.slug}.ics")

    assert response.headers["content-disposition"] == f'attachment; filename="{event.slug}.ics"'


async def test_event_ics_has_method_publish(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    calendar = await calendar_at(client, f"/events/{event.slug}.ics")

    assert calendar["METHOD"] == "PUBLISH"


async def test_event_ics_has_version_and_prodid_exactly_once(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    body = (await fetch(client, f"/events/{event.slug}.ics")).content

    assert [line for line in lines(body) if line.startswith((b"VERSION", b"PRODID"))] == [
        b"VERSION:2.0",
        b"PRODID:" + PRODID.encode(),
    ]


async def test_event_ics_holds_one_vevent_with_the_events_stable_uid(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    assert await uids_at(client, f"/events/{event.slug}.ics") == [event.calendar_uid]


async def test_event_ics_keeps_its_uid_after_the_event_changes(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    await edit(event, title="Neuer Titel", starts_at=event.starts_at + timedelta(hours=1))

    assert await uids_at(client, f"/events/{event.slug}.ics") == [event.calendar_uid]


async def test_event_ics_starts_in_berlin_local_time(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    local_start = event.starts_at.astimezone(event.zone).strftime("%Y%m%dT%H%M%S")

    body = (await fetch(client, f"/events/{event.slug}.ics")).content

    assert f"DTSTART;TZID=Europe/Berlin:{local_start}".encode() in lines(body)


async def test_event_ics_declares_the_vtimezone_of_its_tzid(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    calendar = await calendar_at(client, f"/events/{event.slug}.ics")

    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert calendar.get_missing_tzids() == set()


async def test_event_ics_lists_no_attendee_even_with_registrations(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")

    body = (await fetch(client, f"/events/{event.slug}.ics")).content

    assert b"ATTENDEE" not in body
    assert b"anna@example.org" not in body


async def test_event_ics_of_a_published_event_is_confirmed_with_sequence_zero(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    vevent = only_event(await calendar_at(client, f"/events/{event.slug}.ics"))

    assert (vevent["STATUS"], vevent["SEQUENCE"]) == ("CONFIRMED", 0)


async def test_event_ics_of_a_cancelled_event_is_cancelled_with_a_raised_sequence(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    await cancel(event)

    vevent = only_event(await calendar_at(client, f"/events/{event.slug}.ics"))

    assert (vevent["STATUS"], vevent["SEQUENCE"]) == ("CANCELLED", 1)


async def test_event_ics_raises_its_sequence_when_the_event_moves(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    await edit(event, starts_at=event.starts_at + timedelta(hours=1))

    vevent = only_event(await calendar_at(client, f"/events/{event.slug}.ics"))

    assert vevent["SEQUENCE"] == 1


async def test_event_ics_lines_end_in_crlf_and_fit_75_octets(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(
        owner,
        title="Kommunale Wärmeplanung für Städte und Gemeinden in Sachsen: Grundlagen und Praxis",
        summary="Übersicht über Fördermittel, Fristen und Datengrundlagen " * 5,
    )

    body = (await fetch(client, f"/events/{event.slug}.ics")).content

    assert body.count(b"\n") == body.count(b"\r\n")
    for line in lines(body):
        assert 0 < len(line) <= 75, line
        line.decode("utf-8")  # folding never splits a character
    assert not body.startswith((b" ", b"\r\n"))


async def test_event_ics_escapes_semicolons_and_commas_in_text(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(
        owner,
        title="Wärme; Strom, Gas",
        venue={"name": "Raum 2; Haus B", "street": "Markt 1", "postal_code": "", "city": "Pirna"},
    )

    body = (await fetch(client, f"/events/{event.slug}.ics")).content

    assert "SUMMARY:Wärme\\; Strom\\, Gas".encode() in unfolded(body)
    assert b"LOCATION:Raum 2\\; Haus B\\, Markt 1\\, Pirna" in unfolded(body)


async def test_event_ics_of_a_draft_is_not_found(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    draft = await factories.event(owner, publish=False)

    response = await fetch(client, f"/events/{draft.slug}.ics")

    assert response.status_code == 404


async def test_event_ics_of_an_unknown_event_is_not_found(client: httpx.AsyncClient) -> None:
    response = await fetch(client, "/events/no-such-event.ics")

    assert response.status_code == 404


async def test_event_ics_carries_an_etag_and_last_modified(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    response = await fetch(client, f"/events/{event.slug}.ics")

    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"] == event.updated_at.astimezone(UTC).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )


async def test_event_ics_with_its_etag_in_if_none_match_answers_304_with_the_etag(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    etag = (await fetch(client, f"/events/{event.slug}.ics")).headers["etag"]

    response = await fetch(client, f"/events/{event.slug}.ics", **{"If-None-Match": etag})

    assert response.status_code == 304
    assert response.headers["etag"] == etag
    assert response.content == b""


async def test_event_ics_changes_its_etag_when_the_event_changes(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    before = (await fetch(client, f"/events/{event.slug}.ics")).headers["etag"]
    await edit(event, title="Breitband für Schulen, zweiter Teil")

    response = await fetch(client, f"/events/{event.slug}.ics", **{"If-None-Match": before})

    assert response.status_code == 200
    assert response.headers["etag"] != before
    assert str(only_event(Calendar.from_ical(response.content))["SUMMARY"]) == (
        "Breitband für Schulen, zweiter Teil"
    )


async def test_event_ics_is_byte_identical_on_two_requests(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    first = await fetch(client, f"/events/{event.slug}.ics")
    second = await fetch(client, f"/events/{event.slug}.ics")

    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]


# --- GET /calendar.ics: what is in it ------------------------------------------------------


async def test_feed_lists_every_upcoming_public_event_soonest_first(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    later = await factories.event(owner, days_ahead=20)
    sooner = await factories.event(owner, days_ahead=5)

    assert await uids_at(client, FEED) == [sooner.calendar_uid, later.calendar_uid]


@pytest.mark.parametrize(
    ("params", "matching", "other"),
    [
        pytest.param({"region": "DE-SN"}, {"region": "DE-SN"}, {"region": "DE-BY"}, id="region"),
        pytest.param(
            {"sector": "energy"},
            {"sectors": ["energy", "health"]},
            {"sectors": ["health"]},
            id="sector",
        ),
        pytest.param({"kind": "networking_meeting"}, {"kind": "networking_meeting"}, {}, id="kind"),
        pytest.param({"format": "online"}, ONLINE, {}, id="format"),
        pytest.param({"q": "Wärmeplanung"}, {"title": "Kommunale Wärmeplanung"}, {}, id="q"),
    ],
)
async def test_feed_lists_only_the_events_matching_a_catalogue_filter(
    client: httpx.AsyncClient,
    owner: CurrentOrganiser,
    params: dict[str, str],
    matching: dict[str, Any],
    other: dict[str, Any],
) -> None:
    wanted = await factories.event(owner, **matching)
    await factories.event(owner, **other)

    assert await uids_at(client, FEED, **params) == [wanted.calendar_uid]


async def test_feed_combines_filters(client: httpx.AsyncClient, owner: CurrentOrganiser) -> None:
    wanted = await factories.event(owner, region="DE-SN", kind="networking_meeting")
    await factories.event(owner, region="DE-SN", kind="workshop")
    await factories.event(owner, region="DE-BY", kind="networking_meeting")

    assert await uids_at(client, FEED, region="DE-SN", kind="networking_meeting") == [
        wanted.calendar_uid
    ]


async def test_feed_never_lists_drafts(client: httpx.AsyncClient, owner: CurrentOrganiser) -> None:
    published = await factories.event(owner)
    await factories.event(owner, publish=False)

    assert await uids_at(client, FEED) == [published.calendar_uid]


async def test_feed_keeps_a_cancelled_event_marked_cancelled_with_a_raised_sequence(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    await cancel(event)

    vevent = only_event(await calendar_at(client, FEED))

    assert (str(vevent["UID"]), vevent["STATUS"], vevent["SEQUENCE"]) == (
        event.calendar_uid,
        "CANCELLED",
        1,
    )


async def test_feed_drops_a_cancelled_event_once_it_is_over(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    upcoming = await factories.event(owner)
    await cancel(event)
    await move_event_into_the_past(event.slug)

    assert await uids_at(client, FEED) == [upcoming.calendar_uid]


async def test_feed_drops_an_event_once_it_is_over(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    finished = await factories.event(owner, title="Vorbei")
    upcoming = await factories.event(owner)
    await move_event_into_the_past(finished.slug)

    assert await uids_at(client, FEED) == [upcoming.calendar_uid]


async def test_feed_keeps_an_event_that_is_running_now(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    await Event.update(
        {
            Event.starts_at: datetime.now(UTC) - timedelta(hours=1),
            Event.ends_at: datetime.now(UTC) + timedelta(hours=1),
        }
    ).where(Event.id == event.id)

    assert await uids_at(client, FEED) == [event.calendar_uid]


async def test_feed_lists_no_attendee(client: httpx.AsyncClient, owner: CurrentOrganiser) -> None:
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")

    body = (await fetch(client, FEED)).content

    assert b"ATTENDEE" not in body
    assert b"anna@example.org" not in body


async def test_feed_has_method_publish_and_no_other_method(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner)
    await cancel(await factories.event(owner))

    body = (await fetch(client, FEED)).content

    assert [line for line in unfolded(body) if line.startswith(b"METHOD")] == [b"METHOD:PUBLISH"]


async def test_feed_is_named_treffpunkt_for_every_client(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner)

    body = (await fetch(client, FEED)).content

    assert [line for line in lines(body) if line.startswith((b"NAME", b"X-WR-CALNAME"))] == [
        b"NAME:Treffpunkt",
        b"X-WR-CALNAME:Treffpunkt",
    ]


async def test_feed_of_a_region_is_named_after_the_region(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner, region="DE-SN")

    calendar = await calendar_at(client, FEED, region="DE-SN")

    assert (str(calendar["NAME"]), str(calendar["X-WR-CALNAME"])) == (
        "Treffpunkt · Sachsen",
        "Treffpunkt · Sachsen",
    )


async def test_feed_asks_clients_to_refresh_hourly(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner)

    body = (await fetch(client, FEED)).content

    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines(body)
    assert b"X-PUBLISHED-TTL:PT1H" in lines(body)


async def test_feed_declares_a_vtimezone_for_every_tzid(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner)
    await factories.event(owner, timezone="America/New_York")

    calendar = await calendar_at(client, FEED)

    assert sorted(str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")) == [
        "America/New_York",
        "Europe/Berlin",
    ]
    assert calendar.get_missing_tzids() == set()


async def test_feed_without_events_is_an_empty_calendar(client: httpx.AsyncClient) -> None:
    calendar = await calendar_at(client, FEED)

    assert (calendar["METHOD"], calendar.walk("VEVENT")) == ("PUBLISH", [])


# --- GET /calendar.ics: HTTP ---------------------------------------------------------------


async def test_feed_answers_as_utf8_text_calendar_shown_inline(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner)

    response = await fetch(client, FEED)

    assert response.status_code == 200
    assert response.headers["content-type"] == CALENDAR_TYPE
    assert "content-disposition" not in response.headers


async def test_feed_may_be_cached_publicly(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner)

    response = await fetch(client, FEED)

    assert response.headers["cache-control"] == "public, max-age=300"


async def test_feed_is_byte_identical_on_two_requests(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner)
    await cancel(await factories.event(owner))

    first = await fetch(client, FEED)
    second = await fetch(client, FEED)

    assert first.content == second.content


async def test_feed_sends_a_strong_etag_and_last_modified(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    response = await fetch(client, FEED)

    etag = response.headers["etag"]
    assert re.fullmatch(r'"[^"]+"', etag), etag  # strong: no W/ prefix
    assert response.headers["last-modified"] == event.updated_at.astimezone(UTC).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )


async def test_feed_with_its_etag_in_if_none_match_answers_304(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner)
    etag = (await fetch(client, FEED)).headers["etag"]

    response = await fetch(client, FEED, **{"If-None-Match": etag})

    assert response.status_code == 304
    assert response.headers["etag"] == etag
    assert response.content == b""


async def test_feed_with_its_etag_weakened_by_a_proxy_in_if_none_match_answers_304(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    """If-None-Match compares weakly (RFC 9110 13.1.2); gzip proxies send W/"…" back."""
    await factories.event(owner)
    etag = (await fetch(client, FEED)).headers["etag"]

    response = await fetch(client, FEED, **{"If-None-Match": f"W/{etag}"})

    assert response.status_code == 304


async def test_feed_with_if_modified_since_its_last_modified_answers_304(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner)
    last_modified = (await fetch(client, FEED)).headers["last-modified"]

    response = await fetch(client, FEED, **{"If-Modified-Since": last_modified})

    assert response.status_code == 304
    assert response.content == b""


async def test_feed_etag_depends_on_the_filters(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner, region="DE-SN")
    everything = (await fetch(client, FEED)).headers["etag"]

    response = await client.get(
        FEED, params={"kind": "workshop"}, headers={"If-None-Match": everything}
    )

    assert response.status_code == 200
    assert response.headers["etag"] != everything


async def test_feed_answers_200_again_after_a_new_event_is_published(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    first = await factories.event(owner)
    etag = (await fetch(client, FEED)).headers["etag"]
    second = await factories.event(owner, days_ahead=11)

    response = await fetch(client, FEED, **{"If-None-Match": etag})

    assert response.status_code == 200
    assert response.headers["etag"] != etag
    calendar = Calendar.from_ical(response.content)
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == [
        first.calendar_uid,
        second.calendar_uid,
    ]


async def test_feed_answers_200_again_after_an_event_is_edited(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    etag = (await fetch(client, FEED)).headers["etag"]
    await edit(event, title="Breitband für Schulen, neu")

    response = await fetch(client, FEED, **{"If-None-Match": etag})

    assert response.status_code == 200
    assert str(only_event(Calendar.from_ical(response.content))["SUMMARY"]) == (
        "Breitband für Schulen, neu"
    )


async def test_feed_answers_200_to_if_modified_since_before_an_edit(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await backdate(await factories.event(owner))
    last_modified = (await fetch(client, FEED)).headers["last-modified"]
    await edit(event, title="Breitband für Schulen, neu")

    response = await fetch(client, FEED, **{"If-Modified-Since": last_modified})

    assert response.status_code == 200


async def test_feed_answers_200_to_if_modified_since_after_an_edit_moves_an_event_out_of_it(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    staying = await backdate(await factories.event(owner, region="DE-SN"), hours=1)
    moving = await backdate(await factories.event(owner, region="DE-SN"), hours=2)
    last_modified = (await client.get(FEED, params={"region": "DE-SN"})).headers["last-modified"]
    await edit(moving, region="DE-BY")

    response = await client.get(
        FEED, params={"region": "DE-SN"}, headers={"If-Modified-Since": last_modified}
    )

    assert response.status_code == 200
    uids = [str(e["UID"]) for e in Calendar.from_ical(response.content).walk("VEVENT")]
    assert uids == [staying.calendar_uid]


async def test_feed_answers_200_again_after_an_event_is_cancelled(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    etag = (await fetch(client, FEED)).headers["etag"]
    await cancel(event)

    response = await fetch(client, FEED, **{"If-None-Match": etag})

    assert response.status_code == 200
    assert only_event(Calendar.from_ical(response.content))["STATUS"] == "CANCELLED"


async def test_feed_answers_200_again_after_an_event_is_over(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    etag = (await fetch(client, FEED)).headers["etag"]
    await move_event_into_the_past(event.slug)

    response = await fetch(client, FEED, **{"If-None-Match": etag})

    assert response.status_code == 200
    assert Calendar.from_ical(response.content).walk("VEVENT") == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("region", "XX"),
        ("sector", "space"),
        ("kind", "party"),
        ("format", "carrier_pigeon"),
        ("starts_after", "tomorrow"),
    ],
)
async def test_feed_with_an_invalid_filter_answers_422(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    response = await client.get(FEED, params={name: value})

    assert response.status_code == 422


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("region", "XX"),
        ("sector", "space"),
        ("kind", "party"),
        ("format", "carrier_pigeon"),
        ("starts_after", "tomorrow"),
    ],
)
async def test_feed_with_an_invalid_filter_answers_problem_details_naming_the_field(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    response = await client.get(FEED, params={name: value})

    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (422, "validation_error")
    assert [error["field"] for error in body["errors"]] == [name]


# --- links on the pages --------------------------------------------------------------------


async def test_catalogue_links_the_webcal_feed_with_the_current_filters(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/events", params={"region": "DE-SN", "kind": "workshop"})).text

    webcal = urlsplit(the_link(html, "webcal://"))

    host = urlsplit(get_settings().base_url).netloc
    assert (webcal.netloc, webcal.path) == (host, FEED)
    assert query_of(webcal.geturl()) == {"region": ["DE-SN"], "kind": ["workshop"]}


async def test_catalogue_links_the_web_feed_address_with_the_current_filters(
    client: httpx.AsyncClient,
) -> None:
    html = (
        await client.get(
            "/events", params={"q": "Wärme", "sector": "energy", "format": "online", "limit": "5"}
        )
    ).text

    feed = the_link(html, f"{get_settings().base_url}{FEED}")

    assert query_of(feed) == {"q": ["Wärme"], "sector": ["energy"], "format": ["online"]}


async def test_catalogue_without_filters_links_the_whole_feed(client: httpx.AsyncClient) -> None:
    html = (await client.get("/events")).text

    base_url = get_settings().base_url
    assert the_link(html, "webcal://") == "webcal://" + base_url.split("://", 1)[1] + FEED
    assert the_link(html, f"{base_url}{FEED}") == f"{base_url}{FEED}"


async def test_catalogue_feed_link_lists_what_the_catalogue_lists(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    wanted = await factories.event(owner, region="DE-SN")
    await factories.event(owner, region="DE-BY")
    html = (await client.get("/events", params={"region": "DE-SN"})).text
    feed = the_link(html, f"{get_settings().base_url}{FEED}")

    assert await uids_at(client, feed) == [wanted.calendar_uid]


async def test_event_page_links_its_calendar_file(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    html = (await client.get(f"/events/{event.slug}")).text

    assert links(html, f"/events/{event.slug}.ics") == [f"/events/{event.slug}.ics"]


async def test_event_page_links_google_calendar_with_the_title_and_utc_times(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner, title="Wärme & Strom")

    html = (await client.get(f"/events/{event.slug}")).text

    query = query_of(the_link(html, "https://calendar.google.com/calendar/render?"))
    start = event.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    end = event.ends_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert (query["action"], query["text"], query["dates"]) == (
        ["TEMPLATE"],
        ["Wärme & Strom"],
        [f"{start}/{end}"],
    )


async def test_event_page_links_outlook_with_the_title_and_utc_times(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner, title="Wärme & Strom")

    html = (await client.get(f"/events/{event.slug}")).text

    query = query_of(the_link(html, "https://outlook.office.com/calendar/"))
    assert (query["subject"], query["startdt"], query["enddt"]) == (
        ["Wärme & Strom"],
        [event.starts_at.astimezone(UTC).isoformat()],
        [event.ends_at.astimezone(UTC).isoformat()],
    )


# --- GET /registrations/{token}/calendar.ics: the personal feed ----------------------------


async def test_personal_feed_lists_every_event_the_person_holds_a_confirmed_seat_at(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    first = await factories.event(owner, days_ahead=5)
    second = await factories.event(owner, days_ahead=8)
    token = await token_of(client, second, "anna@example.org")
    await register_ok(client, first.slug, email="anna@example.org")

    assert await uids_at(client, f"/registrations/{token}/calendar.ics") == [
        first.calendar_uid,
        second.calendar_uid,
    ]


async def test_personal_feed_leaves_out_events_the_person_is_waitlisted_for(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    seat = await factories.event(owner)
    full = await factories.event(owner, capacity=1, waitlist=True)
    await register_ok(client, full.slug, email="bert@example.org")
    token = await token_of(client, seat, "anna@example.org")
    receipt = await register_ok(client, full.slug, email="anna@example.org")
    assert receipt["status"] == "waitlisted"

    assert await uids_at(client, f"/registrations/{token}/calendar.ics") == [seat.calendar_uid]


async def test_personal_feed_leaves_out_cancelled_registrations(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    kept = await factories.event(owner)
    dropped = await factories.event(owner)
    token = await token_of(client, kept, "anna@example.org")
    await cancel_by_person(
        await token_of(client, dropped, "anna@example.org"), now=datetime.now(UTC)
    )

    assert await uids_at(client, f"/registrations/{token}/calendar.ics") == [kept.calendar_uid]


async def test_personal_feed_leaves_out_other_peoples_events(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    mine = await factories.event(owner)
    theirs = await factories.event(owner)
    token = await token_of(client, mine, "anna@example.org")
    await register_ok(client, theirs.slug, email="bert@example.org")

    assert await uids_at(client, f"/registrations/{token}/calendar.ics") == [mine.calendar_uid]


async def test_personal_feed_keeps_a_cancelled_event_marked_cancelled(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    token = await token_of(client, event, "anna@example.org")
    await cancel(event)

    vevent = only_event(await calendar_at(client, f"/registrations/{token}/calendar.ics"))

    assert (vevent["STATUS"], vevent["SEQUENCE"]) == ("CANCELLED", 1)


async def test_personal_feed_lists_no_attendee(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    token = await token_of(client, event, "anna@example.org")

    body = (await fetch(client, f"/registrations/{token}/calendar.ics")).content

    assert b"ATTENDEE" not in body
    assert b"anna@example.org" not in body


async def test_personal_feed_may_be_cached_only_privately(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    token = await token_of(client, event, "anna@example.org")

    response = await fetch(client, f"/registrations/{token}/calendar.ics")

    assert response.status_code == 200
    assert response.headers["content-type"] == CALENDAR_TYPE
    assert response.headers["cache-control"] == "private, max-age=300"


async def test_personal_feed_with_its_etag_in_if_none_match_answers_304(
    client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)
    token = await token_of(client, event, "anna@example.org")
    etag = (await fetch(client, f"/registrations/{token}/calendar.ics")).headers["etag"]

    response = await fetch(
        client, f"/registrations/{token}/calendar.ics", **{"If-None-Match": etag}
    )

    assert response.status_code == 304
    assert response.headers["cache-control"] == "private, max-age=300"


async def test_personal_feed_of_an_unknown_token_is_not_found(client: httpx.AsyncClient) -> None:
    response = await fetch(client, "/registrations/" + "A" * 43 + "/calendar.ics")

    assert response.status_code == 404
