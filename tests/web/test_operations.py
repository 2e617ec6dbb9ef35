"""Operations: health, the OpenAPI document, security headers, redirects and not-found answers."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx
import pytest

pytestmark = pytest.mark.anyio

LANGUAGE_COOKIE = "treffpunkt_language"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# Sources a Content-Security-Policy may name without reaching another host.
LOCAL_SOURCES = {"'self'", "'none'", "data:"}
SCHEDULING_OPERATIONS = {
    ("get", "/api/v1/events"),
    ("post", "/api/v1/events"),
    ("get", "/api/v1/events/{slug}"),
    ("patch", "/api/v1/events/{slug}"),
    ("post", "/api/v1/events/{slug}/publish"),
    ("post", "/api/v1/events/{slug}/cancel"),
}


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie header of the response, parsed, by cookie name."""
    parsed = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            parsed[name] = cookie
    return parsed


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    directives = csp_directives(response.headers["content-security-policy"])
    assert directives["default-src"] == ["'self'"]
    assert {source for sources in directives.values() for source in sources} <= LOCAL_SOURCES


async def test_health_answers_ok_with_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_openapi_document_is_served_as_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Treffpunkt API"
    assert response.json()["openapi"].startswith("3.")


async def test_openapi_documents_the_scheduling_operations(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]

    documented = {
        (method, path)
        for path, operations in paths.items()
        for method in operations
        if method in HTTP_METHODS
    }
    assert documented >= SCHEDULING_OPERATIONS


async def test_openapi_gives_every_api_operation_a_summary(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]

    without_summary = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        if path.startswith("/api/v1/")
        for method, operation in operations.items()
        if method in HTTP_METHODS and not operation.get("summary", "").strip()
    ]
    assert without_summary == []


async def test_openapi_leaves_out_the_html_pages(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]

    outside_the_api = sorted(p for p in paths if not p.startswith(("/api/v1/", "/health")))
    assert outside_the_api == [
        "/calendar.ics",
        "/registrations/{token}/ticket.png",
        "/registrations/{token}/ticket.svg",
    ]


async def test_html_pages_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/events")

    assert response.status_code == 200
    assert_security_headers(response)
    assert response.headers["x-frame-options"] == "DENY"


async def test_api_answers_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/events")

    assert response.status_code == 200
    assert_security_headers(response)


async def test_content_security_policy_forbids_framing(client: httpx.AsyncClient) -> None:
    response = await client.get("/events")

    directives = csp_directives(response.headers["content-security-policy"])
    assert directives["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    "path", ["/no-such-page", "/events/no-such-event", "/api/v1/no-such-thing"]
)
async def test_not_found_answers_carry_the_security_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert_security_headers(response)


async def test_validation_errors_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/events", params={"limit": "0"})

    assert response.status_code == 422
    assert_security_headers(response)


async def test_the_front_door_redirects_to_the_catalogue(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code in {301, 302, 303, 307, 308}
    assert response.headers["location"] == "/events"


async def test_choosing_english_sets_the_language_cookie(client: httpx.AsyncClient) -> None:
    response = await client.get("/language/en", params={"next": "/events"})

    assert response.status_code == 303
    language = set_cookies(response)[LANGUAGE_COOKIE][LANGUAGE_COOKIE]
    assert language.value == "en"
    assert language["httponly"] is True
    assert language["samesite"].lower() == "lax"


async def test_after_choosing_english_pages_are_english(client: httpx.AsyncClient) -> None:
    await client.get("/language/en")

    response = await client.get("/events", headers={"Accept-Language": "de"})

    assert '<html lang="en">' in response.text
    assert "<h1>Workshops and networking meetings</h1>" in response.text


async def test_choosing_a_language_returns_to_a_same_site_next(client: httpx.AsyncClient) -> None:
    response = await client.get("/language/en", params={"next": "/events?region=DE-SN"})

    assert response.status_code == 303
    assert response.headers["location"] == "/events?region=DE-SN"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example"])
async def test_choosing_a_language_never_redirects_off_site(
    client: httpx.AsyncClient, target: str
) -> None:
    response = await client.get("/language/en", params={"next": target})

    assert response.status_code == 303
    assert response.headers["location"] == "/events"


async def test_choosing_an_unknown_language_sets_no_cookie(client: httpx.AsyncClient) -> None:
    response = await client.get("/language/xx", params={"next": "/events"})

    assert response.status_code == 303
    assert response.headers["location"] == "/events"
    assert LANGUAGE_COOKIE not in set_cookies(response)


async def test_an_unknown_api_route_answers_404_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"], body["type"]) == (
        404,
        "not_found",
        "urn:treffpunkt:problem:not_found",
    )


async def test_an_unknown_event_in_the_api_answers_404_problem_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/events/no-such-event")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "event_not_found"


async def test_an_unknown_html_route_answers_a_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page")

    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text.startswith("<!doctype html>")
    assert '<a href="/events">' in response.text


def test_an_unknown_html_route_answers_in_the_readers_language(live_server: str) -> None:
    response = httpx.get(f"{live_server}/no-such-page", headers={"Accept-Language": "en"})

    assert response.status_code == 404
    assert '<html lang="en">' in response.text
