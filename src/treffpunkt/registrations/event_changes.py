"""Changing an event and telling the people registered for it, in one transaction.

Events know nothing of registrations: these use cases sit above both. An edit an invite
shows queues one update per registrant (merged with one still waiting, UPDATE_DEBOUNCE), a
capacity raise promotes the waiting list, a cancellation tells everyone still registered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from treffpunkt.db import write_transaction
from treffpunkt.events.schemas import EventUpdate
from treffpunkt.events.services import EventView, cancel_event, get_event, update_event
from treffpunkt.notifications.outbox import enqueue_merged
from treffpunkt.registrations.services import fill_free_seats, notify_registrants

# Edits saved within this time of each other reach every registrant as one update mail.
UPDATE_DEBOUNCE = timedelta(minutes=1)


async def update_and_notify(slug: str, changes: EventUpdate, *, now: datetime) -> EventView:
    async with write_transaction():
        edit = await update_event(slug, changes, now=now)
        if edit.shown:
            before = edit.before
            await enqueue_merged(
                "event_updated",
                event_id=before.id,
                payload={
                    "old_starts_at": before.starts_at.isoformat(),
                    "old_ends_at": before.ends_at.isoformat(),
                    "old_timezone": before.timezone,
                    "old_place": before.place,
                },
                due=now + UPDATE_DEBOUNCE,
                now=now,
            )
        if edit.adds_seats:
            await fill_free_seats(edit.after.id, now=now)
        return await get_event(slug)


async def cancel_and_notify(slug: str, reason: str, *, now: datetime) -> EventView:
    async with write_transaction():
        event = await cancel_event(slug, reason, now=now)
        await notify_registrants(event.id, "event_cancelled", None)
        return event
