"""The pure iCalendar functions: VTIMEZONE rules, invites, cancellations and published calendars.

Parsed back with icalendar, as a calendar client would read them (RFC 5545 / RFC 5546).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from icalendar import Calendar, Component, Timezone

from treffpunkt.ical.calendars import (
    PRODID,
    Attendee,
    CalendarEvent,
    cancellation,
    feed_entry,
    invite,
    published,
)
from treffpunkt.ical.timezones import vtimezone

NOW = datetime(2030, 5, 1, 9, 30, tzinfo=UTC)
ANNA = Attendee(name="Anna Beispiel", email="anna@example.org")


def calendar_event(**overrides: Any) -> CalendarEvent:
    """A summer workshop in Dresden: 10:00 to 13:00 Berlin time on 3 June 2030."""
    values: dict[str, Any] = {
        "uid": "event-0123456789abcdef@testserver",
        "sequence": 0,
        "title": "Breitband für Schulen",
        "description": "Glasfaser und WLAN für alle Schulen",
        "location": "Rathaus, Markt 1, 01067 Dresden",
        "url": "http://testserver/events/breitband-abc234",
        "starts_at": datetime(2030, 6, 3, 8, 0, tzinfo=UTC),
        "ends_at": datetime(2030, 6, 3, 11, 0, tzinfo=UTC),
        "timezone": "Europe/Berlin",
        "cancelled": False,
        "organiser_name": "Kreisverwaltung",
        "organiser_email": "kontakt@example.org",
        "updated_at": datetime(2030, 4, 1, 12, 0, tzinfo=UTC),
    }
    values.update(overrides)
    return CalendarEvent(**values)


def feed(events: list[CalendarEvent], *, name: str) -> bytes:
    """A published calendar of these events, built the way the feeds build it."""
    return published([feed_entry(e) for e in events], name=name)


def parsed(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def only_event(body: bytes) -> Component:
    events = parsed(body).walk("VEVENT")
    assert len(events) == 1
    return events[0]


def parts(zone: Timezone) -> list[tuple[str, dict[str, Any] | None, str, str, str]]:
    """(kind, RRULE, TZOFFSETFROM, TZOFFSETTO, DTSTART) of each part, as a client reads them."""
    read_back = Timezone.from_ical(zone.to_ical())
    found: list[tuple[str, dict[str, Any] | None, str, str, str]] = []
    for part in read_back.subcomponents:
        rule: Any = part.get("RRULE")
        offset_from: Any = part["TZOFFSETFROM"]
        offset_to: Any = part["TZOFFSETTO"]
        start: Any = part["DTSTART"]
        found.append(
            (
                str(part.name),
                dict(rule) if rule is not None else None,
                offset_from.to_ical(),
                offset_to.to_ical(),
                start.to_ical().decode(),
            )
        )
    return found


def invite_of(event: CalendarEvent) -> bytes:
    return invite(event, ANNA, sequence=event.sequence, description="Bis bald!", now=NOW)


def cancellation_of(event: CalendarEvent) -> bytes:
    return cancellation(event, ANNA, sequence=event.sequence + 1, description="Abgesagt", now=NOW)


def physical_lines(body: bytes) -> list[bytes]:
    assert body.endswith(b"\r\n")
    return body.removesuffix(b"\r\n").split(b"\r\n")


# --- VTIMEZONE -----------------------------------------------------------------------------


def test_berlin_has_one_daylight_and_one_standard_part() -> None:
    zone = vtimezone("Europe/Berlin", 2030)

    assert zone["TZID"] == "Europe/Berlin"
    assert [part.name for part in zone.subcomponents] == ["DAYLIGHT", "STANDARD"]


def test_berlin_summer_time_starts_on_the_last_sunday_of_march() -> None:
    daylight = parts(vtimezone("Europe/Berlin", 2030))[0]

    assert daylight == (
        "DAYLIGHT",
        {"FREQ": ["YEARLY"], "BYMONTH": [3], "BYDAY": ["-1SU"]},
        "+0100",
        "+0200",
        "19700329T020000",
    )


def test_berlin_winter_time_starts_on_the_last_sunday_of_october() -> None:
    standard = parts(vtimezone("Europe/Berlin", 2030))[1]

    assert standard == (
        "STANDARD",
        {"FREQ": ["YEARLY"], "BYMONTH": [10], "BYDAY": ["-1SU"]},
        "+0200",
        "+0100",
        "19701025T030000",
    )


def test_berlin_rules_are_the_same_in_a_year_after_2038() -> None:
    assert parts(vtimezone("Europe/Berlin", 2040)) == parts(vtimezone("Europe/Berlin", 2030))


def test_a_zone_without_daylight_saving_gets_one_standard_part_without_a_rule() -> None:
    zone = vtimezone("Asia/Tokyo", 2030)

    assert zone["TZID"] == "Asia/Tokyo"
    assert parts(zone) == [("STANDARD", None, "+0900", "+0900", "19700101T000000")]


def test_new_york_summer_time_starts_on_the_second_sunday_of_march() -> None:
    daylight = parts(vtimezone("America/New_York", 2030))[0]

    assert daylight == (
        "DAYLIGHT",
        {"FREQ": ["YEARLY"], "BYMONTH": [3], "BYDAY": ["2SU"]},
        "-0500",
        "-0400",
        "19700308T020000",
    )


def test_new_york_winter_time_starts_on_the_first_sunday_of_november() -> None:
    standard = parts(vtimezone("America/New_York", 2030))[1]

    assert standard == (
        "STANDARD",
        {"FREQ": ["YEARLY"], "BYMONTH": [11], "BYDAY": ["1SU"]},
        "-0400",
        "-0500",
        "19701101T020000",
    )


# --- invite (METHOD:REQUEST) ---------------------------------------------------------------


def test_invite_has_method_request() -> None:
    assert parsed(invite_of(calendar_event()))["METHOD"] == "REQUEST"


def test_invite_lists_the_person_as_the_only_attendee_accepted_without_rsvp() -> None:
    attendees = only_event(invite_of(calendar_event())).get("ATTENDEE")

    assert not isinstance(attendees, list)
    assert str(attendees) == "mailto:anna@example.org"
    assert dict(attendees.params) == {
        "CN": "Anna Beispiel",
        "CUTYPE": "INDIVIDUAL",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "ACCEPTED",
        "RSVP": "FALSE",
    }


def test_invite_names_the_organiser_by_mailto_address() -> None:
    organizer = only_event(invite_of(calendar_event()))["ORGANIZER"]

    assert str(organizer) == "mailto:kontakt@example.org"
    assert organizer.params["CN"] == "Kreisverwaltung"


def test_invite_names_an_organiser_with_an_international_domain_in_idna() -> None:
    event = calendar_event(organiser_email="kontakt@köln.de")

    organizer = only_event(invite_of(event))["ORGANIZER"]

    assert str(organizer) == "mailto:kontakt@xn--kln-sna.de"


def test_invite_lists_an_attendee_with_an_international_domain_in_idna() -> None:
    person = Attendee(name="Jörg Beispiel", email="joerg@köln.de")

    body = invite(calendar_event(), person, sequence=0, description="Bis bald!", now=NOW)

    assert str(only_event(body)["ATTENDEE"]) == "mailto:joerg@xn--kln-sna.de"


def test_published_names_an_organiser_with_an_international_domain_in_idna() -> None:
    body = feed([calendar_event(organiser_email="kontakt@köln.de")], name="Treffpunkt")

    assert str(only_event(body)["ORGANIZER"]) == "mailto:kontakt@xn--kln-sna.de"


def test_invite_has_no_calendar_level_uid() -> None:
    calendar = parsed(invite_of(calendar_event()))

    assert "UID" not in calendar


def test_invite_carries_the_event_uid_and_the_given_sequence() -> None:
    vevent = only_event(invite_of(calendar_event(sequence=3)))

    assert vevent["UID"] == "event-0123456789abcdef@testserver"
    assert vevent["SEQUENCE"] == 3


def test_invite_is_confirmed_and_stamped_in_utc_at_the_given_time() -> None:
    body = invite_of(calendar_event())

    assert b"\r\nSTATUS:CONFIRMED\r\n" in body
    assert b"\r\nDTSTAMP:20300501T093000Z\r\n" in body


def test_invite_starts_in_berlin_local_time_with_its_vtimezone() -> None:
    body = invite_of(calendar_event())

    assert b"\r\nDTSTART;TZID=Europe/Berlin:20300603T100000\r\n" in body
    assert b"\r\nDTEND;TZID=Europe/Berlin:20300603T130000\r\n" in body
    assert parsed(body).get_missing_tzids() == set()


def test_invite_has_version_and_prodid_exactly_once() -> None:
    lines = physical_lines(invite_of(calendar_event()))

    assert lines.count(b"VERSION:2.0") == 1
    assert lines.count(b"PRODID:" + PRODID.encode()) == 1


# --- cancellation (METHOD:CANCEL) ----------------------------------------------------------


def test_cancellation_has_method_cancel() -> None:
    assert parsed(cancellation_of(calendar_event()))["METHOD"] == "CANCEL"


def test_cancellation_marks_the_event_cancelled() -> None:
    assert only_event(cancellation_of(calendar_event()))["STATUS"] == "CANCELLED"


def test_cancellation_keeps_the_invite_uid_with_the_raised_sequence() -> None:
    event = calendar_event(sequence=2)

    vevent = only_event(cancellation_of(event))

    assert vevent["UID"] == only_event(invite_of(event))["UID"]
    assert vevent["SEQUENCE"] == 3


def test_cancellation_lists_the_person_as_attendee_and_has_no_alarm() -> None:
    body = cancellation_of(calendar_event())

    assert str(only_event(body)["ATTENDEE"]) == "mailto:anna@example.org"
    assert parsed(body).walk("VALARM") == []


# --- published (METHOD:PUBLISH) ------------------------------------------------------------


def test_published_has_method_publish() -> None:
    assert parsed(feed([calendar_event()], name="Treffpunkt"))["METHOD"] == "PUBLISH"


def test_published_has_no_attendee() -> None:
    body = feed([calendar_event()], name="Treffpunkt")

    assert "ATTENDEE" not in only_event(body)
    assert b"ATTENDEE" not in body


def test_published_gives_the_same_bytes_for_the_same_events() -> None:
    events = [calendar_event(), calendar_event(uid="event-2@testserver", title="Zweites")]

    assert feed(events, name="Treffpunkt") == feed(list(events), name="Treffpunkt")


def test_published_stamps_each_event_with_its_last_change() -> None:
    vevent = only_event(feed([calendar_event()], name="Treffpunkt"))

    assert vevent["DTSTAMP"].to_ical() == b"20300401T120000Z"


def test_published_marks_a_cancelled_event_cancelled() -> None:
    body = feed([calendar_event(cancelled=True, sequence=1)], name="Treffpunkt")

    vevent = only_event(body)
    assert vevent["STATUS"] == "CANCELLED"
    assert vevent["SEQUENCE"] == 1


def test_published_names_the_calendar_and_asks_for_hourly_refresh() -> None:
    lines = physical_lines(feed([calendar_event()], name="Treffpunkt · Sachsen"))

    assert "NAME:Treffpunkt · Sachsen".encode() in lines
    assert "X-WR-CALNAME:Treffpunkt · Sachsen".encode() in lines
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    assert b"X-PUBLISHED-TTL:PT1H" in lines


def test_published_lists_events_soonest_first() -> None:
    later = calendar_event(
        uid="later@testserver",
        starts_at=datetime(2030, 7, 1, 8, tzinfo=UTC),
        ends_at=datetime(2030, 7, 1, 10, tzinfo=UTC),
    )
    sooner = calendar_event(uid="sooner@testserver")

    calendar = parsed(feed([later, sooner], name="Treffpunkt"))

    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == [
        "sooner@testserver",
        "later@testserver",
    ]


def test_a_feed_with_events_in_two_zones_has_one_vtimezone_per_zone() -> None:
    events = [
        calendar_event(uid="dresden-1@testserver"),
        calendar_event(
            uid="dresden-2@testserver",
            starts_at=datetime(2030, 6, 4, 8, tzinfo=UTC),
            ends_at=datetime(2030, 6, 4, 10, tzinfo=UTC),
        ),
        calendar_event(
            uid="new-york@testserver",
            timezone="America/New_York",
            starts_at=datetime(2030, 6, 5, 14, tzinfo=UTC),
            ends_at=datetime(2030, 6, 5, 16, tzinfo=UTC),
        ),
    ]

    calendar = parsed(feed(events, name="Treffpunkt"))

    assert sorted(str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")) == [
        "America/New_York",
        "Europe/Berlin",
    ]
    assert calendar.get_missing_tzids() == set()


def test_a_feed_event_in_new_york_starts_in_new_york_local_time() -> None:
    event = calendar_event(
        timezone="America/New_York",
        starts_at=datetime(2030, 6, 5, 14, tzinfo=UTC),
        ends_at=datetime(2030, 6, 5, 16, tzinfo=UTC),
    )

    body = feed([event], name="Treffpunkt")

    assert b"\r\nDTSTART;TZID=America/New_York:20300605T100000\r\n" in body


def test_an_empty_feed_is_a_valid_calendar_without_timezones() -> None:
    calendar = parsed(feed([], name="Treffpunkt"))

    assert calendar["METHOD"] == "PUBLISH"
    assert calendar.walk("VEVENT") == []
    assert calendar.walk("VTIMEZONE") == []


# --- the bytes on the wire -----------------------------------------------------------------


def test_text_with_semicolons_and_commas_is_escaped() -> None:
    event = calendar_event(title="Wärme; Strom, Gas", location="Raum 2; Haus B, Markt 1")

    unfolded = feed([event], name="Treffpunkt").replace(b"\r\n ", b"")

    assert "\r\nSUMMARY:Wärme\\; Strom\\, Gas\r\n".encode() in unfolded
    assert b"\r\nLOCATION:Raum 2\\; Haus B\\, Markt 1\r\n" in unfolded


def test_every_line_ends_in_crlf_and_fits_75_octets_without_splitting_characters() -> None:
    event = calendar_event(title="Wärmeplanung für Gemeinden " * 8, description="Ä" * 200)

    body = feed([event], name="Treffpunkt")

    assert body.count(b"\n") == body.count(b"\r\n")
    assert b"\r\r" not in body
    for line in physical_lines(body):
        assert 0 < len(line) <= 75, line
        line.decode("utf-8")  # a fold inside a character would not decode
    assert str(only_event(body)["SUMMARY"]) == "Wärmeplanung für Gemeinden " * 8
