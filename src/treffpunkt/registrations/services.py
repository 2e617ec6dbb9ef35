"""Registering, the waiting list, approval and self-service.

Every change to who holds a seat happens under the event's row lock (PostgreSQL) or the one
SQLite writer, and seats are claimed by a guarded UPDATE, so confirmed registrations never
exceed capacity however many requests race. Each change writes its outbox message in the
same transaction.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from treffpunkt.addresses import checked_address
from treffpunkt.audit.actors import REGISTRANT, SYSTEM, Actor
from treffpunkt.audit.services import record, withheld
from treffpunkt.db import is_postgres, write_transaction
from treffpunkt.errors import N_, Conflict, ErrorCollector, NotFound
from treffpunkt.events.services import EventView, get_event, get_event_by_id
from treffpunkt.events.tables import Event
from treffpunkt.inputs import is_multi_line, is_single_line
from treffpunkt.notices.services import privacy_version
from treffpunkt.notifications.outbox import enqueue, enqueue_to_registrations
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.open_seat import admit_to_open_seat, event_with_questions
from treffpunkt.registrations.questions import checked_answers, questions_of
from treffpunkt.registrations.schemas import (
    STAKEHOLDER_GROUPS,
    ManualRegistration,
    QuestionSpec,
    RegistrationChange,
    RegistrationForm,
)
from treffpunkt.registrations.tables import ACTIVE_STATUSES, Registration
from treffpunkt.settings import LANGUAGES, get_settings
from treffpunkt.signing import derived_key
from treffpunkt.text import is_blank, searchable

LINK_PURPOSE = "registration-link"
# Registering again re-sends the confirmation, but not while one is fresh: a double click or
# a quick second try would only mail the same again (and a stranger could flood an inbox).
RESEND_PAUSE = timedelta(minutes=10)
# The mails that tell a registration's status and carry its link, as a re-send does.
_STATUS_MAILS = (
    "registration_confirmed",
    "registration_waitlisted",
    "registration_pending",
    "registration_promoted",
    "registration_approved",
    "registration_resent",
    "address_confirmation",
)
_LOCK_COLUMNS = (
    Event.id,
    Event.status,
    Event.capacity,
    Event.seats_taken,
    Event.waitlist,
    Event.requires_approval,
    Event.requires_address_confirmation,
    Event.registration_opens_at,
    Event.registration_closes_at,
    Event.ends_at,
)


@dataclass(frozen=True)
class Outcome:
    """What became of a registration attempt."""

    registration_id: int
    status: str
    waitlist_position: int | None
    already_registered: bool
    # The place is held only until the person confirms their address (double opt-in).
    confirm_address: bool = False


@dataclass(frozen=True)
class RegistrationView:
    id: int
    event: int
    name: str
    email: str
    organisation: str
    stakeholder_group: str
    role: str
    notes: str
    answers: dict[str, Any]
    language: str
    status: str
    waitlist_ticket: int | None
    waitlist_position: int | None
    added_by_organiser: bool
    checked_in_at: datetime | None
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    consent_at: datetime
    consent_version: str
    unconfirmed_until: datetime | None
    address_confirmed_at: datetime | None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def awaits_address_confirmation(self) -> bool:
        """Double opt-in: the place is only held; nothing but the confirm mail goes out."""
        return self.unconfirmed_until is not None

    def attendance(self, event_over: bool) -> str | None:
        """attended, no_show (a confirmed seat nobody used once the event is over), or None."""
        if self.checked_in_at is not None:
            return "attended"
        if self.status == "confirmed" and event_over:
            return "no_show"
        return None


VIEW_COLUMNS = [
    name for name in RegistrationView.__dataclass_fields__ if name not in {"waitlist_position"}
]


def manage_token(link_nonce: str) -> str:
    """The secret link's token: 192 bits derived from a 128-bit random nonce and the secret."""
    key = derived_key(get_settings().secret_key, LINK_PURPOSE)
    digest = hmac.new(key, link_nonce.encode(), hashlib.sha256).digest()[:24]
    return base64.urlsafe_b64encode(digest).decode()


def _search_text(values: dict[str, Any]) -> str:
    return searchable(" ".join((values["name"], values["email"], values["organisation"])))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def lock_event(event_id: int) -> dict[str, Any]:
    """The event's seat counters, locked until the transaction ends."""
    query = Event.select(*_LOCK_COLUMNS).where(Event.id == event_id)
    if is_postgres():
        query = query.lock_rows("UPDATE")
    row = await query.first()
    if row is None:
        raise NotFound(N_("the event no longer exists"), code="event_not_found")
    return row


async def _claim_seat(event_id: int, *, beyond_capacity: bool = False) -> bool:
    """Take one seat if one is free (or regardless, when an organiser says so)."""
    guard = "" if beyond_capacity else " AND (capacity IS NULL OR seats_taken < capacity)"
    claimed = await Event.raw(
        f"UPDATE event SET seats_taken = seats_taken + 1 WHERE id = {{}}{guard} RETURNING id",  # noqa: S608
        event_id,
    )
    return bool(claimed)


async def _release_seat(event_id: int) -> None:
    await Event.raw(
        "UPDATE event SET seats_taken = seats_taken - 1 WHERE id = {} AND seats_taken > 0",
        event_id,
    )


async def _next_ticket(event_id: int) -> int:
    row = (
        await Registration.select(Registration.waitlist_ticket)
        .where((Registration.event == event_id) & Registration.waitlist_ticket.is_not_null())
        .order_by(Registration.waitlist_ticket, ascending=False)
        .first()
    )
    return (row["waitlist_ticket"] if row else 0) + 1


async def waitlist_position(event_id: int, ticket: int | None) -> int | None:
    if ticket is None:
        return None
    return int(
        await Registration.count().where(
            (Registration.event == event_id)
            & (Registration.status == "waitlisted")
            & (Registration.waitlist_ticket <= ticket)
        )
    )


def _refuse_unless_open(event: dict[str, Any], now: datetime, *, by_organiser: bool) -> None:
    if event["status"] == "cancelled":
        raise Conflict(N_("the event has been cancelled"), code="event_cancelled")
    if event["status"] != "published":
        raise NotFound(N_("no such event"), code="event_not_found")
    if by_organiser:
        return
    if event["ends_at"] <= now:
        raise Conflict(N_("the event is over"), code="event_finished")
    if event["registration_opens_at"] and now < event["registration_opens_at"]:
        raise Conflict(N_("registration has not opened yet"), code="registration_not_open")
    if event["registration_closes_at"] and now >= event["registration_closes_at"]:
        raise Conflict(N_("registration has closed"), code="registration_closed")


TEXT_LIMITS = {"name": 200, "organisation": 200, "role": 200, "notes": 2_000}
REQUIRED_TEXT = ("name", "organisation")
ONE_LINE = ("name", "organisation", "role")


def _check_person(values: dict[str, Any], problems: ErrorCollector) -> None:
    """Rules for the person's own fields; forms built in HTML arrive here unchecked."""
    for name, limit in TEXT_LIMITS.items():
        if name not in values:
            continue
        if name in REQUIRED_TEXT and is_blank(str(values[name])):
            problems.add(name, N_("must not be empty"))
        elif name in ONE_LINE and not is_single_line(str(values[name])):
            # A line break in a name would end up in a mail header.
            problems.add(name, N_("must be one line of text"))
        elif not is_multi_line(str(values[name])):
            # PostgreSQL's text cannot hold NUL: refused here, not a 500 at the insert.
            problems.add(name, N_("must not contain control characters"))
        elif len(str(values[name])) > limit:
            problems.add(name, N_("must be at most %(limit)d characters long"), limit=limit)
    if "language" in values and values["language"] not in LANGUAGES:
        problems.add("language", N_("must be one of %(value)s"), value=", ".join(LANGUAGES))


def _checked_form(questions: list[QuestionSpec], form: RegistrationForm) -> dict[str, Any]:
    """The form's values in stored form, or every problem with it at once."""
    problems = ErrorCollector()
    email = checked_address(form.email, "email", problems)
    _check_person(msgspec.structs.asdict(form), problems)
    if form.stakeholder_group not in STAKEHOLDER_GROUPS:
        problems.add("stakeholder_group", N_("must be chosen from the list"))
    if form.consent is not True:
        problems.add("consent", N_("consent to the privacy notice is required"))
    answers = checked_answers(questions, form.answers, problems)
    problems.raise_if_any()
    return {
        "name": form.name.strip(),
        "email": email,
        "organisation": form.organisation.strip(),
        "stakeholder_group": form.stakeholder_group,
        "role": form.role.strip(),
        "notes": form.notes.strip(),
        "answers": answers,
        "language": form.language,
    }


async def register(slug: str, form: RegistrationForm, *, now: datetime) -> Outcome:
    """Give the person a seat, a waiting-list place, a pending request, or a clear refusal."""
    # Only id and questions: the rules that matter are checked when the seat is claimed.
    found = await event_with_questions(slug)
    if found is None or found[1] == "draft":
        raise NotFound(N_("no event %(slug)s"), slug=slug, code="event_not_found")
    event_id, _, questions = found
    values = _checked_form(questions, form)
    return await _admit(event_id, values, now=now, by_organiser=False, beyond_capacity=False)


async def add_by_organiser(
    slug: str, form: ManualRegistration, *, now: datetime, needs_seat: bool = False
) -> Outcome:
    """Put someone on the roster directly: confirmed if a seat is free or `exceed_capacity`.

    With `needs_seat` (a walk-in at the door) a full event refuses instead of waitlisting.
    """
    event = await get_event(slug)
    values = _checked_form(await questions_of(event.id), form)
    outcome = await _admit(
        event.id,
        values,
        now=now,
        by_organiser=True,
        beyond_capacity=form.exceed_capacity,
        needs_seat=needs_seat,
    )
    if outcome.already_registered:
        raise Conflict(
            N_("%(email)s is registered for this event already"),
            email=values["email"],
            code="already_registered",
        )
    return outcome


async def _admit(
    event_id: int,
    values: dict[str, Any],
    *,
    now: datetime,
    by_organiser: bool,
    beyond_capacity: bool,
    needs_seat: bool = False,
) -> Outcome:
    if not by_organiser:
        admitted = await admit_to_open_seat(event_id, _stored(values, now=now), now=now)
        if admitted is not None:
            return Outcome(admitted, "confirmed", None, already_registered=False)
    async with write_transaction():
        locked = await lock_event(event_id)
        _refuse_unless_open(locked, now, by_organiser=by_organiser)
        confirm_address = bool(locked["requires_address_confirmation"]) and not by_organiser
        existing = await _active_registration(event_id, values["email"])
        if existing is not None:
            if by_organiser:
                return Outcome(existing["id"], existing["status"], None, already_registered=True)
            await _resend_unless_fresh(event_id, existing, now=now)
            told = await _as_told_to_a_newcomer(event_id, locked, existing["id"])
        else:
            told = await _admit_newcomer(
                event_id,
                values,
                locked,
                now=now,
                by_organiser=by_organiser,
                beyond_capacity=beyond_capacity,
                needs_seat=needs_seat,
            )
    if told is None:
        # Said after the commit, so that the person registered already still gets their mail.
        raise Conflict(N_("the event is fully booked"), code="event_full")
    return dataclasses.replace(told, confirm_address=confirm_address)


async def _admit_newcomer(
    event_id: int,
    values: dict[str, Any],
    locked: dict[str, Any],
    *,
    now: datetime,
    by_organiser: bool,
    beyond_capacity: bool,
    needs_seat: bool,
) -> Outcome | None:
    """A seat, a waiting-list place or a pending request; None when the event is full."""
    ticket = None
    if locked["requires_approval"] and not by_organiser:
        status = "pending"
    elif await _claim_seat(event_id) or (
        beyond_capacity and await _claim_seat(event_id, beyond_capacity=True)
    ):
        status = "confirmed"
    elif locked["waitlist"] and not needs_seat:
        status, ticket = "waitlisted", await _next_ticket(event_id)
    else:
        return None
    # Double opt-in: the place is held for a while, and the only mail asks to confirm.
    hold = locked["requires_address_confirmation"] and not by_organiser
    held_until = now + timedelta(minutes=get_settings().address_confirmation_minutes)
    registration_id = await _insert(
        event_id,
        values,
        status=status,
        ticket=ticket,
        by_organiser=by_organiser,
        now=now,
        unconfirmed_until=held_until if hold else None,
    )
    position = await waitlist_position(event_id, ticket)
    await record(
        _ADMISSIONS[(by_organiser, needs_seat)],
        event=event_id,
        registration_id=registration_id,
        changes=_placed(None, None, status, position),
        actor=None if by_organiser else REGISTRANT,
        now=now,
    )
    await enqueue(
        "address_confirmation" if hold else f"registration_{status}",
        event_id=event_id,
        registration_id=registration_id,
        recipient=values["email"],
        language=values["language"],
        payload={"waitlist_position": position} if position else None,
    )
    return Outcome(registration_id, status, position, already_registered=False)


# How a registration came to be, by (added by an organiser, needs a seat at once).
_ADMISSIONS = {
    (False, False): "registration.registered",
    (True, False): "registration.added",
    (True, True): "registration.walk_in",
}


def _placed(
    status_before: str | None, position_before: int | None, status: str, position: int | None
) -> dict[str, list[Any]]:
    """The key fields of a change of place: status, and the waiting-list position if any."""
    changes: dict[str, list[Any]] = {"status": [status_before, status]}
    if position_before is not None or position is not None:
        changes["waitlist_position"] = [position_before, position]
    return changes


async def _resend_unless_fresh(event_id: int, existing: dict[str, Any], *, now: datetime) -> None:
    """The person registered already hears the truth by mail, at most once per pause."""
    if await _status_mailed_since(existing["id"], now - RESEND_PAUSE):
        return
    await enqueue(
        "registration_resent",
        event_id=event_id,
        registration_id=existing["id"],
        recipient=existing["email"],
        language=existing["language"],
    )


async def _as_told_to_a_newcomer(
    event_id: int, locked: dict[str, Any], registration_id: int
) -> Outcome | None:
    """What a new address would be told at this moment, changing nothing; None: full.

    The caller may not be the person who registered, so the answer must not differ from a
    newcomer's: whether the address holds a registration is told only in its mailbox.
    """
    if locked["requires_approval"]:
        return Outcome(registration_id, "pending", None, already_registered=True)
    if locked["capacity"] is None or locked["seats_taken"] < locked["capacity"]:
        return Outcome(registration_id, "confirmed", None, already_registered=True)
    if locked["waitlist"]:
        waiting = await Registration.count().where(
            (Registration.event == event_id) & (Registration.status == "waitlisted")
        )
        return Outcome(registration_id, "waitlisted", int(waiting) + 1, already_registered=True)
    return None


async def _status_mailed_since(registration_id: int, since: datetime) -> bool:
    return await OutboxMessage.exists().where(
        (OutboxMessage.registration == registration_id)
        & OutboxMessage.kind.is_in(list(_STATUS_MAILS))
        & (OutboxMessage.created_at > since)
    )


async def _active_registration(event_id: int, email: str) -> dict[str, Any] | None:
    return await (
        Registration.select(
            Registration.id, Registration.status, Registration.language, Registration.email
        )
        .where(
            (Registration.event == event_id)
            & (Registration.email == email)
            & Registration.status.is_in(list(ACTIVE_STATUSES))
        )
        .first()
    )


def _stored(values: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """A new registration's columns: the person's values and what is derived from them."""
    nonce = secrets.token_hex(16)
    return {
        **values,
        "answers": json.dumps(values["answers"]),
        "search_text": _search_text(values),
        "link_nonce": nonce,
        "token_hash": _token_hash(manage_token(nonce)),
        "consent_at": now,
        "consent_version": privacy_version(),
        "created_at": now,
        "updated_at": now,
    }


async def _insert(
    event_id: int,
    values: dict[str, Any],
    *,
    status: str,
    ticket: int | None,
    by_organiser: bool,
    now: datetime,
    unconfirmed_until: datetime | None = None,
) -> int:
    rows = await Registration.insert(
        Registration(
            **_stored(values, now=now),
            event=event_id,
            status=status,
            waitlist_ticket=ticket,
            added_by_organiser=by_organiser,
            unconfirmed_until=unconfirmed_until,
        )
    ).returning(Registration.id)
    return int(rows[0]["id"])


async def notify_registrants(event_id: int, kind: str, payload: dict[str, Any] | None) -> int:
    """One message to everyone still registered (confirmed, waiting or pending).

    Not to an address that has yet to confirm it is theirs: it has asked for nothing yet, and
    the mail it gets on confirming tells the event as it is then.
    """
    rows = await Registration.select(
        Registration.id, Registration.email, Registration.language
    ).where(
        (Registration.event == event_id)
        & Registration.status.is_in(list(ACTIVE_STATUSES))
        & Registration.unconfirmed_until.is_null()
    )
    await enqueue_to_registrations(kind, event_id=event_id, rows=rows, payload=payload)
    return len(rows)


async def fill_free_seats(event_id: int, *, now: datetime) -> int:
    """Promote the head of the waiting list while seats are free; call under the event lock.

    Not once the event has begun: a place that frees up then (a no-show cancelled at the
    door) is no use to someone who is not there. Someone whose address is not confirmed yet
    is passed over and keeps their place in the list.
    """
    promoted = 0
    event = await Event.select(Event.starts_at).where(Event.id == event_id).first()
    if event is None or now >= event["starts_at"]:
        return promoted
    while True:
        head = (
            await Registration.select(Registration.id, Registration.email, Registration.language)
            .where(
                (Registration.event == event_id)
                & (Registration.status == "waitlisted")
                & Registration.unconfirmed_until.is_null()
            )
            .order_by(Registration.waitlist_ticket)
            .first()
        )
        if head is None or not await _claim_seat(event_id):
            return promoted
        await Registration.update(
            {
                Registration.status: "confirmed",
                Registration.waitlist_ticket: None,
                Registration.updated_at: now,
            }
        ).where(Registration.id == head["id"])
        await record(
            "registration.promoted_from_waitlist",
            event=event_id,
            registration_id=head["id"],
            changes=_placed("waitlisted", 1, "confirmed", None),
            actor=SYSTEM,
            now=now,
        )
        await enqueue(
            "registration_promoted",
            event_id=event_id,
            registration_id=head["id"],
            recipient=head["email"],
            language=head["language"],
        )
        promoted += 1


async def _view(where: Any) -> RegistrationView | None:
    row = (
        await Registration.select(*[getattr(Registration, c) for c in VIEW_COLUMNS])
        .where(where)
        .output(load_json=True)
        .first()
    )
    if row is None:
        return None
    return RegistrationView(
        **row, waitlist_position=await waitlist_position(row["event"], row["waitlist_ticket"])
    )


async def by_token(token: str) -> RegistrationView:
    registration = await _view(Registration.token_hash == _token_hash(token))
    if registration is None:
        raise NotFound(N_("no registration for this link"), code="registration_not_found")
    return registration


async def by_id(event_slug: str, registration_id: int) -> RegistrationView:
    event = await get_event(event_slug)
    registration = await _view(
        (Registration.id == registration_id) & (Registration.event == event.id)
    )
    if registration is None:
        raise NotFound(N_("no such registration for this event"), code="registration_not_found")
    return registration


async def events_of_person(token: str, *, now: datetime) -> list[EventView]:
    """Every event the link's owner holds a seat at and that is not over: their own feed."""
    registration = await by_token(token)
    rows = await Registration.select(Registration.event).where(
        (Registration.email == registration.email)
        & (Registration.status == "confirmed")
        & Registration.unconfirmed_until.is_null()
    )
    events = [await get_event_by_id(row["event"]) for row in rows]
    return sorted(
        (e for e in events if e.status != "draft" and not e.is_finished(now)),
        key=lambda e: e.starts_at,
    )


@dataclass(frozen=True)
class Addressee:
    """A registration as the mail about it needs it."""

    registration: RegistrationView
    token: str
    # The person's earlier registrations for this event that ended: each got a CANCEL.
    ended_before: int


ENDED_BEFORE = """SELECT r.id, (SELECT count(*) FROM registration p
    WHERE p.event = r.event AND p.email = r.email AND p.status IN ('cancelled', 'declined')
    AND p.id < r.id) AS ended_before
FROM registration r WHERE r.id IN ({})"""


async def addressees(registration_ids: list[int]) -> dict[int, Addressee]:
    """A batch of mails' registrations in two queries, rather than three for each mail."""
    if not registration_ids:
        return {}
    rows = (
        await Registration.select(
            *[getattr(Registration, c) for c in VIEW_COLUMNS], Registration.link_nonce
        )
        .where(Registration.id.is_in(registration_ids))
        .output(load_json=True)
    )
    placeholders = ", ".join("{}" for _ in registration_ids)
    ended = {
        row["id"]: int(row["ended_before"])
        for row in await Registration.raw(ENDED_BEFORE.format(placeholders), *registration_ids)
    }
    found = {}
    for row in rows:
        nonce = row.pop("link_nonce")
        position = await waitlist_position(row["event"], row["waitlist_ticket"])
        found[row["id"]] = Addressee(
            RegistrationView(**row, waitlist_position=position),
            manage_token(nonce),
            ended[row["id"]],
        )
    return found


async def token_for(registration_id: int) -> str:
    """Rebuild the secret link's token, for the mail that carries it."""
    row = (
        await Registration.select(Registration.link_nonce)
        .where(Registration.id == registration_id)
        .first()
    )
    if row is None:
        raise NotFound(N_("no such registration"), code="registration_not_found")
    return manage_token(row["link_nonce"])


async def change_registration(
    token: str, change: RegistrationChange, *, now: datetime
) -> RegistrationView:
    """The person corrects their details or answers; seats are untouched."""
    registration = await by_token(token)
    if not registration.is_active:
        raise Conflict(N_("the registration is no longer active"), code="registration_inactive")
    sent = {
        name: value
        for name, value in msgspec.structs.asdict(change).items()
        if value is not msgspec.UNSET
    }
    problems = ErrorCollector()
    _check_person(sent, problems)
    if "answers" in sent:
        questions = await questions_of(registration.event)
        sent["answers"] = checked_answers(questions, sent["answers"], problems)
    problems.raise_if_any()
    values: dict[str, Any] = {
        key: value.strip() if isinstance(value, str) else value for key, value in sent.items()
    }
    if "answers" in values:
        values["answers"] = msgspec.json.encode(values["answers"]).decode()
    if "name" in values or "organisation" in values:
        values["search_text"] = _search_text({**registration.__dict__, **values})
    changed = {
        name
        for name in sent
        if (sent if name == "answers" else values)[name] != getattr(registration, name)
    }
    async with write_transaction():
        # Erased meanwhile (another tab, retention): the details must not come back.
        kept = await (
            Registration.update(**values, updated_at=now)
            .where((Registration.id == registration.id) & Registration.erased_at.is_null())
            .returning(Registration.id)
        )
        if not kept:
            raise NotFound(N_("no registration for this link"), code="registration_not_found")
        if changed:
            await record(
                "registration.changed",
                event=registration.event,
                registration_id=registration.id,
                changes=withheld(changed),
                actor=REGISTRANT,
                now=now,
            )
    return await by_token(token)


async def _end(
    registration: RegistrationView,
    status: str,
    message: str | None,
    *,
    now: datetime,
    actor: Actor | None = None,
) -> RegistrationView:
    """Cancel or decline: the seat (if any) goes to the head of the waiting list at once.

    Without `message` nobody is told: erasure writes a mail of its own.
    """
    async with write_transaction():
        await lock_event(registration.event)
        current = (
            await Registration.select(Registration.status, Registration.waitlist_ticket)
            .where(Registration.id == registration.id)
            .first()
        )
        if current is None or current["status"] not in ACTIVE_STATUSES:
            raise Conflict(N_("the registration is no longer active"), code="registration_inactive")
        await record(
            f"registration.{status}",
            event=registration.event,
            registration_id=registration.id,
            changes=_placed(
                current["status"],
                await waitlist_position(registration.event, current["waitlist_ticket"]),
                status,
                None,
            ),
            actor=actor,
            now=now,
        )
        await Registration.update(
            {
                Registration.status: status,
                Registration.waitlist_ticket: None,
                Registration.cancelled_at: now,
                Registration.updated_at: now,
            }
        ).where(Registration.id == registration.id)
        if current["status"] == "confirmed":
            await _release_seat(registration.event)
            await fill_free_seats(registration.event, now=now)
        if message is not None:
            await enqueue(
                message,
                event_id=registration.event,
                registration_id=registration.id,
                recipient=registration.email,
                language=registration.language,
            )
    ended = await _view(Registration.id == registration.id)
    assert ended is not None
    return ended


async def cancel_by_person(token: str, *, now: datetime) -> RegistrationView:
    registration = await by_token(token)
    if registration.status == "cancelled":
        return registration
    event = await get_event_by_id(registration.event)
    if event.is_finished(now):
        raise Conflict(N_("the event is over"), code="event_finished")
    return await _end(
        registration, "cancelled", "registration_cancelled", now=now, actor=REGISTRANT
    )


async def cancel_for_erasure(
    registration: RegistrationView, *, now: datetime, actor: Actor | None = None
) -> None:
    """Free the seat exactly as a cancellation does, but send no cancellation mail."""
    await _end(registration, "cancelled", None, now=now, actor=actor)


async def cancel_by_organiser(
    slug: str, registration_id: int, *, now: datetime
) -> RegistrationView:
    registration = await by_id(slug, registration_id)
    return await _end(registration, "cancelled", "registration_cancelled", now=now)


async def decline(slug: str, registration_id: int, *, now: datetime) -> RegistrationView:
    registration = await by_id(slug, registration_id)
    return await _end(registration, "declined", "registration_declined", now=now)


async def approve(
    slug: str, registration_id: int, *, now: datetime, exceed_capacity: bool = False
) -> RegistrationView:
    """A pending request gets a seat, else a waiting-list place, else a clear refusal."""
    registration = await by_id(slug, registration_id)
    async with write_transaction():
        locked = await lock_event(registration.event)
        current = (
            await Registration.select(Registration.status)
            .where(Registration.id == registration.id)
            .first()
        )
        if current is None or current["status"] != "pending":
            raise Conflict(N_("only pending registrations can be approved"), code="not_pending")
        ticket = None
        if await _claim_seat(registration.event, beyond_capacity=exceed_capacity):
            status, message = "confirmed", "registration_approved"
        elif locked["waitlist"]:
            status, message = "waitlisted", "registration_waitlisted"
            ticket = await _next_ticket(registration.event)
        else:
            raise Conflict(N_("the event is fully booked"), code="event_full")
        await Registration.update(
            {
                Registration.status: status,
                Registration.waitlist_ticket: ticket,
                Registration.updated_at: now,
            }
        ).where(Registration.id == registration.id)
        position = await waitlist_position(registration.event, ticket)
        await record(
            "registration.approved",
            event=registration.event,
            registration_id=registration.id,
            changes=_placed("pending", None, status, position),
            now=now,
        )
        await enqueue(
            message,
            event_id=registration.event,
            registration_id=registration.id,
            recipient=registration.email,
            language=registration.language,
            payload={"waitlist_position": position} if position else None,
        )
    return await by_id(slug, registration_id)


async def move_up(slug: str, registration_id: int, *, now: datetime) -> RegistrationView:
    """Swap places with the person just ahead on the waiting list."""
    registration = await by_id(slug, registration_id)
    async with write_transaction():
        await lock_event(registration.event)
        mine = (
            await Registration.select(Registration.waitlist_ticket)
            .where((Registration.id == registration.id) & (Registration.status == "waitlisted"))
            .first()
        )
        if mine is None:
            raise Conflict(N_("only waitlisted registrations can move up"), code="not_waitlisted")
        ahead = (
            await Registration.select(Registration.id, Registration.waitlist_ticket)
            .where(
                (Registration.event == registration.event)
                & (Registration.status == "waitlisted")
                & (Registration.waitlist_ticket < mine["waitlist_ticket"])
            )
            .order_by(Registration.waitlist_ticket, ascending=False)
            .first()
        )
        if ahead is not None:
            # Through a free ticket: (event, waitlist_ticket) is unique at every moment.
            await Registration.update({Registration.waitlist_ticket: -registration.id}).where(
                Registration.id == registration.id
            )
            await Registration.update(
                {
                    Registration.waitlist_ticket: mine["waitlist_ticket"],
                    Registration.updated_at: now,
                }
            ).where(Registration.id == ahead["id"])
            await Registration.update(
                {
                    Registration.waitlist_ticket: ahead["waitlist_ticket"],
                    Registration.updated_at: now,
                }
            ).where(Registration.id == registration.id)
            after = await waitlist_position(registration.event, ahead["waitlist_ticket"])
            assert after is not None
            await record(
                "registration.moved_up",
                event=registration.event,
                registration_id=registration.id,
                changes={"waitlist_position": [after + 1, after]},
                now=now,
            )
    return await by_id(slug, registration_id)


async def promote(
    slug: str, registration_id: int, *, now: datetime, exceed_capacity: bool = False
) -> RegistrationView:
    """The organiser gives a waitlisted person a seat now, out of turn.

    A full event refuses unless the organiser says to go beyond capacity: the list's order
    is first come, first served, so skipping it is a deliberate decision, never a default.
    """
    registration = await by_id(slug, registration_id)
    async with write_transaction():
        await lock_event(registration.event)
        current = (
            await Registration.select(Registration.status)
            .where(Registration.id == registration.id)
            .first()
        )
        if current is None or current["status"] != "waitlisted":
            raise Conflict(
                N_("only people on the waiting list can be given a seat"), code="not_waitlisted"
            )
        if not await _claim_seat(registration.event, beyond_capacity=exceed_capacity):
            raise Conflict(N_("the event is fully booked"), code="event_full")
        await record(
            "registration.promoted",
            event=registration.event,
            registration_id=registration.id,
            changes=_placed("waitlisted", registration.waitlist_position, "confirmed", None),
            now=now,
        )
        await Registration.update(
            {
                Registration.status: "confirmed",
                Registration.waitlist_ticket: None,
                Registration.updated_at: now,
            }
        ).where(Registration.id == registration.id)
        await enqueue(
            "registration_promoted",
            event_id=registration.event,
            registration_id=registration.id,
            recipient=registration.email,
            language=registration.language,
        )
    return await by_id(slug, registration_id)


async def confirm_address(token: str, *, now: datetime) -> RegistrationView:
    """Double opt-in: the person proves the address is theirs; the held place becomes theirs.

    Only now does the status mail go out (with the invite and ticket for a seat). A
    waitlisted person passed over while unconfirmed gets a seat at once if one is free.
    Confirming twice changes nothing and mails nothing.
    """
    registration = await by_token(token)
    held_until = registration.unconfirmed_until
    if registration.is_active and held_until is None:
        return registration  # confirmed already
    if registration.is_active and held_until is not None and now >= held_until:
        # The worker has not come round yet: the hold has run out all the same.
        await release_expired_holds(now, only=registration.id)
    async with write_transaction():
        await lock_event(registration.event)
        confirmed = await (
            Registration.update(
                {
                    Registration.unconfirmed_until: None,
                    Registration.address_confirmed_at: now,
                    Registration.updated_at: now,
                }
            )
            .where(
                (Registration.id == registration.id)
                & Registration.unconfirmed_until.is_not_null()
                & Registration.status.is_in(list(ACTIVE_STATUSES))
            )
            .returning(Registration.status, Registration.waitlist_ticket)
        )
        if not confirmed:
            if not registration.awaits_address_confirmation:
                raise Conflict(
                    N_("the registration is no longer active"), code="registration_inactive"
                )
            raise Conflict(
                N_("the time to confirm has run out; please register again"),
                code="confirmation_expired",
            )
        # Read under the lock: an organiser may have given a seat since `registration` was read.
        status, ticket = confirmed[0]["status"], confirmed[0]["waitlist_ticket"]
        await record(
            "registration.address_confirmed",
            event=registration.event,
            registration_id=registration.id,
            actor=REGISTRANT,
            now=now,
        )
        promoted_now = False
        if status == "waitlisted" and await fill_free_seats(registration.event, now=now):
            current = await _view(Registration.id == registration.id)
            assert current is not None
            # The promotion queued its own mail, with the invite.
            promoted_now = current.status == "confirmed"
        if not promoted_now:
            position = await waitlist_position(registration.event, ticket)
            await enqueue(
                f"registration_{status}",
                event_id=registration.event,
                registration_id=registration.id,
                recipient=registration.email,
                language=registration.language,
                payload={"waitlist_position": position} if status == "waitlisted" else None,
            )
    return await by_token(token)


async def release_expired_holds(now: datetime, *, only: int | None = None) -> int:
    """Cancel the places whose address was not confirmed in time; how many.

    Like a cancellation, a freed seat goes to the head of the waiting list in the same
    transaction. No mail: the address never confirmed that it wants any.
    """
    due = (
        Registration.unconfirmed_until.is_not_null()
        & (Registration.unconfirmed_until <= now)
        & Registration.status.is_in(list(ACTIVE_STATUSES))
    )
    if only is not None:
        due &= Registration.id == only
    released = 0
    for row in await Registration.select(Registration.id, Registration.event).where(due):
        async with write_transaction():
            await lock_event(row["event"])
            # Read again under the lock: the person may have confirmed in the meantime.
            current = (
                await Registration.select(Registration.status)
                .where(due & (Registration.id == row["id"]))
                .first()
            )
            if current is None:
                continue
            await record(
                "registration.hold_released",
                event=row["event"],
                registration_id=row["id"],
                changes={"status": [current["status"], "cancelled"]},
                actor=SYSTEM,
                now=now,
            )
            await Registration.update(
                {
                    Registration.status: "cancelled",
                    Registration.waitlist_ticket: None,
                    Registration.cancelled_at: now,
                    Registration.updated_at: now,
                }
            ).where(Registration.id == row["id"])
            if current["status"] == "confirmed":
                await _release_seat(row["event"])
                await fill_free_seats(row["event"], now=now)
            released += 1
    return released
