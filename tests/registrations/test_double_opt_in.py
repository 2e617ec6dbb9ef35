"""Double opt-in: a place is held until the address is confirmed from the mail, then released."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests import factories
from tests.audit.helpers import entries
from tests.registrations.helpers import (
    id_of,
    outbox_kinds,
    problem_code,
    register_ok,
    row_of,
    seats_left,
    statuses,
    token_of,
)
from tests.sessions import hidden_value, sign_in
from treffpunkt.errors import Conflict
from treffpunkt.events.services import EventView
from treffpunkt.registrations import services
from treffpunkt.registrations.services import confirm_address, release_expired_holds
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.anyio


async def opt_in_event(**overrides: object) -> tuple[EventView, dict[str, str]]:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, requires_address_confirmation=True, **overrides)
    return event, auth


async def confirm_by_api(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(f"/api/v1/registrations/{token}/confirm-address")


def later(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


async def test_an_event_takes_and_shows_double_opt_in_through_the_api(
    client: httpx.AsyncClient,
) -> None:
    _, auth = await factories.organiser_with_token()

    created = await client.post(
        "/api/v1/events",
        json=factories.event_payload(requires_address_confirmation=True),
        headers=auth,
    )
    slug = created.json()["slug"]
    switched = await client.patch(
        f"/api/v1/events/{slug}", json={"requires_address_confirmation": False}, headers=auth
    )

    assert created.status_code == 201
    assert created.json()["requires_address_confirmation"] is True
    assert switched.json()["requires_address_confirmation"] is False


async def test_double_opt_in_is_off_unless_asked_for(client: httpx.AsyncClient) -> None:
    _, auth = await factories.organiser_with_token()

    created = await client.post("/api/v1/events", json=factories.event_payload(), headers=auth)

    assert created.json()["requires_address_confirmation"] is False


async def test_registering_holds_the_seat_and_queues_only_the_confirm_mail(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await opt_in_event(capacity=2)

    receipt = await register_ok(client, event.slug, email="anna@example.org")

    assert (receipt["status"], receipt["address_confirmation_required"]) == ("confirmed", True)
    assert await seats_left(client, event.slug) == 1
    assert await outbox_kinds() == [("address_confirmation", "anna@example.org")]
    row = await row_of(client, event.slug, auth, "anna@example.org")
    assert row["unconfirmed_until"] is not None


async def test_the_hold_lasts_the_configured_minutes(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TREFFPUNKT_ADDRESS_CONFIRMATION_MINUTES", "30")
    get_settings.cache_clear()
    event, _ = await opt_in_event()
    before = datetime.now(UTC)

    await register_ok(client, event.slug, email="anna@example.org")

    monkeypatch.undo()
    get_settings.cache_clear()
    row = await Registration.select(Registration.unconfirmed_until).first()
    assert row is not None
    held = row["unconfirmed_until"] - before
    assert timedelta(minutes=30) <= held < timedelta(minutes=31)


async def test_confirming_by_api_makes_the_place_the_persons_and_sends_the_status_mail(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await opt_in_event()
    await register_ok(client, event.slug, email="anna@example.org")
    token = await token_of(client, event.slug, auth, "anna@example.org")

    response = await confirm_by_api(client, token)

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["unconfirmed_until"]) == ("confirmed", None)
    assert await outbox_kinds() == [
        ("address_confirmation", "anna@example.org"),
        ("registration_confirmed", "anna@example.org"),
    ]


async def test_confirming_twice_changes_nothing_and_mails_once(client: httpx.AsyncClient) -> None:
    event, auth = await opt_in_event()
    await register_ok(client, event.slug, email="anna@example.org")
    token = await token_of(client, event.slug, auth, "anna@example.org")
    await confirm_by_api(client, token)

    again = await confirm_by_api(client, token)

    assert again.status_code == 200
    assert [kind for kind, _ in await outbox_kinds()].count("registration_confirmed") == 1


async def test_a_waitlisted_person_confirming_hears_their_position(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await opt_in_event(capacity=1, waitlist=True)
    await register_ok(client, event.slug, email="anna@example.org")
    await confirm_by_api(client, await token_of(client, event.slug, auth, "anna@example.org"))
    receipt = await register_ok(client, event.slug, email="ben@example.org")

    await confirm_by_api(client, await token_of(client, event.slug, auth, "ben@example.org"))

    assert (receipt["status"], receipt["waitlist_position"]) == ("waitlisted", 1)
    assert (await outbox_kinds())[-1] == ("registration_waitlisted", "ben@example.org")


async def test_an_expired_hold_frees_the_seat_for_the_next_confirmed_person_waiting(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await opt_in_event(capacity=1, waitlist=True)
    await register_ok(client, event.slug, email="anna@example.org")
    await register_ok(client, event.slug, email="ben@example.org")
    await confirm_by_api(client, await token_of(client, event.slug, auth, "ben@example.org"))

    released = await release_expired_holds(later(days=2))

    assert released == 1
    assert await statuses(client, event.slug, auth) == {
        "anna@example.org": ("cancelled", None),
        "ben@example.org": ("confirmed", None),
    }
    assert await seats_left(client, event.slug) == 0
    assert (await outbox_kinds())[-1] == ("registration_promoted", "ben@example.org")


async def test_an_expired_hold_mails_nothing_to_the_address_that_never_confirmed(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await opt_in_event(capacity=1)
    await register_ok(client, event.slug, email="anna@example.org")

    await release_expired_holds(later(days=2))

    assert await outbox_kinds() == [("address_confirmation", "anna@example.org")]
    assert await seats_left(client, event.slug) == 1


async def test_a_hold_not_yet_expired_is_kept(client: httpx.AsyncClient) -> None:
    event, auth = await opt_in_event(capacity=1)
    await register_ok(client, event.slug, email="anna@example.org")

    released = await release_expired_holds(later(minutes=5))

    assert released == 0
    assert await statuses(client, event.slug, auth) == {"anna@example.org": ("confirmed", None)}


async def test_a_waitlisted_person_not_confirmed_is_passed_over_and_keeps_their_place(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await opt_in_event(capacity=1, waitlist=True)
    await register_ok(client, event.slug, email="anna@example.org")
    await confirm_by_api(client, await token_of(client, event.slug, auth, "anna@example.org"))
    await register_ok(client, event.slug, email="ben@example.org")
    await register_ok(client, event.slug, email="carla@example.org")
    await confirm_by_api(client, await token_of(client, event.slug, auth, "carla@example.org"))

    cancelled = await client.delete(
        f"/api/v1/registrations/{await token_of(client, event.slug, auth, 'anna@example.org')}"
    )

    assert cancelled.status_code == 200
    assert await statuses(client, event.slug, auth) == {
        "anna@example.org": ("cancelled", None),
        "ben@example.org": ("waitlisted", 1),
        "carla@example.org": ("confirmed", None),
    }


async def test_confirming_after_the_hold_expired_answers_confirmation_expired(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await opt_in_event(capacity=1)
    await register_ok(client, event.slug, email="anna@example.org")
    token = await token_of(client, event.slug, auth, "anna@example.org")
    await release_expired_holds(later(days=2))

    response = await confirm_by_api(client, token)

    assert (response.status_code, problem_code(response)) == (409, "confirmation_expired")
    assert await seats_left(client, event.slug) == 1


async def test_an_unconfirmed_place_has_no_ticket(client: httpx.AsyncClient) -> None:
    event, auth = await opt_in_event()
    await register_ok(client, event.slug, email="anna@example.org")
    token = await token_of(client, event.slug, auth, "anna@example.org")

    before = await client.get(f"/registrations/{token}/ticket.png")
    await confirm_by_api(client, token)
    after = await client.get(f"/registrations/{token}/ticket.png")

    assert (before.status_code, after.status_code) == (404, 200)


async def test_organisers_adding_someone_by_hand_need_no_confirmation(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await opt_in_event()

    added = await client.post(
        f"/api/v1/events/{event.slug}/roster",
        json={
            "name": "Bernd Bauer",
            "email": "bernd@example.org",
            "organisation": "Landkreis Meißen",
            "stakeholder_group": "politics",
            "consent": True,
        },
        headers=auth,
    )

    assert added.status_code == 201, added.text
    assert (added.json()["status"], added.json()["unconfirmed_until"]) == ("confirmed", None)
    assert await outbox_kinds() == [("registration_confirmed", "bernd@example.org")]


async def test_registering_again_unconfirmed_answers_like_a_newcomer_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await opt_in_event(capacity=5)
    await register_ok(client, event.slug, email="anna@example.org")

    again = await client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={
            "name": "Anna",
            "email": "anna@example.org",
            "organisation": "Stadt Leipzig",
            "stakeholder_group": "politics",
            "consent": True,
        },
    )

    assert again.status_code == 201
    assert (again.json()["status"], again.json()["address_confirmation_required"]) == (
        "confirmed",
        True,
    )
    assert await seats_left(client, event.slug) == 4
    assert await id_of(client, event.slug, auth, "anna@example.org")


# --- the page behind the link in the mail ---------------------------------------------------


async def test_opening_the_link_does_not_confirm_the_address(client: httpx.AsyncClient) -> None:
    event, auth = await opt_in_event()
    await register_ok(client, event.slug, email="anna@example.org")
    token = await token_of(client, event.slug, auth, "anna@example.org")

    page = await client.get(f"/registrations/{token}")
    await client.get(f"/registrations/{token}/confirm-address")

    assert page.status_code == 200
    assert f'action="/registrations/{token}/confirm-address"' in page.text
    row = await row_of(client, event.slug, auth, "anna@example.org")
    assert row["unconfirmed_until"] is not None
    assert await outbox_kinds() == [("address_confirmation", "anna@example.org")]


async def test_pressing_the_button_confirms_and_leads_back_to_the_page(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await opt_in_event()
    await register_ok(client, event.slug, email="anna@example.org")
    token = await token_of(client, event.slug, auth, "anna@example.org")
    page = await client.get(f"/registrations/{token}", headers={"Accept-Language": "en"})

    response = await client.post(
        f"/registrations/{token}/confirm-address",
        data={"_csrf_token": hidden_value(page.text, "_csrf_token")},
    )
    shown = await client.get(response.headers["location"], headers={"Accept-Language": "en"})

    assert response.status_code == 303
    assert "your email address is confirmed" in shown.text
    assert "/confirm-address" not in shown.text
    row = await row_of(client, event.slug, auth, "anna@example.org")
    assert row["unconfirmed_until"] is None
    assert (await outbox_kinds())[-1] == ("registration_confirmed", "anna@example.org")


async def test_the_roster_says_the_address_is_not_confirmed_yet(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, requires_address_confirmation=True)
    await register_ok(client, event.slug, email="anna@example.org")
    await register_ok(client, event.slug, email="ben@example.org")
    await confirm_by_api(client, await token_of(client, event.slug, auth, "ben@example.org"))
    await sign_in(client, owner)

    page = await client.get(
        f"/organiser/events/{event.slug}/roster", headers={"Accept-Language": "en"}
    )

    assert page.status_code == 200
    rows = {
        email: row
        for row in re.findall(r'<tr id="r\d+">.*?</tr>', page.text, flags=re.S)
        for email in ("anna@example.org", "ben@example.org")
        if email in row
    }
    assert "address not confirmed yet" in rows["anna@example.org"]
    assert "address not confirmed yet" not in rows["ben@example.org"]


async def receipt_after_form(client: httpx.AsyncClient, slug: str, email: str) -> str:
    page = await client.get(f"/events/{slug}", headers={"Accept-Language": "en"})
    sent = await client.post(
        f"/events/{slug}/register",
        data={
            "_csrf_token": hidden_value(page.text, "_csrf_token"),
            "name": "Anna Schmidt",
            "email": email,
            "organisation": "Stadt Leipzig",
            "stakeholder_group": "politics",
            "language": "en",
            "consent": "yes",
        },
        headers={"Accept-Language": "en"},
    )
    assert sent.status_code == 303, sent.text
    receipt = await client.get(sent.headers["location"], headers={"Accept-Language": "en"})
    match = re.search(r"<main.*?</main>", receipt.text, flags=re.S)
    assert match
    return match.group(0)


async def test_the_receipt_asks_to_confirm_the_address_alike_for_new_and_registered(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await opt_in_event()
    await register_ok(client, event.slug, email="anna@example.org")

    again = await receipt_after_form(client, event.slug, "anna@example.org")
    new = await receipt_after_form(client, event.slug, "ben@example.org")

    assert again == new
    assert "Confirm your address with its link" in new


async def test_confirming_too_late_before_the_worker_came_round_releases_the_place(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await opt_in_event(capacity=1)
    await register_ok(client, event.slug, email="anna@example.org")
    token = await token_of(client, event.slug, auth, "anna@example.org")

    with pytest.raises(Conflict) as refused:
        await confirm_address(token, now=later(days=2))

    assert refused.value.code == "confirmation_expired"
    assert await statuses(client, event.slug, auth) == {"anna@example.org": ("cancelled", None)}
    assert await seats_left(client, event.slug) == 1


async def test_confirming_and_an_expired_hold_are_in_the_events_history(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await opt_in_event(capacity=1, waitlist=True)
    await register_ok(client, event.slug, email="anna@example.org")
    await register_ok(client, event.slug, email="ben@example.org")
    await confirm_by_api(client, await token_of(client, event.slug, auth, "ben@example.org"))

    await release_expired_holds(later(days=2))

    recorded = [
        (entry["action"], entry["actor_kind"])
        for entry in await entries(event_id=event.id)
        if entry["action"] in ("registration.address_confirmed", "registration.hold_released")
    ]
    assert recorded == [
        ("registration.address_confirmed", "registrant"),
        ("registration.hold_released", "system"),
    ]


async def test_a_seat_given_while_the_confirmation_is_on_its_way_still_brings_the_invite(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, auth = await opt_in_event(capacity=1, waitlist=True)
    await register_ok(client, event.slug, email="anna@example.org")
    await register_ok(client, event.slug, email="ben@example.org")
    ben = await token_of(client, event.slug, auth, "ben@example.org")
    read_while_waiting = await services.by_token(ben)
    await services.promote(
        event.slug, read_while_waiting.id, now=datetime.now(UTC), exceed_capacity=True
    )

    async def stale(token: str) -> services.RegistrationView:
        return read_while_waiting

    monkeypatch.setattr(services, "by_token", stale)
    await confirm_address(ben, now=datetime.now(UTC))

    assert (await outbox_kinds())[-1] == ("registration_confirmed", "ben@example.org")
