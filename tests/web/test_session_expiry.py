"""Scripts that ask for JSON get problem details, never a redirect to the login page.

The door's script fetches with `Accept: application/json`. A lapsed session must answer 401
with a code it can act on, a refusal must say why in the reader's language, and a stale CSRF
token ("the form has expired") must not be confused with "you do not manage this event".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests import factories
from tests.attendance.helpers import anna_at_the_door, stored_check_in
from tests.attendance.test_browser_check_in import door, signed_in_page
from tests.conftest import run_async
from tests.sessions import sign_in
from treffpunkt.accounts.services import end_all_sessions
from treffpunkt.attendance.codes import check_in_code

CSRF_COOKIE = "treffpunkt_csrf"
GERMAN = {"Accept-Language": "de"}
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class AtTheDoor:
    url: str
    code: str  # Anna's ticket
    anna: int
    owner_id: int


async def at_the_door(client: httpx.AsyncClient) -> AtTheDoor:
    """The owner, signed in, has the door of an event open where Anna holds a seat."""
    owner = await factories.organiser()
    event, anna = await anna_at_the_door(owner)
    await sign_in(client, owner)
    url = f"/organiser/events/{event.slug}/check-in"
    assert (await client.get(url)).status_code == 200
    return AtTheDoor(url, check_in_code(event.id, anna), anna, owner.id)


async def scan(client: httpx.AsyncClient, url: str, code: str) -> httpx.Response:
    """What the door's script sends: the code, the CSRF header, and `Accept: application/json`."""
    return await client.post(
        f"{url}/",
        data={"code": code},
        headers={
            **GERMAN,
            "Accept": "application/json",
            "x-csrftoken": client.cookies.get(CSRF_COOKIE) or "",
        },
    )


@pytest.mark.anyio
async def test_a_script_scan_after_the_session_ended_answers_401_not_a_redirect(
    client: httpx.AsyncClient,
) -> None:
    at = await at_the_door(client)
    client.cookies.delete("treffpunkt_session")

    response = await scan(client, at.url, at.code)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "not_authenticated"
    assert await stored_check_in(at.anna) is None


@pytest.mark.anyio
async def test_a_script_scan_after_signing_out_everywhere_answers_401(
    client: httpx.AsyncClient,
) -> None:
    at = await at_the_door(client)
    await end_all_sessions(at.owner_id)

    response = await scan(client, at.url, at.code)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.anyio
async def test_the_door_counters_for_a_script_answer_401_after_the_session_ended(
    client: httpx.AsyncClient,
) -> None:
    at = await at_the_door(client)
    client.cookies.delete("treffpunkt_session")

    response = await client.get(f"{at.url}/counters", headers={"Accept": "application/json"})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.anyio
async def test_a_browser_page_after_the_session_ended_still_redirects_to_login(
    client: httpx.AsyncClient,
) -> None:
    at = await at_the_door(client)
    client.cookies.delete("treffpunkt_session")

    response = await client.get(at.url, headers={"Accept": "text/html"})

    assert response.status_code in {302, 303}
    assert response.headers["location"] == f"/login?next={at.url}"


@pytest.mark.anyio
async def test_a_script_scan_at_another_organisers_door_answers_403_in_the_readers_language(
    client: httpx.AsyncClient,
) -> None:
    at = await at_the_door(client)
    await sign_in(client, await factories.organiser())
    await client.get("/organiser")

    response = await scan(client, at.url, at.code)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert response.json()["detail"] == "Sie verwalten diese Veranstaltung nicht"
    assert await stored_check_in(at.anna) is None


@pytest.mark.anyio
async def test_a_script_scan_with_a_stale_csrf_token_answers_form_expired(
    client: httpx.AsyncClient,
) -> None:
    at = await at_the_door(client)
    client.cookies.delete(CSRF_COOKIE)

    response = await client.post(
        f"{at.url}/",
        data={"code": at.code},
        headers={**GERMAN, "Accept": "application/json", "x-csrftoken": "stale"},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "form_expired"
    assert response.json()["detail"].startswith("Das Formular ist abgelaufen")
    assert await stored_check_in(at.anna) is None


@pytest.mark.anyio
async def test_a_form_post_at_another_organisers_door_is_not_called_an_expired_form(
    client: httpx.AsyncClient,
) -> None:
    at = await at_the_door(client)
    await sign_in(client, await factories.organiser())
    await client.get("/organiser")

    response = await client.post(
        f"{at.url}/",
        data={"_csrf_token": client.cookies[CSRF_COOKIE], "code": at.code},
        headers=GERMAN,
    )

    assert response.status_code == 403
    assert "Sie verwalten diese Veranstaltung nicht" in response.text
    assert "abgelaufen" not in response.text


@pytest.mark.anyio
async def test_a_form_post_without_its_csrf_token_says_the_form_expired(
    client: httpx.AsyncClient,
) -> None:
    at = await at_the_door(client)

    response = await client.post(f"{at.url}/", data={"code": at.code}, headers=GERMAN)

    assert response.status_code == 403
    assert "Das Formular ist abgelaufen" in response.text


@pytest.mark.browser
def test_the_door_tells_a_signed_out_organiser_to_sign_in_again(
    browser: Any, live_server: str
) -> None:
    from playwright.sync_api import expect

    at = run_async(door())
    page = signed_in_page(browser, live_server, at.owner)
    door_path = f"/organiser/events/{at.slug}/check-in"
    page.goto(f"{live_server}{door_path}")
    run_async(end_all_sessions(at.owner.id))

    page.locator("#door-code").fill(at.code)
    page.locator("#door-code").press("Enter")

    message = page.locator("#door-result .door-message")
    expect(message).to_have_text("Ihre Sitzung ist abgelaufen – bitte melden Sie sich erneut an")
    expect(message.locator("a")).to_have_attribute(
        "href", f"/login?next={door_path.replace('/', '%2F')}"
    )
    expect(page.locator("#door-result")).not_to_contain_text("SyntaxError")
    assert run_async(stored_check_in(at.registration_id)) is None
