"""The door page: counters, typed or scanned codes, name search, and who may open it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.attendance.helpers import stored_check_in
from tests.registrations.helpers import from_now, id_of, iso, register_ok
from tests.sessions import hidden_value, sign_in
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.events.services import EventView
from treffpunkt.i18n import format_clock, language
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}
CSRF_COOKIE = "treffpunkt_csrf"


@dataclass(frozen=True)
class Door:
    """A signed-in organiser's event inside the check-in window, with people registered."""

    owner: CurrentOrganiser
    event: EventView
    anna: int  # confirmed
    bernd: int  # confirmed
    clara: int  # on the waiting list

    @property
    def url(self) -> str:
        return f"/organiser/events/{self.event.slug}/check-in"

    def code(self, registration_id: int) -> str:
        return check_in_code(self.event.id, registration_id)


async def door(client: httpx.AsyncClient) -> Door:
    """Anna and Bernd hold seats, Clara waits; the owner is signed in."""
    owner, auth = await factories.organiser_with_token()
    starts_at = from_now(hours=1)
    event = await factories.event(
        owner,
        starts_at=iso(starts_at),
        ends_at=iso(starts_at + timedelta(hours=3)),
        capacity=2,
        waitlist=True,
    )
    ids = []
    for name, email, organisation in (
        ("Anna Schmidt", "anna@example.org", "Stadt Leipzig"),
        ("Bernd Schmidt", "bernd@example.org", "Landkreis Görlitz"),
        ("Clara Schmidt", "clara@example.org", "IHK Chemnitz"),
    ):
        await register_ok(client, event.slug, name=name, email=email, organisation=organisation)
        ids.append(await id_of(client, event.slug, auth, email))
    await sign_in(client, owner)
    return Door(owner, event, *ids)


async def post_form(
    client: httpx.AsyncClient, at: Door, data: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    """Send the door form as the page's own form does, with its CSRF token."""
    token = hidden_value((await client.get(at.url, headers=ENGLISH)).text, "_csrf_token")
    return await client.post(
        f"{at.url}/", data={"_csrf_token": token, **data}, headers={**ENGLISH, **(headers or {})}
    )


async def follow(client: httpx.AsyncClient, response: httpx.Response) -> httpx.Response:
    """GET where a 303 See Other points, as the browser does."""
    assert response.status_code == 303, response.text
    return await client.get(response.headers["location"], headers=ENGLISH)


async def post_json(client: httpx.AsyncClient, at: Door, code: str) -> httpx.Response:
    """Send a code as the page's script does: CSRF token in the header, JSON accepted."""
    await client.get(at.url)
    return await client.post(
        f"{at.url}/",
        data={"code": code},
        headers={
            **ENGLISH,
            "Accept": "application/json",
            "x-csrftoken": client.cookies[CSRF_COOKIE],
        },
    )


def counters(html: str) -> tuple[int, int]:
    """(checked in, confirmed) as the page's counter shows them."""
    match = re.search(
        r'<span id="checked-in">(\d+)</span> / <span id="confirmed">(\d+)</span>', html
    )
    assert match, "no counter on the page"
    return int(match.group(1)), int(match.group(2))


def result(html: str) -> dict[str, Any]:
    """The result box: its outcome class and the texts inside it."""
    match = re.search(
        r'<div id="door-result" class="door-result(?: door-(\w+))?"[^>]*>(.*?)</div>', html, re.S
    )
    assert match, "no result box on the page"
    texts = {
        css: re.sub(r"\s+", " ", text).strip()
        for css, text in re.findall(r'<p class="door-(\w+)">(.*?)</p>', match.group(2), re.S)
    }
    return {"outcome": match.group(1), **texts}


def listed_people(html: str) -> list[dict[str, str]]:
    """The name search's list: each person's name, organisation, id and what can be done."""
    people = []
    for item in re.findall(r'<form [^>]*class="door-person">(.*?)</form>', html, re.S):
        name = re.search(r"<strong>(.*?)</strong>", item)
        organisation = re.search(r"<small>(.*?)</small>", item)
        assert name
        assert organisation
        people.append(
            {
                "name": name.group(1),
                "organisation": organisation.group(1),
                "registration_id": hidden_value(item, "registration_id"),
                "action": "button" if '<button type="submit"' in item else "badge",
            }
        )
    return people


async def test_door_page_shows_checked_in_over_confirmed(client: httpx.AsyncClient) -> None:
    at = await door(client)

    response = await client.get(at.url, headers=ENGLISH)

    assert response.status_code == 200
    assert counters(response.text) == (0, 2)
    assert result(response.text) == {"outcome": None}


async def test_door_form_with_a_code_answers_303_see_other_to_the_door(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)

    response = await post_form(client, at, {"code": at.code(at.anna)})

    assert response.status_code == 303
    assert response.headers["location"] == at.url


async def test_door_form_with_a_code_shows_the_green_welcome_with_name_and_organisation(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)

    page = await follow(client, await post_form(client, at, {"code": at.code(at.anna)}))

    assert page.status_code == 200
    assert result(page.text) == {
        "outcome": "welcome",
        "verdict": "Admitted",
        "message": "Welcome!",
        "name": "Anna Schmidt",
        "org": "Stadt Leipzig",
    }
    assert await stored_check_in(at.anna) is not None


async def test_reloading_the_door_after_a_scan_shows_an_empty_result_and_checks_nothing_again(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    await follow(client, await post_form(client, at, {"code": at.code(at.anna)}))
    first = await stored_check_in(at.anna)

    reloaded = await client.get(at.url, headers=ENGLISH)

    assert result(reloaded.text) == {"outcome": None}
    assert counters(reloaded.text) == (1, 2)
    assert await stored_check_in(at.anna) == first


async def test_door_form_with_a_code_raises_the_counter(client: httpx.AsyncClient) -> None:
    at = await door(client)

    page = await follow(client, await post_form(client, at, {"code": at.code(at.anna)}))

    assert counters(page.text) == (1, 2)


async def test_door_form_repeat_scan_shows_amber_already_checked_in(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    await post_form(client, at, {"code": at.code(at.anna)})

    response = await follow(client, await post_form(client, at, {"code": at.code(at.anna)}))

    first = await stored_check_in(at.anna)
    assert isinstance(first, datetime)
    with language("en"):
        clock = format_clock(at.event.local(first))
    assert result(response.text) == {
        "outcome": "again",
        "verdict": "Admitted before",
        "message": re.sub(r"\s+", " ", f"Already checked in at {clock}"),
        "name": "Anna Schmidt",
        "org": "Stadt Leipzig",
    }
    assert counters(response.text) == (1, 2)


async def test_door_form_with_a_forged_code_shows_the_red_refusal(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    forged = f"TP-{at.event.id}-{at.anna}-{'A' * 20}"

    response = await post_form(client, at, {"code": forged})

    assert response.status_code == 422
    assert result(response.text) == {
        "outcome": "refused",
        "verdict": "Not admitted",
        "message": "This is not a Treffpunkt ticket",
    }
    assert counters(response.text) == (0, 2)


async def test_door_form_with_a_waiting_persons_code_shows_the_red_refusal(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)

    response = await post_form(client, at, {"code": at.code(at.clara)})

    assert response.status_code == 409
    assert result(response.text) == {
        "outcome": "refused",
        "verdict": "Not admitted",
        "message": "This person is on the waiting list and has no seat",
    }
    assert await stored_check_in(at.clara) is None


async def test_door_post_for_the_script_answers_json_with_outcome_and_counters(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)

    response = await post_json(client, at, at.code(at.bernd))

    assert response.is_success
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "outcome": "welcome",
        "name": "Bernd Schmidt",
        "organisation": "Landkreis Görlitz",
        "message": "Welcome!",
        "checked_in": 1,
        "confirmed": 2,
    }


async def test_door_post_for_the_script_answers_a_refusal_with_its_code(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)

    response = await post_json(client, at, "not a ticket")

    assert response.is_success
    assert response.json() == {
        "outcome": "refused",
        "message": "This is not a Treffpunkt ticket",
        "code": "invalid_code",
        "checked_in": 0,
        "confirmed": 2,
    }


@pytest.mark.parametrize("outcome", ["welcome", "refused"])
async def test_door_post_for_the_script_answers_200_as_nothing_is_created(
    client: httpx.AsyncClient, outcome: str
) -> None:
    """A scan creates no resource: like the check-in API, the answer is 200, not 201 Created."""
    at = await door(client)

    response = await post_json(client, at, at.code(at.anna) if outcome == "welcome" else "x")

    assert response.json()["outcome"] == outcome
    assert response.status_code == 200


async def test_door_post_without_the_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    at = await door(client)
    await client.get(at.url)

    response = await client.post(f"{at.url}/", data={"code": at.code(at.anna)})

    assert response.status_code == 403
    assert await stored_check_in(at.anna) is None


async def test_name_search_lists_matching_confirmed_people_with_a_check_in_button(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)

    response = await client.get(at.url, params={"q": "schmidt"}, headers=ENGLISH)

    assert response.status_code == 200
    assert listed_people(response.text) == [
        {
            "name": "Anna Schmidt",
            "organisation": "Stadt Leipzig",
            "registration_id": str(at.anna),
            "action": "button",
        },
        {
            "name": "Bernd Schmidt",
            "organisation": "Landkreis Görlitz",
            "registration_id": str(at.bernd),
            "action": "button",
        },
    ]


async def test_name_search_leaves_out_people_on_the_waiting_list(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)

    response = await client.get(at.url, params={"q": "clara"}, headers=ENGLISH)

    assert listed_people(response.text) == []
    assert "No confirmed registration matches." in response.text


async def test_name_search_escapes_what_registrants_typed(client: httpx.AsyncClient) -> None:
    at = await door(client)
    await Registration.update({Registration.name: "<script>alert(1)</script> Anna"}).where(
        Registration.id == at.anna
    )

    response = await client.get(at.url, params={"q": "anna"}, headers=ENGLISH)

    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Anna" in response.text


async def test_name_search_by_organisation_finds_the_person(client: httpx.AsyncClient) -> None:
    at = await door(client)

    response = await client.get(at.url, params={"q": "görlitz"}, headers=ENGLISH)

    assert [p["name"] for p in listed_people(response.text)] == ["Bernd Schmidt"]


async def test_name_search_shows_a_badge_instead_of_a_button_for_who_is_in(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    await post_form(client, at, {"code": at.code(at.anna)})

    response = await client.get(at.url, params={"q": "schmidt"}, headers=ENGLISH)

    assert [(p["name"], p["action"]) for p in listed_people(response.text)] == [
        ("Anna Schmidt", "badge"),
        ("Bernd Schmidt", "button"),
    ]


async def test_check_in_button_of_the_name_search_checks_the_person_in(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)

    response = await follow(client, await post_form(client, at, {"registration_id": str(at.bernd)}))

    assert result(response.text)["outcome"] == "welcome"
    assert result(response.text)["name"] == "Bernd Schmidt"
    assert await stored_check_in(at.bernd) is not None


async def test_counters_answer_json(client: httpx.AsyncClient) -> None:
    at = await door(client)
    await post_form(client, at, {"code": at.code(at.anna)})

    response = await client.get(f"{at.url}/counters")

    assert response.status_code == 200
    assert response.json() == {"checked_in": 1, "confirmed": 2}


async def test_door_page_without_a_session_redirects_to_login(client: httpx.AsyncClient) -> None:
    at = await door(client)
    client.cookies.clear()

    response = await client.get(at.url)

    assert response.status_code in {302, 303}
    assert response.headers["location"] == f"/login?next={at.url}"


async def test_door_page_of_another_organisers_event_is_forbidden(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    await sign_in(client, await factories.organiser())

    response = await client.get(at.url)

    assert response.status_code == 403


async def test_door_post_by_another_organiser_is_forbidden_and_checks_nobody_in(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    await sign_in(client, await factories.organiser())
    await client.get("/organiser")

    response = await client.post(
        f"{at.url}/",
        data={"_csrf_token": client.cookies[CSRF_COOKIE], "code": at.code(at.anna)},
    )

    assert response.status_code == 403
    assert await stored_check_in(at.anna) is None


async def test_door_counters_of_another_organisers_event_are_forbidden(
    client: httpx.AsyncClient,
) -> None:
    at = await door(client)
    await sign_in(client, await factories.organiser())

    response = await client.get(f"{at.url}/counters")

    assert response.status_code == 403
