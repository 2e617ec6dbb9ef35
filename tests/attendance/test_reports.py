"""Participation reports on a known data set: JSON, CSV and the HTML page with SVG charts."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests import factories
from tests.sessions import sign_in
from treffpunkt.accounts.services import CurrentOrganiser, create_api_token
from treffpunkt.events.services import EventView, add_co_organiser
from treffpunkt.events.tables import Event
from treffpunkt.registrations.event_changes import cancel_and_notify
from treffpunkt.registrations.schemas import ManualRegistration
from treffpunkt.registrations.services import add_by_organiser, cancel_by_organiser
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}
BERLIN = ZoneInfo("Europe/Berlin")
PERIOD = {"from": "2025-03-01", "to": "2025-05-31"}
DIMENSIONS = ["region", "sector", "stakeholder_group", "kind", "month"]

# (name, organisation, stakeholder group, came?) per event. "stadt leipzig" is the same
# organisation as "Stadt Leipzig", and Bauer GmbH comes twice: five organisations took part.
E1 = [  # Saxony, education + energy, workshop, March
    ("Anna", "Stadt Leipzig", "public_administration", True),
    ("Bernd", "Bauer GmbH", "business", True),
    ("Carl", "Müller KG", "business", False),
]
E2 = [  # Bavaria, energy, networking meeting, 1 May just after midnight in Berlin
    ("Dora", "stadt leipzig", "public_administration", True),
    ("Emil", "Verein Zukunft", "civil_society", True),
    ("Frida", "Universität Jena", "research_education", True),
    ("Gustav", "Landkreis Görlitz", "public_administration", False),
]
E3 = [  # Saxony, health, workshop, 31 May late in the evening (the last day of the period)
    ("Hanna", "Bauer GmbH", "business", True),
    ("Ida", "Landtag Sachsen", "politics", True),
]
OTHERS = [  # Berlin, mobility, networking meeting, April; another organiser's
    ("Jan", "WFG Berlin", "business_development", True),
    ("Kai", "Privat", "other", False),
]
NOT_COUNTED = [("Lena", "Stadtwerke Halle", "municipal_company", True)]


@dataclass(frozen=True)
class DataSet:
    me: CurrentOrganiser
    auth: dict[str, str]
    other: CurrentOrganiser
    others_event: EventView


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def held_event(
    owner: CurrentOrganiser,
    people: list[tuple[str, str, str, bool]],
    *,
    starts_at: datetime,
    kind: str = "workshop",
    region: str = "DE-SN",
    sectors: tuple[str, ...] = ("education",),
    cancelled_people: int = 0,
) -> EventView:
    """A published event that took place at `starts_at`: its people registered, some came.

    `cancelled_people` extra registrations are cancelled again and must never count.
    """
    event = await factories.event(owner, kind=kind, region=region, sectors=list(sectors))
    now = datetime.now(UTC)
    extra = [(f"Cancelled {n}", "IHK Dresden", "business_association", True) for n in range(5)]
    for number, (name, organisation, group, came) in enumerate(
        [*people, *extra[:cancelled_people]]
    ):
        outcome = await add_by_organiser(
            event.slug,
            ManualRegistration(
                name=name,
                email=f"{name.lower().replace(' ', '')}.{number}.{event.id}@example.org",
                organisation=organisation,
                stakeholder_group=group,  # type: ignore[arg-type]
                consent=True,
            ),
            now=now,
        )
        if came:
            await Registration.update({Registration.checked_in_at: starts_at}).where(
                Registration.id == outcome.registration_id
            )
        if name.startswith("Cancelled"):
            await cancel_by_organiser(event.slug, outcome.registration_id, now=now)
    await Event.update(
        {Event.starts_at: starts_at, Event.ends_at: starts_at + timedelta(hours=3)}
    ).where(Event.id == event.id)
    return event


async def data_set() -> DataSet:
    """Three counted events of mine in March to May 2025, and events that must not count."""
    me, auth = await factories.organiser_with_token()
    other = await factories.organiser()
    await held_event(
        me,
        E1,
        starts_at=utc("2025-03-12T09:00:00"),
        sectors=("education", "energy"),
        cancelled_people=1,
    )
    await held_event(
        me,
        E2,
        starts_at=utc("2025-04-30T22:30:00"),  # 1 May, 00:30 in Berlin
        kind="networking_meeting",
        region="DE-BY",
        sectors=("energy",),
    )
    await held_event(me, E3, starts_at=utc("2025-05-31T20:00:00"), sectors=("health",))
    others_event = await held_event(
        other,
        OTHERS,
        starts_at=utc("2025-04-10T08:00:00"),
        kind="networking_meeting",
        region="DE-BE",
        sectors=("mobility",),
    )
    # Not counted: a cancelled event, a draft, and events just outside the period in Berlin.
    called_off = await held_event(me, NOT_COUNTED, starts_at=utc("2025-04-02T08:00:00"))
    await Event.update({Event.status: "published"}).where(Event.id == called_off.id)
    await cancel_and_notify(called_off.slug, "Sturm", now=datetime.now(UTC))
    draft = await factories.event(me, publish=False)
    await Event.update(
        {Event.starts_at: utc("2025-04-03T08:00:00"), Event.ends_at: utc("2025-04-03T11:00:00")}
    ).where(Event.id == draft.id)
    await held_event(me, NOT_COUNTED, starts_at=utc("2025-02-28T22:30:00"))  # 28 Feb, 23:30
    await held_event(me, NOT_COUNTED, starts_at=utc("2025-05-31T22:30:00"))  # 1 June, 00:30
    return DataSet(me, auth, other, others_event)


def figures(
    key: str, events: int, registrations: int, attended: int, no_show: int
) -> dict[str, Any]:
    return {
        "key": key,
        "events": events,
        "registrations": registrations,
        "attended": attended,
        "no_show": no_show,
        "attendance_rate": round(attended / registrations, 4),
        "no_show_rate": round(no_show / registrations, 4),
    }


EXPECTED_TOTALS = {
    "events": 3,
    "registrations": 9,
    "attended": 7,
    "no_show": 2,
    "attendance_rate": 0.7778,
    "no_show_rate": 0.2222,
    "organisations": 5,
    "regions_reached": 2,
}
EXPECTED_BY = {
    "region": [figures("DE-BY", 1, 4, 3, 1), figures("DE-SN", 2, 5, 4, 1)],
    "sector": [
        figures("education", 1, 3, 2, 1),
        figures("energy", 2, 7, 5, 2),
        figures("health", 1, 2, 2, 0),
    ],
    "stakeholder_group": [
        figures("business", 2, 3, 2, 1),
        figures("civil_society", 1, 1, 1, 0),
        figures("politics", 1, 1, 1, 0),
        figures("public_administration", 2, 3, 2, 1),
        figures("research_education", 1, 1, 1, 0),
    ],
    "kind": [figures("networking_meeting", 1, 4, 3, 1), figures("workshop", 2, 5, 4, 1)],
    "month": [figures("2025-03", 1, 3, 2, 1), figures("2025-05", 2, 6, 5, 1)],
}


async def report(
    client: httpx.AsyncClient, auth: dict[str, str], params: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.get("/api/v1/reports", params=params or PERIOD, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{round(rate * 100, 1)} %"


# --- JSON -----------------------------------------------------------------------------------------


async def test_report_totals_are_exact(client: httpx.AsyncClient) -> None:
    data = await data_set()

    body = await report(client, data.auth)

    assert body["start"] == "2025-03-01"
    assert body["end"] == "2025-05-31"
    assert body["totals"] == EXPECTED_TOTALS


@pytest.mark.parametrize("dimension", DIMENSIONS)
async def test_report_figures_per_dimension_are_exact(
    client: httpx.AsyncClient, dimension: str
) -> None:
    data = await data_set()

    body = await report(client, data.auth)

    assert body["by"][dimension] == EXPECTED_BY[dimension]


async def test_report_counts_an_event_in_each_of_its_sectors(client: httpx.AsyncClient) -> None:
    data = await data_set()

    body = await report(client, data.auth)

    sectors = {row["key"]: row["events"] for row in body["by"]["sector"]}
    assert sectors == {"education": 1, "energy": 2, "health": 1}
    assert sum(sectors.values()) > body["totals"]["events"]


async def test_report_of_an_organiser_leaves_out_events_of_others(
    client: httpx.AsyncClient,
) -> None:
    data = await data_set()

    body = await report(client, data.auth)

    assert "DE-BE" not in [row["key"] for row in body["by"]["region"]]
    assert "2025-04" not in [row["key"] for row in body["by"]["month"]]


async def test_report_of_a_co_organiser_counts_the_co_organised_event(
    client: httpx.AsyncClient,
) -> None:
    data = await data_set()
    await add_co_organiser(data.others_event.slug, data.me.email)

    body = await report(client, data.auth)

    assert body["totals"]["events"] == 4
    assert body["by"]["region"][0] == figures("DE-BE", 1, 2, 1, 1)


async def test_report_of_an_admin_counts_every_organisers_events(
    client: httpx.AsyncClient,
) -> None:
    await data_set()
    _, admin = await factories.organiser_with_token(admin=True)

    body = await report(client, admin)

    assert body["totals"] == {
        "events": 4,
        "registrations": 11,
        "attended": 8,
        "no_show": 3,
        "attendance_rate": 0.7273,
        "no_show_rate": 0.2727,
        "organisations": 6,
        "regions_reached": 3,
    }
    assert body["by"]["month"] == [
        figures("2025-03", 1, 3, 2, 1),
        figures("2025-04", 1, 2, 1, 1),
        figures("2025-05", 2, 6, 5, 1),
    ]


async def test_report_of_the_other_organiser_counts_only_their_event(
    client: httpx.AsyncClient,
) -> None:
    data = await data_set()
    token = await create_api_token(data.other.email)

    body = await report(client, {"Authorization": f"Bearer {token}"})

    assert body["totals"]["events"] == 1
    assert body["by"]["region"] == [figures("DE-BE", 1, 2, 1, 1)]


async def test_report_counts_events_still_to_come_without_attendance_or_no_shows(
    client: httpx.AsyncClient,
) -> None:
    me, auth = await factories.organiser_with_token()
    coming = await factories.event(me, days_ahead=3)
    for name in ("Anna", "Bernd"):
        await add_by_organiser(
            coming.slug,
            ManualRegistration(
                name=name,
                email=f"{name.lower()}@example.org",
                organisation="Stadt Leipzig",
                stakeholder_group="public_administration",
                consent=True,
            ),
            now=datetime.now(UTC),
        )
    day = coming.starts_at.astimezone(BERLIN).date().isoformat()

    body = await report(client, auth, {"from": day, "to": day})

    assert body["totals"] == {
        "events": 1,
        "registrations": 2,
        "attended": 0,
        "no_show": 0,
        "attendance_rate": None,
        "no_show_rate": None,
        "organisations": 0,
        "regions_reached": 1,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-13-01", "to": "2025-05-31"}, "from"),
        ({"from": "yesterday", "to": "2025-05-31"}, "from"),
        ({"from": "2025-03-01", "to": "31.05.2025"}, "to"),
        ({"from": "2025-05-31", "to": "2025-03-01"}, "to"),
    ],
    ids=["month-13", "words", "german-date", "to-before-from"],
)
async def test_report_with_an_invalid_period_is_refused(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    _, auth = await factories.organiser_with_token()

    response = await client.get("/api/v1/reports", params=params, headers=auth)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_report_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/reports", params=PERIOD)

    assert response.status_code == 401


# --- CSV ------------------------------------------------------------------------------------------


async def report_csv(client: httpx.AsyncClient, data: DataSet) -> list[list[str]]:
    await sign_in(client, data.me)
    response = await client.get("/organiser/reports.csv", params=PERIOD)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def csv_line(dimension: str, row: dict[str, Any]) -> list[str]:
    columns = ["events", "registrations", "attended", "no_show", "attendance_rate", "no_show_rate"]
    return [
        dimension,
        row.get("key", ""),
        *["" if row[c] is None else str(row[c]) for c in columns],
    ]


async def test_report_csv_has_the_same_figures_as_the_api(client: httpx.AsyncClient) -> None:
    data = await data_set()

    rows = await report_csv(client, data)

    assert rows == [
        [
            "dimension",
            "key",
            "events",
            "registrations",
            "attended",
            "no_show",
            "attendance_rate",
            "no_show_rate",
        ],
        csv_line("total", EXPECTED_TOTALS),
        *[csv_line(d, row) for d in DIMENSIONS for row in EXPECTED_BY[d]],
        ["total", "organisations", "5"],
        ["total", "regions_reached", "2"],
    ]


def csv_total(rows: list[list[str]], name: str) -> str | None:
    """A total in the CSV, either as a column of the header with the total row, or as a row."""
    header, *lines = rows
    totals = [line for line in lines if line and line[0] == "total"]
    if name in header and totals:
        return totals[0][header.index(name)]
    for line in lines:
        if name in line and line.index(name) + 1 < len(line):
            return line[line.index(name) + 1]
    return None


async def test_report_csv_also_has_organisations_and_regions_reached(
    client: httpx.AsyncClient,
) -> None:
    data = await data_set()

    rows = await report_csv(client, data)

    assert (csv_total(rows, "organisations"), csv_total(rows, "regions_reached")) == ("5", "2")


async def test_report_csv_without_a_session_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/organiser/reports.csv", params=PERIOD)

    assert response.status_code == 401
    assert not response.content.startswith("\ufeff".encode())


# --- the HTML page --------------------------------------------------------------------------------


async def report_page(client: httpx.AsyncClient, data: DataSet) -> str:
    await sign_in(client, data.me)
    response = await client.get("/organiser/reports", params=PERIOD, headers=ENGLISH)
    assert response.status_code == 200, response.text
    return response.text


CHART_IDS = {
    "region": "chart-region",
    "sector": "chart-sector",
    "stakeholder_group": "chart-group",
    "kind": "chart-kind",
    "month": "chart-month",
}
LABELS = {
    "DE-BY": "Bavaria",
    "DE-SN": "Saxony",
    "education": "Education",
    "energy": "Energy",
    "health": "Health",
    "business": "Business",
    "civil_society": "Civil society and the public",
    "politics": "Politics",
    "public_administration": "Public administration",
    "research_education": "Research and education",
    "networking_meeting": "Networking meeting",
    "workshop": "Workshop",
    "2025-03": "2025-03",
    "2025-05": "2025-05",
}


async def test_report_page_has_one_accessible_svg_chart_per_dimension(
    client: httpx.AsyncClient,
) -> None:
    data = await data_set()

    html = await report_page(client, data)

    charts = re.findall(r"<svg (.*?)>(.*?)</svg>", html, re.S)
    assert len(charts) == 5
    for (attributes, body), chart_id in zip(charts, CHART_IDS.values(), strict=True):
        assert 'role="img"' in attributes
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in attributes
        assert re.search(rf'<title id="{chart_id}-title">[^<]+</title>', body)
        assert re.search(rf'<desc id="{chart_id}-desc">[^<]+</desc>', body)


async def test_report_page_charts_draw_one_bar_group_per_row(client: httpx.AsyncClient) -> None:
    data = await data_set()

    html = await report_page(client, data)

    charts = re.findall(r"<svg .*?>(.*?)</svg>", html, re.S)
    for body, dimension in zip(charts, DIMENSIONS, strict=True):
        attended = re.findall(r"<title>attended: (\d+)</title>", body)
        no_shows = re.findall(r"<title>no-shows: (\d+)</title>", body)
        assert attended == [str(row["attended"]) for row in EXPECTED_BY[dimension]]
        assert no_shows == [str(row["no_show"]) for row in EXPECTED_BY[dimension]]


async def test_report_page_tables_have_the_same_numbers(client: httpx.AsyncClient) -> None:
    data = await data_set()

    html = await report_page(client, data)

    tables = re.findall(r'<table class="table">(.*?)</table>', html, re.S)
    assert len(tables) == 5
    for table, dimension in zip(tables, DIMENSIONS, strict=True):
        rows = [
            [text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
        ]
        assert rows == [
            [
                LABELS[row["key"]],
                str(row["events"]),
                str(row["registrations"]),
                str(row["attended"]),
                str(row["no_show"]),
                percent(row["attendance_rate"]),
            ]
            for row in EXPECTED_BY[dimension]
        ]


async def test_report_page_shows_the_totals(client: httpx.AsyncClient) -> None:
    data = await data_set()

    html = await report_page(client, data)

    facts = re.search(r'<dl class="facts">(.*?)</dl>', html, re.S)
    assert facts
    assert text(facts.group(1)) == (
        "Events 3 Registrations 9 Attended 7 No-shows 2 Attendance rate 77.8 % "
        "Organisations that took part 5 Regions reached 2"
    )


async def test_report_page_with_to_before_from_shows_the_error_at_the_field(
    client: httpx.AsyncClient,
) -> None:
    await sign_in(client, await factories.organiser())

    response = await client.get(
        "/organiser/reports", params={"from": "2025-05-31", "to": "2025-03-01"}, headers=ENGLISH
    )

    assert response.status_code == 422
    assert '<p class="field-error" id="to-error">must not be before from</p>' in response.text
    assert re.search(
        r'<input id="to" [^>]*aria-invalid="true" aria-describedby="to-error"', response.text
    )


async def test_report_page_without_a_session_redirects_to_login(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/organiser/reports")

    assert response.status_code in {302, 303}
    assert response.headers["location"] == "/login?next=/organiser/reports"


def test_the_period_of_the_data_set_is_over() -> None:
    """The data set's events must be finished whenever the suite runs."""
    assert date.fromisoformat(PERIOD["to"]) < datetime.now(BERLIN).date()
