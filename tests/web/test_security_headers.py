"""Security headers on every kind of HTML answer: public, personal, organiser and error pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from litestar import Litestar

from tests import factories
from tests.registrations.helpers import register_ok, token_of
from tests.sessions import sign_in
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.anyio

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def assert_secured_html(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers


async def test_catalogue_page_has_the_security_headers(client: httpx.AsyncClient) -> None:
    assert_secured_html(await client.get("/events"))


async def test_event_page_has_the_security_headers(client: httpx.AsyncClient) -> None:
    event = await factories.event(await factories.organiser())

    assert_secured_html(await client.get(f"/events/{event.slug}"))


async def test_personal_registration_page_has_the_security_headers(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    person = await register_ok(client, event.slug)
    token = await token_of(client, event.slug, auth, person["email"])

    assert_secured_html(await client.get(f"/registrations/{token}"))


async def test_organiser_page_has_the_security_headers(client: httpx.AsyncClient) -> None:
    await sign_in(client, await factories.organiser())

    response = await client.get("/organiser")

    assert response.status_code == 200
    assert_secured_html(response)


async def test_unrouted_404_page_has_the_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")

    assert response.status_code == 404
    assert_secured_html(response)


async def test_unknown_event_page_has_the_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/events/no-such-event")

    assert response.status_code == 404
    assert_secured_html(response)


async def test_forbidden_organiser_page_has_the_security_headers(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await factories.organiser())
    await sign_in(client, await factories.organiser())

    response = await client.get(f"/organiser/events/{event.slug}/roster")

    assert response.status_code == 403
    assert_secured_html(response)


async def test_expired_form_page_has_the_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.post("/login", data={"email": "a@example.org", "password": "x"})

    assert response.status_code == 403
    assert_secured_html(response)


@pytest.fixture
def https_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """TREFFPUNKT_BASE_URL on https for one app; the suite's settings come back afterwards."""
    monkeypatch.setenv("TREFFPUNKT_BASE_URL", "https://events.example.org")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
async def https_client(https_settings: None) -> AsyncIterator[httpx.AsyncClient]:
    from treffpunkt.web.app import create_app

    app: Litestar = create_app()
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://events.example.org"
        ) as http,
    ):
        yield http


async def test_https_site_sends_hsts_on_pages(https_client: httpx.AsyncClient) -> None:
    response = await https_client.get("/events")

    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_https_site_sends_hsts_on_error_pages(https_client: httpx.AsyncClient) -> None:
    response = await https_client.get("/no/such/page")

    assert response.status_code == 404
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_https_site_sends_hsts_on_problem_details(https_client: httpx.AsyncClient) -> None:
    response = await https_client.get("/api/v1/events/no-such-event")

    assert response.status_code == 404
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_http_site_sends_no_hsts(client: httpx.AsyncClient) -> None:
    response = await client.get("/events")

    assert get_settings().base_url.startswith("http://")
    assert "strict-transport-security" not in response.headers
