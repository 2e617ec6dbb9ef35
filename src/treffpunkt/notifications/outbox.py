"""Writing messages to the outbox. Call inside the transaction of the change they report."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.tables import ACTIVE_STATUSES


async def enqueue(
    kind: str,
    *,
    event_id: int,
    recipient: str,
    language: str,
    registration_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    await OutboxMessage.insert(
        OutboxMessage(
            kind=kind,
            event=event_id,
            registration=registration_id,
            recipient=recipient,
            language=language,
            payload=json.dumps(payload or {}),
        )
    )


async def enqueue_to_registrations(
    kind: str, *, event_id: int, rows: list[dict[str, Any]], payload: dict[str, Any] | None
) -> None:
    """The same message to many registrations (rows with id, email, language) at once."""
    if not rows:
        return
    body = json.dumps(payload or {})
    await OutboxMessage.insert(
        *[
            OutboxMessage(
                kind=kind,
                event=event_id,
                registration=row["id"],
                recipient=row["email"],
                language=row["language"],
                payload=body,
            )
            for row in rows
        ]
    )


_ACTIVE = ", ".join(f"'{status}'" for status in ACTIVE_STATUSES)
# A message no worker has picked up yet can still take in a later change.
_POSTPONE_WAITING = (
    "UPDATE outbox_message SET next_attempt_at = {}"
    " WHERE event = {} AND kind = {} AND status = 'pending'"
)
# Built from fixed status names only.
_ADD_TO_THE_OTHERS = (
    "INSERT INTO outbox_message (kind, event, registration, recipient, language, payload,"  # noqa: S608
    " status, attempts, next_attempt_at, last_error, created_at)"
    " SELECT {}, r.event, r.id, r.email, r.language, {}, 'pending', 0, {}, '', {}"
    " FROM registration AS r"
    f" WHERE r.event = {{}} AND r.status IN ({_ACTIVE}) AND r.unconfirmed_until IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM outbox_message AS o"
    " WHERE o.registration = r.id AND o.kind = {} AND o.status = 'pending')"
    " ORDER BY r.id"
)


async def enqueue_merged(
    kind: str, *, event_id: int, payload: dict[str, Any], due: datetime, now: datetime
) -> None:
    """The same message to everyone still registered, due at `due`, one per person however often.

    Not to an address yet to be confirmed (double opt-in): its confirmation tells the event as
    it is then.

    A message of this kind still waiting for a worker is postponed to `due` and keeps its
    payload (written before the first of the changes it now reports); only registrations
    without one get a new row. Two statements for the whole event, under the event's lock.
    """
    await OutboxMessage.raw(_POSTPONE_WAITING, due, event_id, kind)
    await OutboxMessage.raw(_ADD_TO_THE_OTHERS, kind, json.dumps(payload), due, now, event_id, kind)
