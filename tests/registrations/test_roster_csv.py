"""The roster as CSV for (German) Excel: BOM, semicolons, CRLF, every row, safe cells."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import person, register_ok
from treffpunkt.events.services import EventView

pytestmark = pytest.mark.anyio

HEADER = [
    "id",
    "name",
    "email",
    "organisation",
    "stakeholder_group",
    "role",
    "status",
    "waitlist_position",
    "checked_in_at",
    "attendance",
    "created_at",
    "language",
    "notes",
    "consent_at",
    "consent_version",
    "address_confirmed",
]


async def csv_of(client: httpx.AsyncClient, slug: str, auth: dict[str, str]) -> httpx.Response:
    response = await client.get(f"/api/v1/events/{slug}/registrations.csv", headers=auth)
    assert response.status_code == 200, response.text
    return response


def parsed(response: httpx.Response) -> list[list[str]]:
    text = response.content.decode("utf-8").removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


async def an_event() -> tuple[EventView, dict[str, str]]:
    owner, auth = await factories.organiser_with_token()
    return await factories.event(owner, capacity=None), auth


async def test_the_csv_starts_with_the_utf8_bom(client: httpx.AsyncClient) -> None:
    event, auth = await an_event()
    await register_ok(client, event.slug, name="Jürgen Müller")

    response = await csv_of(client, event.slug, auth)

    assert response.content.startswith(b"\xef\xbb\xbfid;name;")
    assert "Jürgen Müller" in response.content.decode("utf-8")


async def test_the_csv_is_served_as_an_attachment(client: httpx.AsyncClient) -> None:
    event, auth = await an_event()

    response = await csv_of(client, event.slug, auth)

    assert response.headers["content-type"].split(";")[0] == "text/csv"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{event.slug}-roster.csv"'
    )


async def test_the_csv_has_a_header_row_separated_by_semicolons(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await an_event()

    response = await csv_of(client, event.slug, auth)

    assert response.content.decode("utf-8") == "\ufeff" + ";".join(HEADER) + "\r\n"


async def test_the_csv_ends_every_line_with_crlf(client: httpx.AsyncClient) -> None:
    event, auth = await an_event()
    for _ in range(3):
        await register_ok(client, event.slug)

    body = (await csv_of(client, event.slug, auth)).content

    assert body.endswith(b"\r\n")
    assert body.count(b"\r\n") == 4
    assert b"\n" not in body.replace(b"\r\n", b"")


async def test_the_csv_has_one_line_per_registration(client: httpx.AsyncClient) -> None:
    event, auth = await an_event()
    await register_ok(client, event.slug, name="Anna", email="anna@example.org", language="en")
    await register_ok(client, event.slug, name="Ben", email="ben@example.org")

    rows = parsed(await csv_of(client, event.slug, auth))

    assert rows[0] == HEADER
    assert [(r[1], r[2], r[4], r[6], r[11]) for r in rows[1:]] == [
        ("Anna", "anna@example.org", "public_administration", "confirmed", "en"),
        ("Ben", "ben@example.org", "public_administration", "confirmed", "de"),
    ]


async def test_the_csv_exports_every_row_not_just_one_page(client: httpx.AsyncClient) -> None:
    event, auth = await an_event()
    for _ in range(120):
        added = await client.post(
            f"/api/v1/events/{event.slug}/roster", json=person(), headers=auth
        )
        assert added.status_code == 201

    rows = parsed(await csv_of(client, event.slug, auth))

    assert len(rows) == 1 + 120
    assert len({row[0] for row in rows[1:]}) == 120


async def test_the_csv_quotes_semicolons_quotes_and_newlines(client: httpx.AsyncClient) -> None:
    event, auth = await an_event()
    await register_ok(
        client,
        event.slug,
        name="Müller; Anna",
        organisation='Verein "Zukunft Sachsen" e.V.',
        notes="Rollstuhl\nvegetarisch; keine Nüsse",
        role="Leitung; Vertretung",
    )

    rows = parsed(await csv_of(client, event.slug, auth))

    assert len(rows) == 2
    assert (rows[1][1], rows[1][3], rows[1][5], rows[1][12]) == (
        "Müller; Anna",
        'Verein "Zukunft Sachsen" e.V.',
        "Leitung; Vertretung",
        "Rollstuhl\nvegetarisch; keine Nüsse",
    )


@pytest.mark.parametrize(
    ("field", "column", "value"),
    [
        ("name", 1, '=HYPERLINK("http://evil.example","klick")'),
        ("organisation", 3, "+49 351 123456"),
        ("role", 5, "-1+1"),
        ("notes", 12, "@SUM(A1:A9)"),
    ],
)
async def test_the_csv_defuses_cells_that_look_like_formulas(
    client: httpx.AsyncClient, field: str, column: int, value: str
) -> None:
    event, auth = await an_event()
    await register_ok(client, event.slug, **{field: value})

    rows = parsed(await csv_of(client, event.slug, auth))

    assert rows[1][column] == "'" + value


async def test_the_csv_leaves_ordinary_cells_alone(client: httpx.AsyncClient) -> None:
    event, auth = await an_event()
    await register_ok(client, event.slug, name="Anna = Ben", notes="1+1")

    rows = parsed(await csv_of(client, event.slug, auth))

    assert (rows[1][1], rows[1][12]) == ("Anna = Ben", "1+1")


async def test_the_csv_follows_the_roster_filters(client: httpx.AsyncClient) -> None:
    event, auth = await an_event()
    await register_ok(client, event.slug, name="Anna", stakeholder_group="politics")
    await register_ok(client, event.slug, name="Ben", stakeholder_group="business")

    response = await client.get(
        f"/api/v1/events/{event.slug}/registrations.csv",
        params={"stakeholder_group": "business"},
        headers=auth,
    )

    assert [row[1] for row in parsed(response)[1:]] == ["Ben"]


async def test_the_csv_defuses_question_labels_that_look_like_formulas(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await an_event()
    label = '=HYPERLINK("http://evil.example","Anreise")'
    put = await client.put(
        f"/api/v1/events/{event.slug}/questions",
        json=[{"key": "travel", "kind": "short_text", "label": label}],
        headers=auth,
    )
    assert put.status_code == 200

    header = parsed(await csv_of(client, event.slug, auth))[0]

    assert header[-1] == "'" + label
