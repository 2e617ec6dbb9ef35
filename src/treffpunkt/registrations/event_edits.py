"""An organiser's edit in the browser: saved at once, unless it mails registrants unseen.

A change an invite shows, on a published event with registrants, first comes back as the
update mail it would send and how many would get it; only the organiser's confirmation
saves it. A change nobody hears of saves at once.
"""

from __future__ import annotations

from datetime import datetime

from treffpunkt.events.schemas import EventUpdate
from treffpunkt.events.services import get_event
from treffpunkt.notifications.previews import MailPreview, preview_mail
from treffpunkt.registrations.event_changes import update_and_notify


async def _update_mail(
    slug: str, changes: EventUpdate, *, language: str, now: datetime
) -> MailPreview | None:
    """The update mail this change would queue; None when it tells no one anything new."""
    before = await get_event(slug)
    shown = False

    async def change() -> None:
        nonlocal shown
        after = await update_and_notify(slug, changes, now=now)
        # A raised SEQUENCE is this change's own news, not an update queued a moment ago.
        shown = after.sequence != before.sequence

    preview = await preview_mail(slug, "event_updated", change, language=language, now=now)
    return preview if shown else None


async def save_unless_it_mails(
    slug: str, changes: EventUpdate, *, confirmed: bool, language: str, now: datetime
) -> MailPreview | None:
    """Save the change and return None, or return the mail it would send, saving nothing.

    With `confirmed` the organiser has seen that mail: the change saves and is sent.
    Domain errors (validation, conflicts) reach the caller either way.
    """
    if not confirmed:
        preview = await _update_mail(slug, changes, language=language, now=now)
        if preview is not None:
            return preview
    await update_and_notify(slug, changes, now=now)
    return None
