"""Add-to-calendar links for Google Calendar and Outlook on the web."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from treffpunkt.ical.calendars import CalendarEvent


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_link(event: CalendarEvent) -> str:
    query = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{_utc_stamp(event.starts_at)}/{_utc_stamp(event.ends_at)}",
        "details": event.url,
        "location": event.location,
        "ctz": event.timezone,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_link(event: CalendarEvent) -> str:
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event.title,
        "startdt": event.starts_at.astimezone(UTC).isoformat(),
        "enddt": event.ends_at.astimezone(UTC).isoformat(),
        "body": event.url,
        "location": event.location,
    }
    return "https://outlook.office.com/calendar/0/deeplink/compose?" + urlencode(query)
