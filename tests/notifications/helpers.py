"""Reading mails back: MIME structure, parts, the invite inside, the QR code, the outbox."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, MIMEPart
from pathlib import Path
from typing import Any

import icalendar
import zxingcpp
from PIL import Image

from tests import factories
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.clock import utcnow
from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.schemas import Language, RegistrationForm
from treffpunkt.registrations.services import Outcome, register, token_for

BASE_URL = "http://testserver"
MAIL_FROM = "einladungen@treffpunkt.example"
CONTACT: dict[str, Any] = {
    "contact_name": "Petra Orga",
    "contact_email": "petra.orga@landkreis.example",
}
# A fixed summer date: 10:00–13:00 CEST in Berlin, 08:00–11:00 UTC.
STARTS_AT = "2030-06-12T08:00:00+00:00"
ENDS_AT = "2030-06-12T11:00:00+00:00"
WHEN_DE = "Mittwoch, 12. Juni 2030, 10:00–13:00 CEST"
WHEN_EN = "Wednesday, June 12, 2030, 10:00\u202fAM–1:00\u202fPM CEST"
PLACE = "Rathaus, Markt 1, 01067 Dresden"
SCHEDULE: dict[str, Any] = {"starts_at": STARTS_AT, "ends_at": ENDS_AT}


def form(email: str, *, name: str = "Anna Schmidt", language: Language = "de") -> RegistrationForm:
    return RegistrationForm(
        name=name,
        email=email,
        organisation="Stadt Leipzig",
        stakeholder_group="public_administration",
        consent=True,
        language=language,
    )


async def sign_up(
    slug: str, email: str, *, name: str = "Anna Schmidt", language: Language = "de"
) -> Outcome:
    """Register through the service, as the API does."""
    return await register(slug, form(email, name=name, language=language), now=utcnow())


async def manage_url(registration_id: int) -> str:
    return f"{BASE_URL}/registrations/{await token_for(registration_id)}"


async def calendar_uid(slug: str) -> str:
    row = await Event.select(Event.calendar_uid).where(Event.slug == slug).first()
    assert row is not None
    return str(row["calendar_uid"])


async def outbox_rows() -> list[dict[str, Any]]:
    return list(await OutboxMessage.select().order_by(OutboxMessage.id))


async def make_due(*, status: str = "pending") -> None:
    """Move every waiting message's next attempt into the past (time passing, in short)."""
    await OutboxMessage.update(
        {OutboxMessage.next_attempt_at: datetime(2000, 1, 1, tzinfo=UTC)}
    ).where(OutboxMessage.status == status)


class Clock:
    """Real time shifted as the test says (an SMTP server thread may shift it too)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self.offset += by

    def set(self, moment: datetime) -> None:
        with self._lock:
            self.offset = moment - utcnow()


# --- worker processes --------------------------------------------------------------------


async def queue_confirmations(organiser: CurrentOrganiser, count: int) -> None:
    event = await factories.event(organiser, capacity=None, **SCHEDULE)
    for number in range(count):
        await sign_up(event.slug, f"person{number}@example.org", name=f"Person {number}")
    assert await OutboxMessage.count().where(OutboxMessage.status == "pending") == count


def start_worker(log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`python -m treffpunkt worker` with this test's database and SMTP settings (or `env`)."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "treffpunkt", "worker"],
            env={**os.environ, "TREFFPUNKT_LOG_LEVEL": "WARNING", **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# --- MIME -------------------------------------------------------------------------------


def structure(part: MIMEPart) -> Any:
    """The tree of content types: a string for a leaf, (type, [children]) for a multipart."""
    if part.is_multipart():
        return (part.get_content_type(), [structure(p) for p in part.iter_parts()])
    return part.get_content_type()


def leaves(message: EmailMessage) -> list[EmailMessage]:
    return [p for p in message.walk() if not p.is_multipart()]


def parts_of_type(message: EmailMessage, content_type: str) -> list[EmailMessage]:
    return [p for p in leaves(message) if p.get_content_type() == content_type]


def one_part(message: EmailMessage, content_type: str) -> EmailMessage:
    found = parts_of_type(message, content_type)
    assert len(found) == 1, f"{len(found)} parts of type {content_type}: {structure(message)}"
    return found[0]


def text_of(message: EmailMessage) -> str:
    """The plain-text body, with the wire's CRLF line ends read back as newlines."""
    return str(one_part(message, "text/plain").get_content()).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    return str(one_part(message, "text/html").get_content()).replace("\r\n", "\n")


def visible_text(html: str) -> str:
    """The HTML as a reader sees it: tags gone, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def raw_calendar(message: EmailMessage) -> bytes:
    payload = one_part(message, "text/calendar").get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


def calendar_parts(message: EmailMessage) -> list[bytes]:
    """Every calendar a mail carries: the inline text/calendar and the .ics attachment."""
    found = []
    for part in leaves(message):
        if part.get_content_type() in {"text/calendar", "application/ics"}:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found.append(payload)
    return found


def calendar_of(message: EmailMessage) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(raw_calendar(message))


def vevent_of(message: EmailMessage) -> icalendar.Event:
    events = calendar_of(message).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, icalendar.Event)
    return event


def sequence_of(message: EmailMessage) -> int:
    return int(vevent_of(message).decoded("SEQUENCE"))


def uid_of(message: EmailMessage) -> str:
    return str(vevent_of(message)["UID"])


def has_calendar(message: EmailMessage) -> bool:
    types = {p.get_content_type() for p in leaves(message)}
    return bool(types & {"text/calendar", "application/ics"})


def qr_texts(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def ticket_of(message: EmailMessage) -> bytes:
    payload = one_part(message, "image/png").get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


def unfolded_lines(raw: bytes) -> list[str]:
    return raw.decode().replace("\r\n ", "").split("\r\n")
