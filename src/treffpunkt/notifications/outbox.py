"""Writing messages to the outbox. Call inside the transaction of the change they report."""

from __future__ import annotations

import json
from typing import Any

from treffpunkt.notifications.tables import OutboxMessage


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
