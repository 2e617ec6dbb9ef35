"""Hostile input: SQL, HTML, CSV, iCal and mail-header tricks and Unicode oddities in every
field a stranger or an organiser fills in are stored and found verbatim, rendered inert, and
never answer 500 — on SQLite and PostgreSQL alike."""

from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any
from xml.etree import ElementTree

import httpx
import icalendar
import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.conftest import smtp
from tests.notifications.helpers import html_of, raw_calendar, text_of, vevent_of
from tests.registrations.helpers import register, register_ok
from tests.sessions import sign_in
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.services import EventView
from treffpunkt.notifications.worker import drain
from treffpunkt.registrations.questions import replace_questions
from treffpunkt.registrations.schemas import QuestionSpec

pytestmark = pytest.mark.anyio
__all__ = ["smtp"]

SQL_TEXTS = [
    "O'Brien",
    "'; DROP TABLE registration; --",
    "Robert'); DELETE FROM event WHERE ('1'='1",
    "100% _sicher_",
    "C:\\Temp\\neu",
    '"quoted" \\"escaped\\"',
]
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def an_event(**overrides: Any) -> tuple[EventView, dict[str, str], CurrentOrganiser]:
    owner, auth = await factories.organiser_with_token()
    return await factories.event(owner, capacity=None, **overrides), auth, owner


async def roster_rows(
    client: httpx.AsyncClient, slug: str, auth: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/events/{slug}/registrations", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


# --- SQL -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", SQL_TEXTS)
async def test_sql_in_registration_fields_is_stored_verbatim(
    client: httpx.AsyncClient, text: str
) -> None:
    event, auth, _ = await an_event()
    await register_ok(client, event.slug, name=text, organisation=text, role=text, notes=text)

    [row] = await roster_rows(client, event.slug, auth)

    assert (row["name"], row["organisation"], row["role"], row["notes"]) == (text,) * 4


@pytest.mark.parametrize("text", SQL_TEXTS)
async def test_roster_search_finds_sql_text_verbatim_and_nothing_else(
    client: httpx.AsyncClient, text: str
) -> None:
    event, auth, _ = await an_event()
    await register_ok(client, event.slug, organisation=text)
    await register_ok(client, event.slug, organisation="Stadtwerke Leipzig")

    found = await roster_rows(client, event.slug, auth, q=text)

    assert [row["organisation"] for row in found] == [text]


@pytest.mark.parametrize("text", SQL_TEXTS)
async def test_sql_in_event_fields_is_stored_verbatim(client: httpx.AsyncClient, text: str) -> None:
    _, auth = await factories.organiser_with_token()
    created = await client.post(
        "/api/v1/events",
        json=factories.event_payload(
            title=f"Werkstatt {text}",
            summary=text,
            description=text,
            venue={"name": text, "street": text, "postal_code": "01067", "city": "Dresden"},
        ),
        headers=auth,
    )
    assert created.status_code == 201, created.text

    event = (await client.get(f"/api/v1/events/{created.json()['slug']}", headers=auth)).json()

    assert (event["title"], event["summary"], event["description"]) == (
        f"Werkstatt {text}",
        text,
        text,
    )
    assert (event["venue"]["name"], event["venue"]["street"]) == (text, text)


@pytest.mark.parametrize("text", SQL_TEXTS)
async def test_catalogue_search_with_sql_answers_normally(
    client: httpx.AsyncClient, text: str
) -> None:
    await an_event(title="Wärmeplanung für Kommunen")

    response = await client.get("/api/v1/events", params={"q": text})
    page = await client.get("/events", params={"q": text})
    everything = await client.get("/api/v1/events")

    assert (response.status_code, page.status_code) == (200, 200)
    assert response.json()["total"] == 0
    assert everything.json()["total"] == 1


@pytest.mark.parametrize("wildcard", ["%", "_", "%%", "\\", "\\%"])
async def test_search_wildcards_alone_do_not_match_everything_they_are_ignored(
    client: httpx.AsyncClient, wildcard: str
) -> None:
    event, auth, _ = await an_event()
    await register_ok(client, event.slug, organisation="Stadtwerke Leipzig")

    found = await roster_rows(client, event.slug, auth, q=f"zz{wildcard}zz")

    assert found == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events/x'%20OR%20'1'='1",
        "/api/v1/events/%27%3B%20DROP%20TABLE%20event%3B%20--",
        "/api/v1/registrations/%27%20OR%201%3D1%20--",
        "/events/%25",
        "/events/_",
        "/registrations/%5C%27",
    ],
)
async def test_sql_in_path_parameters_finds_nothing(client: httpx.AsyncClient, path: str) -> None:
    await an_event()

    response = await client.get(path)

    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/v1/events/{long}", "/events/{long}", "/api/v1/registrations/{long}"]
)
async def test_overlong_path_parameters_are_refused_not_failed(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path.format(long="a" * 5_000))

    assert response.status_code in (400, 404, 422)


async def test_overlong_search_is_refused_as_invalid(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/events", params={"q": "a" * 10_000})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_overlong_name_is_refused_as_invalid_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    event, _, _ = await an_event()

    response = await register(client, event.slug, name="A" * 100_000)

    assert response.status_code == 422
    assert "name" in [error["field"] for error in response.json()["errors"]]


# --- HTML ------------------------------------------------------------------------------------


def assert_inert(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html


async def a_hostile_event_with_a_hostile_registrant(
    client: httpx.AsyncClient,
) -> tuple[EventView, dict[str, str], CurrentOrganiser]:
    event, auth, owner = await an_event(
        title=f"Werkstatt {SCRIPT}",
        summary=SCRIPT,
        description=SCRIPT,
        contact_name=SCRIPT,
        contact_email="petra@landkreis.example",
    )
    questions = [
        {"key": "pick", "kind": "single_choice", "label": SCRIPT, "options": [SCRIPT, "Nein"]},
        {"key": "free", "kind": "short_text", "label": "Anmerkung", "help_text": SCRIPT},
    ]
    await replace_questions(event.id, [QuestionSpec(**q) for q in questions])
    await register_ok(
        client,
        event.slug,
        name=SCRIPT,
        organisation=SCRIPT,
        role=SCRIPT,
        notes=SCRIPT,
        answers={"pick": SCRIPT, "free": SCRIPT},
    )
    return event, auth, owner


async def test_public_pages_render_scripts_in_event_fields_as_text(
    client: httpx.AsyncClient,
) -> None:
    event, _, _ = await a_hostile_event_with_a_hostile_registrant(client)

    for path in ("/events", f"/events/{event.slug}"):
        assert_inert((await client.get(path)).text)


async def test_organiser_pages_render_scripts_in_registrations_as_text(
    client: httpx.AsyncClient,
) -> None:
    event, _, owner = await a_hostile_event_with_a_hostile_registrant(client)
    await sign_in(client, owner)

    for path in (
        "/organiser",
        f"/organiser/events/{event.slug}",
        f"/organiser/events/{event.slug}/roster",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "<script>alert" not in response.text, path


async def test_the_atom_feed_carries_scripts_as_text(client: httpx.AsyncClient) -> None:
    event, _, _ = await a_hostile_event_with_a_hostile_registrant(client)

    feed = await client.get("/events/feed.atom")

    assert "<script>alert" not in feed.text
    atom = ElementTree.fromstring(feed.content)  # noqa: S314 - our own feed
    titles = [element.text for element in atom.iter("{http://www.w3.org/2005/Atom}title")]
    assert event.title in titles


async def test_mail_renders_scripts_in_names_and_titles_as_text(
    client: httpx.AsyncClient, smtp: Sink
) -> None:
    await a_hostile_event_with_a_hostile_registrant(client)

    await drain()

    [received] = smtp.received
    assert_inert(html_of(received.message))
    assert SCRIPT in text_of(received.message)


# --- CSV -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "=cmd@example.org"), ("email", "+x@example.org"), ("email", "-x@example.org")],
)
async def test_csv_defuses_addresses_that_look_like_formulas(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    event, auth, _ = await an_event()
    await register_ok(client, event.slug, **{field: value})

    response = await client.get(f"/api/v1/events/{event.slug}/registrations.csv", headers=auth)
    text = response.content.decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))

    assert rows[1][2] == "'" + value


# --- iCal ------------------------------------------------------------------------------------

ICAL_TRICKS = "Treffen; Teil 1, Teil 2 \\ Ende: jetzt"


async def test_ical_special_characters_in_fields_round_trip_without_new_properties(
    client: httpx.AsyncClient,
) -> None:
    event, _, _ = await an_event(
        title=ICAL_TRICKS,
        summary=f"{ICAL_TRICKS} " * 10,
        venue={"name": ICAL_TRICKS, "street": "Markt 1", "postal_code": "01067", "city": "Dresden"},
    )

    response = await client.get(f"/events/{event.slug}.ics")
    [vevent] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")

    assert str(vevent["SUMMARY"]) == ICAL_TRICKS
    assert str(vevent["DESCRIPTION"]).startswith(f"{ICAL_TRICKS} {ICAL_TRICKS} ")
    assert str(vevent["LOCATION"]).startswith(ICAL_TRICKS)
    assert all(len(line) <= 75 for line in response.content.split(b"\r\n"))


async def test_line_breaks_in_descriptions_do_not_start_properties_in_invites(
    client: httpx.AsyncClient, smtp: Sink
) -> None:
    injected = "Zeile eins\r\nATTENDEE:mailto:evil@example.org\nEND:VEVENT\nBEGIN:VEVENT"
    event, _, _ = await an_event(description=injected)
    email = (await register_ok(client, event.slug))["email"]

    await drain()

    raw = raw_calendar(smtp.only(email))
    [vevent] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    assert str(vevent["ATTENDEE"]).lower() == f"mailto:{email}"
    lines = raw.split(b"\r\n")
    assert lines.count(b"BEGIN:VEVENT") == 1
    assert not any(line.startswith(b"ATTENDEE:mailto:evil") for line in lines)


async def test_invite_names_with_quotes_and_separators_stay_one_attendee(
    client: httpx.AsyncClient, smtp: Sink
) -> None:
    event, _, _ = await an_event()
    name = 'Anna "Ann" Schmidt; ROLE=CHAIR: Ende, gut'
    email = (await register_ok(client, event.slug, name=name))["email"]

    await drain()

    attendees = vevent_of(smtp.only(email)).get("ATTENDEE")
    assert not isinstance(attendees, list)
    assert str(attendees).lower() == f"mailto:{email}"
    assert attendees.params.get("ROLE") != "CHAIR"


async def refused_as_invalid_name(client: httpx.AsyncClient, name: str) -> bool:
    event, _, _ = await an_event()
    response = await register(client, event.slug, name=name)
    return response.status_code == 422 and "name" in [
        error["field"] for error in response.json()["errors"]
    ]


# --- Mail headers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Eve <evil@example.org>, Mallory <mallory@example.org>",
        '"Eve" <evil@example.org>',
        "Eve =?utf-8?q?=0D=0ABcc:_evil@example.org?=",
    ],
)
async def test_names_never_add_recipients_or_headers(
    client: httpx.AsyncClient, smtp: Sink, name: str
) -> None:
    event, _, _ = await an_event()
    email = (await register_ok(client, event.slug, name=name))["email"]

    await drain()

    [received] = smtp.received
    message = received.message
    assert received.rcpt_tos == [email]
    assert [address.addr_spec for address in message["To"].addresses] == [email]
    assert message["To"].addresses[0].display_name == name
    assert "Bcc" not in message
    assert "Cc" not in message


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\x85", "\u2028", "\u2029"])
async def test_line_breaks_in_single_line_fields_are_refused(
    client: httpx.AsyncClient, breaker: str
) -> None:
    assert await refused_as_invalid_name(client, f"Eve{breaker}Bcc: evil@example.org")


@pytest.mark.parametrize("breaker", ["\r\n", "\x85", "\u2028"])
async def test_line_breaks_in_event_titles_are_refused(
    client: httpx.AsyncClient, breaker: str
) -> None:
    _, auth = await factories.organiser_with_token()

    response = await client.post(
        "/api/v1/events",
        json=factories.event_payload(title=f"Werkstatt{breaker}Bcc: evil@example.org"),
        headers=auth,
    )

    assert response.status_code == 422


# --- Unicode ---------------------------------------------------------------------------------


@pytest.mark.parametrize("invisible", ["\u200b", "\u200b\u200c\u200d\ufeff", "\u2060", " \u200b "])
async def test_a_name_of_invisible_characters_is_refused_like_an_empty_one(
    client: httpx.AsyncClient, invisible: str
) -> None:
    assert await refused_as_invalid_name(client, invisible)


@pytest.mark.parametrize("override", ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068"])
async def test_bidirectional_overrides_are_refused_in_names(
    client: httpx.AsyncClient, override: str
) -> None:
    assert await refused_as_invalid_name(client, f"Anna {override}gro.elpmaxe@live")


async def test_right_to_left_names_without_overrides_are_welcome(
    client: httpx.AsyncClient,
) -> None:
    event, auth, _ = await an_event()
    await register_ok(client, event.slug, name="نور الهدى", organisation="אגודה")

    [row] = await roster_rows(client, event.slug, auth)

    assert (row["name"], row["organisation"]) == ("نور الهدى", "אגודה")


async def test_combining_characters_are_found_by_either_spelling(
    client: httpx.AsyncClient,
) -> None:
    event, auth, _ = await an_event()
    decomposed = unicodedata.normalize("NFD", "Zoë Müller")
    await register_ok(client, event.slug, name=decomposed)

    found = await roster_rows(client, event.slug, auth, q="Zoë")

    assert [row["name"] for row in found] == [decomposed]
