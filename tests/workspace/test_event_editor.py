"""The event form: a new draft and edits in the browser, with the API's own rules and words."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from litestar import Litestar

from tests import factories
from tests.notifications.helpers import sign_up
from tests.sessions import sign_in
from tests.workspace.editor_forms import (
    error_of,
    event_form,
    hidden_fields,
    post_form,
    summary_links,
)
from treffpunkt.accounts.services import CurrentOrganiser, create_api_token
from treffpunkt.events.services import EventView, add_co_organiser, get_event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.web.language import LANGUAGE_COOKIE

pytestmark = pytest.mark.anyio

NEW = "/organiser/events/new"
NO_REGISTRATION_WINDOW = dict.fromkeys(
    (f"registration_{edge}_at_{part}" for edge in ("opens", "closes") for part in ("date", "time")),
    "",
)


def edit_page(slug: str) -> str:
    return f"/organiser/events/{slug}/edit"


@pytest.fixture
async def owner() -> CurrentOrganiser:
    return await factories.organiser()


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, owner: CurrentOrganiser) -> httpx.AsyncClient:
    await sign_in(client, owner)
    client.cookies.set(LANGUAGE_COOKIE, "en")
    return client


@pytest.fixture
async def second_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser on the same app: its own cookies, its own session."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as other:
        yield other


async def created_slug(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/organiser/events/")
    return location.removeprefix("/organiser/events/")


async def event_on_sale(owner: CurrentOrganiser, *registrants: str) -> EventView:
    """A published summer event in Dresden (10:00–13:00 Berlin) with these people registered."""
    event = await factories.event(
        owner, starts_at="2030-06-12T08:00:00+00:00", ends_at="2030-06-12T11:00:00+00:00"
    )
    for address in registrants:
        await sign_up(event.slug, address)
    return event


async def updates_queued(event: EventView) -> int:
    return await OutboxMessage.count().where(
        (OutboxMessage.event == event.id) & (OutboxMessage.kind == "event_updated")
    )


async def test_a_draft_created_with_every_field_reads_back_the_same_through_the_api(
    signed_in: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    slug = await created_slug(await post_form(signed_in, NEW, event_form()))

    token = await create_api_token(owner.email)
    stored = (
        await signed_in.get(f"/api/v1/events/{slug}", headers={"Authorization": f"Bearer {token}"})
    ).json()

    assert stored | {"slug": "", "url": "", "created_at": "", "updated_at": ""} == stored | {
        "slug": "",
        "url": "",
        "created_at": "",
        "updated_at": "",
        "title": "Wärmeplanung im Quartier",
        "summary": "Wie Kommunen ihre Wärmeplanung beginnen",
        "description": "Erste Zeile\nZweite Zeile",
        "kind": "workshop",
        "format": "hybrid",
        "region": "DE-SN",
        "locality": "Landkreis Görlitz",
        "sectors": ["administration", "energy"],
        "venue": {
            "name": "Rathaus",
            "street": "Untermarkt 6",
            "postal_code": "02826",
            "city": "Görlitz",
        },
        "online_url": "https://meet.example.org/waerme",
        "starts_at": "2030-06-12T10:00:00+02:00",
        "ends_at": "2030-06-12T13:30:00+02:00",
        "timezone": "Europe/Berlin",
        "capacity": 25,
        "waitlist": True,
        "requires_approval": True,
        "registration_opens_at": "2030-05-01T09:00:00+02:00",
        "registration_closes_at": "2030-06-10T18:00:00+02:00",
        "contact_name": "Petra Orga",
        "contact_email": "petra.orga@landkreis.example",
        "status": "draft",
    }


async def test_a_new_draft_is_shown_on_the_event_hub(signed_in: httpx.AsyncClient) -> None:
    response = await post_form(signed_in, NEW, event_form())

    assert response.headers["location"] == f"/organiser/events/{await created_slug(response)}"


async def test_empty_capacity_means_unlimited_and_unticked_boxes_are_off(
    signed_in: httpx.AsyncClient,
) -> None:
    form = event_form(capacity="", waitlist=None, requires_approval=None)
    slug = await created_slug(await post_form(signed_in, NEW, form))

    stored = await get_event(slug)

    assert (stored.capacity, stored.waitlist, stored.requires_approval) == (None, False, False)


async def test_times_are_local_to_the_chosen_time_zone(signed_in: httpx.AsyncClient) -> None:
    form = event_form(timezone="America/New_York", **NO_REGISTRATION_WINDOW)
    slug = await created_slug(await post_form(signed_in, NEW, form))

    stored = await get_event(slug)

    assert stored.starts_at == datetime(2030, 6, 12, 14, tzinfo=UTC)
    assert stored.timezone == "America/New_York"


async def test_an_empty_end_date_means_the_day_it_starts(signed_in: httpx.AsyncClient) -> None:
    slug = await created_slug(await post_form(signed_in, NEW, event_form(ends_at_date="")))

    assert (await get_event(slug)).ends_at == datetime(2030, 6, 12, 11, 30, tzinfo=UTC)


async def test_each_refusal_shows_next_to_its_field_and_in_the_summary_with_status_400(
    signed_in: httpx.AsyncClient,
) -> None:
    form = event_form(
        format="online",
        online_url="",
        ends_at_time="09:00",
        contact_email="petra at landkreis",
    )

    response = await post_form(signed_in, NEW, form)

    assert response.status_code == 400
    html = response.text
    assert error_of(html, "online_url") == "is required for online and hybrid events"
    assert error_of(html, "ends_at") == "must be after starts_at"
    assert error_of(html, "contact_email") == "must be an email address"
    assert 'aria-invalid="true" aria-describedby="online_url-hint online_url-error"' in html
    assert summary_links(html) == ["ends_at_date", "online_url", "contact_email"]


async def test_every_field_beyond_the_apis_limits_is_named_at_once(
    signed_in: httpx.AsyncClient,
) -> None:
    response = await post_form(
        signed_in, NEW, event_form(title="", venue_postal_code="1" * 21, sectors=None)
    )

    assert response.status_code == 400
    html = response.text
    assert error_of(html, "title") == "must not be empty"
    assert error_of(html, "venue_postal_code") == "must be at most 20 characters long"
    assert error_of(html, "sectors") == "choose at least one"
    assert 'aria-invalid="true" aria-describedby="title-error"' in html
    assert summary_links(html) == ["title", "sectors", "venue_postal_code"]


async def test_a_form_with_errors_keeps_everything_typed(signed_in: httpx.AsyncClient) -> None:
    response = await post_form(signed_in, NEW, event_form(title="", description="Zeile\nZwei"))

    html = response.text
    assert 'value="Landkreis Görlitz"' in html
    assert ">Zeile\nZwei</textarea>" in html
    assert re.search(r'value="energy"\s+checked', html)
    assert 'value="2030-06-10"' in html


async def test_a_missing_sector_says_so_next_to_the_sectors(signed_in: httpx.AsyncClient) -> None:
    response = await post_form(signed_in, NEW, event_form(sectors=None))

    assert response.status_code == 400
    assert error_of(response.text, "sectors") == "choose at least one"
    assert summary_links(response.text) == ["sectors"]


async def test_refusals_are_in_german_for_german_readers(signed_in: httpx.AsyncClient) -> None:
    signed_in.cookies.set(LANGUAGE_COOKIE, "de")

    response = await post_form(signed_in, NEW, event_form(title="", capacity="viele"))

    assert error_of(response.text, "capacity") == "muss eine ganze Zahl von 0 bis 100000 sein"


async def test_a_local_time_the_clocks_skip_is_an_error_next_to_the_start(
    signed_in: httpx.AsyncClient,
) -> None:
    form = event_form(
        starts_at_date="2030-03-31",
        starts_at_time="02:30",
        ends_at_date="2030-03-31",
        **NO_REGISTRATION_WINDOW,
    )

    response = await post_form(signed_in, NEW, form)

    assert response.status_code == 400
    assert error_of(response.text, "starts_at") == (
        "02:30 does not exist on that day in Europe/Berlin: the clocks go forward"
    )


async def test_a_local_time_that_happens_twice_is_taken_the_first_time(
    signed_in: httpx.AsyncClient,
) -> None:
    form = event_form(
        starts_at_date="2030-10-27",
        starts_at_time="02:30",
        ends_at_date="2030-10-27",
        ends_at_time="05:00",
        **NO_REGISTRATION_WINDOW,
    )

    slug = await created_slug(await post_form(signed_in, NEW, form))

    # 02:30 summer time (UTC+2) comes before 02:30 winter time (UTC+1).
    assert (await get_event(slug)).starts_at == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)


async def test_the_edit_form_shows_stored_times_in_the_events_zone(
    signed_in: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await event_on_sale(owner)

    html = (await signed_in.get(edit_page(event.slug))).text

    assert 'name="starts_at_date" type="date" value="2030-06-12"' in html
    assert 'name="starts_at_time" type="time" value="10:00"' in html


async def test_editing_a_draft_saves_at_once_and_says_so(
    signed_in: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    draft = await factories.event(owner, publish=False)

    response = await post_form(signed_in, edit_page(draft.slug), _as_shown(draft, title="Neu"))

    assert response.status_code == 303
    assert response.headers["location"] == edit_page(draft.slug)
    assert (await get_event(draft.slug)).title == "Neu"
    assert "Your changes are saved." in (await signed_in.get(edit_page(draft.slug))).text


def _as_shown(event: EventView, **changes: object) -> dict[str, object]:
    """The edit form's fields as it shows the event, with `changes` typed over them."""
    from treffpunkt.workspace.event_form import values_of

    values = {k: v for k, v in values_of(event).items() if v is not False}
    values.update({k: "yes" for k, v in values.items() if v is True})
    values.update(changes)
    return values


async def test_a_published_event_change_that_mails_people_first_shows_the_mail(
    signed_in: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await event_on_sale(owner, "anna@example.org", "ben@example.org")

    response = await post_form(
        signed_in, edit_page(event.slug), _as_shown(event, starts_at_time="11:00")
    )

    assert response.status_code == 200
    assert "2 people will get this mail" in response.text
    assert 'id="preview-subject"' in response.text
    assert "11:00" in response.text
    assert (await get_event(event.slug)).starts_at == event.starts_at, "nothing saved yet"
    assert await updates_queued(event) == 0


async def test_confirming_the_preview_saves_and_queues_the_update_for_everyone(
    signed_in: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await event_on_sale(owner, "anna@example.org", "ben@example.org")
    preview = await post_form(
        signed_in, edit_page(event.slug), _as_shown(event, starts_at_time="11:00")
    )

    confirmed = await signed_in.post(
        edit_page(event.slug), data={**hidden_fields(preview.text), "confirmed": "yes"}
    )

    assert confirmed.status_code == 303
    assert (await get_event(event.slug)).starts_at == datetime(2030, 6, 12, 9, tzinfo=UTC)
    assert await updates_queued(event) == 2


async def test_back_to_the_form_from_the_preview_keeps_the_change_unsaved(
    signed_in: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await event_on_sale(owner, "anna@example.org")
    preview = await post_form(
        signed_in, edit_page(event.slug), _as_shown(event, title="Wärme für alle")
    )

    back = await signed_in.post(
        edit_page(event.slug), data={**hidden_fields(preview.text), "action": "back"}
    )

    assert back.status_code == 200
    assert 'value="Wärme für alle"' in back.text
    assert (await get_event(event.slug)).title == event.title


async def test_a_change_nobody_hears_of_saves_at_once(
    signed_in: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await event_on_sale(owner, "anna@example.org")

    response = await post_form(signed_in, edit_page(event.slug), _as_shown(event, capacity="40"))

    assert response.status_code == 303
    assert (await get_event(event.slug)).capacity == 40
    assert await updates_queued(event) == 0


async def test_a_published_event_without_registrants_saves_at_once(
    signed_in: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await event_on_sale(owner)

    response = await post_form(signed_in, edit_page(event.slug), _as_shown(event, title="Neu"))

    assert response.status_code == 303
    assert (await get_event(event.slug)).title == "Neu"


async def test_a_capacity_below_the_seats_taken_is_refused_next_to_the_capacity(
    signed_in: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await event_on_sale(owner, "anna@example.org", "ben@example.org")

    response = await post_form(signed_in, edit_page(event.slug), _as_shown(event, capacity="1"))

    assert response.status_code == 409
    assert "seats already taken" in error_of(response.text, "capacity")


async def test_two_organisers_editing_different_fields_at_once_keep_both_changes(
    signed_in: httpx.AsyncClient,
    second_browser: httpx.AsyncClient,
    owner: CurrentOrganiser,
) -> None:
    event = await event_on_sale(owner)
    colleague = await factories.organiser()
    await add_co_organiser(event.slug, colleague.email)
    await sign_in(second_browser, colleague)
    mine = (await signed_in.get(edit_page(event.slug))).text
    theirs = (await second_browser.get(edit_page(event.slug))).text

    first = await signed_in.post(
        edit_page(event.slug), data={**hidden_fields(mine), **_as_shown(event, title="Neu")}
    )
    second = await second_browser.post(
        edit_page(event.slug),
        data={**hidden_fields(theirs), **_as_shown(event, description="Neue Beschreibung")},
    )

    assert (first.status_code, second.status_code) == (303, 303)
    stored = await get_event(event.slug)
    assert (stored.title, stored.description) == ("Neu", "Neue Beschreibung")


async def test_the_form_carries_the_values_it_showed(
    signed_in: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await event_on_sale(owner)

    original = hidden_fields((await signed_in.get(edit_page(event.slug))).text)["_original"]

    assert json.loads(original)["title"] == event.title


async def test_a_duplicate_is_a_new_draft_opened_in_the_editor(
    signed_in: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await event_on_sale(owner, "anna@example.org")
    html = (await signed_in.get(edit_page(event.slug))).text

    response = await signed_in.post(
        f"/organiser/events/{event.slug}/duplicate", data=hidden_fields(html)
    )

    assert response.status_code == 303
    copy_slug = (
        response.headers["location"].removeprefix("/organiser/events/").removesuffix("/edit")
    )
    copy = await get_event(copy_slug)
    assert (copy.status, copy.title) == ("draft", f"{event.title} (copy)")
    assert copy.calendar_uid != event.calendar_uid
    assert "This is a copy" in (await signed_in.get(response.headers["location"])).text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/edit"),
        ("POST", "/edit"),
        ("POST", "/duplicate"),
        ("GET", "/questions"),
        ("POST", "/questions"),
        ("GET", "/series"),
        ("POST", "/series"),
    ],
)
async def test_another_organiser_may_not_touch_the_event(
    signed_in: httpx.AsyncClient, method: str, path: str
) -> None:
    someone_elses = await factories.event(await factories.organiser())
    token = hidden_fields((await signed_in.get(NEW)).text)["_csrf_token"]

    response = await signed_in.request(
        method,
        f"/organiser/events/{someone_elses.slug}{path}",
        data={"_csrf_token": token, "title": "Meins"} if method == "POST" else None,
    )

    assert response.status_code == 403
    assert (await get_event(someone_elses.slug)).title == someone_elses.title


async def test_an_unknown_event_is_not_found(signed_in: httpx.AsyncClient) -> None:
    assert (await signed_in.get(edit_page("no-such-event"))).status_code == 404


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get(NEW)

    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login")


async def test_an_empty_form_names_every_missing_field_at_once(
    signed_in: httpx.AsyncClient,
) -> None:
    response = await post_form(signed_in, NEW, {"kind": "workshop", "format": "in_person"})

    assert response.status_code == 400
    assert set(summary_links(response.text)) == {
        "starts_at_date",
        "ends_at_date",
        "title",
        "region",
        "sectors",
    }


async def test_the_double_opt_in_box_is_stored_and_shown_ticked_again(
    signed_in: httpx.AsyncClient,
) -> None:
    form = event_form(requires_address_confirmation="yes")
    slug = await created_slug(await post_form(signed_in, NEW, form))

    stored = await get_event(slug)
    edit = await signed_in.get(f"/organiser/events/{slug}/edit")

    assert stored.requires_address_confirmation is True
    assert re.search(r'name="requires_address_confirmation" value="yes" checked', edit.text)


async def test_double_opt_in_is_off_on_a_new_event_form(signed_in: httpx.AsyncClient) -> None:
    slug = await created_slug(await post_form(signed_in, NEW, event_form()))

    assert (await get_event(slug)).requires_address_confirmation is False
