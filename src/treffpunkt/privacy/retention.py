"""Retention: the worker anonymises registrations a set number of days after their event.

`TREFFPUNKT_RETENTION_DAYS` (default 180) after an event ends, its registrations lose their
personal data, as erasure on request does (see privacy/services.py), and a row in
`privacy_erasure` records when, which event and how many. The mail worker runs `keep_retention`
once a minute; several workers may run it at once (each event is anonymised under its lock,
and a second run finds nothing left). This module loads without the web app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from treffpunkt.audit.actors import SYSTEM
from treffpunkt.audit.services import record
from treffpunkt.db import as_datetime, write_transaction
from treffpunkt.events.tables import Event
from treffpunkt.privacy.services import anonymise, record_erasure, scrub_delivered_cancels
from treffpunkt.privacy.tables import Erasure
from treffpunkt.registrations.services import lock_event
from treffpunkt.settings import get_settings

logger = structlog.get_logger("treffpunkt.privacy")

# How far ahead `treffpunkt privacy due` and the admin page look.
COMING_DAYS = 30
_WITH_PERSONAL_DATA = (
    "SELECT e.id, e.slug, e.title, e.ends_at, count(r.id) AS registrations"
    " FROM event AS e JOIN registration AS r ON r.event = e.id"
    " WHERE r.erased_at IS NULL AND e.ends_at > {} AND e.ends_at <= {}"
    " GROUP BY e.id, e.slug, e.title, e.ends_at ORDER BY e.ends_at, e.id"
)
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DueEvent:
    """An event whose registrations still hold personal data, and when they are due."""

    event_id: int
    slug: str
    title: str
    ends_at: datetime
    due_at: datetime
    registrations: int


@dataclass(frozen=True)
class Done:
    """One recorded erasure: retention, a person's own request, or an admin's."""

    event_slug: str
    event_title: str
    reason: str
    registrations: int
    done_at: datetime


@dataclass(frozen=True)
class RetentionReport:
    days: int
    due: list[DueEvent]
    coming: list[DueEvent]
    done: list[Done]


def _limit() -> timedelta:
    return timedelta(days=get_settings().retention_days)


async def _with_personal_data(after: datetime, until: datetime) -> list[DueEvent]:
    rows = await Event.raw(_WITH_PERSONAL_DATA, after, until)
    keep = _limit()
    return [
        DueEvent(
            event_id=row["id"],
            slug=row["slug"],
            title=row["title"],
            ends_at=as_datetime(row["ends_at"]),
            due_at=as_datetime(row["ends_at"]) + keep,
            registrations=int(row["registrations"]),
        )
        for row in rows
    ]


async def due_events(now: datetime) -> list[DueEvent]:
    """Events past the limit whose registrations still hold personal data."""
    return await _with_personal_data(_EARLIEST, now - _limit())


async def coming_events(now: datetime, days: int = COMING_DAYS) -> list[DueEvent]:
    """Events that come due within `days`."""
    cutoff = now - _limit()
    return await _with_personal_data(cutoff, cutoff + timedelta(days=days))


async def recent_erasures(limit: int = 50) -> list[Done]:
    rows = (
        await Erasure.select(
            Erasure.event.slug,
            Erasure.event.title,
            Erasure.reason,
            Erasure.registrations,
            Erasure.done_at,
        )
        .order_by(Erasure.done_at, ascending=False)
        .order_by(Erasure.id, ascending=False)
        .limit(limit)
    )
    return [
        Done(
            event_slug=row["event.slug"],
            event_title=row["event.title"],
            reason=row["reason"],
            registrations=row["registrations"],
            done_at=as_datetime(row["done_at"]),
        )
        for row in rows
    ]


async def report(now: datetime) -> RetentionReport:
    return RetentionReport(
        days=get_settings().retention_days,
        due=await due_events(now),
        coming=await coming_events(now),
        done=await recent_erasures(),
    )


async def anonymise_event(event_id: int, *, now: datetime) -> int:
    """Anonymise every registration of one event that still holds personal data."""
    async with write_transaction():
        await lock_event(event_id)
        count = await anonymise("event = {} AND erased_at IS NULL", event_id, now=now)
        if count:
            await record_erasure(event_id, "retention", count, now)
            await record(
                "event.personal_data_anonymised",
                event=event_id,
                changes={"registrations": [None, count]},
                actor=SYSTEM,
                now=now,
            )
    return count


async def keep_retention(now: datetime) -> list[tuple[int, int]]:
    """Anonymise what is due; (event id, registrations) for each event it did."""
    done: list[tuple[int, int]] = []
    for event in await due_events(now):
        count = await anonymise_event(event.event_id, now=now)
        if count:
            logger.info("retention anonymised", event_id=event.event_id, registrations=count)
            done.append((event.event_id, count))
    await scrub_delivered_cancels()
    return done
