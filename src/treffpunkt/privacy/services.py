"""A person's data: everything stored about a registration, and erasing it.

Erasure anonymises in place rather than deleting: reports keep counting the registration
(status, stakeholder group, check-in, times), while its name, address, organisation, role,
notes, answers and secret link are gone, every mail still waiting for the person is dropped,
and the mails already sent keep only a placeholder for the address. A seat is freed exactly
as a cancellation frees it (the waiting list moves up in the same transaction).

Someone who held a seat gets one last mail, queued after the anonymising and addressed from
the outbox row itself: the calendar CANCEL that takes the event out of their calendar. The
retention sweep replaces that row's address with the placeholder once it is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from treffpunkt.accounts.tables import ApiToken, Organiser
from treffpunkt.addresses import InvalidAddress, normalise_address
from treffpunkt.attendance.tables import FeedbackQuestion, FeedbackResponse
from treffpunkt.audit.actors import REGISTRANT
from treffpunkt.audit.services import record
from treffpunkt.db import write_transaction
from treffpunkt.errors import N_, NotFound
from treffpunkt.events.services import EventView, get_event_by_id
from treffpunkt.notifications.messages import ERASED
from treffpunkt.notifications.outbox import enqueue
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.privacy.tables import Erasure
from treffpunkt.registrations import services as registrations
from treffpunkt.registrations.questions import questions_of
from treffpunkt.registrations.tables import ACTIVE_STATUSES, Registration
from treffpunkt.settings import get_settings

# Shown where the name was; the address becomes erased-<id>@erased.invalid (RFC 2606: never
# deliverable), so each erased row keeps a distinct, obviously empty address.
ERASED_NAME = "—"
SECRET_COLUMNS = frozenset({"token_hash", "link_nonce"})
# Statements of fixed text only; `where` picks registrations by fixed conditions. Each erased
# row and mail gets its own placeholder address: erased-<registration id>@erased.invalid.
_DROP_WAITING_MAIL = (
    "DELETE FROM outbox_message WHERE status IN ('pending', 'sending')"
    " AND registration IN (SELECT id FROM registration WHERE {where})"
)
_SCRUB_SENT_MAIL = (
    "UPDATE outbox_message SET recipient = 'erased-' || registration || '@erased.invalid',"
    " last_error = '' WHERE registration IN (SELECT id FROM registration WHERE {where})"
)
_ANONYMISE = (
    "UPDATE registration SET name = {{}}, email = 'erased-' || id || '@erased.invalid',"
    " organisation = '', role = '', notes = '', answers = {{}}, search_text = '',"
    " link_nonce = '', token_hash = 'erased-' || id, erased_at = {{}}, updated_at = {{}}"
    " WHERE {where} RETURNING id"
)
_FEEDBACK_OF = (
    "SELECT id, event, answers FROM feedback_response"
    " WHERE registration IN (SELECT id FROM registration WHERE {where})"
)
# The erasure's own CANCEL, once delivered (or given up), keeps no address either.
_SCRUB_DELIVERED_CANCELS = (
    "UPDATE outbox_message SET recipient = 'erased-' || registration || '@erased.invalid',"
    " last_error = '' WHERE kind = 'registration_erased'"
    " AND status IN ('sent', 'failed', 'skipped')"
    " AND recipient <> 'erased-' || registration || '@erased.invalid'"
)


@dataclass(frozen=True)
class ErasureOutcome:
    """What erasing one registration did (no personal data: it is gone)."""

    registration_id: int
    event_slug: str
    previous_status: str
    seat_freed: bool
    calendar_cancel_sent: bool


async def anonymise(where: str, *args: Any, now: datetime) -> int:
    """Blank the personal data of the registrations `where` picks, and of their mail.

    `where` is fixed SQL text with {} placeholders for `args`; call inside a transaction.
    """
    await _drop_feedback_texts(where, *args)
    await OutboxMessage.raw(_DROP_WAITING_MAIL.format(where=where), *args)
    await OutboxMessage.raw(_SCRUB_SENT_MAIL.format(where=where), *args)
    rows = await Registration.raw(
        _ANONYMISE.format(where=where), ERASED_NAME, "{}", now, now, *args
    )
    return len(rows)


async def _drop_feedback_texts(where: str, *args: Any) -> None:
    """Free text may name people; ratings are anonymous counts and stay for the event's report."""
    responses = await FeedbackResponse.raw(_FEEDBACK_OF.format(where=where), *args)
    text_keys: dict[int, set[str]] = {}
    for response in responses:
        event_id = response["event"]
        if event_id not in text_keys:
            questions = await FeedbackQuestion.select(FeedbackQuestion.key).where(
                (FeedbackQuestion.event == event_id) & (FeedbackQuestion.kind == "text")
            )
            text_keys[event_id] = {question["key"] for question in questions}
        answers = response["answers"]
        if isinstance(answers, str):
            answers = json.loads(answers)
        kept = {key: value for key, value in answers.items() if key not in text_keys[event_id]}
        if kept != answers:
            await FeedbackResponse.update({FeedbackResponse.answers: json.dumps(kept)}).where(
                FeedbackResponse.id == response["id"]
            )


async def scrub_delivered_cancels() -> None:
    await OutboxMessage.raw(_SCRUB_DELIVERED_CANCELS)


async def record_erasure(event_id: int, reason: str, count: int, now: datetime) -> None:
    """What was erased, for `treffpunkt privacy due` and the admin page: never who."""
    await Erasure.insert(Erasure(event=event_id, reason=reason, registrations=count, done_at=now))


async def erase_registration(registration_id: int, *, reason: str, now: datetime) -> ErasureOutcome:
    """Free the seat like a cancellation (unless the event is over) and anonymise the person.

    Once an event is over nothing moves: the status stays, so attendance reports stay true.
    """
    found = (
        await Registration.select(Registration.event)
        .where((Registration.id == registration_id) & Registration.erased_at.is_null())
        .first()
    )
    if found is None:
        raise NotFound(N_("no registration for this link"), code="registration_not_found")
    event = await get_event_by_id(found["event"])
    # The person's own erasure is theirs; an admin's or the operator's is whoever acts now.
    actor = REGISTRANT if reason == "person" else None
    async with write_transaction():
        await registrations.lock_event(event.id)
        # Read again under the lock: a second erasure at the same moment finds nothing.
        current = await registrations.addressees([registration_id])
        addressee = current.get(registration_id)
        still_there = await Registration.exists().where(
            (Registration.id == registration_id) & Registration.erased_at.is_null()
        )
        if addressee is None or not still_there:
            raise NotFound(N_("no registration for this link"), code="registration_not_found")
        registration = addressee.registration
        ongoing = not event.is_finished(now)
        if ongoing and registration.status in ACTIVE_STATUSES:
            await registrations.cancel_for_erasure(registration, now=now, actor=actor)
        await anonymise("id = {}", registration_id, now=now)
        # Only a held seat put the event into their calendar; only that needs taking out.
        held_seat = (
            ongoing
            and registration.status == "confirmed"
            and not registration.awaits_address_confirmation
        )
        if held_seat:
            await enqueue(
                ERASED,
                event_id=event.id,
                registration_id=registration_id,
                recipient=registration.email,
                language=registration.language,
                payload={"ended_before": addressee.ended_before},
            )
        await record_erasure(event.id, reason, 1, now)
        await record(
            "registration.erased",
            event=event,
            registration_id=registration_id,
            changes={"requested_by": [None, reason]},
            actor=actor,
            now=now,
        )
    return ErasureOutcome(
        registration_id=registration_id,
        event_slug=event.slug,
        previous_status=registration.status,
        seat_freed=held_seat,
        calendar_cancel_sent=held_seat,
    )


async def erase_by_token(token: str, *, now: datetime) -> ErasureOutcome:
    registration = await registrations.by_token(token)
    return await erase_registration(registration.id, reason="person", now=now)


def lookup_address(raw: str) -> str:
    """The stored form of an address an admin typed; kept as typed (trimmed) if malformed."""
    try:
        return normalise_address(raw)
    except InvalidAddress:
        return raw.strip().lower()


async def registrations_of(email: str) -> list[int]:
    """Ids of every registration of this address not yet erased, oldest first."""
    rows = (
        await Registration.select(Registration.id)
        .where((Registration.email == lookup_address(email)) & Registration.erased_at.is_null())
        .order_by(Registration.id)
    )
    return [row["id"] for row in rows]


async def erase_address(email: str, *, now: datetime) -> list[ErasureOutcome]:
    """Erase every registration of this address, each in its own transaction."""
    return [
        await erase_registration(registration_id, reason="admin", now=now)
        for registration_id in await registrations_of(email)
    ]


# --- export -----------------------------------------------------------------------------


def _event_summary(event: EventView) -> dict[str, Any]:
    return {
        "slug": event.slug,
        "title": event.title,
        "starts_at": event.local(event.starts_at),
        "ends_at": event.local(event.ends_at),
        "timezone": event.timezone,
        "status": event.status,
        "url": f"{get_settings().base_url}/events/{event.slug}",
    }


async def _labelled_answers(event_id: int, answers: dict[str, Any]) -> list[dict[str, Any]]:
    labels = {question.key: question.label for question in await questions_of(event_id)}
    return [
        {"key": key, "question": labels.get(key, key), "answer": value}
        for key, value in answers.items()
    ]


async def _mails(registration_id: int) -> list[dict[str, Any]]:
    """What was written to the person and what became of it; never a body or a link."""
    return list(
        await OutboxMessage.select(
            OutboxMessage.kind,
            OutboxMessage.recipient,
            OutboxMessage.language,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
        )
        .where(OutboxMessage.registration == registration_id)
        .order_by(OutboxMessage.id)
    )


async def _feedback(registration_id: int, event_id: int) -> dict[str, Any] | None:
    response = (
        await FeedbackResponse.select(FeedbackResponse.answers, FeedbackResponse.created_at)
        .where(FeedbackResponse.registration == registration_id)
        .output(load_json=True)
        .first()
    )
    if response is None:
        return None
    labels = {
        row["key"]: row["label"]
        for row in await FeedbackQuestion.select(
            FeedbackQuestion.key, FeedbackQuestion.label
        ).where(FeedbackQuestion.event == event_id)
    }
    return {
        "given_at": response["created_at"],
        "answers": [
            {"key": key, "question": labels.get(key, key), "answer": value}
            for key, value in response["answers"].items()
        ],
    }


async def export_registration(registration_id: int) -> dict[str, Any]:
    """Everything stored about one registration: every column but the secrets, and more."""
    row = (
        await Registration.select()
        .where(Registration.id == registration_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound(N_("no registration for this link"), code="registration_not_found")
    stored = {name: value for name, value in row.items() if name not in SECRET_COLUMNS}
    event = await get_event_by_id(row["event"])
    return {
        "registration": stored,
        "answers": await _labelled_answers(event.id, row["answers"] or {}),
        "event": _event_summary(event),
        "check_in": {"checked_in_at": row["checked_in_at"]},
        "mails": await _mails(registration_id),
        "feedback": await _feedback(registration_id, event.id),
    }


async def export_by_token(token: str) -> dict[str, Any]:
    registration = await registrations.by_token(token)
    return await export_registration(registration.id)


async def _organiser_account(email: str) -> dict[str, Any] | None:
    account = (
        await Organiser.select(*Organiser.all_columns(exclude=[Organiser.password_hash]))
        .where(Organiser.email == email)
        .first()
    )
    if account is None:
        return None
    tokens = await ApiToken.select(
        ApiToken.id, ApiToken.label, ApiToken.created_at, ApiToken.last_used_at, ApiToken.revoked_at
    ).where(ApiToken.organiser == account["id"])
    return {**account, "api_tokens": list(tokens)}


async def export_address(email: str) -> dict[str, Any]:
    """Everything stored about one address across events, and its organiser account."""
    address = lookup_address(email)
    return {
        "email": address,
        "registrations": [
            await export_registration(registration_id)
            for registration_id in await registrations_of(address)
        ],
        "organiser": await _organiser_account(address),
    }


@dataclass(frozen=True)
class Holding:
    """One registration of an address, as the admin page lists it."""

    event_slug: str
    event_title: str
    status: str
    created_at: datetime


async def holdings_of(email: str) -> tuple[list[Holding], bool]:
    """What is stored under this address: its registrations, and whether it is an organiser."""
    rows = (
        await Registration.select(
            Registration.event.slug,
            Registration.event.title,
            Registration.status,
            Registration.created_at,
        )
        .where((Registration.email == lookup_address(email)) & Registration.erased_at.is_null())
        .order_by(Registration.id)
    )
    holdings = [
        Holding(row["event.slug"], row["event.title"], row["status"], row["created_at"])
        for row in rows
    ]
    is_organiser = await Organiser.exists().where(Organiser.email == lookup_address(email))
    return holdings, is_organiser
