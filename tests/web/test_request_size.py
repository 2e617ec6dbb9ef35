"""Oversized requests are refused with 413 before they are read: problem details for programs,
a page for people; forms with more fields than any of ours are refused the same way."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests import factories
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings
from treffpunkt.web.request_limits import FORM_FIELD_LIMIT

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024
PROBLEM_JSON = "application/problem+json"


def registration(**overrides: object) -> dict[str, object]:
    return {
        "name": "Anna Schmidt",
        "email": "anna@example.org",
        "organisation": "Landkreis Meißen",
        "stakeholder_group": "public_administration",
        "consent": True,
        **overrides,
    }


async def post_registration_form(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    """The public form of a new event, sent with these fields over a valid person's."""
    event = await factories.event(await factories.organiser())
    page = await client.get(f"/events/{event.slug}")
    token = re.search(r'name="_csrf_token" value="([^"]*)"', page.text)
    assert token
    return await client.post(
        f"/events/{event.slug}/register",
        data={**registration(consent="yes"), "_csrf_token": token.group(1), **fields},
    )


async def test_api_body_over_a_mebibyte_answers_413_problem_details(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await factories.organiser())

    response = await client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json=registration(notes="x" * MIB),
    )

    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["code"] == "payload_too_large"
    assert await Registration.count() == 0


async def test_form_over_a_mebibyte_answers_a_page_in_the_readers_language(
    client: httpx.AsyncClient,
) -> None:
    response = await post_registration_form(client, notes="x" * MIB)

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="de">' in response.text
    assert "zu groß" in response.text


async def test_a_form_with_too_many_fields_is_refused_unparsed(client: httpx.AsyncClient) -> None:
    extra = {f"field{n}": "x" for n in range(FORM_FIELD_LIMIT)}

    response = await post_registration_form(client, **extra)

    assert response.status_code == 413
    assert "zu viele Felder" in response.text
    assert await Registration.count() == 0


async def test_an_overlong_form_field_is_refused_next_to_the_field(
    client: httpx.AsyncClient,
) -> None:
    response = await post_registration_form(client, name="A" * 50_000)

    assert response.status_code == 422
    assert "darf höchstens 200 Zeichen lang sein" in response.text
    assert await Registration.count() == 0


async def test_a_form_of_ordinary_size_still_registers(client: httpx.AsyncClient) -> None:
    response = await post_registration_form(client, notes="Rollstuhl " * 100)

    assert response.status_code == 303


@pytest.fixture
def ten_kilobytes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TREFFPUNKT_MAX_REQUEST_BYTES", "10000")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_the_limit_is_a_setting(ten_kilobytes: None) -> None:
    from treffpunkt.web.app import create_app

    app = create_app()
    event = await factories.event(await factories.organiser())
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        response = await http.post(
            f"/api/v1/events/{event.slug}/registrations", json=registration(notes="x" * 10000)
        )

    assert response.status_code == 413


def test_the_server_refuses_an_announced_huge_body_without_waiting_for_it(
    live_server: str,
) -> None:
    """Content-Length says a gigabyte; the answer comes before a byte of the body is sent."""
    address = urlsplit(live_server)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(
            b"POST /api/v1/events/any/registrations HTTP/1.1\r\n"
            b"Host: treffpunkt\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1073741824\r\nConnection: close\r\n\r\n"
        )
        answer = connection.recv(65536)

    assert answer.startswith(b"HTTP/1.1 413 ")
