"""The confirmation's invite, parsed back with icalendar (calendar-mail.md §1–3)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.conftest import Confirmed
from tests.notifications.helpers import (
    BASE_URL,
    SCHEDULE,
    calendar_of,
    calendar_parts,
    calendar_uid,
    has_calendar,
    make_due,
    manage_url,
    raw_calendar,
    sign_up,
    text_of,
    unfolded_lines,
    vevent_of,
)
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.clock import utcnow
from treffpunkt.events.schemas import EventUpdate
from treffpunkt.notifications.worker import drain
from treffpunkt.registrations.event_changes import cancel_and_notify, update_and_notify
from treffpunkt.registrations.services import approve, cancel_by_person, decline, token_for

pytestmark = pytest.mark.anyio


async def test_invite_method_is_request(confirmed: Confirmed) -> None:
    assert calendar_of(confirmed.mail)["METHOD"] == "REQUEST"


async def test_invite_has_version_and_prodid_once(confirmed: Confirmed) -> None:
    lines = unfolded_lines(raw_calendar(confirmed.mail))

    assert [line for line in lines if line.startswith("VERSION")] == ["VERSION:2.0"]
    assert len([line for line in lines if line.startswith("PRODID:")]) == 1


async def test_invite_has_exactly_one_vevent_with_the_events_calendar_uid(
    confirmed: Confirmed,
) -> None:
    events = calendar_of(confirmed.mail).walk("VEVENT")

    assert len(events) == 1
    assert str(events[0]["UID"]) == await calendar_uid(confirmed.event.slug)


async def test_invite_organizer_is_the_events_contact_as_mailto(confirmed: Confirmed) -> None:
    organizer = vevent_of(confirmed.mail)["ORGANIZER"]

    assert str(organizer) == "mailto:petra.orga@landkreis.example"
    assert organizer.params["CN"] == "Petra Orga"


async def test_invite_organizer_without_event_contact_is_the_owning_organiser(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")

    await drain()

    organizer = vevent_of(smtp.only("anna@example.org"))["ORGANIZER"]
    assert str(organizer) == f"mailto:{organiser[0].email}"
    assert organizer.params["CN"] == organiser[0].name


async def test_mail_without_event_contact_names_the_owning_organiser(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")

    await drain()

    assert (
        "Fragen? Wenden Sie sich an das Veranstaltungsteam: "
        f"{organiser[0].name} <{organiser[0].email}>\n"
    ) in text_of(smtp.only("anna@example.org"))


async def test_invite_has_one_attendee_the_registrant_accepted(confirmed: Confirmed) -> None:
    lines = unfolded_lines(raw_calendar(confirmed.mail))
    attendees = vevent_of(confirmed.mail).attendees

    assert len([line for line in lines if line.startswith("ATTENDEE")]) == 1
    assert [str(a) for a in attendees] == ["mailto:juergen@example.org"]
    assert attendees[0].params["PARTSTAT"] == "ACCEPTED"
    assert attendees[0].params["CN"] == "Jürgen Müller"


async def test_invite_dtstamp_is_utc(confirmed: Confirmed) -> None:
    lines = unfolded_lines(raw_calendar(confirmed.mail))

    [stamp] = [line for line in lines if line.startswith("DTSTAMP")]
    assert re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", stamp)
    assert vevent_of(confirmed.mail).DTSTAMP.utcoffset() == timedelta(0)


async def test_invite_start_and_end_are_berlin_wall_times(confirmed: Confirmed) -> None:
    lines = unfolded_lines(raw_calendar(confirmed.mail))

    assert [line for line in lines if line.startswith(("DTSTART", "DTEND"))] == [
        # The VTIMEZONE's own DTSTARTs first (local, no TZID), then the event's.
        *[line for line in lines if re.fullmatch(r"DTSTART:1970\d{4}T\d{6}", line)],
        "DTSTART;TZID=Europe/Berlin:20300612T100000",
        "DTEND;TZID=Europe/Berlin:20300612T130000",
    ]
    event = vevent_of(confirmed.mail)
    start, end = event.DTSTART, event.DTEND
    assert start == datetime(2030, 6, 12, 8, tzinfo=UTC)
    assert end == datetime(2030, 6, 12, 11, tzinfo=UTC)


async def test_invite_declares_every_timezone_it_uses(confirmed: Confirmed) -> None:
    calendar = calendar_of(confirmed.mail)

    assert calendar.get_missing_tzids() == set()
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


async def test_invite_timezone_is_the_rrule_form_with_one_standard_and_one_daylight(
    confirmed: Confirmed,
) -> None:
    [zone] = calendar_of(confirmed.mail).walk("VTIMEZONE")

    rules = {
        sub.name: (
            dict(sub.decoded("RRULE")),
            sub.decoded("TZOFFSETFROM"),
            sub.decoded("TZOFFSETTO"),
        )
        for sub in zone.subcomponents
    }
    assert len(zone.subcomponents) == 2
    assert rules == {
        "DAYLIGHT": (
            {"FREQ": ["YEARLY"], "BYMONTH": [3], "BYDAY": ["-1SU"]},
            timedelta(hours=1),
            timedelta(hours=2),
        ),
        "STANDARD": (
            {"FREQ": ["YEARLY"], "BYMONTH": [10], "BYDAY": ["-1SU"]},
            timedelta(hours=2),
            timedelta(hours=1),
        ),
    }
    assert "RDATE" not in zone.subcomponents[0]
    assert "RDATE" not in zone.subcomponents[1]


async def test_invite_sequence_of_a_new_event_is_zero(confirmed: Confirmed) -> None:
    assert vevent_of(confirmed.mail)["SEQUENCE"] == 0


async def test_invite_location_is_the_venue(confirmed: Confirmed) -> None:
    assert vevent_of(confirmed.mail)["LOCATION"] == "Rathaus, Markt 1, 01067 Dresden"


async def test_invite_location_escapes_semicolons_and_commas(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    venue = {
        "name": "Raum 2; Haus B",
        "street": "Musterstraße 1",
        "postal_code": "04109",
        "city": "Leipzig",
    }
    event = await factories.event(organiser[0], venue=venue, **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")

    await drain()

    mail = smtp.only("anna@example.org")
    assert "LOCATION:Raum 2\\; Haus B\\, Musterstraße 1\\, 04109 Leipzig" in unfolded_lines(
        raw_calendar(mail)
    )
    assert vevent_of(mail)["LOCATION"] == "Raum 2; Haus B, Musterstraße 1, 04109 Leipzig"


async def test_invite_description_names_the_event_page(confirmed: Confirmed) -> None:
    description = str(vevent_of(confirmed.mail)["DESCRIPTION"])

    assert description == f"Veranstaltungsseite: {BASE_URL}/events/{confirmed.event.slug}"


async def test_no_calendar_part_of_any_mail_carries_the_registration_link(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    """Colleagues read shared calendars: the secret link stays in the mail body."""
    full = await factories.event(organiser[0], capacity=1, waitlist=True, **SCHEDULE)
    anna = await sign_up(full.slug, "anna@example.org")
    ben = await sign_up(full.slug, "ben@example.org")
    vetted = await factories.event(organiser[0], requires_approval=True, **SCHEDULE)
    cem = await sign_up(vetted.slug, "cem@example.org")
    dora = await sign_up(vetted.slug, "dora@example.org")
    await drain()
    await cancel_by_person(await token_for(anna.registration_id), now=utcnow())
    await approve(vetted.slug, cem.registration_id, now=utcnow())
    await decline(vetted.slug, dora.registration_id, now=utcnow())
    await drain()
    later = timedelta(days=1)
    starts_at, ends_at = (datetime.fromisoformat(SCHEDULE[key]) for key in ("starts_at", "ends_at"))
    changes = EventUpdate(starts_at=starts_at + later, ends_at=ends_at + later)
    await update_and_notify(full.slug, changes, now=utcnow())
    await make_due()
    await drain()
    await cancel_and_notify(full.slug, "Referentin erkrankt", now=utcnow())
    await drain()

    people = {
        "anna@example.org": anna,
        "ben@example.org": ben,
        "cem@example.org": cem,
        "dora@example.org": dora,
    }
    with_calendar = [r for r in smtp.received if has_calendar(r.message)]
    assert sorted(str(r.message["Subject"]).split(":")[0] for r in with_calendar) == [
        "Abgesagt",
        "Anmeldung abgelehnt",
        "Anmeldung angenommen",
        "Anmeldung bestätigt",
        "Anmeldung storniert",
        "Ein Platz ist für Sie frei geworden",
        "Geändert",
    ]
    for received in with_calendar:
        [address] = received.rcpt_tos
        token = await token_for(people[address].registration_id)
        assert await manage_url(people[address].registration_id) in text_of(received.message)
        for part in calendar_parts(received.message):
            calendar = icalendar.Calendar.from_ical(part)
            values = [str(value) for item in calendar.walk() for value in item.values()]
            assert [v for v in values if token in v or "/registrations/" in v] == []
            assert token not in "".join(unfolded_lines(part))


async def test_invite_url_is_the_event_page(confirmed: Confirmed) -> None:
    assert vevent_of(confirmed.mail)["URL"] == f"{BASE_URL}/events/{confirmed.event.slug}"


async def test_invite_summary_is_the_event_title(confirmed: Confirmed) -> None:
    assert vevent_of(confirmed.mail)["SUMMARY"] == confirmed.event.title


async def test_invite_status_is_confirmed(confirmed: Confirmed) -> None:
    assert vevent_of(confirmed.mail)["STATUS"] == "CONFIRMED"


async def test_invite_has_no_alarm(confirmed: Confirmed) -> None:
    assert calendar_of(confirmed.mail).walk("VALARM") == []


async def test_invite_single_valued_properties_appear_once(confirmed: Confirmed) -> None:
    raw = raw_calendar(confirmed.mail).decode()
    vevent = raw[raw.index("BEGIN:VEVENT") : raw.index("END:VEVENT")]
    names = [line.split(":")[0].split(";")[0] for line in unfolded_lines(vevent.encode())]

    for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "LOCATION", "DESCRIPTION",
                 "ORGANIZER", "SEQUENCE", "STATUS", "URL"):  # fmt: skip
        assert names.count(name) == 1, name
    assert "DURATION" not in names


async def test_invite_lines_end_in_crlf(confirmed: Confirmed) -> None:
    raw = raw_calendar(confirmed.mail)

    assert raw.startswith(b"BEGIN:VCALENDAR\r\n")
    assert raw.endswith(b"END:VCALENDAR\r\n")
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert b"\r\r" not in raw
    assert b"\r\n\r\n" not in raw


async def test_invite_lines_are_at_most_75_octets_and_fold_whole_characters(
    confirmed: Confirmed,
) -> None:
    lines = raw_calendar(confirmed.mail).split(b"\r\n")[:-1]

    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines), "nothing long enough to fold"
    for line in lines:
        line.decode("utf-8")  # a split character would not decode


async def test_invite_folds_a_long_umlaut_title_without_splitting_characters(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    title = "Größere Öffentlichkeitsbeteiligung über Bürgerhaushalte – Übergänge, Ärger, Lösungen"
    event = await factories.event(organiser[0], title=title, **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")

    await drain()

    mail = smtp.only("anna@example.org")
    lines = raw_calendar(mail).split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    assert [line.decode("utf-8") for line in lines]  # a split character would not decode
    assert vevent_of(mail)["SUMMARY"] == title


async def test_invite_for_an_event_in_another_timezone_declares_that_zone(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    event = await factories.event(organiser[0], timezone="America/New_York", **SCHEDULE)
    await sign_up(event.slug, "ann@example.org", language="en")

    await drain()

    mail = smtp.only("ann@example.org")
    calendar = calendar_of(mail)
    assert calendar.get_missing_tzids() == set()
    lines = unfolded_lines(raw_calendar(mail))
    assert "DTSTART;TZID=America/New_York:20300612T040000" in lines
    [zone] = calendar.walk("VTIMEZONE")
    assert {sub.name: dict(sub.decoded("RRULE")) for sub in zone.subcomponents} == {
        "DAYLIGHT": {"FREQ": ["YEARLY"], "BYMONTH": [3], "BYDAY": ["2SU"]},
        "STANDARD": {"FREQ": ["YEARLY"], "BYMONTH": [11], "BYDAY": ["1SU"]},
    }
    assert "When: Wednesday, June 12, 2030, 4:00\u202fAM–7:00\u202fAM EDT\n" in text_of(mail)
