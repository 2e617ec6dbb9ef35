"""The roster's actions as buttons: confirmation first, then the change, its mail and a message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
import pytest

from tests import factories
from tests.attendance.helpers import stored_check_in
from tests.registrations.helpers import from_now, iso
from tests.sessions import hidden_value, sign_in
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.services import EventView, get_event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.schemas import RegistrationForm
from treffpunkt.registrations.services import approve, register
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}


@dataclass(frozen=True)
class Roster:
    """Capacity 2 with approval: Anna and Bernd confirmed, Clara waiting, Dora pending."""

    owner: CurrentOrganiser
    event: EventView
    ids: dict[str, int]

    @property
    def url(self) -> str:
        return f"/organiser/events/{self.event.slug}/roster"

    def action(self, who: str, action: str) -> str:
        return f"{self.url}/{self.ids[who]}/{action}"


async def people_at_a_full_event(owner: CurrentOrganiser) -> tuple[EventView, dict[str, int]]:
    """An event starting in an hour, capacity 2 with approval: two seats taken, one waiting.

    Anna and Bernd are confirmed, Clara waits, Dora's request is pending; all read English.
    """
    starts_at = from_now(hours=1)
    event = await factories.event(
        owner,
        starts_at=iso(starts_at),
        ends_at=iso(starts_at + timedelta(hours=3)),
        capacity=2,
        waitlist=True,
        requires_approval=True,
    )
    ids = {}
    now = datetime.now(UTC)
    for name in ("Anna", "Bernd", "Clara", "Dora"):
        outcome = await register(
            event.slug,
            RegistrationForm(
                name=f"{name} Muster",
                email=f"{name.lower()}@example.org",
                organisation="Stadt Jena",
                stakeholder_group="public_administration",
                consent=True,
                language="en",
            ),
            now=now,
        )
        ids[name.lower()] = outcome.registration_id
    for name in ("anna", "bernd", "clara"):
        await approve(event.slug, ids[name], now=now)
    return await get_event(event.slug), ids


async def full_event(client: httpx.AsyncClient) -> Roster:
    owner = await factories.organiser()
    event, ids = await people_at_a_full_event(owner)
    await sign_in(client, owner)
    return Roster(owner, event, ids)


async def status_of(registration_id: int) -> str:
    row = (
        await Registration.select(Registration.status)
        .where(Registration.id == registration_id)
        .first()
    )
    assert row is not None
    return str(row["status"])


async def mails_to(registration_id: int) -> list[str]:
    rows = (
        await OutboxMessage.select(OutboxMessage.kind)
        .where(OutboxMessage.registration == registration_id)
        .order_by(OutboxMessage.id)
    )
    return [row["kind"] for row in rows]


async def csrf(client: httpx.AsyncClient, page: str) -> str:
    return hidden_value((await client.get(page, headers=ENGLISH)).text, "_csrf_token")


async def post(
    client: httpx.AsyncClient, at: Roster, path: str, /, **fields: Any
) -> httpx.Response:
    """A form post as the page sends it, CSRF token and all."""
    token = await csrf(client, at.url)
    return await client.post(path, data={"_csrf_token": token, **fields}, headers=ENGLISH)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def row_links(html: str, registration_id: int) -> list[str]:
    """The action links (confirmation pages) in one roster row."""
    match = re.search(rf'<tr id="r{registration_id}">(.*?)</tr>', html, re.S)
    assert match
    return [
        unescape(link)
        for link in re.findall(r'<a class="button[^"]*" href="([^"]+)"', match.group(1))
    ]


# --- what the roster offers ---------------------------------------------------------------------


async def test_each_row_offers_the_actions_its_status_allows(client: httpx.AsyncClient) -> None:
    at = await full_event(client)

    html = (await client.get(at.url, headers=ENGLISH)).text

    assert row_links(html, at.ids["dora"]) == [
        at.action("dora", "approve"),
        at.action("dora", "decline"),
    ]
    assert row_links(html, at.ids["anna"]) == [at.action("anna", "cancel")]
    assert row_links(html, at.ids["clara"]) == [
        at.action("clara", "cancel"),
        at.action("clara", "promote"),
    ]


async def test_action_links_carry_the_roster_filters(client: httpx.AsyncClient) -> None:
    at = await full_event(client)

    html = (await client.get(f"{at.url}?status=pending&q=Dora", headers=ENGLISH)).text

    assert (
        row_links(html, at.ids["dora"])[0]
        == at.action("dora", "approve") + "?status=pending&q=Dora"
    )


# --- the confirmation page ----------------------------------------------------------------------


async def test_confirmation_page_says_who_gets_which_mail_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)
    mails_before = await mails_to(at.ids["dora"])

    response = await client.get(at.action("dora", "decline"), headers=ENGLISH)

    assert response.status_code == 200
    assert "Dora Muster will get a mail: the registration is declined." in text(response.text)
    assert f'action="{at.action("dora", "decline")}"' in response.text
    assert await status_of(at.ids["dora"]) == "pending"
    assert await mails_to(at.ids["dora"]) == mails_before


async def test_confirmation_page_of_an_action_that_no_longer_applies_offers_only_the_way_back(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    response = await client.get(at.action("anna", "approve"), headers=ENGLISH)

    assert response.status_code == 200
    assert "This is no longer possible" in response.text
    assert 'method="post"' not in response.text.split("<main", 1)[1]


async def test_an_unknown_action_is_not_found(client: httpx.AsyncClient) -> None:
    at = await full_event(client)

    assert (await client.get(at.action("dora", "delete"), headers=ENGLISH)).status_code == 404
    assert (await post(client, at, at.action("dora", "delete"))).status_code == 404


# --- the actions --------------------------------------------------------------------------------


async def test_approving_when_full_puts_the_person_on_the_waiting_list_with_a_mail(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    response = await post(client, at, at.action("dora", "approve"))

    assert response.status_code == 303
    assert response.headers["location"] == f"{at.url}#r{at.ids['dora']}"
    assert await status_of(at.ids["dora"]) == "waitlisted"
    assert (await mails_to(at.ids["dora"]))[-1] == "registration_waitlisted"


async def test_approving_beyond_capacity_when_ticked_gives_a_seat(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    response = await post(client, at, at.action("dora", "approve"), exceed_capacity="yes")

    assert response.status_code == 303
    assert await status_of(at.ids["dora"]) == "confirmed"
    assert (await mails_to(at.ids["dora"]))[-1] == "registration_approved"
    assert (await get_event(at.event.slug)).seats_taken == 3


async def test_declining_ends_the_request_with_a_mail(client: httpx.AsyncClient) -> None:
    at = await full_event(client)

    await post(client, at, at.action("dora", "decline"))

    assert await status_of(at.ids["dora"]) == "declined"
    assert (await mails_to(at.ids["dora"]))[-1] == "registration_declined"


async def test_cancelling_a_seat_mails_the_person_and_gives_the_seat_to_the_waiting_list(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    await post(client, at, at.action("anna", "cancel"))

    assert await status_of(at.ids["anna"]) == "cancelled"
    assert (await mails_to(at.ids["anna"]))[-1] == "registration_cancelled"
    assert await status_of(at.ids["clara"]) == "confirmed"
    assert (await mails_to(at.ids["clara"]))[-1] == "registration_promoted"


async def test_giving_a_seat_when_full_is_refused_on_the_page_unless_ticked(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)
    mails_before = await mails_to(at.ids["clara"])

    response = await post(client, at, at.action("clara", "promote"))

    assert response.status_code == 409
    assert "The event is fully booked" in response.text
    assert 'name="exceed_capacity" value="yes"  aria-invalid="true"' in response.text
    assert await status_of(at.ids["clara"]) == "waitlisted"
    assert await mails_to(at.ids["clara"]) == mails_before


async def test_giving_a_seat_beyond_capacity_when_ticked_confirms_with_a_mail(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    response = await post(client, at, at.action("clara", "promote"), exceed_capacity="yes")

    assert response.status_code == 303
    assert await status_of(at.ids["clara"]) == "confirmed"
    assert (await mails_to(at.ids["clara"]))[-1] == "registration_promoted"
    assert (await get_event(at.event.slug)).seats_taken == 3


async def test_the_roster_says_once_what_the_action_came_to(client: httpx.AsyncClient) -> None:
    at = await full_event(client)

    response = await post(client, at, at.action("dora", "decline"))
    shown = await client.get(response.headers["location"], headers=ENGLISH)
    again = await client.get(at.url, headers=ENGLISH)

    assert "Dora Muster is declined; a mail is on its way." in shown.text
    assert "a mail is on its way" not in again.text


async def test_the_outcome_is_said_in_german_for_a_german_organiser(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)
    token = await csrf(client, at.url)

    response = await client.post(
        at.action("anna", "cancel"),
        data={"_csrf_token": token},
        headers={"Accept-Language": "de"},
    )
    shown = await client.get(response.headers["location"], headers={"Accept-Language": "de"})

    assert "Die Anmeldung von Anna Muster ist storniert; eine E-Mail ist unterwegs." in shown.text


async def test_an_action_leads_back_to_the_roster_with_its_filters(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    response = await post(
        client, at, at.action("dora", "decline"), roster="status=pending&q=Dora&stakeholder_group=x"
    )

    assert response.headers["location"] == f"{at.url}?status=pending&q=Dora#r{at.ids['dora']}"


async def test_an_action_already_taken_shows_a_message_not_an_error_page(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)
    await post(client, at, at.action("dora", "decline"))

    response = await post(client, at, at.action("dora", "decline"))

    assert response.status_code == 409
    assert "The registration is no longer active" in response.text
    assert "This is no longer possible" in response.text


async def test_an_action_without_the_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    at = await full_event(client)

    response = await client.post(at.action("dora", "decline"), data={}, headers=ENGLISH)

    assert response.status_code == 403
    assert await status_of(at.ids["dora"]) == "pending"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_another_organiser_may_not_act_on_the_roster(
    client: httpx.AsyncClient, method: str
) -> None:
    at = await full_event(client)
    await sign_in(client, await factories.organiser())
    token = await csrf(client, "/organiser")

    response = await client.request(
        method,
        at.action("dora", "decline"),
        data={"_csrf_token": token} if method == "POST" else None,
        headers=ENGLISH,
    )

    assert response.status_code in (403, 404)
    assert await status_of(at.ids["dora"]) == "pending"


async def waiting_order(event: EventView) -> list[int]:
    rows = (
        await Registration.select(Registration.id)
        .where((Registration.event == event.id) & (Registration.status == "waitlisted"))
        .order_by(Registration.waitlist_ticket)
    )
    return [row["id"] for row in rows]


async def test_one_place_up_swaps_with_the_person_ahead_and_mails_nobody(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)
    await approve(at.event.slug, at.ids["dora"], now=datetime.now(UTC))  # full: Dora waits 2nd
    page = await client.get(at.url, headers=ENGLISH)
    mails_before = await OutboxMessage.count()

    response = await post(client, at, f"{at.url}/{at.ids['dora']}/move-up")

    assert f'action="{at.url}/{at.ids["dora"]}/move-up"' in page.text
    assert f'action="{at.url}/{at.ids["clara"]}/move-up"' not in page.text  # first already
    assert response.status_code == 303
    assert response.headers["location"] == f"{at.url}#r{at.ids['dora']}"
    assert await waiting_order(at.event) == [at.ids["dora"], at.ids["clara"]]
    assert await OutboxMessage.count() == mails_before


# --- adding by hand and walk-ins ----------------------------------------------------------------


def person_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "name": "Maria Muster",
        "email": "maria@example.org",
        "organisation": "Landkreis Meißen",
        "stakeholder_group": "business",
        "language": "de",
        "consent": "yes",
    }
    fields.update(overrides)
    return fields


async def added(email: str) -> dict[str, Any]:
    row = (
        await Registration.select(
            Registration.id, Registration.status, Registration.language, Registration.checked_in_at
        )
        .where(Registration.email == email)
        .first()
    )
    assert row is not None, f"{email} was not added"
    return row


async def test_adding_by_hand_confirms_the_person_and_queues_the_mail(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)
    await post(client, at, at.action("anna", "cancel"))  # Clara moves up; one seat still taken
    await post(client, at, at.action("bernd", "cancel"))  # a seat is free now

    response = await post(client, at, f"{at.url}/add", **person_fields())

    row = await added("maria@example.org")
    assert response.status_code == 303
    assert response.headers["location"] == f"{at.url}#r{row['id']}"
    assert (row["status"], row["language"]) == ("confirmed", "de")
    assert await mails_to(row["id"]) == ["registration_confirmed"]
    shown = await client.get(response.headers["location"], headers=ENGLISH)
    assert "Maria Muster is confirmed; a mail is on its way." in shown.text


async def test_adding_by_hand_to_a_full_event_is_refused_next_to_the_exceed_checkbox(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    response = await post(client, at, f"{at.url}/add", **person_fields())

    assert response.status_code == 409
    assert re.search(
        r'id="exceed_capacity"[^>]*aria-invalid="true" aria-describedby="exceed_capacity-error"',
        response.text,
    )
    assert '<p class="field-error" id="exceed_capacity-error">The event is fully booked' in (
        response.text.replace("the event", "The event")
    )
    assert 'href="#exceed_capacity"' in response.text
    assert 'value="maria@example.org"' in response.text
    assert not await Registration.exists().where(Registration.email == "maria@example.org")


async def test_adding_by_hand_to_a_full_event_goes_through_when_exceed_is_ticked(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    response = await post(client, at, f"{at.url}/add", **person_fields(exceed_capacity="yes"))

    assert response.status_code == 303
    assert (await added("maria@example.org"))["status"] == "confirmed"
    assert (await get_event(at.event.slug)).seats_taken == 3


async def test_adding_by_hand_with_mistakes_shows_each_next_to_its_field(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    response = await post(
        client, at, f"{at.url}/add", **person_fields(email="kein-at-zeichen", name="", consent="")
    )

    assert response.status_code == 400
    for field in ("name", "email", "consent"):
        assert f'aria-describedby="{field}-error"' in response.text
        assert f'href="#{field}"' in response.text
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', response.text, re.S)
    assert summary
    assert [text(item) for item in re.findall(r"<li>(.*?)</li>", summary.group(1), re.S)] == [
        "Name: must not be empty",
        "Email address: must be an email address",
        "Consent: consent to the privacy notice is required",
    ]


async def test_adding_someone_registered_already_says_so_next_to_the_email(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    response = await post(
        client,
        at,
        f"{at.url}/add",
        **person_fields(email="dora@example.org", exceed_capacity="yes"),
    )

    assert response.status_code == 409
    assert '<p class="field-error" id="email-error">' in response.text


async def test_a_walk_in_is_added_and_checked_in_at_once(client: httpx.AsyncClient) -> None:
    at = await full_event(client)

    response = await post(client, at, f"{at.url}/walk-in", **person_fields(exceed_capacity="yes"))

    row = await added("maria@example.org")
    assert response.status_code == 303
    assert row["status"] == "confirmed"
    assert await stored_check_in(row["id"]) is not None
    shown = await client.get(response.headers["location"], headers=ENGLISH)
    assert "Maria Muster is registered and checked in; a mail is on its way." in shown.text


async def test_a_walk_in_at_a_full_event_is_refused_unless_exceed_is_ticked(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    response = await post(client, at, f"{at.url}/walk-in", **person_fields())

    assert response.status_code == 409
    assert 'id="exceed_capacity-error"' in response.text
    assert not await Registration.exists().where(Registration.email == "maria@example.org")


async def test_the_door_offers_a_walk_in_for_someone_not_registered(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)
    door = f"/organiser/events/{at.event.slug}/check-in"

    page = await client.get(door, headers=ENGLISH)
    form = await client.get(f"{at.url}/add?at=door", headers=ENGLISH)

    assert f'href="{at.url}/add?at=door"' in page.text
    assert '<input type="hidden" name="at" value="door">' in form.text
    assert f'href="{door}">Back to the door</a>' in form.text
    assert "Add to the roster" not in form.text


async def test_a_walk_in_at_the_door_goes_back_to_the_door_saying_welcome(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)
    door = f"/organiser/events/{at.event.slug}/check-in"

    response = await post(
        client, at, f"{at.url}/walk-in", **person_fields(at="door", exceed_capacity="yes")
    )

    row = await added("maria@example.org")
    assert response.status_code == 303
    assert response.headers["location"] == door
    assert await stored_check_in(row["id"]) is not None
    shown = text((await client.get(door, headers=ENGLISH)).text)
    assert "Welcome! Maria Muster Landkreis Meißen" in shown


async def test_a_refused_walk_in_at_the_door_stays_a_door_walk_in(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)

    response = await post(client, at, f"{at.url}/walk-in", **person_fields(at="door"))

    assert response.status_code == 409
    assert '<input type="hidden" name="at" value="door">' in response.text


async def test_another_organiser_may_not_add_to_the_roster(client: httpx.AsyncClient) -> None:
    at = await full_event(client)
    await sign_in(client, await factories.organiser())
    token = await csrf(client, "/organiser")

    response = await client.post(
        f"{at.url}/add", data={"_csrf_token": token, **person_fields()}, headers=ENGLISH
    )

    assert response.status_code in (403, 404)
    assert not await Registration.exists().where(Registration.email == "maria@example.org")


async def test_adding_by_hand_leads_back_to_the_filtered_roster_without_mixing_up_fields(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)
    page = await client.get(f"{at.url}/add?stakeholder_group=politics&q=Jena", headers=ENGLISH)
    assert '<input type="hidden" name="roster" value="stakeholder_group=politics&amp;q=Jena">' in (
        page.text
    )

    response = await post(
        client,
        at,
        f"{at.url}/add",
        roster="stakeholder_group=politics&q=Jena",
        **person_fields(exceed_capacity="yes"),
    )

    row = await added("maria@example.org")
    assert response.headers["location"] == (
        f"{at.url}?stakeholder_group=politics&q=Jena#r{row['id']}"
    )
    stored = await Registration.select(Registration.stakeholder_group).where(
        Registration.id == row["id"]
    )
    assert stored == [{"stakeholder_group": "business"}]


async def test_checking_in_by_hand_leads_back_to_the_filtered_roster(
    client: httpx.AsyncClient,
) -> None:
    at = await full_event(client)
    page = await client.get(f"{at.url}?status=confirmed", headers=ENGLISH)
    assert '<input type="hidden" name="roster" value="status=confirmed">' in page.text

    response = await post(
        client, at, f"{at.url}/{at.ids['anna']}/check-in", roster="status=confirmed"
    )

    assert response.headers["location"] == f"{at.url}?status=confirmed#r{at.ids['anna']}"
    assert await stored_check_in(at.ids["anna"]) is not None
