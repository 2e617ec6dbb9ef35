"""The organiser's dashboard: every event they manage with its figures, in few queries.

The figures of all listed events come from two aggregate queries (registrations, then mail),
not from a count per event: an admin's dashboard lists every event there is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from piccolo.query.functions.aggregate import Count

from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.services import Choice, EventView, events_managed_by, regions
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.tables import Registration

# The dashboard's tabs; an unknown `show` falls back to the first.
SHOWS = ("all", "upcoming", "drafts", "past", "cancelled")
# The order of the shelves on "all": what needs work soon first, what is over last.
_SHELF_ORDER = ("upcoming", "drafts", "past", "cancelled")
# A mail still waiting this long after it was due is stuck, not merely queued: the worker
# picks due mail up within seconds, so organisers should hear of it.
OVERDUE = timedelta(minutes=15)

REGISTRATION_FIGURES = """SELECT event,
    SUM(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END) AS confirmed,
    SUM(CASE WHEN status = 'waitlisted' THEN 1 ELSE 0 END) AS waitlisted,
    SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
    SUM(CASE WHEN status = 'confirmed' AND checked_in_at IS NOT NULL THEN 1 ELSE 0 END)
        AS checked_in
FROM registration WHERE event IN ({}) GROUP BY event"""
_PEOPLE_FIGURES = ("confirmed", "waitlisted", "pending", "checked_in")


@dataclass(frozen=True)
class Figures:
    """One event's people and mail, as the dashboard shows them."""

    confirmed: int = 0
    waitlisted: int = 0
    pending: int = 0
    checked_in: int = 0
    undelivered: int = 0


@dataclass(frozen=True)
class DashboardEntry:
    event: EventView
    # upcoming, drafts, past or cancelled: the tab the event is listed under.
    shelf: str
    figures: Figures
    # Check-ins mean something from the event's first day on (in its own timezone).
    check_ins_due: bool


@dataclass(frozen=True)
class Dashboard:
    show: str
    entries: list[DashboardEntry]
    # Per tab, how many events it lists.
    counts: dict[str, int]
    # Region code -> region, for the names.
    regions: dict[str, Choice]


def _shelf(event: EventView, now: datetime) -> str:
    if event.status == "cancelled":
        return "cancelled"
    if event.status == "draft":
        return "drafts"
    return "past" if event.is_finished(now) else "upcoming"


async def event_figures(event_ids: list[int], *, now: datetime) -> dict[int, Figures]:
    """Seats, waiting list, approvals, check-ins and undelivered mail per event: two queries."""
    if not event_ids:
        return {}
    placeholders = ", ".join("{}" for _ in event_ids)
    people = {
        row["event"]: row
        for row in await Registration.raw(REGISTRATION_FIGURES.format(placeholders), *event_ids)
    }
    undelivered = {
        row["event"]: int(row["undelivered"])
        for row in await OutboxMessage.select(OutboxMessage.event, Count(alias="undelivered"))
        .where(
            OutboxMessage.event.is_in(event_ids)
            & (
                (OutboxMessage.status == "failed")
                | (
                    OutboxMessage.status.is_in(["pending", "sending"])
                    & (OutboxMessage.next_attempt_at <= now - OVERDUE)
                )
            )
        )
        .group_by(OutboxMessage.event)
    }
    figures = {}
    for event_id in event_ids:
        row = people.get(event_id, {})
        figures[event_id] = Figures(
            **{name: int(row.get(name) or 0) for name in _PEOPLE_FIGURES},
            undelivered=undelivered.get(event_id, 0),
        )
    return figures


async def dashboard(organiser: CurrentOrganiser, show: str, *, now: datetime) -> Dashboard:
    """The events the organiser manages (an admin: all), upcoming first, with their figures."""
    events = await events_managed_by(organiser)
    figures = await event_figures([event.id for event in events], now=now)
    entries = [
        DashboardEntry(
            event=event,
            shelf=_shelf(event, now),
            figures=figures[event.id],
            check_ins_due=event.local(event.starts_at).date() <= now.astimezone(event.zone).date(),
        )
        for event in events
    ]
    # Upcoming and drafts soonest first; past and cancelled most recent first.
    entries.sort(
        key=lambda entry: (
            _SHELF_ORDER.index(entry.shelf),
            entry.event.starts_at.timestamp() * (-1 if entry.shelf in ("past", "cancelled") else 1),
        )
    )
    counts = {shelf: sum(1 for entry in entries if entry.shelf == shelf) for shelf in SHOWS}
    counts["all"] = len(entries)
    show = show if show in SHOWS else "all"
    listed = entries if show == "all" else [entry for entry in entries if entry.shelf == show]
    return Dashboard(
        show=show,
        entries=listed,
        counts=counts,
        regions={region.code: region for region in await regions()},
    )
