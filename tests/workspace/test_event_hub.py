"""The event hub: what it shows and offers per status, publish, cancel after a preview,
deleting drafts, co-organisers, and who may open it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests import factories
from tests.notifications.helpers import sign_up
from tests.sessions import hidden_value, sign_in
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.attendance.services import check_in_by_id
from treffpunkt.clock import utcnow
from treffpunkt.events.services import EventView, add_co_organiser, co_organisers, get_event
from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.event_changes import cancel_and_notify
from treffpunkt.registrations.services import token_for

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}


def hub_url(event: EventView) -> str:
    return f"/organiser/events/{event.slug}"


async def signed_in(client: httpx.AsyncClient) -> CurrentOrganiser:
    owner = await factories.organiser()
    await sign_in(client, owner)
    return owner


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, str] | None = None
) -> httpx.Response:
    """Send a form as the browser would: with the CSRF token of the page it stands on."""
    token = hidden_value((await client.get(page, headers=ENGLISH)).text, "_csrf_token")
    return await client.post(action, data={"_csrf_token": token, **(data or {})}, headers=ENGLISH)


def actions_of(html: str) -> set[str]:
    """The forms and links of the hub's next steps: what the organiser may do now."""
    section = html.split('id="actions-title"', 1)[1].split("</section>", 1)[0]
    found = set(re.findall(r'action="/organiser/events/[^/"]+/([^"]+)"', section))
    found |= set(re.findall(r'href="/organiser/events/[^/"]+/([^"]+)"', section))
    return found


async def test_the_hub_of_a_draft_offers_publish_and_delete_and_no_cancel(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client), publish=False)

    response = await client.get(hub_url(event), headers=ENGLISH)

    assert response.status_code == 200
    assert actions_of(response.text) == {"publish", "delete", "duplicate"}
    assert "Draft" in response.text


async def test_the_hub_of_a_published_event_offers_message_and_cancel_and_no_publish(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))

    response = await client.get(hub_url(event), headers=ENGLISH)

    assert actions_of(response.text) == {"message", "cancel", "duplicate"}
    assert "It is listed in the public catalogue." in response.text


async def test_the_hub_of_a_cancelled_event_shows_the_reason_and_offers_only_duplicate(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))
    await cancel_and_notify(event.slug, "Die Referentin ist erkrankt.", now=utcnow())

    response = await client.get(hub_url(event), headers=ENGLISH)

    assert actions_of(response.text) == {"duplicate"}
    assert "Reason: Die Referentin ist erkrankt." in response.text
    assert f'href="/organiser/events/{event.slug}/edit"' not in response.text


async def test_the_hub_of_a_finished_event_says_so_and_offers_no_cancel(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))
    await Event.update(
        {
            Event.starts_at: datetime(2020, 5, 4, 8, tzinfo=UTC),
            Event.ends_at: datetime(2020, 5, 4, 11, tzinfo=UTC),
        }
    ).where(Event.id == event.id)

    response = await client.get(hub_url(event), headers=ENGLISH)

    assert actions_of(response.text) == {"message", "duplicate"}
    assert "Finished" in response.text


async def test_the_hub_shows_when_in_the_events_zone_and_links_every_page(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(
        await signed_in(client),
        starts_at="2030-06-12T08:00:00+00:00",
        ends_at="2030-06-12T11:00:00+00:00",
    )

    response = await client.get(hub_url(event), headers=ENGLISH)

    assert "Wednesday, June 12, 2030, 10:00\u202fAM–1:00\u202fPM CEST" in response.text
    for page in ("edit", "questions", "roster", "check-in", "feedback", "mail", "series"):
        assert f'href="/organiser/events/{event.slug}/{page}"' in response.text
    assert f'href="/events/{event.slug}"' in response.text


async def test_the_hub_counts_seats_waiting_list_and_check_ins(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(
        await signed_in(client),
        capacity=2,
        waitlist=True,
        starts_at=(utcnow() + timedelta(hours=1)).isoformat(),
        ends_at=(utcnow() + timedelta(hours=4)).isoformat(),
    )
    anna = await sign_up(event.slug, "anna@example.org")
    await sign_up(event.slug, "ben@example.org")
    await sign_up(event.slug, "cem@example.org")
    await check_in_by_id(event.slug, anna.registration_id, now=utcnow())

    html = (await client.get(hub_url(event), headers=ENGLISH)).text

    assert re.search(r'id="hub-seats">\s*2 / 2\s*<', html)
    assert re.search(r'id="hub-waitlist">\s*1\s*<', html)
    assert re.search(r'id="hub-checked-in">\s*1\s*<', html)


async def test_the_hub_counts_registrations_awaiting_approval(client: httpx.AsyncClient) -> None:
    event = await factories.event(await signed_in(client), requires_approval=True)
    await sign_up(event.slug, "anna@example.org")

    html = (await client.get(hub_url(event), headers=ENGLISH)).text

    assert re.search(r'id="hub-pending">\s*1\s*<', html)


async def test_an_organiser_who_does_not_manage_the_event_is_refused(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await factories.organiser())
    await signed_in(client)

    response = await client.get(hub_url(event), headers=ENGLISH)

    assert response.status_code == 403


async def test_an_unknown_event_has_no_hub(client: httpx.AsyncClient) -> None:
    await signed_in(client)

    response = await client.get("/organiser/events/no-such-event", headers=ENGLISH)

    assert response.status_code == 404


async def test_without_signing_in_the_hub_leads_to_the_login(client: httpx.AsyncClient) -> None:
    event = await factories.event(await factories.organiser())

    response = await client.get(hub_url(event))

    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login")


async def test_a_co_organiser_may_open_the_hub(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    helper = await factories.organiser()
    event = await factories.event(owner)
    await add_co_organiser(event.slug, helper.email)
    await sign_in(client, helper)

    response = await client.get(hub_url(event), headers=ENGLISH)

    assert response.status_code == 200


# --- publish ------------------------------------------------------------------------------


async def test_publishing_a_draft_publishes_it_and_the_hub_says_so(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client), publish=False)

    response = await post_form(client, hub_url(event), f"{hub_url(event)}/publish")

    assert response.status_code == 303
    assert response.headers["location"] == hub_url(event)
    assert (await get_event(event.slug)).status == "published"
    page = await client.get(hub_url(event), headers=ENGLISH)
    assert "The event is published and open in the catalogue." in page.text


async def test_a_draft_that_breaks_a_rule_stays_a_draft_and_the_hub_says_what_to_fix(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client), publish=False)
    # Stored before the rule existed, say: an in-person draft without a city.
    await Event.update({Event.venue_city: ""}).where(Event.id == event.id)

    response = await post_form(client, hub_url(event), f"{hub_url(event)}/publish")

    assert response.status_code == 400
    assert "This draft cannot be published yet" in response.text
    assert "Venue: needs at least a name and a city" in response.text
    assert f'href="/organiser/events/{event.slug}/edit"' in response.text
    assert (await get_event(event.slug)).status == "draft"


async def test_a_draft_whose_date_has_passed_is_refused_and_the_hub_says_why(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client), publish=False)
    await Event.update(
        {
            Event.starts_at: datetime(2020, 5, 4, 8, tzinfo=UTC),
            Event.ends_at: datetime(2020, 5, 4, 11, tzinfo=UTC),
        }
    ).where(Event.id == event.id)

    response = await post_form(client, hub_url(event), f"{hub_url(event)}/publish")

    assert response.status_code == 409
    assert "the event is over and cannot be published" in response.text
    assert (await get_event(event.slug)).status == "draft"


# --- cancel -------------------------------------------------------------------------------


async def test_the_cancel_preview_shows_the_mail_with_the_reason_and_the_count(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))
    await sign_up(event.slug, "anna@example.org")
    await sign_up(event.slug, "ben@example.org")

    response = await post_form(
        client, f"{hub_url(event)}/cancel", f"{hub_url(event)}/cancel", {"reason": "Sturmwarnung"}
    )

    assert response.status_code == 200
    assert "2 people will get this mail." in response.text
    assert f"Cancelled: {event.title}" in response.text
    assert "Sturmwarnung" in response.text.split('id="preview-text"', 1)[1]
    assert f'action="/organiser/events/{event.slug}/cancel/confirm"' in response.text


async def test_the_cancel_preview_keeps_the_registrants_secret_link_to_themselves(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))
    anna = await sign_up(event.slug, "anna@example.org")

    response = await post_form(
        client, f"{hub_url(event)}/cancel", f"{hub_url(event)}/cancel", {"reason": "Sturm"}
    )

    assert await token_for(anna.registration_id) not in response.text
    assert "/registrations/…" in response.text


async def test_the_cancel_preview_changes_nothing(client: httpx.AsyncClient) -> None:
    event = await factories.event(await signed_in(client))
    await sign_up(event.slug, "anna@example.org")
    mails_before = await OutboxMessage.count()

    await post_form(
        client, f"{hub_url(event)}/cancel", f"{hub_url(event)}/cancel", {"reason": "Sturmwarnung"}
    )

    assert (await get_event(event.slug)).status == "published"
    assert await OutboxMessage.count() == mails_before


async def test_confirming_the_cancellation_cancels_and_queues_one_mail_per_registrant(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))
    await sign_up(event.slug, "anna@example.org")
    await sign_up(event.slug, "ben@example.org")

    response = await post_form(
        client,
        f"{hub_url(event)}/cancel",
        f"{hub_url(event)}/cancel/confirm",
        {"reason": "Sturmwarnung"},
    )

    assert response.status_code == 303
    cancelled = await get_event(event.slug)
    assert (cancelled.status, cancelled.cancellation_reason) == ("cancelled", "Sturmwarnung")
    rows = await OutboxMessage.select(OutboxMessage.recipient).where(
        OutboxMessage.kind == "event_cancelled"
    )
    assert sorted(row["recipient"] for row in rows) == ["anna@example.org", "ben@example.org"]


async def test_a_cancellation_without_a_reason_is_refused_next_to_the_field(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))

    response = await post_form(
        client, f"{hub_url(event)}/cancel", f"{hub_url(event)}/cancel", {"reason": "  "}
    )

    assert response.status_code == 400
    assert re.search(r'<textarea id="reason"[^>]*aria-invalid="true"', response.text)
    assert 'id="reason-error"' in response.text
    assert 'href="#reason"' in response.text
    assert (await get_event(event.slug)).status == "published"


async def test_the_preview_of_an_empty_event_says_nobody_gets_mail(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))

    response = await post_form(
        client, f"{hub_url(event)}/cancel", f"{hub_url(event)}/cancel", {"reason": "Sturm"}
    )

    assert "Nobody is registered: no mail will go out." in response.text


async def test_a_draft_cannot_be_cancelled_and_the_page_says_to_delete_it(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client), publish=False)

    response = await post_form(
        client, f"{hub_url(event)}/cancel", f"{hub_url(event)}/cancel", {"reason": "Sturm"}
    )

    assert response.status_code == 409
    assert "a draft is not public: delete it instead of cancelling it" in response.text
    assert (await get_event(event.slug)).status == "draft"


# --- delete -------------------------------------------------------------------------------


async def test_deleting_a_draft_after_confirming_removes_it(client: httpx.AsyncClient) -> None:
    event = await factories.event(await signed_in(client), publish=False)

    confirm = await client.get(f"{hub_url(event)}/delete", headers=ENGLISH)
    response = await post_form(client, f"{hub_url(event)}/delete", f"{hub_url(event)}/delete")

    assert "Delete the draft?" in confirm.text
    assert response.status_code == 303
    assert response.headers["location"] == "/organiser"
    assert not await Event.exists().where(Event.slug == event.slug)


async def test_a_published_event_is_not_deleted_and_the_page_says_why(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))

    response = await post_form(client, f"{hub_url(event)}/delete", f"{hub_url(event)}/delete")

    assert response.status_code == 409
    assert "only drafts can be deleted; cancel a published event instead" in response.text
    assert await Event.exists().where(Event.slug == event.slug)


# --- co-organisers ------------------------------------------------------------------------


async def test_adding_a_co_organiser_by_email_lists_them_on_the_hub(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))
    helper = await factories.organiser(email="helfer@example.org")

    response = await post_form(
        client, hub_url(event), f"{hub_url(event)}/organisers", {"email": helper.email}
    )

    assert response.status_code == 303
    assert await co_organisers(event.slug) == ["helfer@example.org"]
    page = await client.get(hub_url(event), headers=ENGLISH)
    assert "helfer@example.org now co-organises this event." in page.text


async def test_adding_an_unknown_address_shows_the_error_next_to_the_field(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))

    response = await post_form(
        client, hub_url(event), f"{hub_url(event)}/organisers", {"email": "niemand@example.org"}
    )

    assert response.status_code == 400
    error = re.search(r'<p class="field-error" id="email-error">([^<]*)</p>', response.text)
    assert error is not None
    assert error.group(1) == "no active organiser with the email niemand@example.org"
    assert re.search(r'<input id="email"[^>]*aria-invalid="true"', response.text)
    assert 'value="niemand@example.org"' in response.text
    assert await co_organisers(event.slug) == []


async def test_adding_a_malformed_address_shows_the_error_next_to_the_field(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await signed_in(client))

    response = await post_form(
        client, hub_url(event), f"{hub_url(event)}/organisers", {"email": "kein-at-zeichen"}
    )

    assert response.status_code == 400
    assert 'id="email-error"' in response.text


async def test_removing_a_co_organiser_after_confirming(client: httpx.AsyncClient) -> None:
    event = await factories.event(await signed_in(client))
    helper = await factories.organiser(email="helfer@example.org")
    await post_form(client, hub_url(event), f"{hub_url(event)}/organisers", {"email": helper.email})
    remove_page = f"{hub_url(event)}/organisers/remove?email=helfer%40example.org"

    confirm = await client.get(remove_page, headers=ENGLISH)
    response = await post_form(
        client, remove_page, f"{hub_url(event)}/organisers/remove", {"email": helper.email}
    )

    assert "Remove a co-organiser?" in confirm.text
    assert response.status_code == 303
    assert await co_organisers(event.slug) == []


async def test_a_co_organiser_who_removes_themselves_lands_on_their_own_events(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await factories.organiser())
    helper = await factories.organiser(email="helfer@example.org")
    await add_co_organiser(event.slug, helper.email)
    await sign_in(client, helper)

    response = await post_form(
        client, hub_url(event), f"{hub_url(event)}/organisers/remove", {"email": helper.email}
    )

    assert response.headers["location"] == "/organiser"
    assert await co_organisers(event.slug) == []


# --- CSRF ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("publish", {}),
        ("cancel", {"reason": "Sturm"}),
        ("cancel/confirm", {"reason": "Sturm"}),
        ("delete", {}),
        ("organisers", {"email": "helfer@example.org"}),
        ("organisers/remove", {"email": "helfer@example.org"}),
        ("message", {"subject": "Parken", "body": "Bitte das Parkhaus nutzen."}),
        ("message/send", {"subject": "Parken", "body": "Bitte das Parkhaus nutzen."}),
    ],
)
async def test_every_form_of_the_hub_needs_the_csrf_token(
    client: httpx.AsyncClient, action: str, data: dict[str, str]
) -> None:
    event = await factories.event(await signed_in(client), publish=False)
    await factories.organiser(email="helfer@example.org")
    await client.get(hub_url(event))  # the CSRF cookie is set, but the form lacks the token

    response = await client.post(f"{hub_url(event)}/{action}", data=data, headers=ENGLISH)

    assert response.status_code == 403
    stored = await get_event(event.slug)
    assert (stored.status, await OutboxMessage.count()) == ("draft", 0)
