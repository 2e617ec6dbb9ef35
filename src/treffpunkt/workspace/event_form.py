"""The event form's fields: what a browser sends, read into the API's own Structs.

People type local dates and times in the event's zone; the API takes moments with an offset.
Everything typed is kept as typed (`values`), so a form with errors comes back as it was sent.
The rules themselves are the services': this module only reads and converts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import msgspec

from treffpunkt.errors import N_, ErrorCollector, FieldError, ValidationFailed
from treffpunkt.events.schemas import EventCreate, EventUpdate
from treffpunkt.events.services import EventView
from treffpunkt.inputs import MULTI_LINE, SINGLE_LINE
from treffpunkt.settings import DEFAULT_TIMEZONE

Values = dict[str, Any]
S = TypeVar("S", bound=msgspec.Struct)

TEXT_FIELDS = (
    "title",
    "summary",
    "description",
    "kind",
    "format",
    "region",
    "locality",
    "venue_name",
    "venue_street",
    "venue_postal_code",
    "venue_city",
    "online_url",
    "timezone",
    "capacity",
    "contact_name",
    "contact_email",
)
CHECKBOXES = ("waitlist", "requires_approval", "requires_address_confirmation")
VENUE_PARTS = ("name", "street", "postal_code", "city")
# Moments typed as a local date and time: the API field and whether it may stay empty.
MOMENTS = {
    "starts_at": False,
    "ends_at": False,
    "registration_opens_at": True,
    "registration_closes_at": True,
}
CAPACITY_LIMIT = 100_000
# Where an error summary's link for a field lands: its first control.
ANCHORS = {**{name: f"{name}_date" for name in MOMENTS}, "venue": "venue_name"}
_ZONE_PREFIXES = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_MSGSPEC_PATH = re.compile(r"at `\$(?:\[\d+\])?\.([a-z_]+)(?:\.([a-z_]+))?")
_MSGSPEC_LONGER = re.compile(r"length <= (\d+)")


@cache
def timezone_choices() -> list[str]:
    """The zones a person might mean, by name; the odd legacy names stay out of the list."""
    return sorted(name for name in available_timezones() if name.startswith(_ZONE_PREFIXES))


def blank_values() -> Values:
    """A new event's form: Berlin time, a waiting list, no approval."""
    values: Values = dict.fromkeys(TEXT_FIELDS, "")
    values.update(kind="workshop", format="in_person", timezone=DEFAULT_TIMEZONE)
    values.update(
        waitlist=True, requires_approval=False, requires_address_confirmation=False, sectors=[]
    )
    for name in MOMENTS:
        values[f"{name}_date"] = values[f"{name}_time"] = ""
    return values


def values_of(event: EventView) -> Values:
    """A stored event as its form shows it: local dates and times in the event's zone."""
    values = blank_values()
    venue = event.venue
    for name in TEXT_FIELDS:
        if name.startswith("venue_"):
            values[name] = getattr(venue, name.removeprefix("venue_")) if venue else ""
        elif name != "capacity":
            values[name] = getattr(event, name)
    values["capacity"] = "" if event.capacity is None else str(event.capacity)
    values.update(
        waitlist=event.waitlist,
        requires_approval=event.requires_approval,
        requires_address_confirmation=event.requires_address_confirmation,
        sectors=event.sectors,
    )
    for name in MOMENTS:
        moment: datetime | None = getattr(event, name)
        if moment is not None:
            local = event.local(moment)
            values[f"{name}_date"] = local.date().isoformat()
            values[f"{name}_time"] = local.strftime("%H:%M")
    return values


def _text(form: Mapping[str, Any], name: str) -> str:
    """A field's text; browsers send a textarea's line breaks as CRLF, stored text has LF."""
    value = form.get(name)
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def submitted_values(form: Any) -> Values:
    """What the browser sent, as typed; checkboxes absent are off."""
    values: Values = {name: _text(form, name) for name in TEXT_FIELDS}
    for name in MOMENTS:
        for part in ("date", "time"):
            values[f"{name}_{part}"] = _text(form, f"{name}_{part}").strip()
    values.update({name: _text(form, name) == "yes" for name in CHECKBOXES})
    values["sectors"] = [v for v in form.getall("sectors", []) if isinstance(v, str)]
    return values


def original_values(form: Any) -> Values | None:
    """The values the form showed when it was opened, which it carries back in `_original`."""
    try:
        original = json.loads(_text(form, "_original"))
    except ValueError:
        return None
    return original if isinstance(original, dict) else None


def _zone(name: str, problems: ErrorCollector) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.add(
            "timezone",
            N_("%(value)s is not an IANA time zone such as Europe/Berlin"),
            value=name,
        )
        return None


def read_day(raw: str) -> date | None:
    german = _GERMAN_DATE.match(raw)
    try:
        if german:
            return date(int(german[3]), int(german[2]), int(german[1]))
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _clock(raw: str) -> time | None:
    match = _CLOCK.match(raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


def local_moment(day: date, clock: time, zone: ZoneInfo) -> datetime | None:
    """The UTC moment of a local wall-clock time; None when the clocks skip it (spring forward).

    A time that happens twice (fall back) is its first occurrence, as `fold=0` says.
    """
    naive = datetime.combine(day, clock)
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return None
    return aware.astimezone(UTC)


def _moment(values: Values, name: str, zone: ZoneInfo, problems: ErrorCollector) -> datetime | None:
    raw_day, raw_clock = values[f"{name}_date"], values[f"{name}_time"]
    optional = MOMENTS[name]
    if name == "ends_at" and not raw_day:
        raw_day = values["starts_at_date"]  # the same day unless said otherwise
    if not raw_day and not raw_clock:
        if not optional:
            problems.add(name, N_("is required"))
        return None
    day = read_day(raw_day)
    clock = _clock(raw_clock) if raw_clock or not optional else time()
    if day is None or clock is None:
        problems.add(name, N_("needs a date such as 2027-03-14 and a time such as 18:30"))
        return None
    moment = local_moment(day, clock, zone)
    if moment is None:
        problems.add(
            name,
            N_("%(time)s does not exist on that day in %(zone)s: the clocks go forward"),
            time=clock.strftime("%H:%M"),
            zone=zone.key,
        )
    return moment


def _capacity(raw: str, problems: ErrorCollector) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if raw.isdigit() and int(raw) <= CAPACITY_LIMIT:
        return int(raw)
    problems.add(
        "capacity",
        N_("must be a whole number from %(low)d to %(high)d"),
        low=0,
        high=CAPACITY_LIMIT,
    )
    return None


def _payload(values: Values) -> tuple[dict[str, Any], list[FieldError]]:
    """The API's fields for these values, and what could not be read (dates, numbers)."""
    problems = ErrorCollector()
    payload: dict[str, Any] = {
        name: values[name]
        for name in TEXT_FIELDS
        if name not in ("capacity", "timezone") and not name.startswith("venue_")
    }
    payload["timezone"] = values["timezone"] or DEFAULT_TIMEZONE
    venue = {part: values[f"venue_{part}"] for part in VENUE_PARTS}
    payload["venue"] = venue if any(v.strip() for v in venue.values()) else None
    payload["capacity"] = _capacity(values["capacity"], problems)
    payload.update({name: bool(values[name]) for name in CHECKBOXES})
    payload["sectors"] = sorted(values["sectors"])
    zone = _zone(payload["timezone"], problems)
    if zone is not None:
        for name in MOMENTS:
            payload[name] = _moment(values, name, zone, problems)
    return payload, problems.errors


def decoding_path(error: msgspec.ValidationError) -> list[str]:
    """The field msgspec names, as parts: `$.venue.name` is ["venue", "name"]."""
    found = _MSGSPEC_PATH.search(str(error))
    return [part for part in found.groups() if part] if found else []


def explained(error: msgspec.ValidationError, field: str) -> FieldError:
    """msgspec's complaint in words people read, for the form's field."""
    text = str(error)
    longer = _MSGSPEC_LONGER.search(text)
    if "length >= 1" in text:
        template = N_("choose at least one") if "`array`" in text else N_("must not be empty")
        return FieldError(field, template)
    if longer and "`array`" in text:
        return FieldError(field, N_("choose at most %(limit)d"), {"limit": int(longer[1])})
    if longer:
        return FieldError(
            field, N_("must be at most %(limit)d characters long"), {"limit": int(longer[1])}
        )
    if repr(SINGLE_LINE) in text:
        return FieldError(field, N_("must be one line without control characters"))
    if repr(MULTI_LINE) in text:
        return FieldError(field, N_("must not contain control characters"))
    return FieldError(field, N_("is not valid here"))


def decoded(payload: dict[str, Any], struct: type[S], unreadable: Sequence[FieldError] = ()) -> S:
    """The payload as the API decodes it. When it breaks the Struct's limits, every field
    that does is named (msgspec itself stops at the first), with the `unreadable` ones.
    """
    if not unreadable:
        try:
            return msgspec.convert(payload, struct)
        except msgspec.ValidationError:
            pass
    problems = list(unreadable)
    named = {problem.field for problem in problems}
    for field in msgspec.structs.fields(struct):
        if field.name in payload and field.name not in named:
            try:
                msgspec.convert(payload[field.name], field.type)
            except msgspec.ValidationError as error:
                problems.append(explained(error, "_".join([field.name, *decoding_path(error)])))
    raise ValidationFailed(problems or [FieldError("form", N_("is not valid here"))])


def event_create(values: Values) -> EventCreate:
    """A new event as the API's EventCreate, decoded with its limits."""
    payload, unreadable = _payload(values)
    return decoded(payload, EventCreate, unreadable)


def event_update(values: Values, original: Values | None) -> EventUpdate:
    """Only what the organiser changed since the form was opened: someone else's edit of
    another field in the meantime survives. Without the original, everything is sent.
    """
    wanted, unreadable = _payload(values)
    before: dict[str, Any] = {}
    if original is not None:
        before, broken = _payload({**blank_values(), **original})
        before = {} if broken else before
    changed = {name: value for name, value in wanted.items() if before.get(name, ...) != value}
    return decoded(changed, EventUpdate, unreadable)


def anchor(field: str) -> str:
    return ANCHORS.get(field, field)
