"""Malformed input is refused at the edge with a problem-details 422, on both engines.

PostgreSQL's integer is 32-bit and its text cannot hold NUL; SQLite takes both. Found by
fuzzing: ids beyond 2^31-1 and a NUL byte in a text parameter answered 500 on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import person, problem_code, registration_count
from tests.registrations.test_pages import form_fields, post_form

pytestmark = pytest.mark.anyio

BEYOND_32_BITS = 99_999_999_999


@dataclass(frozen=True)
class Owner:
    slug: str
    auth: dict[str, str]


async def owner_of_an_event() -> Owner:
    owner, auth = await factories.organiser_with_token()
    return Owner((await factories.event(owner)).slug, auth)


def assert_refused_as_invalid(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert problem_code(response) == "validation_error"
    assert field in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/registrations/{id}/approve"),
        ("POST", "/registrations/{id}/decline"),
        ("POST", "/registrations/{id}/cancel"),
        ("POST", "/registrations/{id}/move-up"),
        ("DELETE", "/check-ins/{id}"),
    ],
)
async def test_a_registration_id_beyond_32_bits_is_refused_as_invalid(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    at = await owner_of_an_event()

    response = await client.request(
        method,
        f"/api/v1/events/{at.slug}{path.format(id=BEYOND_32_BITS)}",
        headers=at.auth,
    )

    assert_refused_as_invalid(response, "registration_id")


async def test_a_registration_id_of_zero_is_refused_as_invalid(client: httpx.AsyncClient) -> None:
    at = await owner_of_an_event()

    response = await client.delete(f"/api/v1/events/{at.slug}/check-ins/0", headers=at.auth)

    assert_refused_as_invalid(response, "registration_id")


async def test_a_check_in_by_a_registration_id_beyond_32_bits_is_refused_as_invalid(
    client: httpx.AsyncClient,
) -> None:
    at = await owner_of_an_event()

    response = await client.post(
        f"/api/v1/events/{at.slug}/check-ins",
        json={"registration_id": BEYOND_32_BITS},
        headers=at.auth,
    )

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"


async def test_a_nul_byte_in_the_roster_search_is_refused_as_invalid(
    client: httpx.AsyncClient,
) -> None:
    at = await owner_of_an_event()

    response = await client.get(
        f"/api/v1/events/{at.slug}/registrations", params={"q": "\x00"}, headers=at.auth
    )

    assert_refused_as_invalid(response, "q")


async def test_a_roster_offset_beyond_32_bits_is_refused_as_invalid(
    client: httpx.AsyncClient,
) -> None:
    at = await owner_of_an_event()

    response = await client.get(
        f"/api/v1/events/{at.slug}/registrations",
        params={"offset": str(2**63)},
        headers=at.auth,
    )

    assert_refused_as_invalid(response, "offset")


@pytest.mark.parametrize("path", ["/api/v1/events", "/calendar.ics", "/events"])
async def test_a_control_character_in_the_catalogue_search_is_refused(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, params={"q": "Glasfaser\x00"})

    assert response.status_code == 422


async def test_a_nul_byte_in_an_event_slug_is_refused_as_invalid(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/events/breitband%00")

    assert_refused_as_invalid(response, "slug")


async def test_a_nul_byte_in_a_secret_link_is_refused_as_invalid(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/registrations/abc%00def")

    assert_refused_as_invalid(response, "token")


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Anna\x00Schmidt"), ("organisation", "Stadt\nLeipzig"), ("notes", "vegan\x07")],
)
async def test_control_characters_in_a_registration_are_refused_as_invalid(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    at = await owner_of_an_event()

    response = await client.post(
        f"/api/v1/events/{at.slug}/registrations", json=person(**{field: value})
    )

    assert_refused_as_invalid(response, field)


async def test_line_breaks_and_tabs_in_notes_are_kept(client: httpx.AsyncClient) -> None:
    at = await owner_of_an_event()

    response = await client.post(
        f"/api/v1/events/{at.slug}/registrations",
        json=person(notes="vegan\r\nRollstuhl:\tja"),
    )

    assert response.status_code == 201, response.text


async def test_a_line_break_at_the_end_of_a_single_line_field_is_refused(
    client: httpx.AsyncClient,
) -> None:
    at = await owner_of_an_event()

    response = await client.post(
        f"/api/v1/events/{at.slug}/registrations", json=person(name="Anna Schmidt\n")
    )

    assert_refused_as_invalid(response, "name")


@pytest.mark.parametrize("field", ["name", "organisation", "notes"])
async def test_a_nul_byte_in_the_registration_form_page_is_refused_on_the_form(
    client: httpx.AsyncClient, field: str
) -> None:
    at = await owner_of_an_event()

    response = await post_form(client, at.slug, form_fields(**{field: "Stadt\x00Leipzig"}))

    assert response.status_code == 422
    assert await registration_count() == 0
