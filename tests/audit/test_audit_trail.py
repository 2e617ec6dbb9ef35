"""The audit trail's promises: written in the change's transaction, no personal values in it,
kept when a draft goes, and read back as sentences per event and per account."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests import factories
from tests.audit.helpers import entries
from tests.registrations.helpers import person
from tests.sessions import sign_in
from treffpunkt.audit.actors import SYSTEM, actor_scope
from treffpunkt.audit.services import record
from treffpunkt.clock import utcnow
from treffpunkt.events.schemas import EventUpdate
from treffpunkt.events.services import get_event
from treffpunkt.registrations import event_changes
from treffpunkt.registrations import services as registrations
from treffpunkt.registrations.schemas import ManualRegistration, RegistrationChange
from treffpunkt.registrations.tables import Registration
from treffpunkt.workspace.mail import preview_cancellation

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}
GERMAN = {"Accept-Language": "de"}


class MailRefused(Exception):
    """Stands in for anything failing after the entry was written."""


async def _refuse(*_: object, **__: object) -> None:
    raise MailRefused


async def test_a_cancellation_failing_after_its_entry_leaves_neither_change_nor_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = await factories.organiser()
    event = await factories.event(owner)
    outcome = await registrations.add_by_organiser(
        event.slug, ManualRegistration(**person()), now=utcnow()
    )
    monkeypatch.setattr(registrations, "enqueue", _refuse)

    with pytest.raises(MailRefused):
        await registrations.cancel_by_organiser(event.slug, outcome.registration_id, now=utcnow())

    assert await entries(action="registration.cancelled") == []
    kept = await Registration.select(Registration.status).where(
        Registration.id == outcome.registration_id
    )
    assert kept == [{"status": "confirmed"}]


async def test_an_event_edit_failing_after_its_entry_leaves_neither_change_nor_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = await factories.organiser()
    event = await factories.event(owner)
    monkeypatch.setattr(event_changes, "enqueue_merged", _refuse)

    with pytest.raises(MailRefused):
        await event_changes.update_and_notify(
            event.slug, EventUpdate(title="Neuer Titel"), now=utcnow()
        )

    assert await entries(action="event.changed") == []
    assert (await get_event(event.slug)).title == event.title


async def test_an_edit_records_each_changed_key_field_before_and_after() -> None:
    owner = await factories.organiser()
    event = await factories.event(owner)

    await event_changes.update_and_notify(
        event.slug, EventUpdate(capacity=40, title="Glasfaser jetzt"), now=utcnow()
    )

    [edit] = await entries(action="event.changed")
    assert edit["changes"] == {
        "capacity": [30, 40],
        "title": ["Breitband für Schulen", "Glasfaser jetzt"],
    }


async def test_a_registrants_change_names_the_fields_but_keeps_no_value() -> None:
    owner = await factories.organiser()
    event = await factories.event(owner)
    outcome = await registrations.add_by_organiser(
        event.slug, ManualRegistration(**person(name="Anna Alt")), now=utcnow()
    )
    token = await registrations.token_for(outcome.registration_id)

    await registrations.change_registration(
        token, RegistrationChange(name="Anna Neu", notes="vegan"), now=utcnow()
    )

    [change] = await entries(action="registration.changed")
    assert change["changes"] == {"name": None, "notes": None}
    assert "Anna" not in str(await entries())
    assert "vegan" not in str(await entries())


async def test_the_entries_of_a_deleted_draft_stay_with_its_slug_and_title(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    draft = await factories.event(owner, publish=False, title="Entwurf")

    response = await client.delete(f"/api/v1/events/{draft.slug}", headers=auth)

    assert response.status_code == 204
    kept = await entries(event_id=draft.id)
    assert [e["action"] for e in kept] == ["event.created", "event.deleted"]
    assert {(e["event_slug"], e["event_title"]) for e in kept} == {(draft.slug, "Entwurf")}


async def test_the_entries_of_a_deactivated_organiser_still_name_them(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    await client.post("/api/v1/events", json=factories.event_payload(), headers=auth)
    admin = await factories.organiser(admin=True)
    await sign_in(client, admin)

    page = await client.get(f"/admin/organisers/{owner.id}/history", headers=ENGLISH)

    assert page.status_code == 200
    assert "Test Organiser created the event" in page.text


async def test_the_history_page_tells_changes_as_sentences_in_the_events_time_zone(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    event = await factories.event(owner)
    with actor_scope(SYSTEM):
        await record(
            "event.changed",
            event=event,
            changes={"starts_at": ["2030-06-01T08:00:00+00:00", "2030-06-01T09:00:00+00:00"]},
            now=datetime(2030, 5, 1, 10, 0, tzinfo=UTC),
        )
    await event_changes.update_and_notify(event.slug, EventUpdate(capacity=40), now=utcnow())
    await sign_in(client, owner)

    english = await client.get(f"/organiser/events/{event.slug}/history", headers=ENGLISH)
    german = await client.get(f"/organiser/events/{event.slug}/history", headers=GERMAN)

    assert english.status_code == 200
    assert "an operator (command line) changed the capacity from 30 to 40" in english.text
    assert "Treffpunkt changed the start from Jun 1, 2030, 10:00 AM to Jun 1, 2030, 11:00 AM" in (
        english.text.replace("\u202f", " ")
    )
    assert "May 1, 2030, 12:00 PM" in english.text.replace("\u202f", " ")
    assert "hat das Feld „Kapazität“ von 30 auf 40 geändert" in german.text
    newest, oldest = english.text.index("capacity"), english.text.index("created the event")
    assert newest < oldest


async def test_a_registration_is_named_by_roster_number_and_name_until_erased(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    event = await factories.event(owner)
    kept = await registrations.add_by_organiser(
        event.slug, ManualRegistration(**person(name="Anna Beispiel")), now=utcnow()
    )
    erased = await registrations.add_by_organiser(
        event.slug, ManualRegistration(**person(name="Bea Gelöscht")), now=utcnow()
    )
    await Registration.update({Registration.name: ""}).where(
        Registration.id == erased.registration_id
    )
    await sign_in(client, owner)

    page = await client.get(f"/organiser/events/{event.slug}/history", headers=ENGLISH)

    assert f"added Anna Beispiel (#{kept.registration_id}) (confirmed)" in page.text
    assert "added an erased registration (confirmed)" in page.text
    assert "Bea" not in page.text


async def test_the_event_hub_links_to_the_history(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await factories.event(owner)
    await sign_in(client, owner)

    hub = await client.get(f"/organiser/events/{event.slug}", headers=ENGLISH)

    assert f'href="/organiser/events/{event.slug}/history"' in hub.text


async def test_the_api_answers_the_history_newest_first_and_paged(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    created = await client.post("/api/v1/events", json=factories.event_payload(), headers=auth)
    slug = created.json()["slug"]
    await client.post(f"/api/v1/events/{slug}/publish", headers=auth)
    await client.patch(f"/api/v1/events/{slug}", json={"capacity": 40}, headers=auth)

    first = await client.get(f"/api/v1/events/{slug}/history?limit=2", headers=auth)
    rest = await client.get(f"/api/v1/events/{slug}/history?limit=2&offset=2", headers=auth)

    assert first.status_code == 200
    assert first.json()["total"] == 3
    assert [i["action"] for i in first.json()["items"]] == ["event.changed", "event.published"]
    assert [i["action"] for i in rest.json()["items"]] == ["event.created"]
    newest = first.json()["items"][0]
    assert newest["actor"] == {"kind": "organiser", "account_id": owner.id}
    assert newest["changes"] == {"capacity": [30, 40]}
    assert newest["text"] == "Test Organiser changed the capacity from 30 to 40"


async def test_another_organiser_may_not_read_an_events_history(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    event = await factories.event(owner)
    _, stranger = await factories.organiser_with_token()

    response = await client.get(f"/api/v1/events/{event.slug}/history", headers=stranger)

    assert response.status_code == 403


async def test_my_account_lists_my_own_changes_only(client: httpx.AsyncClient) -> None:
    me, mine = await factories.organiser_with_token()
    _, theirs = await factories.organiser_with_token()
    await client.post("/api/v1/events", json=factories.event_payload(title="Meins"), headers=mine)
    await client.post("/api/v1/events", json=factories.event_payload(title="Fremd"), headers=theirs)
    await sign_in(client, me)

    account = await client.get("/organiser/account", headers=ENGLISH)
    page = await client.get("/organiser/account/history", headers=ENGLISH)

    assert 'href="/organiser/account/history"' in account.text
    assert "Meins" in page.text
    assert "Fremd" not in page.text


async def test_only_admins_see_an_accounts_history(client: httpx.AsyncClient) -> None:
    me = await factories.organiser()
    await sign_in(client, me)

    response = await client.get(f"/admin/organisers/{me.id}/history")

    assert response.status_code == 403


async def test_previewing_a_cancellation_records_nothing() -> None:
    owner = await factories.organiser()
    event = await factories.event(owner)
    await registrations.add_by_organiser(event.slug, ManualRegistration(**person()), now=utcnow())
    before = await entries()

    preview = await preview_cancellation(event.slug, "Sturm")

    assert preview is not None
    assert await entries() == before
