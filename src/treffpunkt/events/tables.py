from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from treffpunkt.accounts.tables import Organiser


class Region(Table, tablename="region"):
    """Where an event is for: a German Land by ISO 3166-2 code, or DE for nationwide/online."""

    code = Varchar(length=12, primary_key=True)
    name_de = Varchar(length=100)
    name_en = Varchar(length=100)
    position = Integer(default=0)


class Sector(Table, tablename="sector"):
    """A topic area such as energy or mobility."""

    code = Varchar(length=40, primary_key=True)
    name_de = Varchar(length=100)
    name_en = Varchar(length=100)
    position = Integer(default=0)


class Event(Table, tablename="event"):
    """One workshop or networking meeting."""

    id: Serial

    slug = Varchar(length=120, unique=True, index=True)
    # The calendar UID never changes; SEQUENCE rises with every change attendees must see.
    calendar_uid = Varchar(length=200, unique=True)
    sequence = Integer(default=0)
    title = Varchar(length=200)
    summary = Varchar(length=500, default="")
    description = Text(default="")
    kind = Varchar(length=40)
    format = Varchar(length=20)
    region = ForeignKey(Region, on_delete=OnDelete.restrict, index=True)
    locality = Varchar(length=120, default="")
    venue_name = Varchar(length=200, default="")
    venue_street = Varchar(length=200, default="")
    venue_postal_code = Varchar(length=20, default="")
    venue_city = Varchar(length=120, default="")
    online_url = Varchar(length=500, default="")
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz(index=True)
    timezone = Varchar(length=64, default="Europe/Berlin")
    capacity = Integer(null=True, default=None)
    # Kept in step with confirmed registrations by a guarded UPDATE, never by counting.
    seats_taken = Integer(default=0)
    waitlist = Boolean(default=True)
    requires_approval = Boolean(default=False)
    # Double opt-in: a public registration holds its place only once its address is confirmed.
    requires_address_confirmation = Boolean(default=False)
    registration_opens_at = Timestamptz(null=True, default=None)
    registration_closes_at = Timestamptz(null=True, default=None)
    status = Varchar(length=20, default="draft", index=True)
    cancellation_reason = Text(default="")
    contact_name = Varchar(length=200, default="")
    contact_email = Varchar(length=254, default="")
    # Case-folded title, summary, description and place, so search behaves alike on both engines.
    search_text = Text(default="")
    owner = ForeignKey(Organiser, on_delete=OnDelete.restrict, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)


class EventSector(Table, tablename="event_sector"):
    """An event's sector; (event, sector) is unique by an index made in a migration."""

    id: Serial

    event = ForeignKey(Event, on_delete=OnDelete.cascade, index=True)
    sector = ForeignKey(Sector, on_delete=OnDelete.restrict, index=True)


class EventOrganiser(Table, tablename="event_organiser"):
    """A co-organiser, who manages the event like its owner; (event, organiser) is unique."""

    id: Serial

    event = ForeignKey(Event, on_delete=OnDelete.cascade, index=True)
    organiser = ForeignKey(Organiser, on_delete=OnDelete.cascade, index=True)
