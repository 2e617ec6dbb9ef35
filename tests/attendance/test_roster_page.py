"""The organiser's roster page, the sign-in sheet, the roster CSV, and no-shows after the event."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.attendance.helpers import stored_check_in
from tests.registrations.helpers import (
    from_now,
    id_of,
    iso,
    move_event_into_the_past,
    register_ok,
    roster,
)
from tests.sessions import hidden_value, sign_in
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.events.services import EventView
from treffpunkt.i18n import format_short, language
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}
QUESTIONS = [
    {
        "key": "diet",
        "kind": "single_choice",
        "label": "Mittagessen",
        "options": ["vegetarisch", "vegan", "alles"],
    },
    {"key": "topic", "kind": "short_text", "label": "Ihr Thema"},
]
PEOPLE = [
    # name, email, organisation, group, answers
    (
        "Anna Adler",
        "anna@example.org",
        "Stadt Leipzig",
        "public_administration",
        ("vegan", "Glasfaser"),
    ),
    ("Bernd Bauer", "bernd@example.org", "Bauer GmbH", "business", ("alles", "")),
    ("Clara Conrad", "clara@example.org", "Universität Jena", "research_education", ("", "WLAN")),
    ("Dora Dietz", "dora@example.org", "Dietz AG", "business", ("vegetarisch", "Förderung")),
]


@dataclass(frozen=True)
class Roster:
    """Anna, Bernd and Clara hold the three seats; Dora waits. The owner is signed in."""

    owner: CurrentOrganiser
    auth: dict[str, str]
    event: EventView
    ids: dict[str, int]

    @property
    def url(self) -> str:
        return f"/organiser/events/{self.event.slug}/roster"


async def event_with_people(client: httpx.AsyncClient) -> Roster:
    owner, auth = await factories.organiser_with_token()
    starts_at = from_now(hours=1)
    event = await factories.event(
        owner,
        starts_at=iso(starts_at),
        ends_at=iso(starts_at + timedelta(hours=3)),
        capacity=3,
        waitlist=True,
    )
    put = await client.put(f"/api/v1/events/{event.slug}/questions", json=QUESTIONS, headers=auth)
    assert put.status_code == 200, put.text
    ids = {}
    for name, email, organisation, group, (diet, topic) in PEOPLE:
        answers = {k: v for k, v in (("diet", diet), ("topic", topic)) if v}
        await register_ok(
            client,
            event.slug,
            name=name,
            email=email,
            organisation=organisation,
            stakeholder_group=group,
            answers=answers,
        )
        ids[name.split()[0].lower()] = await id_of(client, event.slug, auth, email)
    await sign_in(client, owner)
    return Roster(owner, auth, event, ids)


async def check_in(client: httpx.AsyncClient, at: Roster, who: str) -> None:
    response = await client.post(
        f"/api/v1/events/{at.event.slug}/check-ins",
        json={"code": check_in_code(at.event.id, at.ids[who])},
        headers=at.auth,
    )
    assert response.status_code == 200, response.text


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def roster_rows(html: str) -> dict[int, list[str]]:
    """Registration id -> the texts of its row's cells."""
    rows = {}
    for registration_id, row in re.findall(r'<tr id="r(\d+)">(.*?)</tr>', html, re.S):
        rows[int(registration_id)] = [
            text(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
    return rows


def roster_header(html: str) -> list[str]:
    match = re.search(r'<table class="table roster">\s*<thead>(.*?)</thead>', html, re.S)
    assert match
    return [text(cell) for cell in re.findall(r"<th[^>]*>(.*?)</th>", match.group(1), re.S)]


def row_forms(html: str, registration_id: int) -> list[str]:
    """The actions (form targets) in one roster row."""
    match = re.search(rf'<tr id="r{registration_id}">(.*?)</tr>', html, re.S)
    assert match
    return re.findall(r'<form method="post" action="([^"]+)"', match.group(1))


def sheet_rows(html: str) -> list[list[str]]:
    match = re.search(r'<table class="sheet-table">(.*?)</table>', html, re.S)
    assert match
    return [
        [text(cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S)
    ]


def csv_rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def local_short(moment: datetime, event: EventView) -> str:
    with language("en"):
        return text(format_short(event.local(moment)))


# --- the page -----------------------------------------------------------------------------------


async def test_roster_page_lists_everyone_with_status_and_stakeholder_group(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)

    response = await client.get(at.url, headers=ENGLISH)

    assert response.status_code == 200
    rows = roster_rows(response.text)
    assert [(row[0].split(" ")[0], row[1], row[2]) for row in rows.values()] == [
        ("Anna", "Confirmed", "Public administration"),
        ("Bernd", "Confirmed", "Business"),
        ("Clara", "Confirmed", "Research and education"),
        ("Dora", "On the waiting list (1)", "Business"),
    ]
    assert rows[at.ids["anna"]][0] == "Anna Adler Stadt Leipzig anna@example.org"


async def test_roster_page_shows_the_answers_to_custom_questions(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)

    response = await client.get(at.url, headers=ENGLISH)

    assert roster_header(response.text) == [
        "Name",
        "Status",
        "Stakeholder group",
        "Checked in",
        "Actions",
        "Mittagessen",
        "Ihr Thema",
    ]
    rows = roster_rows(response.text)
    assert [rows[at.ids[who]][4:6] for who in ("anna", "bernd", "clara", "dora")] == [
        ["vegan", "Glasfaser"],
        ["alles", ""],
        ["", "WLAN"],
        ["vegetarisch", "Förderung"],
    ]


async def test_roster_page_shows_the_check_in_time_in_the_events_zone(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)
    await check_in(client, at, "bernd")
    stored = await stored_check_in(at.ids["bernd"])
    assert stored is not None

    response = await client.get(at.url, headers=ENGLISH)

    rows = roster_rows(response.text)
    assert rows[at.ids["bernd"]][3] == f"{local_short(stored, at.event)} Undo"
    assert rows[at.ids["anna"]][3] == "Check in"
    assert rows[at.ids["dora"]][3] == ""


async def test_roster_page_escapes_what_registrants_typed(client: httpx.AsyncClient) -> None:
    at = await event_with_people(client)
    await Registration.update({Registration.organisation: '<img src=x onerror="alert(1)">'}).where(
        Registration.id == at.ids["anna"]
    )

    response = await client.get(at.url, headers=ENGLISH)

    assert "<img src=x" not in response.text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in response.text


async def test_roster_page_shows_check_in_counters(client: httpx.AsyncClient) -> None:
    at = await event_with_people(client)
    await check_in(client, at, "anna")

    response = await client.get(at.url, headers=ENGLISH)

    assert "<strong>1 / 3</strong> checked in" in response.text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "waitlisted"}, ["dora"]),
        ({"status": "confirmed"}, ["anna", "bernd", "clara"]),
        ({"stakeholder_group": "business"}, ["bernd", "dora"]),
        ({"q": "leipzig"}, ["anna"]),
        ({"q": "conrad"}, ["clara"]),
        ({"status": "confirmed", "stakeholder_group": "business"}, ["bernd"]),
    ],
    ids=["status-waitlisted", "status-confirmed", "group", "q-organisation", "q-name", "both"],
)
async def test_roster_page_filters(
    client: httpx.AsyncClient, params: dict[str, str], expected: list[str]
) -> None:
    at = await event_with_people(client)

    response = await client.get(at.url, params=params, headers=ENGLISH)

    assert list(roster_rows(response.text)) == [at.ids[who] for who in expected]
    count = len(expected)
    assert f"{count} registration{'s' if count != 1 else ''}" in text(response.text)


async def test_roster_page_offers_check_in_to_confirmed_and_undo_to_who_is_in(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)
    await check_in(client, at, "anna")

    response = await client.get(at.url)

    base = at.url
    assert row_forms(response.text, at.ids["anna"]) == [f"{base}/{at.ids['anna']}/undo"]
    assert row_forms(response.text, at.ids["bernd"]) == [f"{base}/{at.ids['bernd']}/check-in"]
    assert row_forms(response.text, at.ids["dora"]) == []


async def test_roster_check_in_button_checks_in_and_goes_back_to_the_row(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)
    token = hidden_value((await client.get(at.url)).text, "_csrf_token")

    response = await client.post(
        f"{at.url}/{at.ids['clara']}/check-in", data={"_csrf_token": token}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"{at.url}#r{at.ids['clara']}"
    assert await stored_check_in(at.ids["clara"]) is not None


async def test_roster_undo_button_clears_the_check_in_and_goes_back_to_the_row(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)
    await check_in(client, at, "clara")
    token = hidden_value((await client.get(at.url)).text, "_csrf_token")

    response = await client.post(f"{at.url}/{at.ids['clara']}/undo", data={"_csrf_token": token})

    assert response.status_code == 303
    assert response.headers["location"] == f"{at.url}#r{at.ids['clara']}"
    assert await stored_check_in(at.ids["clara"]) is None


async def test_roster_check_in_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)
    await client.get(at.url)

    response = await client.post(f"{at.url}/{at.ids['clara']}/check-in")

    assert response.status_code == 403
    assert await stored_check_in(at.ids["clara"]) is None


async def test_roster_check_in_of_someone_waiting_is_refused(client: httpx.AsyncClient) -> None:
    at = await event_with_people(client)
    token = hidden_value((await client.get(at.url)).text, "_csrf_token")

    response = await client.post(
        f"{at.url}/{at.ids['dora']}/check-in", data={"_csrf_token": token}, headers=ENGLISH
    )

    assert response.status_code == 409
    assert "this person is on the waiting list and has no seat" in response.text
    assert await stored_check_in(at.ids["dora"]) is None


async def test_roster_page_of_another_organisers_event_is_forbidden(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)
    await sign_in(client, await factories.organiser())

    response = await client.get(at.url)

    assert response.status_code == 403


async def test_roster_page_without_a_session_redirects_to_login(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)
    client.cookies.clear()

    response = await client.get(at.url)

    assert response.status_code in {302, 303}
    assert response.headers["location"] == f"/login?next={at.url}"


# --- the sign-in sheet --------------------------------------------------------------------------


async def test_sign_in_sheet_lists_confirmed_people_once_each_then_blank_rows(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)

    response = await client.get(at.url, params={"sheet": "1"}, headers=ENGLISH)

    assert response.status_code == 200
    assert sheet_rows(response.text)[1:] == [
        ["1", "Anna Adler", "Stadt Leipzig", ""],
        ["2", "Bernd Bauer", "Bauer GmbH", ""],
        ["3", "Clara Conrad", "Universität Jena", ""],
        *[["", "", "", ""]] * 5,
    ]


async def test_sign_in_sheet_has_a_signature_column(client: httpx.AsyncClient) -> None:
    at = await event_with_people(client)

    response = await client.get(at.url, params={"sheet": "1"}, headers=ENGLISH)

    assert sheet_rows(response.text)[0] == ["#", "Name", "Organisation", "Signature"]
    assert response.text.count('<td class="signature"></td>') == 3 + 5


async def test_sign_in_sheet_ignores_a_status_filter_and_keeps_to_confirmed_people(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)

    response = await client.get(
        at.url, params={"sheet": "1", "status": "waitlisted"}, headers=ENGLISH
    )

    names = [row[1] for row in sheet_rows(response.text)[1:] if row[1]]
    assert names == ["Anna Adler", "Bernd Bauer", "Clara Conrad"]


# --- the CSV ------------------------------------------------------------------------------------


async def test_roster_csv_has_checked_in_at_and_attendance_columns(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)
    await check_in(client, at, "anna")
    stored = await stored_check_in(at.ids["anna"])
    assert stored is not None

    response = await client.get(f"{at.url}.csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = csv_rows(response.content)
    assert [(r["name"], r["status"], r["checked_in_at"], r["attendance"]) for r in rows] == [
        ("Anna Adler", "confirmed", stored.isoformat(), "attended"),
        ("Bernd Bauer", "confirmed", "", ""),
        ("Clara Conrad", "confirmed", "", ""),
        ("Dora Dietz", "waitlisted", "", ""),
    ]


async def test_roster_csv_of_another_organisers_event_is_forbidden(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)
    await sign_in(client, await factories.organiser())

    response = await client.get(f"{at.url}.csv")

    assert response.status_code == 403
    assert not response.content.startswith("\ufeff".encode())


# --- no-shows -----------------------------------------------------------------------------------


async def after_the_event(client: httpx.AsyncClient) -> Roster:
    """Anna and Bernd came, Clara held a seat and did not; Dora waited. The event is over."""
    at = await event_with_people(client)
    await check_in(client, at, "anna")
    await check_in(client, at, "bernd")
    await move_event_into_the_past(at.event.slug)
    return at


async def attendance_by_name(client: httpx.AsyncClient, at: Roster) -> dict[str, Any]:
    page = await roster(client, at.event.slug, at.auth, limit=100)
    return {row["name"]: row["attendance"] for row in page["items"]}


async def test_after_the_event_the_roster_json_marks_no_shows_and_attendees(
    client: httpx.AsyncClient,
) -> None:
    at = await after_the_event(client)

    assert await attendance_by_name(client, at) == {
        "Anna Adler": "attended",
        "Bernd Bauer": "attended",
        "Clara Conrad": "no_show",
        "Dora Dietz": None,
    }


async def test_before_the_end_nobody_is_a_no_show(client: httpx.AsyncClient) -> None:
    at = await event_with_people(client)
    await check_in(client, at, "anna")

    assert await attendance_by_name(client, at) == {
        "Anna Adler": "attended",
        "Bernd Bauer": None,
        "Clara Conrad": None,
        "Dora Dietz": None,
    }


async def test_after_the_event_the_roster_csv_marks_no_shows_and_attendees(
    client: httpx.AsyncClient,
) -> None:
    at = await after_the_event(client)

    response = await client.get(f"{at.url}.csv")

    assert [(r["name"], r["attendance"]) for r in csv_rows(response.content)] == [
        ("Anna Adler", "attended"),
        ("Bernd Bauer", "attended"),
        ("Clara Conrad", "no_show"),
        ("Dora Dietz", ""),
    ]


async def test_after_the_event_the_api_roster_csv_marks_no_shows(
    client: httpx.AsyncClient,
) -> None:
    at = await after_the_event(client)

    response = await client.get(
        f"/api/v1/events/{at.event.slug}/registrations.csv", headers=at.auth
    )

    assert response.status_code == 200
    assert {r["name"]: r["attendance"] for r in csv_rows(response.content)} == {
        "Anna Adler": "attended",
        "Bernd Bauer": "attended",
        "Clara Conrad": "no_show",
        "Dora Dietz": "",
    }


async def test_after_the_event_the_roster_page_marks_the_no_show(
    client: httpx.AsyncClient,
) -> None:
    at = await after_the_event(client)

    response = await client.get(at.url, headers=ENGLISH)

    rows = roster_rows(response.text)
    assert re.search(r"\bno[- ]show\b", " ".join(rows[at.ids["clara"]]), re.I), rows[
        at.ids["clara"]
    ]
    assert not re.search(r"\bno[- ]show\b", " ".join(rows[at.ids["anna"]]), re.I)
    assert not re.search(r"\bno[- ]show\b", " ".join(rows[at.ids["dora"]]), re.I)


async def test_before_the_end_the_roster_page_marks_nobody_as_no_show(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)

    response = await client.get(at.url, headers=ENGLISH)

    assert not re.search(r"\bno[- ]show\b", text(response.text), re.I)


async def test_attendance_summary_after_the_event_counts_exactly(
    client: httpx.AsyncClient,
) -> None:
    at = await after_the_event(client)

    response = await client.get(f"/api/v1/events/{at.event.slug}/attendance", headers=at.auth)

    assert response.status_code == 200
    assert response.json() == {
        "confirmed": 3,
        "checked_in": 2,
        "no_show": 1,
        "attendance_rate": 0.6667,
    }


async def test_attendance_summary_before_the_end_has_no_no_shows(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_people(client)
    await check_in(client, at, "anna")

    response = await client.get(f"/api/v1/events/{at.event.slug}/attendance", headers=at.auth)

    assert response.json()["confirmed"] == 3
    assert response.json()["checked_in"] == 1
    assert response.json()["no_show"] == 0


async def test_attendance_summary_of_another_organisers_event_is_forbidden(
    client: httpx.AsyncClient,
) -> None:
    at = await after_the_event(client)
    _, stranger = await factories.organiser_with_token()

    response = await client.get(f"/api/v1/events/{at.event.slug}/attendance", headers=stranger)

    assert response.status_code == 403
