"""Organiser sign-in in the browser: CSRF, wrong passwords, safe redirects, sessions, cookies."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from litestar import Litestar

from tests import factories
from tests.sessions import hidden_value
from treffpunkt.accounts.services import CurrentOrganiser

pytestmark = pytest.mark.anyio

CSRF_COOKIE = "treffpunkt_csrf"
SESSION_COOKIE = "treffpunkt_session"
ENGLISH = {"Accept-Language": "en"}
WRONG_LOGIN_DE = "Die E-Mail-Adresse oder das Passwort ist falsch."


async def csrf_token(client: httpx.AsyncClient, path: str = "/login") -> str:
    """GET a page with a form, which also leaves the CSRF cookie in the client."""
    response = await client.get(path)
    assert response.status_code == 200
    return hidden_value(response.text, "_csrf_token")


async def post_login(
    client: httpx.AsyncClient, email: str, password: str, next_path: str = ""
) -> httpx.Response:
    token = await csrf_token(client)
    return await client.post(
        "/login",
        data={"_csrf_token": token, "email": email, "password": password, "next": next_path},
    )


async def signed_in(client: httpx.AsyncClient) -> CurrentOrganiser:
    person = await factories.organiser()
    response = await post_login(client, person.email, factories.PASSWORD)
    assert response.status_code == 303
    return person


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie header of the response, parsed, by cookie name."""
    parsed = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            parsed[name] = cookie
    return parsed


async def test_login_page_carries_a_csrf_token_matching_its_cookie(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/login")

    assert response.status_code == 200
    token = hidden_value(response.text, "_csrf_token")
    assert re.fullmatch(r"[0-9a-f]{128}", token)
    assert client.cookies[CSRF_COOKIE] == token


async def test_login_without_csrf_token_is_forbidden(client: httpx.AsyncClient) -> None:
    person = await factories.organiser()
    await client.get("/login")

    response = await client.post(
        "/login", data={"email": person.email, "password": factories.PASSWORD}
    )

    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


async def test_login_with_a_forged_csrf_token_is_forbidden(client: httpx.AsyncClient) -> None:
    person = await factories.organiser()
    await client.get("/login")

    response = await client.post(
        "/login",
        data={"_csrf_token": "0" * 128, "email": person.email, "password": factories.PASSWORD},
    )

    assert response.status_code == 403


async def test_login_with_a_wrong_password_answers_400_with_the_message(
    client: httpx.AsyncClient,
) -> None:
    person = await factories.organiser()

    response = await post_login(client, person.email, "not the password")

    assert response.status_code == 400
    assert re.search(
        rf'<p class="form-error" role="alert" id="login-error"[^>]*>{WRONG_LOGIN_DE}</p>',
        response.text,
    )
    assert SESSION_COOKIE not in client.cookies


async def test_login_with_a_wrong_password_keeps_the_email(client: httpx.AsyncClient) -> None:
    person = await factories.organiser()

    response = await post_login(client, person.email, "not the password")

    assert re.search(
        rf'<input id="email" name="email" type="email"[^>]* value="{re.escape(person.email)}"',
        response.text,
    )


async def test_login_for_an_unknown_email_gives_the_same_message(
    client: httpx.AsyncClient,
) -> None:
    response = await post_login(client, "nobody@example.org", factories.PASSWORD)

    assert response.status_code == 400
    assert WRONG_LOGIN_DE in response.text


async def test_login_with_the_right_password_redirects_to_the_organiser_page(
    client: httpx.AsyncClient,
) -> None:
    person = await factories.organiser()

    response = await post_login(client, person.email, factories.PASSWORD)

    assert response.status_code == 303
    assert response.headers["location"] == "/organiser"


async def test_after_login_the_session_shows_my_events(client: httpx.AsyncClient) -> None:
    person = await signed_in(client)

    response = await client.get("/organiser", headers=ENGLISH)

    assert response.status_code == 200
    assert "<h1>My events</h1>" in response.text
    assert f"Signed in as {person.email}." in response.text


async def test_login_accepts_the_email_in_any_case(client: httpx.AsyncClient) -> None:
    person = await factories.organiser()

    response = await post_login(client, person.email.upper(), factories.PASSWORD)

    assert response.status_code == 303


@pytest.mark.parametrize("target", ["/events", "/events/breitband-abc123?x=1", "/organiser"])
async def test_login_honours_a_same_site_next(client: httpx.AsyncClient, target: str) -> None:
    person = await factories.organiser()

    response = await post_login(client, person.email, factories.PASSWORD, next_path=target)

    assert response.status_code == 303
    assert response.headers["location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "evil.example",
        "javascript:alert(1)",
    ],
)
async def test_login_ignores_a_next_that_leaves_the_site(
    client: httpx.AsyncClient, target: str
) -> None:
    person = await factories.organiser()

    response = await post_login(client, person.email, factories.PASSWORD, next_path=target)

    assert response.status_code == 303
    assert response.headers["location"] == "/organiser"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example"])
async def test_login_never_redirects_to_what_browsers_read_as_another_host(
    client: httpx.AsyncClient, target: str
) -> None:
    """Browsers drop raw tabs and newlines from URLs: "/<TAB>/evil.example" is "//evil.example"."""
    person = await factories.organiser()

    response = await post_login(client, person.email, factories.PASSWORD, next_path=target)

    assert response.status_code == 303
    as_a_browser_reads_it = re.sub(r"[\t\r\n]", "", response.headers["location"])
    assert urlsplit(urljoin("http://testserver/login", as_a_browser_reads_it)).netloc == (
        "testserver"
    )


async def test_login_page_puts_only_a_safe_next_in_its_form(client: httpx.AsyncClient) -> None:
    response = await client.get("/login", params={"next": "//evil.example"})

    assert hidden_value(response.text, "next") == "/organiser"


async def test_organiser_page_without_a_session_redirects_to_login(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/organiser")

    assert response.status_code in {302, 303}
    assert response.headers["location"] == "/login?next=/organiser"


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    token = await csrf_token(client, "/organiser")

    response = await client.post("/logout", data={"_csrf_token": token})

    assert response.status_code == 303
    assert response.headers["location"] == "/events"
    assert (await client.get("/organiser")).headers["location"] == "/login?next=/organiser"


async def test_logout_without_csrf_token_is_forbidden(client: httpx.AsyncClient) -> None:
    await signed_in(client)

    response = await client.post("/logout")

    assert response.status_code == 403
    assert (await client.get("/organiser")).status_code == 200


async def test_signing_out_everywhere_invalidates_a_copy_of_the_old_session_cookie(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    await signed_in(client)
    stolen = httpx.Cookies({SESSION_COOKIE: client.cookies[SESSION_COOKIE]})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", cookies=stolen
    ) as elsewhere:
        assert (await elsewhere.get("/organiser")).status_code == 200
        token = await csrf_token(client, "/organiser")

        response = await client.post("/logout/everywhere", data={"_csrf_token": token})

        assert response.status_code == 303
        later = await elsewhere.get("/organiser")
        assert later.status_code in {302, 303}
        assert later.headers["location"] == "/login?next=/organiser"


async def test_signing_in_again_after_signing_out_everywhere_works(
    client: httpx.AsyncClient,
) -> None:
    person = await signed_in(client)
    token = await csrf_token(client, "/organiser")
    await client.post("/logout/everywhere", data={"_csrf_token": token})

    response = await post_login(client, person.email, factories.PASSWORD)

    assert response.status_code == 303
    assert (await client.get("/organiser")).status_code == 200


async def test_session_cookie_is_httponly_and_samesite_lax(client: httpx.AsyncClient) -> None:
    person = await factories.organiser()

    response = await post_login(client, person.email, factories.PASSWORD)

    session = set_cookies(response)[SESSION_COOKIE][SESSION_COOKIE]
    assert session["httponly"] is True
    assert session["samesite"].lower() == "lax"
    assert session["path"] == "/"


async def test_csrf_cookie_is_httponly_and_samesite_lax(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")

    csrf = set_cookies(response)[CSRF_COOKIE][CSRF_COOKIE]
    assert csrf["httponly"] is True
    assert csrf["samesite"].lower() == "lax"


async def test_login_attempts_beyond_ten_a_minute_are_refused(
    limited_client: httpx.AsyncClient,
) -> None:
    person = await factories.organiser()
    for _ in range(10):
        assert (await post_login(limited_client, person.email, "wrong password")).status_code == 400

    response = await post_login(limited_client, person.email, factories.PASSWORD)

    assert response.status_code == 429
    assert SESSION_COOKIE not in limited_client.cookies
