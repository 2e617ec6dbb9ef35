"""Turning an outbox row into the mail one person receives, in that person's language.

Rendering happens when the mail is sent, from the current state of the event, so a mail
never shows a time that has since changed; what the database will not remember (old times,
a reason, an organiser's text) travels in the row's payload.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from treffpunkt.accounts.links import NoLongerApplies, account_mail
from treffpunkt.accounts.services import CurrentOrganiser, organiser_by_id
from treffpunkt.addresses import ascii_address
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.attendance.tickets import ticket_png
from treffpunkt.errors import N_
from treffpunkt.events.calendar import calendar_event, event_contact
from treffpunkt.events.services import EventView, get_event_by_id
from treffpunkt.i18n import format_span, gettext, language
from treffpunkt.ical.calendars import Attendee, cancellation, invite
from treffpunkt.ical.links import google_link, outlook_link
from treffpunkt.registrations.services import Addressee, RegistrationView, addressees
from treffpunkt.settings import get_settings
from treffpunkt.templating import ENVIRONMENT

LINE_BREAKS = re.compile(r"[\r\n]+")
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
# The last mail to someone whose data was erased: a CANCEL addressed from the outbox row
# alone, since the registration no longer holds a name, an address or a link.
ERASED = "registration_erased"
# News of a place (or a wait for one) and reminders mean nothing once the event has begun.
BEFORE_THE_START = {
    "address_confirmation",
    "registration_promoted",
    "registration_approved",
    "registration_waitlisted",
    "registration_pending",
    "reminder",
}
# Mails that state a registration's status: untrue (so skipped) once the status has changed.
STATUS_STATED = {"registration_waitlisted": "waitlisted", "registration_pending": "pending"}
SUBJECTS = {
    "registration_confirmed": N_("Registration confirmed: %(title)s"),
    "registration_promoted": N_("A place has become free for you: %(title)s"),
    "registration_approved": N_("Registration approved: %(title)s"),
    "registration_waitlisted": N_("You are on the waiting list: %(title)s"),
    "registration_pending": N_("Registration received, awaiting approval: %(title)s"),
    "registration_declined": N_("Registration declined: %(title)s"),
    "registration_cancelled": N_("Registration cancelled: %(title)s"),
    "registration_resent": N_("Your registration: %(title)s"),
    "address_confirmation": N_("Please confirm your email address: %(title)s"),
    "event_updated": N_("Changed: %(title)s"),
    "event_cancelled": N_("Cancelled: %(title)s"),
    "reminder": N_("Reminder: %(title)s"),
    "thank_you": N_("Thank you for coming: %(title)s"),
    ERASED: N_("Your data has been erased: %(title)s"),
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
    if registration.is_active and registration.awaits_address_confirmation:
        return "address_confirmation"
    return {
        "confirmed": "registration_confirmed",
        "waitlisted": "registration_waitlisted",
        "pending": "registration_pending",
    }.get(registration.status, "registration_cancelled")


def _why_obsolete(
    row: dict[str, Any],
    kind: str,
    event: EventView,
    registration: RegistrationView | None,
    now: datetime,
) -> str | None:
    """Why what the mail says is no longer true at send time; None while it still is."""
    unconfirmed = registration is not None and registration.awaits_address_confirmation
    if unconfirmed and kind != "address_confirmation":
        # Double opt-in: an address that has not confirmed gets nothing but the request to,
        # not even a cancellation of an invite it never had.
        return "the address is not confirmed yet"
    if kind in ("event_cancelled", "registration_cancelled", "registration_declined", ERASED):
        return None
    if event.status == "cancelled":
        return "the event has been cancelled"
    if kind in BEFORE_THE_START and now >= event.starts_at:
        return "the event has begun"
    if kind in INVITING and event.is_finished(now):
        return "the event is over"
    if kind == "reminder" and row["event_starts_at"] not in (None, event.starts_at):
        return "made for a start that has since moved"
    if registration is None:
        return None
    if kind == "address_confirmation":
        held = registration.is_active and registration.awaits_address_confirmation
        return None if held else "the address is confirmed or the place was released"
    if kind == "thank_you":
        return None if registration.checked_in_at is not None else "never checked in"
    if kind in NEWS_FOR_EVERYONE:
        still = registration.is_active
    elif kind in INVITING or kind == "reminder":
        still = registration.status == "confirmed"
    elif kind in STATUS_STATED:
        still = registration.status == STATUS_STATED[kind]
    else:
        still = registration.is_active
    return None if still else f"the registration is {registration.status} now"


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
    addressees: dict[int, Addressee] = field(default_factory=dict)

    async def prefetch(self, rows: list[dict[str, Any]]) -> None:
        """Look up the registrations of a whole batch at once."""
        wanted = [row["registration"] for row in rows if row["registration"]]
        self.addressees.update(await addressees(wanted))

    async def addressee(self, registration_id: int) -> Addressee | None:
        if registration_id not in self.addressees:
            self.addressees.update(await addressees([registration_id]))
        return self.addressees.get(registration_id)

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
    if row["event"] is None:
        # Account mail (an invitation, a password reset): no event, calendar or ticket.
        try:
            account = await account_mail(row, now=now)
        except NoLongerApplies as stale:
            raise Obsolete(f"{row['kind']} no longer applies: {stale}") from None
        plain = Mail(account.subject, account.text, account.html, None, None, None)
        return plain, account.name, row["recipient"]
    batch = batch or BatchContext()
    event = await batch.event(row["event"])
    erased = row["kind"] == ERASED
    addressee = (
        await batch.addressee(row["registration"]) if row["registration"] and not erased else None
    )
    registration = addressee.registration if addressee else None
    payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
    kind = _status_kind(row["kind"], registration) if registration else row["kind"]
    reason = _why_obsolete(row, kind, event, registration, now)
    if reason is not None:
        raise Obsolete(f"{row['kind']} no longer applies: {reason}")
    settings = get_settings()
    token = addressee.token if addressee else None
    manage_url = f"{settings.base_url}/registrations/{token}" if token else None
    # Every mail names someone to ask: the event's contact, else the organiser who owns it.
    owner = await batch.owner(event.owner)
    contact = event_contact(event, owner)
    ical = calendar_event(event, contact)
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
            "contact_name": contact.name,
            "contact_email": contact.email,
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
        # Never the manage link: colleagues read shared calendars (Exchange, Outlook).
        description = gettext("Event page: %(url)s") % {"url": ical.url}
    calendar_bytes, method = None, None
    holds_seat = registration is not None and registration.status == "confirmed"
    wants_calendar = kind in INVITING or kind in CANCELLING
    if (
        registration is not None
        and wants_calendar
        and (holds_seat or kind not in NEWS_FOR_EVERYONE)
    ):
        attendee = Attendee(registration.name, registration.email)
        ended_before = addressee.ended_before if addressee else 0
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
    if erased:
        ended_before = int(payload.get("ended_before", 0))
        sequence = personal_sequence(event.sequence, ended_before, ends_this_one=True)
        calendar_bytes, method = (
            cancellation(
                ical,
                Attendee("", row["recipient"]),
                sequence=sequence,
                description=description,
                now=now,
            ),
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


def to_mime(mail: Mail, *, outbox_id: int, name: str, recipient: str, now: datetime) -> Message:
    """mixed → alternative(text, related(html, QR png), text/calendar) → .ics attachment.

    Built from the email package's classic MIME classes: the modern API parses back every
    header it sets, which made assembling a mail cost more than rendering it.
    """
    settings = get_settings()
    html = mail.html
    if mail.ticket_png:
        cid = make_msgid(domain=urlsplit(settings.base_url).hostname or "treffpunkt.localhost")
        page: Message = MIMEMultipart("related")
        page.attach(MIMEText(html.replace("cid:ticket", f"cid:{cid[1:-1]}"), "html", "utf-8"))
        ticket = MIMEImage(mail.ticket_png, "png")
        ticket.add_header("Content-ID", cid)
        ticket.add_header("Content-Disposition", "inline", filename="ticket.png")
        page.attach(ticket)
    else:
        page = MIMEText(html, "html", "utf-8")
    message: Message = MIMEMultipart("alternative")
    message.attach(MIMEText(mail.text, "plain", "utf-8"))
    message.attach(page)
    if mail.calendar and mail.calendar_method:
        # The bytes of to_ical() keep their CRLF line ends inside the base64.
        inline = MIMEText(mail.calendar.decode(), "calendar", "UTF-8")
        inline.set_param("method", mail.calendar_method)
        inline.set_param("charset", "UTF-8")  # as the iMIP examples spell it
        message.attach(inline)
        filename = "invite.ics" if mail.calendar_method == "REQUEST" else "cancel.ics"
        attachment = MIMEApplication(mail.calendar, "ics", name=filename)
        attachment.add_header("Content-Disposition", "attachment", filename=filename)
        message = MIMEMultipart("mixed", _subparts=[message, attachment])
    message["Subject"] = Header(_one_line(mail.subject), "utf-8")  # type: ignore[assignment]
    sender, to = ascii_address(settings.mail_from), ascii_address(recipient)
    message["From"] = formataddr(("Treffpunkt", sender))
    message["To"] = formataddr((_display_name(name), to), charset="utf-8") if name else to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(outbox_id)
    message["Auto-Submitted"] = "auto-generated"
    return message


def _display_name(name: str) -> str:
    """The name on one line; one that holds `=?` goes out encoded, so that no reader decodes
    what merely looks like an encoded word (`=?utf-8?q?=0D=0A…?=`) into a line break."""
    name = _one_line(name)
    return Header(name, "utf-8").encode() if "=?" in name else name


def _one_line(text: str) -> str:
    """A line break in a header value would start a header of its own (a Bcc, say)."""
    return LINE_BREAKS.sub(" ", text)
