from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from treffpunkt.accounts.tables import Organiser
from treffpunkt.events.tables import Event
from treffpunkt.registrations.tables import Registration


class OutboxMessage(Table, tablename="outbox_message"):
    """A message to one person, written in the same transaction as the change it reports."""

    id: Serial
    kind = Varchar(length=40)
    # Empty for account mail (invites, password resets), which concerns no event.
    event = ForeignKey(Event, on_delete=OnDelete.cascade, null=True, default=None, index=True)
    organiser = ForeignKey(
        Organiser, on_delete=OnDelete.cascade, null=True, default=None, index=True
    )
    registration = ForeignKey(
        Registration, on_delete=OnDelete.cascade, null=True, default=None, index=True
    )
    recipient = Varchar(length=254)
    language = Varchar(length=2, default="de")
    # What the message must say that the database will not remember (old times, a reason).
    payload = JSON(default="{}")
    status = Varchar(length=20, default="pending", index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    lease_until = Timestamptz(null=True, default=None)
    # The worker holding the lease (random per worker): only it may record the outcome.
    lease_owner = Varchar(length=32, null=True, default=None)
    # The event start a reminder was made for: a moved date makes it obsolete and earns the
    # new date a reminder of its own (one per registration and start).
    event_starts_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
