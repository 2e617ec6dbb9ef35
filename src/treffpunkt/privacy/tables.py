from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from treffpunkt.events.tables import Event

REASONS = ("retention", "person", "admin")


class Erasure(Table, tablename="privacy_erasure"):
    """What was erased, when and why: counts and an event, never a person."""

    id: Serial
    event = ForeignKey(Event, on_delete=OnDelete.cascade, index=True)
    # retention (the worker, after the event), person (by the secret link), admin.
    reason = Varchar(length=20)
    registrations = Integer(default=0)
    done_at = Timestamptz(default=TimestamptzNow(), index=True)
