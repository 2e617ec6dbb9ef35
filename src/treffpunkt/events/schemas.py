"""The event API's shapes: what clients send and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from treffpunkt.addresses import EmailAddress
from treffpunkt.inputs import Line, Text

Kind = Literal["workshop", "networking_meeting"]
Format = Literal["in_person", "online", "hybrid"]
Status = Literal["draft", "published", "cancelled"]

Title = Annotated[Line, Meta(min_length=1, max_length=200)]
Summary = Annotated[Text, Meta(max_length=500)]
Description = Annotated[Text, Meta(max_length=20_000)]
RegionCode = Annotated[Line, Meta(min_length=1, max_length=12)]
SectorCodes = Annotated[
    list[Annotated[Line, Meta(max_length=40)]], Meta(min_length=1, max_length=10)
]
Locality = Annotated[Line, Meta(max_length=120)]
Url = Annotated[Line, Meta(max_length=500)]
AwareDatetime = Annotated[datetime, Meta(tz=True)]
TimezoneName = Annotated[Line, Meta(min_length=1, max_length=64)]
Capacity = Annotated[int, Meta(ge=0, le=100_000)]
Name = Annotated[Line, Meta(max_length=200)]
Reason = Annotated[Text, Meta(min_length=1, max_length=2_000)]


class Venue(Struct, forbid_unknown_fields=True):
    name: Name = ""
    street: Name = ""
    postal_code: Annotated[Line, Meta(max_length=20)] = ""
    city: Annotated[Line, Meta(max_length=120)] = ""


class EventCreate(Struct, kw_only=True, forbid_unknown_fields=True):
    """A new draft. Times need a UTC offset; they are shown in `timezone`."""

    title: Title
    kind: Kind
    format: Format
    region: RegionCode
    sectors: SectorCodes
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    summary: Summary = ""
    description: Description = ""
    locality: Locality = ""
    venue: Venue | None = None
    online_url: Url = ""
    timezone: TimezoneName = "Europe/Berlin"
    capacity: Capacity | None = None
    waitlist: bool = True
    requires_approval: bool = False
    # Double opt-in: a public registration holds its place until the address is confirmed.
    requires_address_confirmation: bool = False
    registration_opens_at: AwareDatetime | None = None
    registration_closes_at: AwareDatetime | None = None
    contact_name: Name = ""
    contact_email: EmailAddress = ""


class EventUpdate(Struct, kw_only=True, forbid_unknown_fields=True):
    """A partial change: only the fields sent change; null clears an optional field."""

    title: Title | UnsetType = UNSET
    kind: Kind | UnsetType = UNSET
    format: Format | UnsetType = UNSET
    region: RegionCode | UnsetType = UNSET
    sectors: SectorCodes | UnsetType = UNSET
    starts_at: AwareDatetime | UnsetType = UNSET
    ends_at: AwareDatetime | UnsetType = UNSET
    summary: Summary | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    locality: Locality | UnsetType = UNSET
    venue: Venue | UnsetType | None = UNSET
    online_url: Url | UnsetType = UNSET
    timezone: TimezoneName | UnsetType = UNSET
    capacity: Capacity | UnsetType | None = UNSET
    waitlist: bool | UnsetType = UNSET
    requires_approval: bool | UnsetType = UNSET
    requires_address_confirmation: bool | UnsetType = UNSET
    registration_opens_at: AwareDatetime | UnsetType | None = UNSET
    registration_closes_at: AwareDatetime | UnsetType | None = UNSET
    contact_name: Name | UnsetType = UNSET
    contact_email: EmailAddress | UnsetType = UNSET


class Cancellation(Struct, forbid_unknown_fields=True):
    reason: Reason


class CoOrganiser(Struct, forbid_unknown_fields=True):
    email: EmailAddress


class EventOut(Struct, kw_only=True):
    slug: str
    title: str
    summary: str
    description: str
    kind: Kind
    format: Format
    region: str
    locality: str
    sectors: list[str]
    venue: Venue | None
    online_url: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    capacity: int | None
    seats_left: int | None
    waitlist: bool
    requires_approval: bool
    requires_address_confirmation: bool
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    status: Status
    cancellation_reason: str
    contact_name: str
    contact_email: str
    sequence: int
    url: str
    created_at: datetime
    updated_at: datetime


class EventPage(Struct, kw_only=True):
    items: list[EventOut]
    total: int
    limit: int
    offset: int
