"""Organisers' addresses pass the one address rule: event contacts, accounts, co-organisers."""

from __future__ import annotations

import httpx
import pytest

from tests import factories
from tests.events.test_event_validation import assert_refused, create, payload
from treffpunkt.accounts.services import create_organiser
from treffpunkt.errors import ValidationFailed
from treffpunkt.events.tables import Event

pytestmark = pytest.mark.anyio

LINE_BREAK = "kontakt@example.org\nBcc: everyone@example.org"


async def stored_contact(slug: str) -> str:
    row = await Event.select(Event.contact_email).where(Event.slug == slug).first()
    assert row is not None
    return str(row["contact_email"])


# --- event contact ----------------------------------------------------------------------------


@pytest.mark.parametrize("contact", [LINE_BREAK, "jörg@example.org", "kontakt@localhost"])
async def test_creating_an_event_with_an_invalid_contact_email_is_refused(
    client: httpx.AsyncClient, contact: str
) -> None:
    response = await create(client, contact_email=contact)

    assert_refused(response, "contact_email")
    assert await Event.count() == 0


async def test_creating_an_event_stores_an_international_contact_in_unicode_lower_case(
    client: httpx.AsyncClient,
) -> None:
    response = await create(client, contact_email="Kontakt@Köln.de")

    assert response.status_code == 201, response.text
    assert response.json()["contact_email"] == "kontakt@köln.de"
    assert await stored_contact(response.json()["slug"]) == "kontakt@köln.de"


async def test_changing_the_contact_email_to_an_invalid_one_is_refused(
    client: httpx.AsyncClient,
) -> None:
    _, auth = await factories.organiser_with_token()
    created = await client.post(
        "/api/v1/events", json=payload(contact_email="kontakt@example.org"), headers=auth
    )
    slug = created.json()["slug"]

    response = await client.patch(
        f"/api/v1/events/{slug}", json={"contact_email": LINE_BREAK}, headers=auth
    )

    assert_refused(response, "contact_email")
    assert await stored_contact(slug) == "kontakt@example.org"


async def test_an_event_stored_with_a_contact_that_fails_the_rule_is_mended_by_a_patch(
    client: httpx.AsyncClient,
) -> None:
    _, auth = await factories.organiser_with_token()
    created = await client.post(
        "/api/v1/events", json=payload(contact_email="kontakt@example.org"), headers=auth
    )
    slug = created.json()["slug"]
    await Event.update({Event.contact_email: LINE_BREAK}).where(Event.slug == slug)

    response = await client.patch(
        f"/api/v1/events/{slug}", json={"contact_email": "Neu@Example.org"}, headers=auth
    )

    assert response.status_code == 200, response.text
    assert await stored_contact(slug) == "neu@example.org"


# --- organiser accounts -----------------------------------------------------------------------


@pytest.mark.parametrize("email", [LINE_BREAK, "jörg@example.org", "admin@localhost"])
async def test_creating_an_organiser_with_an_invalid_email_is_refused(
    client: httpx.AsyncClient, email: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await create_organiser(email, factories.PASSWORD)

    assert [error.field for error in refused.value.errors] == ["email"]


async def test_an_organiser_with_an_international_domain_is_stored_in_unicode(
    client: httpx.AsyncClient,
) -> None:
    created = await create_organiser("Ada@Köln.de", factories.PASSWORD)

    assert created.email == "ada@köln.de"


async def test_adding_a_co_organiser_by_the_idna_form_of_their_address_finds_them(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, publish=False)
    await factories.organiser(email="ada@köln.de")

    response = await client.post(
        f"/api/v1/events/{event.slug}/organisers",
        json={"email": "Ada@xn--kln-sna.de"},
        headers=auth,
    )

    assert response.status_code == 200, response.text
    assert response.json() == ["ada@köln.de"]


async def test_adding_a_co_organiser_by_an_invalid_address_is_refused_naming_email(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, publish=False)

    response = await client.post(
        f"/api/v1/events/{event.slug}/organisers", json={"email": LINE_BREAK}, headers=auth
    )

    assert_refused(response, "email")
