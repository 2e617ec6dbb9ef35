"""Checking people in at the door: by QR code, by hand, undo, and walk-ins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from treffpunkt.attendance.codes import read_code
from treffpunkt.audit.services import record
from treffpunkt.db import as_datetime, write_transaction
from treffpunkt.errors import N_, Conflict, Invalid, NotFound
from treffpunkt.events.services import EventView, get_event, search_words
from treffpunkt.events.tables import Event
from treffpunkt.registrations.schemas import ManualRegistration
from treffpunkt.registrations.services import add_by_organiser
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings

REFUSED_STATUSES = {
    "cancelled": N_("this registration has been cancelled"),
    "declined": N_("this registration was declined"),
    "waitlisted": N_("this person is on the waiting list and has no seat"),
    "pending": N_("this registration still awaits approval"),
}


@dataclass(frozen=True)
class CheckIn:
    registration_id: int
    name: str
    organisation: str
    status: str
    checked_in_at: datetime
    already_checked_in: bool


@dataclass(frozen=True)
class Door:
    """What the door needs of an event: no sectors, no texts."""

    id: int
    status: str
    starts_at: datetime


async def _door(slug: str) -> Door:
    rows = await Event.raw("SELECT id, status, starts_at FROM event WHERE slug = {}", slug)
    if not rows:
        raise NotFound(N_("no event %(slug)s"), slug=slug, code="event_not_found")
    return Door(rows[0]["id"], rows[0]["status"], as_datetime(rows[0]["starts_at"]))


def _refuse_before_opening(event: Door | EventView, now: datetime) -> None:
    if event.status == "cancelled":
        raise Conflict(N_("the event has been cancelled"), code="event_cancelled")
    opens = event.starts_at - timedelta(hours=get_settings().check_in_opens_hours)
    if now < opens:
        raise Conflict(
            N_("check-in opens %(hours)d hours before the start"),
            hours=get_settings().check_in_opens_hours,
            code="check_in_not_open",
        )


# The first scan sets the time; later ones keep it (and learn it was not theirs). One
# statement checks everything the door must, so that however many scans race, the row lock
# orders them; when it changes nothing, the careful path below says why.
CHECK_IN = """UPDATE registration SET checked_in_at = COALESCE(checked_in_at, {})
WHERE id = {} AND status = 'confirmed' AND event = (
    SELECT id FROM event WHERE slug = {} AND status <> 'cancelled' AND starts_at <= {})
RETURNING id, event, name, organisation, status, checked_in_at"""


async def _check_in(
    slug: str, registration_id: int, *, now: datetime, ticket_event: int | None = None
) -> CheckIn:
    opens_by = now + timedelta(hours=get_settings().check_in_opens_hours)
    async with write_transaction():
        rows = await Registration.raw(CHECK_IN, now, registration_id, slug, opens_by)
        if rows and as_datetime(rows[0]["checked_in_at"]) == now:
            await record(
                "registration.checked_in",
                event=rows[0]["event"],
                registration_id=registration_id,
                changes={"checked_in_at": [None, now]},
                now=now,
            )
    if not rows:
        # In the order the person at the door needs to hear it.
        door = await _door(slug)
        if ticket_event is not None and ticket_event != door.id:
            raise Conflict(N_("this ticket is for another event"), code="wrong_event")
        _refuse_before_opening(door, now)
        raise await _refusal(door.id, registration_id)
    row = rows[0]
    checked_in_at = as_datetime(row["checked_in_at"])
    return CheckIn(
        registration_id=row["id"],
        name=row["name"],
        organisation=row["organisation"],
        status=row["status"],
        checked_in_at=checked_in_at,
        already_checked_in=checked_in_at != now,
    )


async def _refusal(event_id: int, registration_id: int) -> NotFound | Conflict:
    """Why a registration cannot be checked in: it is not this event's, or it has no seat."""
    row = (
        await Registration.select(Registration.status)
        .where((Registration.id == registration_id) & (Registration.event == event_id))
        .first()
    )
    if row is None:
        return NotFound(N_("no such registration for this event"), code="registration_not_found")
    status = row["status"]
    return Conflict(REFUSED_STATUSES[status], code=f"registration_{status}")


async def check_in_by_code(slug: str, code: str, *, now: datetime) -> CheckIn:
    read = read_code(code)
    if read is None:
        await _door(slug)  # an unknown event is the first thing to say
        raise Invalid(N_("this is not a Treffpunkt ticket"), code="invalid_code")
    return await _check_in(slug, read.registration_id, now=now, ticket_event=read.event_id)


async def check_in_by_id(slug: str, registration_id: int, *, now: datetime) -> CheckIn:
    return await _check_in(slug, registration_id, now=now)


async def undo_check_in(slug: str, registration_id: int) -> None:
    event = await get_event(slug)
    which = (Registration.id == registration_id) & (Registration.event == event.id)
    async with write_transaction():
        before = await Registration.select(Registration.checked_in_at).where(which).first()
        if before is None:
            raise NotFound(N_("no such registration for this event"), code="registration_not_found")
        await Registration.update({Registration.checked_in_at: None}).where(which)
        if before["checked_in_at"] is not None:
            await record(
                "registration.check_in_undone",
                event=event,
                registration_id=registration_id,
                changes={"checked_in_at": [before["checked_in_at"], None]},
            )


async def walk_in(slug: str, person: ManualRegistration, *, now: datetime) -> CheckIn:
    """Someone registers at the door and walks straight in."""
    event = await get_event(slug)
    _refuse_before_opening(event, now)
    async with write_transaction():
        try:
            outcome = await add_by_organiser(slug, person, now=now, needs_seat=True)
        except Conflict as refused:
            if refused.code != "event_full":
                raise
            raise Conflict(
                N_("the event is full: add the person beyond capacity to let them in"),
                code="event_full",
            ) from refused
        return await _check_in(slug, outcome.registration_id, now=now)


@dataclass(frozen=True)
class Counters:
    checked_in: int
    confirmed: int


async def counters(event_id: int) -> Counters:
    confirmed = await Registration.count().where(
        (Registration.event == event_id) & (Registration.status == "confirmed")
    )
    checked_in = await Registration.count().where(
        (Registration.event == event_id)
        & (Registration.status == "confirmed")
        & Registration.checked_in_at.is_not_null()
    )
    return Counters(checked_in=int(checked_in), confirmed=int(confirmed))


async def find_people(event_id: int, q: str, limit: int = 20) -> list[dict[str, object]]:
    """Confirmed people whose name, email or organisation contain every word of `q`."""
    words = search_words(q)
    if not words:
        return []
    condition = (Registration.event == event_id) & (Registration.status == "confirmed")
    for word in words:
        condition &= Registration.search_text.like(f"%{word}%")
    rows = (
        await Registration.select(
            Registration.id,
            Registration.name,
            Registration.organisation,
            Registration.checked_in_at,
        )
        .where(condition)
        .order_by(Registration.name)
        .limit(limit)
    )
    return list(rows)
