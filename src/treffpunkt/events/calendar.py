"""Events as calendars see them: the bridge from EventView to the pure ical functions."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import structlog
from litestar import Request, Response

from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.addresses import mailable
from treffpunkt.events.services import EventView
from treffpunkt.ical.calendars import CalendarEvent, FeedEntry, feed_entry, published
from treffpunkt.settings import get_settings

logger = structlog.get_logger("treffpunkt.calendar")


@dataclass(frozen=True)
class Contact:
    """Whom calendars and mails about an event name to ask: ORGANIZER, "Questions?"."""

    name: str
    email: str


def event_contact(event: EventView, owner: CurrentOrganiser | None = None) -> Contact:
    """The event's contact, else its owner, else TREFFPUNKT_MAIL_FROM.

    A stored address that fails the address rule (a row older than the rule) is passed over
    like a missing one: it must not break the invites, mails and feeds of the event.
    """
    owner_name, owner_email = (owner.name, owner.email) if owner else ("", "")
    email = mailable(event.contact_email) or mailable(owner_email) or get_settings().mail_from
    return Contact(name=event.contact_name or owner_name or "Treffpunkt", email=email)


def calendar_event(event: EventView, contact: Contact | None = None) -> CalendarEvent:
    """The event for calendars; ORGANIZER is `contact`, by default the event's own."""
    settings = get_settings()
    contact = contact or event_contact(event)
    return CalendarEvent(
        uid=event.calendar_uid,
        sequence=event.sequence,
        title=event.title,
        description=event.summary,
        location=event.place,
        url=f"{settings.base_url}/events/{event.slug}",
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        timezone=event.timezone,
        cancelled=event.status == "cancelled",
        organiser_name=contact.name,
        organiser_email=contact.email,
        updated_at=event.updated_at,
    )


def calendar_feed(events: Iterable[EventView], *, name: str) -> bytes:
    """METHOD:PUBLISH of these events, leaving out (and logging) any it cannot render.

    One event's bad data must not take the calendar of every subscriber down with it.
    """
    entries: list[FeedEntry] = []
    for event in events:
        try:
            entries.append(feed_entry(calendar_event(event)))
        except Exception as error:
            # Whatever broke, only this event is left out. Logged: its id and the kind of
            # error, never the message, which may quote personal data.
            logger.warning(
                "event left out of a calendar", event_id=event.id, error=type(error).__name__
            )
    return published(entries, name=name)


class RenderedFeeds:
    """Feed bodies by ETag: the same fingerprint always renders the same bytes.

    Rendering a region's feed takes a large share of a second; calendar clients ask for the
    same one again and again. Bounded, per process, and never stale, since the key changes
    whenever the feed would.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.bodies: OrderedDict[str, bytes] = OrderedDict()

    def get(self, etag: str) -> bytes | None:
        body = self.bodies.get(etag)
        if body is not None:
            self.bodies.move_to_end(etag)
        return body

    def put(self, etag: str, body: bytes) -> bytes:
        self.bodies[etag] = body
        if len(self.bodies) > self.size:
            self.bodies.popitem(last=False)
        return body


RENDERED_FEEDS = RenderedFeeds()


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def newest(events: list[EventView]) -> datetime | None:
    return max((e.updated_at for e in events), default=None)


def _validators(etag: str, last_modified: datetime | None, *, private: bool) -> dict[str, str]:
    headers = {"ETag": etag, "Cache-Control": f"{'private' if private else 'public'}, max-age=300"}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified.astimezone(UTC), usegmt=True)
    return headers


def calendar_response(
    body: bytes,
    *,
    etag: str,
    last_modified: datetime | None,
    filename: str | None = None,
    private: bool = False,
    media_type: str = "text/calendar",
) -> Response[bytes]:
    headers = _validators(etag, last_modified, private=private)
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body, media_type=media_type, headers=headers)


def not_modified(
    etag: str, last_modified: datetime | None, *, private: bool = False
) -> Response[bytes]:
    return Response(b"", status_code=304, headers=_validators(etag, last_modified, private=private))


def client_is_current(
    request: Request[Any, Any, Any], etag: str, last_modified: datetime | None
) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match:
        # Weak comparison (RFC 9110 13.1.2): proxies that compress turn "x" into W/"x".
        offered = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in offered or etag in offered
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since and last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return last_modified.replace(microsecond=0) <= since
    return False


def feed_etag(fingerprint: str, *parts: str) -> str:
    return etag_of("|".join((fingerprint, *parts)).encode())
