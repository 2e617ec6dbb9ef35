"""New events made from one that exists: a duplicate, or a series of dates.

A copy is a new draft with all the fields, sectors and custom questions of its source, and
its own slug, calendar UID and roster. Questions are a registrations matter, so copying sits
above events and registrations alike.
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.audit.services import record
from treffpunkt.db import write_transaction
from treffpunkt.errors import N_, ErrorCollector
from treffpunkt.events.schemas import EventCreate
from treffpunkt.events.services import EventView, copied_fields, create_event, get_event
from treffpunkt.i18n import gettext
from treffpunkt.registrations.questions import questions_of, replace_questions

MAX_SERIES = 52
TITLE_LIMIT = 200
Repeat = Literal["weekly", "monthly", "dates"]


@dataclass(frozen=True)
class SeriesRule:
    """Weekly or monthly `count` times after the event's own date, or the `dates` listed."""

    repeat: Repeat
    count: int = 0
    dates: tuple[date, ...] = ()


@dataclass(frozen=True)
class Occurrence:
    starts_at: datetime
    ends_at: datetime
    # How many local days after the event's own date.
    shift: timedelta


async def _copy(
    source: EventView, fields: EventCreate, owner: CurrentOrganiser, now: datetime
) -> EventView:
    """One new draft with the source's questions, inside the caller's transaction."""
    copy = await create_event(fields, owner, now=now)
    await replace_questions(copy.id, await questions_of(source.id))
    return copy


def copy_title(title: str) -> str:
    """ "… (copy)" in the organiser's language, shortened to fit the title's limit."""
    suffix = gettext(N_("%(title)s (copy)")) % {"title": ""}
    return gettext(N_("%(title)s (copy)")) % {"title": title[: TITLE_LIMIT - len(suffix)]}


async def duplicate_event(slug: str, owner: CurrentOrganiser, *, now: datetime) -> EventView:
    """A new draft like the event, titled as its copy, owned by whoever made it."""
    async with write_transaction():
        source = await get_event(slug)
        copy = await _copy(
            source, copied_fields(source, title=copy_title(source.title)), owner, now
        )
        await record("event.duplicated", event=source, changes={"copy": [None, copy.slug]}, now=now)
        return copy


def _months_later(day: date, months: int) -> date:
    """The same day of the month, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def _days(first: date, rule: SeriesRule) -> list[date]:
    if rule.repeat == "weekly":
        return [first + timedelta(weeks=n) for n in range(1, rule.count + 1)]
    if rule.repeat == "monthly":
        return [_months_later(first, n) for n in range(1, rule.count + 1)]
    return sorted(rule.dates)


def _check(rule: SeriesRule) -> None:
    problems = ErrorCollector()
    if rule.repeat == "dates":
        if not rule.dates:
            problems.add("dates", N_("list at least one date"))
        elif len(rule.dates) > MAX_SERIES:
            problems.add("dates", N_("at most %(limit)d dates at once"), limit=MAX_SERIES)
        elif len(set(rule.dates)) != len(rule.dates):
            problems.add("dates", N_("lists a date twice"))
    elif not 1 <= rule.count <= MAX_SERIES:
        problems.add(
            "count", N_("must be a whole number from %(low)d to %(high)d"), low=1, high=MAX_SERIES
        )
    problems.raise_if_any()


def _shifted(event: EventView, moment: datetime, days: timedelta) -> datetime:
    """The same local time of day `days` later in the event's zone, whatever DST does between."""
    local = event.local(moment)
    return datetime.combine(local.date() + days, local.time(), event.zone).astimezone(UTC)


def occurrences(event: EventView, rule: SeriesRule) -> list[Occurrence]:
    """The dates a series would add after the event, at its local time of day."""
    _check(rule)
    first = event.local(event.starts_at).date()
    return [
        Occurrence(
            starts_at=_shifted(event, event.starts_at, day - first),
            ends_at=_shifted(event, event.ends_at, day - first),
            shift=day - first,
        )
        for day in _days(first, rule)
    ]


async def plan_series(slug: str, rule: SeriesRule) -> list[Occurrence]:
    """What `create_series` would create, for the organiser to see first."""
    return occurrences(await get_event(slug), rule)


async def create_series(
    slug: str, rule: SeriesRule, owner: CurrentOrganiser, *, now: datetime
) -> list[EventView]:
    """One draft per date, each with its own roster and calendar UID; all of them or none."""
    async with write_transaction():
        source = await get_event(slug)
        created = []
        for occurrence in occurrences(source, rule):
            window = {
                name: moment and _shifted(source, moment, occurrence.shift)
                for name, moment in (
                    ("registration_opens_at", source.registration_opens_at),
                    ("registration_closes_at", source.registration_closes_at),
                )
            }
            fields = copied_fields(
                source, starts_at=occurrence.starts_at, ends_at=occurrence.ends_at, **window
            )
            created.append(await _copy(source, fields, owner, now))
        await record(
            "event.series_created",
            event=source,
            changes={"copies": [None, [copy.slug for copy in created]]},
            now=now,
        )
        return created
