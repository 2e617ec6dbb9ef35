"""Every way a person's address reaches a registration passes the one address rule.

The public API, the form on the event page, an organiser's manual add and a walk-in at the
door: international domains are stored in Unicode, anything a mail header, an iCal property
or an SMTP envelope cannot carry is refused with `validation_error` on `email`.
"""

from __future__ import annotations

import httpx
import pytest

from tests import factories
from tests.attendance.test_check_in_api import event_at_the_door
from tests.registrations.helpers import (
    error_fields,
    person,
    problem_code,
    register,
    register_ok,
    roster,
)
from tests.registrations.test_pages import Page, form_fields, post_form
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

ASCII_ONLY_MESSAGE = (
    "must use only the letters a-z, digits and . _ + - before the @ "
    "(international domains such as köln.de are fine)"
)
ASCII_ONLY_MESSAGE_DE = (
    "darf vor dem @ nur die Buchstaben a-z, Ziffern und . _ + - enthalten "
    "(internationale Domains wie köln.de sind möglich)"
)
LINE_BREAKS = ["anna@example.org\nBcc: everyone@example.org", "anna@exam\r\nple.org"]


async def stored_emails(event_id: int) -> list[str]:
    rows = await Registration.select(Registration.email).where(Registration.event == event_id)
    return [row["email"] for row in rows]


def email_message(response: httpx.Response) -> str:
    (error,) = response.json()["errors"]
    assert error["field"] == "email"
    return str(error["message"])


# --- the public API ---------------------------------------------------------------------------


async def test_register_with_an_international_domain_stores_it_in_unicode_lower_case(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await register(client, event.slug, email="Info@Köln.de")

    assert response.status_code == 201, response.text
    assert await stored_emails(event.id) == ["info@köln.de"]


async def test_register_with_the_idna_form_of_a_registered_address_adds_nobody(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=5)
    await register_ok(client, event.slug, email="info@köln.de")

    await register(client, event.slug, email="INFO@xn--kln-sna.de")

    page = await roster(client, event.slug, auth)
    assert page["total"] == 1
    assert [row["email"] for row in page["items"]] == ["info@köln.de"]


async def test_register_with_a_non_ascii_local_part_is_refused_saying_why(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await register(client, event.slug, email="jörg@example.org")

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert email_message(response) == ASCII_ONLY_MESSAGE
    assert await stored_emails(event.id) == []


# --- the form on the event page ---------------------------------------------------------------


async def test_form_with_a_non_ascii_local_part_shows_why_next_to_the_email_field(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await post_form(client, event.slug, form_fields(email="jörg@example.org"))

    assert response.status_code == 422
    assert Page(response.text).by_id("email-error").text == ASCII_ONLY_MESSAGE_DE
    assert await stored_emails(event.id) == []


async def test_form_with_an_international_domain_registers_the_unicode_address(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await post_form(client, event.slug, form_fields(email="Info@Köln.de"))

    assert response.status_code == 303, response.text
    assert await stored_emails(event.id) == ["info@köln.de"]


# --- organisers adding people -----------------------------------------------------------------


@pytest.mark.parametrize("email", [*LINE_BREAKS, "jörg@example.org"])
async def test_adding_by_hand_with_an_invalid_email_is_refused(
    client: httpx.AsyncClient, email: str
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await client.post(
        f"/api/v1/events/{event.slug}/roster", json=person(email=email), headers=auth
    )

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == ["email"]


@pytest.mark.parametrize("email", [*LINE_BREAKS, "jörg@example.org"])
async def test_walk_in_with_an_invalid_email_is_refused(
    client: httpx.AsyncClient, email: str
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await event_at_the_door(owner)

    response = await client.post(
        f"/api/v1/events/{event.slug}/walk-ins", json=person(email=email), headers=auth
    )

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == ["email"]
    assert await stored_emails(event.id) == []
