from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from treffpunkt.events.tables import Event

ACTIVE_STATUSES = ("pending", "confirmed", "waitlisted")


class Registration(Table, tablename="registration"):
    """One person's place at one event.

    One active registration per (event, email): a partial unique index made in a migration.
    """

    id: Serial
    event = ForeignKey(Event, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=200)
    email = Varchar(length=254, index=True)
    organisation = Varchar(length=200, default="")
    stakeholder_group = Varchar(length=40)
    role = Varchar(length=200, default="")
    notes = Text(default="")
    answers = JSON(default="{}")
    language = Varchar(length=2, default="de")
    status = Varchar(length=20, index=True)
    # FIFO order of the waiting list; the position is this ticket's rank among those waiting.
    waitlist_ticket = Integer(null=True, default=None)
    # The secret link is derived from this nonce with the secret key; only its hash is kept.
    link_nonce = Varchar(length=64)
    token_hash = Varchar(length=64, unique=True, index=True)
    # Case- and accent-folded name, email and organisation, for the roster search.
    search_text = Text(default="")
    added_by_organiser = Boolean(default=False)
    consent_at = Timestamptz()
    # The version of the privacy notice the person agreed to (notices.services).
    consent_version = Varchar(length=32, default="")
    # Double opt-in: the place is only held until then, unless the address is confirmed.
    unconfirmed_until = Timestamptz(null=True, default=None, index=True)
    address_confirmed_at = Timestamptz(null=True, default=None)
    checked_in_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    cancelled_at = Timestamptz(null=True, default=None)
    # When the personal data was erased (on request or by retention); the row stays for counts.
    erased_at = Timestamptz(null=True, default=None)


class Question(Table, tablename="registration_question"):
    """A custom question an organiser asks everyone who registers for one event."""

    id: Serial
    event = ForeignKey(Event, on_delete=OnDelete.cascade, index=True)
    key = Varchar(length=60)
    position = Integer(default=0)
    kind = Varchar(length=20)
    label = Varchar(length=300)
    help_text = Varchar(length=500, default="")
    options = JSON(default="[]")
    required = Boolean(default=False)
