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
