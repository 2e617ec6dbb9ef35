"""Retention: personal data goes a set number of days after the event, by the worker itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests import factories
from tests.audit.helpers import entries
from tests.privacy.helpers import anna_registered, registration_row
from tests.registrations.helpers import register_ok
from treffpunkt.events.services import EventView
from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.notifications.worker import run_worker
from treffpunkt.privacy.retention import coming_events, due_events, keep_retention, report
from treffpunkt.privacy.tables import Erasure
from treffpunkt.settings import SettingsError, get_settings, load_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def ten_days(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TREFFPUNKT_RETENTION_DAYS", "10")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


async def ended(event: EventView, days_ago: float) -> None:
    """As if the event had ended `days_ago` days ago."""
    ends_at = datetime.now(UTC) - timedelta(days=days_ago)
    await Event.update(
        {Event.starts_at: ends_at - timedelta(hours=3), Event.ends_at: ends_at}
    ).where(Event.id == event.id)


async def test_registrations_of_an_event_past_the_limit_are_anonymised(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client, checked_in=True)
    await ended(anna.event, days_ago=181)

    done = await keep_retention(datetime.now(UTC))

    assert done == [(anna.event.id, 1)]
    row = await registration_row(anna.registration_id)
    assert (row["name"], row["email"], row["organisation"], row["notes"]) == (
        "—",
        f"erased-{anna.registration_id}@erased.invalid",
        "",
        "",
    )
    assert (row["status"], row["stakeholder_group"]) == ("confirmed", "public_administration")
    assert row["checked_in_at"] is not None


async def test_retention_scrubs_the_outbox_rows_addressed_to_them(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)
    await ended(anna.event, days_ago=181)

    await keep_retention(datetime.now(UTC))

    recipients = await OutboxMessage.select(OutboxMessage.recipient, OutboxMessage.status)
    # The confirmation never went out (no SMTP here): it no longer may.
    assert recipients == []


async def test_an_event_within_the_limit_is_left_alone(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)
    await ended(anna.event, days_ago=179)

    assert await keep_retention(datetime.now(UTC)) == []
    assert (await registration_row(anna.registration_id))["name"] == "Anna Schmidt"


async def test_a_run_is_recorded_with_the_event_and_the_count(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)
    await register_ok(client, anna.event.slug, email="bernd@example.org")
    await ended(anna.event, days_ago=200)

    await keep_retention(datetime.now(UTC))
    await keep_retention(datetime.now(UTC))

    records = await Erasure.select(Erasure.event, Erasure.reason, Erasure.registrations)
    assert records == [{"event": anna.event.id, "reason": "retention", "registrations": 2}]


async def test_due_and_coming_list_what_still_holds_personal_data(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    overdue = await factories.event(owner)
    soon = await factories.event(owner)
    later = await factories.event(owner)
    for event in (overdue, soon, later):
        await register_ok(client, event.slug)
    await ended(overdue, days_ago=185)
    await ended(soon, days_ago=170)
    await ended(later, days_ago=100)
    now = datetime.now(UTC)

    due, coming = await due_events(now), await coming_events(now)

    assert [(e.slug, e.registrations) for e in due] == [(overdue.slug, 1)]
    assert [e.slug for e in coming] == [soon.slug]
    assert coming[0].due_at == coming[0].ends_at + timedelta(days=180)


async def test_done_events_are_no_longer_due_and_show_as_done(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)
    await ended(anna.event, days_ago=181)
    await keep_retention(datetime.now(UTC))

    found = await report(datetime.now(UTC))

    assert found.due == []
    assert [(d.event_slug, d.reason, d.registrations) for d in found.done] == [
        (anna.event.slug, "retention", 1)
    ]


async def test_the_limit_comes_from_the_setting(client: httpx.AsyncClient, ten_days: None) -> None:
    anna = await anna_registered(client)
    await ended(anna.event, days_ago=11)

    assert await keep_retention(datetime.now(UTC)) == [(anna.event.id, 1)]


def test_a_negative_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREFFPUNKT_RETENTION_DAYS", "-1")

    with pytest.raises(SettingsError, match="TREFFPUNKT_RETENTION_DAYS"):
        load_settings()


async def test_the_mail_worker_applies_retention_by_itself(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)
    await ended(anna.event, days_ago=181)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(stop))
    try:
        for _ in range(100):
            if (await registration_row(anna.registration_id))["erased_at"] is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker

    assert (await registration_row(anna.registration_id))["erased_at"] is not None


async def test_a_retention_run_appears_in_the_events_history_as_treffpunkts_doing(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)
    await ended(anna.event, days_ago=200)

    await keep_retention(datetime.now(UTC))

    recorded = await entries(event_id=anna.event.id, action="event.personal_data_anonymised")
    assert [(entry["actor_kind"], entry["changes"]) for entry in recorded] == [
        ("system", {"registrations": [None, 1]})
    ]
