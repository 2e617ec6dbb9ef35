"""Messages organisers write, and the outbox as admins and organisers see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from piccolo.custom_types import Combinable

from treffpunkt.audit.services import record
from treffpunkt.db import write_transaction
from treffpunkt.errors import N_, ErrorCollector, NotFound
from treffpunkt.events.services import EventView, get_event
from treffpunkt.notifications.messages import Obsolete, render, to_mime
from treffpunkt.notifications.outbox import enqueue_to_registrations
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.tables import Registration

MAILBOX_PAGE = 50


async def message_to_confirmed(event: EventView, subject: str, body: str) -> int:
    """Queue the organisers' message for everyone with a confirmed place; how many."""
    problems = ErrorCollector()
    if not subject.strip():
        problems.add("subject", N_("must not be empty"))
    if not body.strip():
        problems.add("body", N_("must not be empty"))
    problems.raise_if_any()
    async with write_transaction():
        rows = await Registration.select(
            Registration.id, Registration.email, Registration.language
        ).where(
            (Registration.event == event.id)
            & (Registration.status == "confirmed")
            # Double opt-in: an address that has not confirmed hears nothing from organisers.
            & Registration.unconfirmed_until.is_null()
            & Registration.erased_at.is_null()
        )
        await enqueue_to_registrations(
            "organiser_message",
            event_id=event.id,
            rows=rows,
            payload={"subject": subject.strip(), "body": body.strip()},
        )
        await record("event.message_sent", event=event, changes={"recipients": [None, len(rows)]})
    return len(rows)


async def mailbox(offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    rows = (
        await OutboxMessage.select()
        .order_by(OutboxMessage.id, ascending=False)
        .limit(MAILBOX_PAGE)
        .offset(offset)
    )
    return list(rows), await OutboxMessage.count()


async def mailbox_message(
    outbox_id: int, *, now: datetime
) -> tuple[dict[str, Any], EmailMessage | None, str]:
    """The row, the mail it makes today (None if it no longer applies) and why not."""
    row = await OutboxMessage.select().where(OutboxMessage.id == outbox_id).first()
    if row is None:
        raise NotFound(N_("no such message"), code="message_not_found")
    try:
        mail, name, recipient = await render(row, now=now)
    except Obsolete as reason:
        return row, None, str(reason)
    sent = to_mime(mail, outbox_id=outbox_id, name=name, recipient=recipient, now=now)
    # Read back as a mail client would: headers decoded, parts as they arrive.
    return row, message_from_bytes(sent.as_bytes(), policy=default), ""


async def delivery_problems(event_id: int) -> dict[int, str]:
    """Per registration, the latest mail the server refused for good: organisers must know."""
    rows = (
        await OutboxMessage.select(OutboxMessage.registration, OutboxMessage.last_error)
        .where((OutboxMessage.event == event_id) & (OutboxMessage.status == "failed"))
        .order_by(OutboxMessage.id)
    )
    return {row["registration"]: row["last_error"] for row in rows if row["registration"]}


async def last_mail_failed(registration_id: int) -> bool:
    """The newest mail meant for this registration was refused for good; pages must say so."""
    newest = (
        await OutboxMessage.select(OutboxMessage.status)
        .where(
            (OutboxMessage.registration == registration_id) & (OutboxMessage.status != "skipped")
        )
        .order_by(OutboxMessage.id, ascending=False)
        .first()
    )
    return newest is not None and newest["status"] == "failed"


MAIL_LOG_PAGE = 50
# What organisers read, from what the worker writes: a pending row that failed before is
# retrying; `sending` is a worker holding it right now.
MAIL_LOG_STATUSES = ("waiting", "retrying", "sending", "sent", "failed", "skipped")
_SHOWN_STATUS = (
    "CASE WHEN status = 'pending' AND last_error <> '' THEN 'retrying'"
    " WHEN status = 'pending' THEN 'waiting' ELSE status END"
)
_COUNTS_BY_STATUS = (
    f"SELECT {_SHOWN_STATUS} AS shown, COUNT(*) AS n FROM outbox_message"  # noqa: S608
    f" WHERE event = {{}} GROUP BY {_SHOWN_STATUS}"
)


@dataclass(frozen=True)
class MailLogRow:
    id: int
    kind: str
    recipient: str
    language: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class MailLog:
    """One page of an event's outbox, newest first, and how many rows each status has."""

    event: EventView
    rows: list[MailLogRow]
    total: int
    counts: dict[str, int]


def _shown_status(row: dict[str, Any]) -> str:
    if row["status"] == "pending":
        return "retrying" if row["last_error"] else "waiting"
    return str(row["status"])


def _status_filter(status: str) -> Combinable:
    if status == "waiting":
        return (OutboxMessage.status == "pending") & (OutboxMessage.last_error == "")
    if status == "retrying":
        return (OutboxMessage.status == "pending") & (OutboxMessage.last_error != "")
    return OutboxMessage.status == status


async def event_mail_log(slug: str, *, status: str | None = None, offset: int = 0) -> MailLog:
    """The event's mail, to whom and how it went; a `status` outside MAIL_LOG_STATUSES means all."""
    event = await get_event(slug)
    counted = await OutboxMessage.raw(_COUNTS_BY_STATUS, event.id)
    counts = {name: 0 for name in MAIL_LOG_STATUSES}
    counts.update({row["shown"]: int(row["n"]) for row in counted})
    condition: Combinable = OutboxMessage.event == event.id
    if status in MAIL_LOG_STATUSES:
        condition = condition & _status_filter(status)
    rows = (
        await OutboxMessage.select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.recipient,
            OutboxMessage.language,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
        )
        .where(condition)
        .order_by(OutboxMessage.id, ascending=False)
        .limit(MAIL_LOG_PAGE)
        .offset(offset)
    )
    return MailLog(
        event=event,
        rows=[MailLogRow(**{**row, "status": _shown_status(row)}) for row in rows],
        total=counts[status] if status in MAIL_LOG_STATUSES else sum(counts.values()),
        counts=counts,
    )
