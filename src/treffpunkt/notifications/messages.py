"""Turning an outbox row into the mail one person receives, in that person's language.

Rendering happens when the mail is sent, from the current state of the event, so a mail
never shows a time that has since changed; what the database will not remember (old times,
a reason, an organiser's text) travels in the row's payload.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from treffpunkt.accounts.services import CurrentOrganiser, organiser_by_id
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.attendance.tickets import ticket_png
from treffpunkt.errors import N_
from treffpunkt.events.calendar import calendar_event
from treffpunkt.events.services import EventView, get_event_by_id
from treffpunkt.i18n import format_span, gettext, language
from treffpunkt.ical.calendars import Attendee, cancellation, invite
from treffpunkt.ical.links import google_link, outlook_link
from treffpunkt.registrations.services import RegistrationView, registration_by_id, token_for
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings
from treffpunkt.web.templating import ENVIRONMENT

# Kinds that put the event into the person's calendar, and those that take it out.
INVITING = {
    "registration_confirmed",
    "registration_promoted",
    "registration_approved",
    "event_updated",
}
# Of these, only people holding a seat get the calendar entry; others just read the news.
NEWS_FOR_EVERYONE = {"event_updated", "event_cancelled"}
CANCELLING = {"registration_cancelled", "registration_declined", "event_cancelled"}
SUBJECTS = {
    "registration_confirmed": N_("Registration confirmed: %(title)s"),
    "registration_promoted": N_("A place has become free for you: %(title)s"),
    "registration_approved": N_("Registration approved: %(title)s"),
    "registration_waitlisted": N_("You are on the waiting list: %(title)s"),
    "registration_pending": N_("Registration received, awaiting approval: %(title)s"),
    "registration_declined": N_("Registration declined: %(title)s"),
    "registration_cancelled": N_("Registration cancelled: %(title)s"),
    "registration_resent": N_("Your registration: %(title)s"),
    "event_updated": N_("Changed: %(title)s"),
    "event_cancelled": N_("Cancelled: %(title)s"),
    "reminder": N_("Reminder: %(title)s"),
    "thank_you": N_("Thank you for coming: %(title)s"),
}


class Obsolete(Exception):
    """The message no longer applies (say, a reminder to someone who has cancelled)."""


@dataclass(frozen=True)
class Mail:
    """Everything a rendered message consists of, before it becomes MIME."""

    subject: str
    text: str
    html: str
    calendar: bytes | None
    calendar_method: str | None
    ticket_png: bytes | None


async def _ended_before(registration: RegistrationView) -> int:
    """Earlier registrations of this person for this event that ended (cancelled, declined)."""
    return int(
        await Registration.count().where(
            (Registration.event == registration.event)
            & (Registration.email == registration.email)
            & Registration.status.is_in(["cancelled", "declined"])
            & (Registration.id < registration.id)
        )
    )


def personal_sequence(event_sequence: int, ended_before: int, *, ends_this_one: bool) -> int:
    """SEQUENCE for one person: rises past every CANCEL they got, so re-registering works.

    Calendars ignore a REQUEST whose SEQUENCE is not above the last one they saw; a person
    who cancelled (CANCEL at n+1) and registers again must get n+2.
    """
    return event_sequence + 2 * ended_before + (1 if ends_this_one else 0)


def _status_kind(kind: str, registration: RegistrationView) -> str:
    """A re-sent confirmation says what is true now."""
    if kind != "registration_resent":
        return kind
    return {
        "confirmed": "registration_confirmed",
        "waitlisted": "registration_waitlisted",
        "pending": "registration_pending",
    }.get(registration.status, "registration_cancelled")


def _still_applies(kind: str, event: EventView, registration: RegistrationView | None) -> bool:
    if kind in ("event_cancelled", "registration_cancelled", "registration_declined"):
        return True
    if event.status == "cancelled":
        return False
    if registration is None:
        return True
    if kind in NEWS_FOR_EVERYONE:
        return registration.is_active
    if kind == "thank_you":
        return registration.checked_in_at is not None
    if kind in INVITING or kind == "reminder":
        return registration.status == "confirmed"
    return registration.is_active


def _changes(event: EventView, payload: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, before, now) for the time and the place, in the reader's language."""
    found = []
    if "old_starts_at" in payload:
        zone = ZoneInfo(payload.get("old_timezone", event.timezone))
        old_start = datetime.fromisoformat(payload["old_starts_at"]).astimezone(zone)
        old_end = datetime.fromisoformat(payload["old_ends_at"]).astimezone(zone)
        before = format_span(old_start, old_end)
        now = format_span(event.local(event.starts_at), event.local(event.ends_at))
        if before != now:
            found.append((gettext("When"), before, now))
    if payload.get("old_place", event.place) != event.place:
        found.append((gettext("Where"), payload["old_place"], event.place))
    return found


@dataclass
class BatchContext:
    """What every mail of one batch about the same event would otherwise look up again."""

    events: dict[int, EventView] = field(default_factory=dict)
    owners: dict[int, CurrentOrganiser | None] = field(default_factory=dict)

    async def event(self, event_id: int) -> EventView:
        if event_id not in self.events:
            self.events[event_id] = await get_event_by_id(event_id)
        return self.events[event_id]

    async def owner(self, organiser_id: int) -> CurrentOrganiser | None:
        if organiser_id not in self.owners:
            self.owners[organiser_id] = await organiser_by_id(organiser_id)
        return self.owners[organiser_id]


async def render(
    row: dict[str, Any], *, now: datetime, batch: BatchContext | None = None
) -> tuple[Mail, str, str]:
    """The mail for one outbox row, with the recipient's name and address."""
    batch = batch or BatchContext()
    event = await batch.event(row["event"])
    registration = await registration_by_id(row["registration"]) if row["registration"] else None
    payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
    kind = _status_kind(row["kind"], registration) if registration else row["kind"]
    if not _still_applies(kind, event, registration):
        raise Obsolete(f"{row['kind']} no longer applies")
    settings = get_settings()
    token = await token_for(registration.id) if registration else None
    manage_url = f"{settings.base_url}/registrations/{token}" if token else None
    # Every mail names someone to ask: the event's contact, else the organiser who owns it.
    owner = await batch.owner(event.owner)
    contact_name = event.contact_name or (owner.name if owner else "")
    contact_email = event.contact_email or (owner.email if owner else "")
    ical = calendar_event(event, organiser_name=contact_name, organiser_email=contact_email)
    code = check_in_code(event.id, registration.id) if registration else None
    with_ticket = (
        registration is not None
        and registration.status == "confirmed"
        and (kind in INVITING or kind == "reminder")
    )
    with language(row["language"]):
        context = {
            "kind": kind,
            "event": event,
            "registration": registration,
            "payload": payload,
            "manage_url": manage_url,
            "event_url": ical.url,
            "google_url": google_link(ical),
            "outlook_url": outlook_link(ical),
            "code": code if with_ticket else None,
            "show_online_link": registration is not None and registration.status == "confirmed",
            "changes": _changes(event, payload) if kind == "event_updated" else [],
            "contact_name": contact_name,
            "contact_email": contact_email,
            "feedback_url": f"{settings.base_url}/feedback/{token}"
            if kind == "thank_you"
            else None,
        }
        title = event.title
        subject = (
            payload.get("subject", title)
            if kind == "organiser_message"
            else gettext(SUBJECTS[kind]) % {"title": title}
        )
        text = ENVIRONMENT.get_template("mail/message.txt").render(context)
        html = ENVIRONMENT.get_template("mail/message.html").render({**context, "subject": subject})
        description = gettext("Your registration: %(url)s") % {"url": manage_url or ical.url}
    calendar_bytes, method = None, None
    holds_seat = registration is not None and registration.status == "confirmed"
    wants_calendar = kind in INVITING or kind in CANCELLING
    if (
        registration is not None
        and wants_calendar
        and (holds_seat or kind not in NEWS_FOR_EVERYONE)
    ):
        attendee = Attendee(registration.name, registration.email)
        ended_before = await _ended_before(registration)
        if kind in INVITING:
            sequence = personal_sequence(event.sequence, ended_before, ends_this_one=False)
            calendar_bytes, method = (
                invite(ical, attendee, sequence=sequence, description=description, now=now),
                "REQUEST",
            )
        else:
            sequence = personal_sequence(
                event.sequence, ended_before, ends_this_one=kind != "event_cancelled"
            )
            calendar_bytes, method = (
                cancellation(ical, attendee, sequence=sequence, description=description, now=now),
                "CANCEL",
            )
    mail = Mail(
        subject=subject,
        text=text,
        html=html,
        calendar=calendar_bytes,
        calendar_method=method,
        ticket_png=ticket_png(code) if with_ticket and code else None,
    )
    name = registration.name if registration else ""
    return mail, name, row["recipient"]


def message_id(outbox_id: int) -> str:
    """Stable per outbox row, so a resend after a crash is recognisably the same mail."""
    host = urlsplit(get_settings().base_url).hostname or "treffpunkt.localhost"
    digest = hashlib.sha256(f"{get_settings().secret_key}:{outbox_id}".encode()).hexdigest()[:16]
    return f"<outbox-{outbox_id}-{digest}@{host}>"


def to_mime(
    mail: Mail, *, outbox_id: int, name: str, recipient: str, now: datetime
) -> EmailMessage:
    """mixed → alternative(text, related(html, QR png), text/calendar) → .ics attachment."""
    settings = get_settings()
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = Address(display_name="Treffpunkt", addr_spec=settings.mail_from)
    message["To"] = Address(display_name=name, addr_spec=recipient) if name else recipient
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(outbox_id)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    html = mail.html
    cid = make_msgid(domain=urlsplit(settings.base_url).hostname or "treffpunkt.localhost")
    if mail.ticket_png:
        html = html.replace("cid:ticket", f"cid:{cid[1:-1]}")
    message.add_alternative(html, subtype="html")
    if mail.ticket_png:
        message.get_payload()[1].add_related(  # type: ignore[union-attr,index]
            mail.ticket_png,
            maintype="image",
            subtype="png",
            cid=cid,
            disposition="inline",
            filename="ticket.png",
        )
    if mail.calendar and mail.calendar_method:
        message.add_alternative(
            mail.calendar,
            maintype="text",
            subtype="calendar",
            params={"method": mail.calendar_method, "charset": "UTF-8"},
        )
        message.add_attachment(
            mail.calendar,
            maintype="application",
            subtype="ics",
            filename="invite.ics" if mail.calendar_method == "REQUEST" else "cancel.ics",
        )
    return message
