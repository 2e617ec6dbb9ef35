"""Scheduling rules: drafts, edits, publication, rescheduling, cancellation, the catalogue."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

import msgspec
from piccolo.columns.combination import And
from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Count, Max

from treffpunkt.accounts.services import CurrentOrganiser, organiser_by_email
from treffpunkt.addresses import checked_address, mailable
from treffpunkt.audit.services import difference, record
from treffpunkt.db import as_datetime, is_postgres, write_transaction
from treffpunkt.errors import N_, Conflict, ErrorCollector, NotFound
from treffpunkt.events.schemas import EventCreate, EventUpdate, Venue
from treffpunkt.events.tables import Event, EventOrganiser, EventSector, Region, Sector
from treffpunkt.settings import get_settings
from treffpunkt.text import fold, searchable, slugify

PUBLIC_STATUSES = ("published", "cancelled")
# Long texts: the history says that they changed, not what they said before and after.
UNQUOTED_COLUMNS = frozenset({"summary", "description", "search_text"})
# Columns of what an invite and its mail show: a change of one raises SEQUENCE and updates
# every registrant's invite.
INVITE_COLUMNS = frozenset(
    {
        "title",
        "summary",
        "description",
        "format",
        "venue_name",
        "venue_street",
        "venue_postal_code",
        "venue_city",
        "online_url",
        "starts_at",
        "ends_at",
        "timezone",
        "contact_name",
        "contact_email",
    }
)
MAX_SEARCH_WORDS = 8
_SLUG_ALPHABET = "".join(c for c in string.ascii_lowercase + string.digits if c not in "ilo01")


@dataclass(frozen=True)
class EventView:
    """One event as services hand it out: its stored state plus its sectors."""

    id: int
    slug: str
    calendar_uid: str
    sequence: int
    title: str
    summary: str
    description: str
    kind: str
    format: str
    region: str
    locality: str
    venue: Venue | None
    online_url: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    capacity: int | None
    seats_taken: int
    waitlist: bool
    requires_approval: bool
    requires_address_confirmation: bool
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    status: str
    cancellation_reason: str
    contact_name: str
    contact_email: str
    owner: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    cancelled_at: datetime | None
    sectors: list[str] = field(default_factory=list)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def place(self) -> str:
        """The venue as one line, and/or "online"; what a calendar's LOCATION says."""
        parts = []
        if self.venue:
            street = f"{self.venue.postal_code} {self.venue.city}".strip()
            parts.append(", ".join(p for p in (self.venue.name, self.venue.street, street) if p))
        if self.format in ("online", "hybrid"):
            parts.append("online")
        return " / ".join(parts)

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.seats_taken, 0)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def is_finished(self, now: datetime) -> bool:
        return self.ends_at <= now

    def registration_is_open(self, now: datetime) -> bool:
        return (
            self.status == "published"
            and not self.is_finished(now)
            and (self.registration_opens_at is None or self.registration_opens_at <= now)
            and (self.registration_closes_at is None or now < self.registration_closes_at)
        )


@dataclass(frozen=True)
class CatalogueQuery:
    q: str = ""
    region: str | None = None
    sector: str | None = None
    kind: str | None = None
    format: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    include_past: bool = False
    limit: int = 20
    offset: int = 0


_EVENT_COLUMNS = [f.name for f in fields(EventView) if f.name not in {"venue", "sectors"}]
_VENUE_COLUMNS = {
    "name": "venue_name",
    "street": "venue_street",
    "postal_code": "venue_postal_code",
    "city": "venue_city",
}


def _view(row: dict[str, Any], sectors: list[str]) -> EventView:
    venue_values = {key: row[column] for key, column in _VENUE_COLUMNS.items()}
    venue = Venue(**venue_values) if any(venue_values.values()) else None
    return EventView(
        **{name: row[name] for name in _EVENT_COLUMNS}, venue=venue, sectors=sorted(sectors)
    )


async def _sectors_of(event_ids: list[int]) -> dict[int, list[str]]:
    by_event: dict[int, list[str]] = {event_id: [] for event_id in event_ids}
    if event_ids:
        rows = await EventSector.select(EventSector.event, EventSector.sector).where(
            EventSector.event.is_in(event_ids)
        )
        for row in rows:
            by_event[row["event"]].append(row["sector"])
    return by_event


async def _views(rows: list[dict[str, Any]]) -> list[EventView]:
    sectors = await _sectors_of([row["id"] for row in rows])
    return [_view(row, sectors[row["id"]]) for row in rows]


async def event_capacity(slug: str) -> int | None:
    """The event's capacity in one small query, on every public registration: None when the
    event has none or does not exist (the registration then fails on its own)."""
    row = await Event.select(Event.capacity).where(Event.slug == slug).first()
    if row is None or row["capacity"] is None:
        return None
    return int(row["capacity"])


async def get_event(slug: str, *, lock: bool = False) -> EventView:
    """The event; with `lock`, inside a write_transaction, no one else changes it until commit.

    On SQLite the transaction's single writer is the lock; PostgreSQL locks the row.
    """
    query = Event.select().where(Event.slug == slug)
    if lock and is_postgres():
        query = query.lock_rows("UPDATE")
    row = await query.first()
    if row is None:
        raise NotFound(N_("no event %(slug)s"), slug=slug, code="event_not_found")
    return (await _views([row]))[0]


async def get_event_by_id(event_id: int) -> EventView:
    row = await Event.select().where(Event.id == event_id).first()
    if row is None:
        raise NotFound(N_("the event no longer exists"), code="event_not_found")
    return (await _views([row]))[0]


async def get_public_event(slug: str, viewer: CurrentOrganiser | None = None) -> EventView:
    """Drafts are visible only to those who manage them; to everyone else they do not exist."""
    event = await get_event(slug)
    if event.status == "draft" and not (viewer and await _manages(event, viewer)):
        raise NotFound(N_("no event %(slug)s"), slug=slug, code="event_not_found")
    return event


async def _manages(event: EventView, organiser: CurrentOrganiser) -> bool:
    if organiser.is_admin or event.owner == organiser.id:
        return True
    return bool(
        await EventOrganiser.exists().where(
            (EventOrganiser.event == event.id) & (EventOrganiser.organiser == organiser.id)
        )
    )


MANAGERS = """SELECT e.owner, EXISTS (SELECT 1 FROM event_organiser c
    WHERE c.event = e.id AND c.organiser = {}) AS co_organises
FROM event e WHERE e.slug = {}"""


async def may_manage(slug: str, organiser: CurrentOrganiser) -> bool | None:
    """Whether the organiser manages the event; None when there is no such event."""
    rows = await Event.raw(MANAGERS, organiser.id, slug)
    if not rows:
        return None
    row = rows[0]
    return organiser.is_admin or row["owner"] == organiser.id or bool(row["co_organises"])


@cache
def _timezone_names() -> frozenset[str]:
    # Canonical names only: "Europe" (a folder) and "right/…" (leap-second variants) are not.
    return frozenset(
        name for name in available_timezones() if not name.startswith(("right/", "posix"))
    )


def _is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


async def _check(data: EventCreate) -> None:
    """Every scheduling rule at once, so a form can show all problems together."""
    problems = ErrorCollector()
    if not data.title.strip():
        problems.add("title", N_("must not be empty"))
    if data.ends_at <= data.starts_at:
        problems.add("ends_at", N_("must be after starts_at"))
    if data.timezone not in _timezone_names():
        problems.add(
            "timezone",
            N_("%(value)s is not an IANA time zone such as Europe/Berlin"),
            value=data.timezone,
        )
    if data.region not in {choice.code for choice in await regions()}:
        problems.add("region", N_("unknown region %(value)s"), value=data.region)
    known = {choice.code for choice in await sectors()}
    unknown = sorted(set(data.sectors) - known)
    if unknown:
        problems.add("sectors", N_("unknown sectors: %(value)s"), value=", ".join(unknown))
    if len(set(data.sectors)) != len(data.sectors):
        problems.add("sectors", N_("lists a sector twice"))
    if data.format in {"online", "hybrid"} and not data.online_url:
        problems.add("online_url", N_("is required for online and hybrid events"))
    if data.online_url and not _is_web_url(data.online_url):
        problems.add("online_url", N_("must be an http or https address"))
    if data.format in {"in_person", "hybrid"} and not (
        data.venue and data.venue.name.strip() and data.venue.city.strip()
    ):
        problems.add(
            "venue", N_("needs at least a name and a city for in-person and hybrid events")
        )
    opens, closes = data.registration_opens_at, data.registration_closes_at
    if closes is not None and closes > data.ends_at:
        problems.add("registration_closes_at", N_("must be no later than the event ends"))
    if opens is not None and closes is not None and opens >= closes:
        problems.add("registration_opens_at", N_("must be before registration_closes_at"))
    if opens is not None and opens >= data.ends_at:
        problems.add("registration_opens_at", N_("must be before the event ends"))
    if data.contact_email:
        checked_address(data.contact_email, "contact_email", problems)
    problems.raise_if_any()


async def _search_text(data: EventCreate) -> str:
    venue = data.venue or Venue()
    parts = [data.title, data.summary, data.description, data.locality, venue.name, venue.city]
    for region in await regions():
        if region.code == data.region:
            parts += [region.name_de, region.name_en]
    return searchable(" ".join(p for p in parts if p))


async def _columns(data: EventCreate) -> dict[str, Any]:
    venue = data.venue or Venue()
    return {
        "title": data.title.strip(),
        "summary": data.summary.strip(),
        "description": data.description,
        "kind": data.kind,
        "format": data.format,
        "region": data.region,
        "locality": data.locality.strip(),
        **{column: getattr(venue, key).strip() for key, column in _VENUE_COLUMNS.items()},
        "online_url": data.online_url.strip(),
        "starts_at": _utc(data.starts_at),
        "ends_at": _utc(data.ends_at),
        "timezone": data.timezone,
        "capacity": data.capacity,
        "waitlist": data.waitlist,
        "requires_approval": data.requires_approval,
        "requires_address_confirmation": data.requires_address_confirmation,
        "registration_opens_at": _utc(data.registration_opens_at),
        "registration_closes_at": _utc(data.registration_closes_at),
        "contact_name": data.contact_name.strip(),
        "contact_email": mailable(data.contact_email) or data.contact_email,
        "search_text": await _search_text(data),
    }


def _new_slug(title: str) -> str:
    suffix = "".join(secrets.choice(_SLUG_ALPHABET) for _ in range(6))
    return f"{slugify(title) or 'event'}-{suffix}"


def _new_calendar_uid() -> str:
    host = urlsplit(get_settings().base_url).hostname or "treffpunkt"
    return f"event-{secrets.token_hex(16)}@{host}"


async def create_event(data: EventCreate, owner: CurrentOrganiser, *, now: datetime) -> EventView:
    await _check(data)
    columns = await _columns(data)
    async with write_transaction():
        rows = await Event.insert(
            Event(
                **columns,
                slug=_new_slug(data.title),
                calendar_uid=_new_calendar_uid(),
                owner=owner.id,
                created_at=now,
                updated_at=now,
            )
        ).returning(Event.id, Event.slug)
        await EventSector.insert(
            *[EventSector(event=rows[0]["id"], sector=code) for code in data.sectors]
        )
        await record("event.created", event=rows[0]["id"], now=now)
    return await get_event(rows[0]["slug"])


def _as_create(event: EventView) -> EventCreate:
    return EventCreate(
        **{f: getattr(event, f) for f in EventCreate.__struct_fields__ if f != "sectors"},
        sectors=list(event.sectors),
    )


def _refuse_if_cancelled(event: EventView) -> None:
    if event.status == "cancelled":
        raise Conflict(
            N_("the event is cancelled and can no longer change"), code="event_cancelled"
        )


def _refuse_below_taken(event: EventView, capacity: int | None) -> None:
    if capacity is not None and capacity < event.seats_taken:
        raise Conflict(
            N_("the capacity cannot be lower than the %(taken)s seats already taken"),
            taken=event.seats_taken,
            code="capacity_below_taken",
        )


@dataclass(frozen=True)
class EventEdit:
    """What one edit did, for the use cases that tell registrants about it."""

    before: EventView
    after: EventView
    # A published event changed something its invites show (SEQUENCE was raised).
    shown: bool

    @property
    def adds_seats(self) -> bool:
        """Whether the capacity change frees seats (None is unlimited)."""
        before, after = self.before.capacity, self.after.capacity
        return before is not None and (after is None or after > before)


async def update_event(slug: str, changes: EventUpdate, *, now: datetime) -> EventEdit:
    """Apply a partial change to the event as it is now: only what was sent and differs changes.

    The event stays locked from reading it to commit, so two organisers' edits cannot undo
    each other. Once the event is public, a change of anything an invite shows raises SEQUENCE.
    Inside a caller's transaction it joins it, so the caller can tell registrants atomically.
    """
    sent = {
        name: value
        for name, value in msgspec.structs.asdict(changes).items()
        if value is not msgspec.UNSET
    }
    async with write_transaction():
        event = await get_event(slug, lock=True)
        _refuse_if_cancelled(event)
        before = _as_create(event)
        after = msgspec.structs.replace(before, **sent)
        await _check(after)
        stored, wanted = await _columns(before), await _columns(after)
        changed = {name: value for name, value in wanted.items() if value != stored[name]}
        new_sectors = set(after.sectors) != set(event.sectors)
        if not changed and not new_sectors:
            return EventEdit(before=event, after=event, shown=False)
        if "capacity" in changed:
            _refuse_below_taken(event, after.capacity)
        shown = event.status == "published" and not INVITE_COLUMNS.isdisjoint(changed)
        sequence = event.sequence + 1 if shown else event.sequence
        await Event.update(**changed, sequence=sequence, updated_at=now).where(Event.id == event.id)
        if new_sectors:
            await EventSector.delete().where(EventSector.event == event.id)
            await EventSector.insert(
                *[EventSector(event=event.id, sector=code) for code in after.sectors]
            )
        await record(
            "event.changed",
            event=event,
            changes=_edit_changes(stored, changed, event, after),
            now=now,
        )
        return EventEdit(before=event, after=await get_event(slug), shown=shown)


def _edit_changes(
    stored: dict[str, Any], changed: dict[str, Any], event: EventView, after: EventCreate
) -> dict[str, Any]:
    """{column: [before, after]}, long texts only named, sectors as sorted lists."""
    changes: dict[str, Any] = difference(stored, changed)
    for name in UNQUOTED_COLUMNS & changes.keys():
        changes[name] = None
    changes.pop("search_text", None)
    changes.update(difference({"sectors": set(event.sectors)}, {"sectors": set(after.sectors)}))
    return changes


async def publish_event(slug: str, *, now: datetime) -> EventView:
    async with write_transaction():
        event = await get_event(slug, lock=True)
        _refuse_if_cancelled(event)
        if event.status == "published":
            return event
        if event.is_finished(now):
            raise Conflict(N_("the event is over and cannot be published"), code="event_finished")
        await _check(_as_create(event))
        await Event.update(
            {Event.status: "published", Event.published_at: now, Event.updated_at: now}
        ).where(Event.id == event.id)
        await record(
            "event.published", event=event, changes={"status": [event.status, "published"]}, now=now
        )
    return await get_event(slug)


async def cancel_event(slug: str, reason: str, *, now: datetime) -> EventView:
    """Call the event off; inside a caller's transaction it joins it, so registrants hear of it."""
    if not reason.strip():
        problems = ErrorCollector()
        problems.add("reason", N_("must not be empty"))
        problems.raise_if_any()
    async with write_transaction():
        event = await get_event(slug, lock=True)
        _refuse_if_cancelled(event)
        if event.status == "draft":
            raise Conflict(
                N_("a draft is not public: delete it instead of cancelling it"),
                code="event_not_published",
            )
        await Event.update(
            {
                Event.status: "cancelled",
                Event.cancellation_reason: reason.strip(),
                Event.cancelled_at: now,
                Event.updated_at: now,
                Event.sequence: event.sequence + 1,
            }
        ).where(Event.id == event.id)
        await record(
            "event.cancelled",
            event=event,
            changes={"status": [event.status, "cancelled"], "reason": [None, reason.strip()]},
            now=now,
        )
        return await get_event(slug)


async def delete_draft(slug: str) -> None:
    async with write_transaction():
        event = await get_event(slug, lock=True)
        if event.status != "draft":
            raise Conflict(
                N_("only drafts can be deleted; cancel a published event instead"),
                code="event_not_draft",
            )
        await record("event.deleted", event=event)
        await Event.delete().where(Event.id == event.id)


def _catalogue_filter(query: CatalogueQuery, now: datetime) -> Combinable:
    conditions: list[Combinable] = [Event.status.is_in(list(PUBLIC_STATUSES))]
    if not query.include_past:
        conditions.append(Event.ends_at > now)
    if query.region:
        conditions.append(Event.region == query.region)
    if query.kind:
        conditions.append(Event.kind == query.kind)
    if query.format:
        conditions.append(Event.format == query.format)
    if query.starts_after:
        conditions.append(Event.starts_at >= query.starts_after.astimezone(UTC))
    if query.starts_before:
        conditions.append(Event.starts_at < query.starts_before.astimezone(UTC))
    if query.sector:
        conditions.append(
            Event.id.is_in(
                EventSector.select(EventSector.event).where(EventSector.sector == query.sector)
            )
        )
    for word in search_words(query.q):
        conditions.append(Event.search_text.like(f"%{word}%"))
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = And(combined, condition)
    return combined


def search_words(q: str) -> list[str]:
    """The folded words of a search, without LIKE wildcards a person cannot mean.

    A backslash splits words too: PostgreSQL's LIKE reads it as an escape, SQLite's does not.
    """
    return [w for w in re.split(r"[\s%_\\]+", fold(q)) if w][:MAX_SEARCH_WORDS]


async def list_events(query: CatalogueQuery, *, now: datetime) -> tuple[list[EventView], int]:
    """One page of the public catalogue, soonest first, and how many match in all."""
    condition = _catalogue_filter(query, now)
    rows = (
        await Event.select()
        .where(condition)
        .order_by(Event.starts_at, Event.id)
        .limit(query.limit)
        .offset(query.offset)
    )
    if rows and len(rows) < query.limit:
        total = query.offset + len(rows)  # the last page: no need to count
    else:
        total = await Event.count().where(condition)
    return await _views(rows), total


async def catalogue_fingerprint(
    query: CatalogueQuery, *, now: datetime
) -> tuple[str, datetime | None]:
    """What changes whenever the feed for `query` would, and its newest change.

    One aggregate over the matching rows: cheap enough to answer 304s before any rendering.
    """
    condition = _catalogue_filter(query, now)
    row = (
        await Event.select(Count(Event.id, alias="events"), Max(Event.updated_at, alias="latest"))
        .where(condition)
        .first()
    )
    assert row is not None
    # An event can also leave the set (moved elsewhere, or over): any public change, and the
    # latest end already passed, count as changes of this feed too.
    left = (
        await Event.select(
            Max(Event.updated_at, alias="changed"), Max(Event.ends_at, alias="ended")
        )
        .where(Event.status.is_in(list(PUBLIC_STATUSES)) & (Event.ends_at <= now))
        .first()
    )
    moved = await Event.select(Max(Event.updated_at, alias="changed")).first()
    moments = [row["latest"], moved["changed"] if moved else None, left["ended"] if left else None]
    latest = max((as_datetime(m) for m in moments if m is not None), default=None)
    # The ETag needs no such caution: the count and the newest change of the set say it all.
    return f"{row['events']}|{row['latest']}", latest


async def events_managed_by(organiser: CurrentOrganiser) -> list[EventView]:
    query = Event.select().order_by(Event.starts_at, Event.id)
    if not organiser.is_admin:
        query = query.where(
            (Event.owner == organiser.id)
            | Event.id.is_in(
                EventOrganiser.select(EventOrganiser.event).where(
                    EventOrganiser.organiser == organiser.id
                )
            )
        )
    return await _views(await query)


async def add_co_organiser(slug: str, email: str) -> list[str]:
    event = await get_event(slug)
    problems = ErrorCollector()
    email = checked_address(email, "email", problems)
    problems.raise_if_any()
    organiser = await organiser_by_email(email)
    if organiser is None:
        raise NotFound(
            N_("no active organiser with the email %(email)s"),
            email=email,
            code="organiser_not_found",
        )
    async with write_transaction():
        if organiser.id != event.owner and not await EventOrganiser.exists().where(
            (EventOrganiser.event == event.id) & (EventOrganiser.organiser == organiser.id)
        ):
            await EventOrganiser.insert(EventOrganiser(event=event.id, organiser=organiser.id))
            await record("event.co_organiser_added", event=event, account_id=organiser.id)
    return await co_organisers(slug)


async def remove_co_organiser(slug: str, email: str) -> list[str]:
    event = await get_event(slug)
    organiser = await organiser_by_email(email)
    if organiser is not None:
        async with write_transaction():
            removed = (
                await EventOrganiser.delete()
                .where(
                    (EventOrganiser.event == event.id) & (EventOrganiser.organiser == organiser.id)
                )
                .returning(EventOrganiser.id)
            )
            if removed:
                await record("event.co_organiser_removed", event=event, account_id=organiser.id)
    return await co_organisers(slug)


async def co_organisers(slug: str) -> list[str]:
    rows = (
        await EventOrganiser.select(EventOrganiser.organiser.email.as_alias("email"))
        .where(EventOrganiser.event.slug == slug)
        .order_by(EventOrganiser.organiser.email)
    )
    return [row["email"] for row in rows]


@dataclass(frozen=True)
class Choice:
    code: str
    name_de: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_de if language == "de" else self.name_en


# Regions and sectors are seed data that only migrations change: read once per process.
_choices: dict[str, list[Choice]] = {}


async def _seed_choices(table: type[Region] | type[Sector]) -> list[Choice]:
    name = table._meta.tablename
    if name not in _choices:
        rows = await table.select(table.code, table.name_de, table.name_en).order_by(table.position)
        _choices[name] = [Choice(**row) for row in rows]
    return _choices[name]


async def regions() -> list[Choice]:
    return await _seed_choices(Region)


async def sectors() -> list[Choice]:
    return await _seed_choices(Sector)


def copied_fields(event: EventView, **changes: Any) -> EventCreate:
    """The event's fields for a new event (a duplicate, a date of a series), with `changes`."""
    return msgspec.structs.replace(_as_create(event), **changes)


async def recently_published(
    query: CatalogueQuery, *, now: datetime, limit: int
) -> list[EventView]:
    """The catalogue's published events matching `query`, newest publication first."""
    condition = And(_catalogue_filter(query, now), Event.status == "published")
    rows = (
        await Event.select()
        .where(condition)
        .order_by(Event.published_at, Event.id, ascending=False)
        .limit(limit)
    )
    return await _views(rows)


async def published_pages(*, ended_after: datetime, limit: int) -> list[dict[str, Any]]:
    """Slug and last change of each published event that ended after `ended_after`."""
    return list(
        await Event.select(Event.slug, Event.updated_at)
        .where((Event.status == "published") & (Event.ends_at > ended_after))
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
