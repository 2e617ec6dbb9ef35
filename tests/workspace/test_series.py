"""The series page: the dates are shown first, created on confirmation, refused beyond the limit."""

from __future__ import annotations

import httpx
import pytest

from tests import factories
from tests.sessions import sign_in
from tests.workspace.editor_forms import error_of, form_fields, summary_links
from treffpunkt.events.services import EventView
from treffpunkt.events.tables import Event
from treffpunkt.web.language import LANGUAGE_COOKIE

pytestmark = pytest.mark.anyio


@pytest.fixture
async def event(client: httpx.AsyncClient) -> EventView:
    """Wednesday 13 March 2030, 10:00–12:00 Berlin; summer time starts on the 31st."""
    owner = await factories.organiser()
    await sign_in(client, owner)
    client.cookies.set(LANGUAGE_COOKIE, "en")
    return await factories.event(
        owner, starts_at="2030-03-13T09:00:00+00:00", ends_at="2030-03-13T11:00:00+00:00"
    )


def page(event: EventView) -> str:
    return f"/organiser/events/{event.slug}/series"


async def ask(
    client: httpx.AsyncClient, event: EventView, action: str = "preview", **typed: str
) -> httpx.Response:
    shown = form_fields((await client.get(page(event))).text, page(event))
    return await client.post(page(event), data={**shown, **typed, "action": action})


async def test_the_dates_are_shown_at_the_events_local_time_before_anything_is_created(
    client: httpx.AsyncClient, event: EventView
) -> None:
    response = await ask(client, event, repeat="weekly", count="3")

    assert response.status_code == 200
    assert "This creates 3 drafts" in response.text
    assert "Wednesday, April 3, 2030, 10:00\u202fAM–12:00\u202fPM CEST" in response.text
    assert "Wednesday, March 20, 2030, 10:00\u202fAM–12:00\u202fPM CET" in response.text
    assert await Event.count() == 1


async def test_confirming_the_dates_creates_one_draft_each(
    client: httpx.AsyncClient, event: EventView
) -> None:
    shown = await ask(client, event, repeat="weekly", count="3")

    created = await client.post(
        page(event), data={**form_fields(shown.text, page(event)), "action": "create"}
    )

    assert created.status_code == 303
    assert await Event.count().where(Event.status == "draft") == 3
    assert "3 drafts were created" in (await client.get(page(event))).text


async def test_listed_dates_in_german_or_iso_form_are_planned(
    client: httpx.AsyncClient, event: EventView
) -> None:
    response = await ask(client, event, repeat="dates", dates="01.06.2030\n2030-05-04")

    assert "Saturday, May 4, 2030" in response.text
    assert "Saturday, June 1, 2030" in response.text


async def test_more_than_52_dates_are_refused_next_to_the_count(
    client: httpx.AsyncClient, event: EventView
) -> None:
    response = await ask(client, event, repeat="weekly", count="53")

    assert response.status_code == 400
    assert error_of(response.text, "count") == "must be a whole number from 1 to 52"
    assert summary_links(response.text) == ["count"]
    assert await Event.count() == 1


async def test_an_unreadable_date_is_refused_next_to_the_dates_keeping_them(
    client: httpx.AsyncClient, event: EventView
) -> None:
    response = await ask(client, event, repeat="dates", dates="2030-05-04\nbald")

    assert response.status_code == 400
    assert error_of(response.text, "dates") == "bald is not a date such as 2027-03-14"
    assert "2030-05-04\nbald</textarea>" in response.text


async def test_change_the_dates_goes_back_to_the_form_as_typed(
    client: httpx.AsyncClient, event: EventView
) -> None:
    shown = await ask(client, event, repeat="monthly", count="5")

    back = await client.post(
        page(event), data={**form_fields(shown.text, page(event)), "action": "back"}
    )

    assert 'value="monthly" checked' in back.text
    assert 'value="5"' in back.text
