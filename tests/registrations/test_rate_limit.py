"""Public registration is rate-limited per client address; organisers and reading are not."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from itertools import count
from typing import Any

import httpx
import pytest

from tests import factories
from tests.addressed_clients import ClientFactory, clients_from_addresses
from treffpunkt.events.services import EventView
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.anyio

LIMIT = 3
PROBLEM_JSON = "application/problem+json"
_numbers = count(1)


@pytest.fixture
def limited_clients(monkeypatch: pytest.MonkeyPatch) -> ClientFactory:
    """Same-loop clients of one fresh app allowing three registrations a minute per address."""
    monkeypatch.setenv("TREFFPUNKT_REGISTRATION_RATE_LIMIT", str(LIMIT))
    get_settings.cache_clear()
    from treffpunkt.web.app import create_app

    return clients_from_addresses(create_app())


@pytest.fixture
async def client(limited_clients: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with limited_clients("203.0.113.7") as http:
        yield http


@pytest.fixture(autouse=True)
def default_settings_afterwards(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Other tests must see the suite's settings (no limit) again."""
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def person() -> dict[str, Any]:
    number = next(_numbers)
    return {
        "name": f"Person {number}",
        "email": f"person{number}@example.org",
        "organisation": "Landkreis Meißen",
        "stakeholder_group": "public_administration",
        "consent": True,
    }


async def open_event() -> tuple[EventView, dict[str, str]]:
    owner, auth = await factories.organiser_with_token()
    return await factories.event(owner, capacity=100), auth


async def register(client: httpx.AsyncClient, slug: str) -> httpx.Response:
    return await client.post(f"/api/v1/events/{slug}/registrations", json=person())


async def use_up_the_limit(client: httpx.AsyncClient, slug: str) -> None:
    for _ in range(LIMIT):
        response = await register(client, slug)
        assert response.status_code == 201, response.text


async def post_form(client: httpx.AsyncClient, slug: str) -> httpx.Response:
    page = await client.get(f"/events/{slug}")
    assert page.status_code == 200
    match = re.search(r'<input type="hidden" name="_csrf_token" value="([^"]*)">', page.text)
    assert match
    fields = {**person(), "consent": "yes", "_csrf_token": match.group(1)}
    return await client.post(f"/events/{slug}/register", data=fields)


async def test_fourth_api_registration_within_a_minute_answers_429(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()
    await use_up_the_limit(client, event.slug)

    response = await register(client, event.slug)

    assert response.status_code == 429
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert (response.json()["status"], response.json()["code"]) == (429, "too_many_requests")


async def test_refused_registration_stores_nothing(client: httpx.AsyncClient) -> None:
    event, _ = await open_event()
    await use_up_the_limit(client, event.slug)

    await register(client, event.slug)

    assert await Registration.count() == LIMIT


async def test_limit_counts_across_events(client: httpx.AsyncClient) -> None:
    first, _ = await open_event()
    second, _ = await open_event()
    await use_up_the_limit(client, first.slug)

    response = await register(client, second.slug)

    assert response.status_code == 429


async def test_limit_is_per_client_address(limited_clients: ClientFactory) -> None:
    event, _ = await open_event()
    async with limited_clients("203.0.113.7") as first:
        await use_up_the_limit(first, event.slug)

    async with limited_clients("198.51.100.4") as second:
        response = await register(second, event.slug)

    assert response.status_code == 201


async def test_forwarded_for_header_does_not_escape_the_limit(client: httpx.AsyncClient) -> None:
    event, _ = await open_event()
    await use_up_the_limit(client, event.slug)

    response = await client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json=person(),
        headers={"X-Forwarded-For": "192.0.2.99", "X-Real-IP": "192.0.2.99"},
    )

    assert response.status_code == 429


async def test_organiser_calls_are_not_limited(client: httpx.AsyncClient) -> None:
    event, auth = await open_event()
    await use_up_the_limit(client, event.slug)

    statuses = [
        (
            await client.post(f"/api/v1/events/{event.slug}/roster", json=person(), headers=auth)
        ).status_code
        for _ in range(LIMIT + 1)
    ]
    created = await client.post("/api/v1/events", json=factories.event_payload(), headers=auth)

    assert statuses == [201] * (LIMIT + 1)
    assert created.status_code == 201


async def test_get_requests_are_not_limited(client: httpx.AsyncClient) -> None:
    event, auth = await open_event()
    await use_up_the_limit(client, event.slug)

    statuses = {
        path: (await client.get(path, headers=auth)).status_code
        for path in (
            f"/events/{event.slug}",
            f"/api/v1/events/{event.slug}",
            f"/api/v1/events/{event.slug}/registrations",
            f"/api/v1/events/{event.slug}/questions",
            "/events",
        )
    }

    assert statuses == dict.fromkeys(statuses, 200)


async def test_fourth_form_registration_within_a_minute_answers_429(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()
    for _ in range(LIMIT):
        assert (await post_form(client, event.slug)).status_code == 303

    response = await post_form(client, event.slug)

    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html")
    assert await Registration.count() == LIMIT


async def test_form_and_api_share_one_limit(client: httpx.AsyncClient) -> None:
    event, _ = await open_event()
    await use_up_the_limit(client, event.slug)

    response = await post_form(client, event.slug)

    assert response.status_code == 429


async def test_limited_form_page_explains_the_refusal_in_german(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()
    await use_up_the_limit(client, event.slug)

    response = await post_form(client, event.slug)

    assert '<html lang="de">' in response.text
    # Litestar's own English detail is no message for a German reader.
    assert "Too Many Requests" not in response.text
