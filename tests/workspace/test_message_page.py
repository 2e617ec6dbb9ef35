"""A message to everyone confirmed: the form, a preview with the count, then the queue."""

from __future__ import annotations

import re

import httpx
import pytest

from tests import factories
from tests.notifications.helpers import sign_up
from tests.sessions import hidden_value, sign_in
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.services import EventView
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.services import token_for

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}
MESSAGE = {"subject": "Parken", "body": "Bitte nutzen Sie das Parkhaus am Markt."}


async def owner_signed_in(client: httpx.AsyncClient) -> CurrentOrganiser:
    owner = await factories.organiser()
    await sign_in(client, owner)
    return owner


async def event_with_people(owner: CurrentOrganiser) -> EventView:
    """Anna and Ben hold the two seats; Cem waits."""
    event = await factories.event(owner, capacity=2, waitlist=True)
    for address in ("anna@example.org", "ben@example.org", "cem@example.org"):
        await sign_up(event.slug, address)
    return event


def page_url(event: EventView) -> str:
    return f"/organiser/events/{event.slug}/message"


async def send_form(
    client: httpx.AsyncClient, event: EventView, action: str, data: dict[str, str]
) -> httpx.Response:
    token = hidden_value((await client.get(page_url(event), headers=ENGLISH)).text, "_csrf_token")
    return await client.post(action, data={"_csrf_token": token, **data}, headers=ENGLISH)


async def test_the_preview_shows_the_mail_and_how_many_get_it(client: httpx.AsyncClient) -> None:
    event = await event_with_people(await owner_signed_in(client))

    response = await send_form(client, event, page_url(event), MESSAGE)

    assert response.status_code == 200
    assert "2 people will get this mail." in response.text
    assert re.search(r'id="preview-subject">\s*Parken\s*<', response.text)
    assert "Parkhaus am Markt" in response.text.split('id="preview-text"', 1)[1]
    assert "Send to 2 people" in response.text


async def test_the_preview_keeps_the_registrants_secret_link_to_themselves(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await owner_signed_in(client))
    anna = await sign_up(event.slug, "anna@example.org")

    response = await send_form(client, event, page_url(event), MESSAGE)

    assert await token_for(anna.registration_id) not in response.text
    assert "/registrations/…" in response.text


async def test_the_preview_queues_nothing(client: httpx.AsyncClient) -> None:
    event = await event_with_people(await owner_signed_in(client))
    mails_before = await OutboxMessage.count()

    await send_form(client, event, page_url(event), MESSAGE)

    assert await OutboxMessage.count() == mails_before


async def test_sending_queues_one_mail_per_confirmed_person_and_says_how_many(
    client: httpx.AsyncClient,
) -> None:
    event = await event_with_people(await owner_signed_in(client))

    response = await send_form(client, event, f"{page_url(event)}/send", MESSAGE)

    assert response.status_code == 303
    rows = await OutboxMessage.select(OutboxMessage.recipient).where(
        OutboxMessage.kind == "organiser_message"
    )
    assert sorted(row["recipient"] for row in rows) == ["anna@example.org", "ben@example.org"]
    hub = await client.get(response.headers["location"], headers=ENGLISH)
    assert "Your message is on its way to 2 people." in hub.text


async def test_an_empty_subject_is_refused_next_to_the_field(client: httpx.AsyncClient) -> None:
    event = await event_with_people(await owner_signed_in(client))

    response = await send_form(client, event, page_url(event), {**MESSAGE, "subject": " "})

    assert response.status_code == 400
    assert re.search(r'<input id="subject"[^>]*aria-invalid="true"', response.text)
    assert 'id="subject-error"' in response.text
    assert 'href="#subject"' in response.text
    assert "Parkhaus am Markt" in response.text  # what was written stays


async def test_changing_the_message_goes_back_to_the_form_with_the_words(
    client: httpx.AsyncClient,
) -> None:
    event = await event_with_people(await owner_signed_in(client))

    response = await send_form(client, event, page_url(event), {**MESSAGE, "action": "edit"})

    assert response.status_code == 200
    assert re.search(r'<input id="subject"[^>]*value="Parken"', response.text)
    assert await OutboxMessage.count().where(OutboxMessage.kind == "organiser_message") == 0


async def test_without_confirmed_people_the_preview_says_nobody_gets_it(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await owner_signed_in(client))

    response = await send_form(client, event, page_url(event), MESSAGE)

    assert "Nobody has a confirmed place yet: no mail would go out." in response.text
    assert "/message/send" not in response.text


async def test_an_organiser_who_does_not_manage_the_event_may_not_write_to_its_people(
    client: httpx.AsyncClient,
) -> None:
    event = await event_with_people(await factories.organiser())
    await owner_signed_in(client)

    response = await client.get(page_url(event), headers=ENGLISH)

    assert response.status_code == 403


async def test_the_preview_counts_only_the_new_message_while_an_earlier_one_still_waits(
    client: httpx.AsyncClient,
) -> None:
    event = await event_with_people(await owner_signed_in(client))
    await send_form(client, event, f"{page_url(event)}/send", {"subject": "Alt", "body": "Früher"})

    response = await send_form(client, event, page_url(event), MESSAGE)

    assert "2 people will get this mail." in response.text
    assert re.search(r'id="preview-subject">\s*Parken\s*<', response.text)
