"""VTIMEZONE blocks in the RRULE form that Outlook, Google and Apple all read alike."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _transitions(zone: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset before, offset after) of each change in `year`."""
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment.year == year:
        moment += timedelta(hours=1)
        offset = moment.astimezone(zone).utcoffset()
        if offset != previous:
            assert previous is not None
            assert offset is not None
            found.append((moment, previous, offset))
            previous = offset
    return found


def _yearly_rule(local: datetime) -> dict[str, object]:
    """The rule "n-th (or last) weekday of the month" that `local` is an instance of."""
    last_day = calendar.monthrange(local.year, local.month)[1]
    ordinal = -1 if local.day + 7 > last_day else (local.day - 1) // 7 + 1
    return {
        "FREQ": "YEARLY",
        "BYMONTH": local.month,
        "BYDAY": f"{ordinal}{WEEKDAYS[local.weekday()]}",
    }


def _first_instance_in_1970(rule: dict[str, object], clock: datetime) -> datetime:
    month = int(str(rule["BYMONTH"]))
    byday = str(rule["BYDAY"])
    ordinal, weekday = int(byday[:-2]), WEEKDAYS.index(byday[-2:])
    days = [
        d
        for d in range(1, calendar.monthrange(1970, month)[1] + 1)
        if calendar.weekday(1970, month, d) == weekday
    ]
    day = days[ordinal] if ordinal < 0 else days[ordinal - 1]
    return datetime(1970, month, day, clock.hour, clock.minute)  # noqa: DTZ001 - local wall time


@cache
def vtimezone(tzid: str, year: int) -> Timezone:
    """One VTIMEZONE for `tzid`, with the DST rules in force in `year`; built once and reused."""
    zone = ZoneInfo(tzid)
    component = Timezone()
    component.add("TZID", tzid)
    changes = _transitions(zone, year)
    if not changes:
        offset = datetime(year, 1, 1, tzinfo=zone).utcoffset() or timedelta(0)
        standard = TimezoneStandard()
        standard.add("DTSTART", datetime(1970, 1, 1))  # noqa: DTZ001 - local wall time
        standard.add("TZOFFSETFROM", offset)
        standard.add("TZOFFSETTO", offset)
        standard.add("TZNAME", datetime(year, 1, 1, tzinfo=zone).tzname() or tzid)
        component.add_component(standard)
        return component
    for instant, before, after in changes:
        local_before = (instant + before).replace(tzinfo=None)
        rule = _yearly_rule(local_before)
        part = TimezoneDaylight() if after > before else TimezoneStandard()
        part.add("DTSTART", _first_instance_in_1970(rule, local_before))
        part.add("RRULE", rule)
        part.add("TZOFFSETFROM", before)
        part.add("TZOFFSETTO", after)
        part.add("TZNAME", instant.astimezone(zone).tzname() or tzid)
        component.add_component(part)
    return component
