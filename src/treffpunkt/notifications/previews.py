"""What a change would mail, and to how many people, before the organiser makes it.

The change runs for real inside a transaction that is then rolled back: the preview shows
the very mail the worker would render from the very rows the change queues (merged updates,
the people still registered, the organiser's wording), and nothing is kept. The mail is the
first recipient's, so their secrets (the link that changes or cancels their registration, the
check-in code) are blanked out: the organiser reads the mail, not the keys in it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from treffpunkt.attendance.codes import check_in_code
from treffpunkt.db import DB, write_transaction
from treffpunkt.events.services import get_event
from treffpunkt.notifications.messages import Obsolete, render
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.services import token_for

BLANKED = "…"


@dataclass(frozen=True)
class MailPreview:
    recipients: int
    subject: str
    text: str


class _RolledBack(Exception):
    """Carries the preview out of the transaction it undoes."""

    def __init__(self, preview: MailPreview | None) -> None:
        super().__init__("preview rolled back")
        self.preview = preview


async def preview_mail(
    slug: str,
    kind: str,
    change: Callable[[], Awaitable[Any]],
    *,
    language: str,
    now: datetime,
) -> MailPreview | None:
    """The `kind` mail that `change` would queue for the event, in `language`; None if none.

    Domain errors of the change (validation, conflicts) reach the caller unchanged. Call it
    outside any transaction: it undoes the one it runs in.
    """
    if DB.current_transaction.get() is not None:
        raise RuntimeError("a preview undoes its transaction: call it outside any other")
    try:
        async with write_transaction():
            event = await get_event(slug)
            pending = (
                (OutboxMessage.event == event.id)
                & (OutboxMessage.kind == kind)
                & (OutboxMessage.status == "pending")
            )
            # Only what this change queues or merges into a waiting mail (a merged update is
            # postponed): other mail of the kind may still be waiting its turn, untouched.
            waiting = {
                (row["id"], row["next_attempt_at"])
                for row in await OutboxMessage.select(
                    OutboxMessage.id, OutboxMessage.next_attempt_at
                ).where(pending)
            }
            await change()
            rows = [
                row
                for row in await OutboxMessage.select().where(pending).order_by(OutboxMessage.id)
                if (row["id"], row["next_attempt_at"]) not in waiting
            ]
            raise _RolledBack(await _first_rendered(rows, language=language, now=now))
    except _RolledBack as undone:
        return undone.preview


async def _first_rendered(
    rows: list[dict[str, Any]], *, language: str, now: datetime
) -> MailPreview | None:
    for row in rows:
        try:
            mail, _, _ = await render({**row, "language": language}, now=now)
        except Obsolete:
            continue
        text = mail.text
        if row["registration"]:
            for secret in (
                await token_for(row["registration"]),
                check_in_code(row["event"], row["registration"]),
            ):
                text = text.replace(secret, BLANKED)
        return MailPreview(recipients=len(rows), subject=mail.subject, text=text)
    return None
