"""Invites (REQUEST), cancellations (CANCEL) and published calendars (PUBLISH, feeds).

Everything here takes plain values and returns bytes from icalendar's `to_ical()`, which
escapes text, folds lines at 75 octets and ends every line with CRLF.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vDuration, vText
from icalendar.enums import STATUS

from treffpunkt.addresses import ascii_address
from treffpunkt.ical.timezones import vtimezone

PRODID = "-//Treffpunkt//Workshops und Netzwerktreffen 1.0//DE"
FEED_REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class CalendarEvent:
    """What a calendar needs to know of one event."""

    uid: str
    sequence: int
    title: str
    description: str
    location: str
    url: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    cancelled: bool
    organiser_name: str
    organiser_email: str
    updated_at: datetime


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str


def _organizer(event: CalendarEvent) -> vCalAddress:
    organizer = vCalAddress(f"mailto:{ascii_address(event.organiser_email)}")
    organizer.params["CN"] = vText(event.organiser_name)
    return organizer


def _attendee(person: Attendee) -> vCalAddress:
    address = vCalAddress(f"mailto:{ascii_address(person.email)}")
    address.params.update(
        {
            "CN": vText(person.name),
            "CUTYPE": "INDIVIDUAL",
            "ROLE": "REQ-PARTICIPANT",
            "PARTSTAT": "ACCEPTED",
            "RSVP": "FALSE",
        }
    )
    return address


def _vevent(
    event: CalendarEvent,
    *,
    now: datetime,
    sequence: int,
    cancelled: bool,
    description: str | None = None,
    attendee: Attendee | None = None,
) -> Event:
    component = Event.new(
        uid=event.uid,
        stamp=now,
        sequence=sequence,
        start=event.starts_at.astimezone(_zone(event)),
        end=event.ends_at.astimezone(_zone(event)),
        summary=event.title,
        description=description if description is not None else event.description,
        location=event.location or None,
        url=event.url,
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
        organizer=_organizer(event),
        attendees=[_attendee(attendee)] if attendee else None,
    )
    return component


def _zone(event: CalendarEvent) -> ZoneInfo:
    return ZoneInfo(event.timezone)


def _calendar(method: str, events: Iterable[tuple[CalendarEvent, Event]], **extra: Any) -> Calendar:
    """A VCALENDAR with one VTIMEZONE per zone used (rules of the first event's year)."""
    components = sorted(events, key=lambda pair: pair[0].starts_at)
    calendar = Calendar.new(prodid=PRODID, method=method, **extra)
    # Calendar.new adds a random calendar UID (RFC 7986); it would change every download.
    del calendar["UID"]
    zones: dict[str, int] = {}
    for event, _ in components:
        zones.setdefault(event.timezone, event.starts_at.astimezone(_zone(event)).year)
    for tzid, year in zones.items():
        calendar.add_component(vtimezone(tzid, year))
    for _, component in components:
        calendar.add_component(component)
    return calendar


def invite(
    event: CalendarEvent, attendee: Attendee, *, sequence: int, description: str, now: datetime
) -> bytes:
    """METHOD:REQUEST for one person, listed as the only ATTENDEE (accepted)."""
    return _itip("REQUEST", event, attendee, sequence=sequence, description=description, now=now)


def cancellation(
    event: CalendarEvent, attendee: Attendee, *, sequence: int, description: str, now: datetime
) -> bytes:
    """METHOD:CANCEL with the invite's UID: removes the event from that person's calendar."""
    return _itip("CANCEL", event, attendee, sequence=sequence, description=description, now=now)


def _itip(
    method: str,
    event: CalendarEvent,
    attendee: Attendee,
    *,
    sequence: int,
    description: str,
    now: datetime,
) -> bytes:
    component = _vevent(
        event,
        now=now,
        sequence=sequence,
        cancelled=method == "CANCEL",
        description=description,
        attendee=attendee,
    )
    return bytes(_calendar(method, [(event, component)]).to_ical())


FeedEntry = tuple[CalendarEvent, Event]


def feed_entry(event: CalendarEvent) -> FeedEntry:
    """One event as a published calendar lists it; raises if its data cannot be written.

    Built one by one, so that a feed can leave out an event it cannot render.
    DTSTAMP is the event's last change, so the same events give the same bytes (and ETag).
    """
    return event, _vevent(
        event, now=event.updated_at, sequence=event.sequence, cancelled=event.cancelled
    )


def published(entries: Iterable[FeedEntry], *, name: str) -> bytes:
    """METHOD:PUBLISH, without attendees: one event to download, or a subscribable feed."""
    calendar = _calendar("PUBLISH", entries, name=name, refresh_interval=FEED_REFRESH)
    # icalendar 7.3 writes REFRESH-INTERVAL without the VALUE=DURATION that RFC 7986 requires.
    calendar["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"
    calendar.add("X-PUBLISHED-TTL", vDuration(FEED_REFRESH))
    return bytes(calendar.to_ical())
