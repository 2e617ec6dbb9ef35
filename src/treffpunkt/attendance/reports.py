"""Participation reports: who registered and who came, by region, sector, group, kind, month.

Counted over confirmed registrations (people holding a seat) of published events that start
in the period. Attendance and no-show rates use finished events only, where the outcome is
known; an event counts once in each of its sectors.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.tables import Event, EventOrganiser, EventSector
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import DEFAULT_TIMEZONE

DIMENSIONS = ("region", "sector", "stakeholder_group", "kind", "month")
BERLIN = ZoneInfo(DEFAULT_TIMEZONE)


@dataclass
class Tally:
    """The figures for one group (or for everything)."""

    events: set[int] = field(default_factory=set)
    registrations: int = 0
    finished_registrations: int = 0
    attended: int = 0
    no_show: int = 0

    @property
    def attendance_rate(self) -> float | None:
        if not self.finished_registrations:
            return None
        return round(self.attended / self.finished_registrations, 4)

    @property
    def no_show_rate(self) -> float | None:
        if not self.finished_registrations:
            return None
        return round(self.no_show / self.finished_registrations, 4)

    def count(self, event_id: int, *, finished: bool, attended: bool) -> None:
        self.events.add(event_id)
        self.registrations += 1
        if finished:
            self.finished_registrations += 1
            if attended:
                self.attended += 1
            else:
                self.no_show += 1


@dataclass
class Report:
    start: date
    end: date
    totals: Tally
    organisations: int
    regions_reached: int
    groups: dict[str, dict[str, Tally]]


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """From the first day's midnight to the midnight after the last day, in Germany."""
    return (
        datetime.combine(start, time(), BERLIN),
        datetime.combine(end + timedelta(days=1), time(), BERLIN),
    )


async def participation(
    viewer: CurrentOrganiser, start: date, end: date, *, now: datetime
) -> Report:
    since, until = period(start, end)
    events_query = Event.select(
        Event.id, Event.region, Event.kind, Event.starts_at, Event.ends_at
    ).where((Event.status == "published") & (Event.starts_at >= since) & (Event.starts_at < until))
    if not viewer.is_admin:
        events_query = events_query.where(
            (Event.owner == viewer.id)
            | Event.id.is_in(
                EventOrganiser.select(EventOrganiser.event).where(
                    EventOrganiser.organiser == viewer.id
                )
            )
        )
    events = {row["id"]: row for row in await events_query}
    sectors: dict[int, list[str]] = defaultdict(list)
    registrations: list[dict[str, Any]] = []
    if events:
        ids = list(events)
        for row in await EventSector.select(EventSector.event, EventSector.sector).where(
            EventSector.event.is_in(ids)
        ):
            sectors[row["event"]].append(row["sector"])
        registrations = list(
            await Registration.select(
                Registration.event,
                Registration.stakeholder_group,
                Registration.organisation,
                Registration.checked_in_at,
            ).where(Registration.event.is_in(ids) & (Registration.status == "confirmed"))
        )
    totals = Tally()
    groups: dict[str, dict[str, Tally]] = {d: defaultdict(Tally) for d in DIMENSIONS}
    for row in registrations:
        event = events[row["event"]]
        finished = event["ends_at"] <= now
        attended = row["checked_in_at"] is not None
        keys = {
            "region": [event["region"]],
            "sector": sectors[event["id"]],
            "stakeholder_group": [row["stakeholder_group"]],
            "kind": [event["kind"]],
            "month": [event["starts_at"].astimezone(BERLIN).strftime("%Y-%m")],
        }
        totals.count(event["id"], finished=finished, attended=attended)
        for dimension, values in keys.items():
            for value in values:
                groups[dimension][value].count(event["id"], finished=finished, attended=attended)
    for event_id, event in events.items():
        # Events nobody registered for still count as events held.
        totals.events.add(event_id)
        groups["region"][event["region"]].events.add(event_id)
        groups["kind"][event["kind"]].events.add(event_id)
        groups["month"][event["starts_at"].astimezone(BERLIN).strftime("%Y-%m")].events.add(
            event_id
        )
        for sector in sectors[event_id]:
            groups["sector"][sector].events.add(event_id)
    organisations = {
        row["organisation"].strip().casefold()
        for row in registrations
        if row["checked_in_at"] is not None and row["organisation"].strip()
    }
    return Report(
        start=start,
        end=end,
        totals=totals,
        organisations=len(organisations),
        regions_reached=len(groups["region"]),
        groups={d: dict(sorted(g.items())) for d, g in groups.items()},
    )
