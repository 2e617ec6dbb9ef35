from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from treffpunkt.accounts.tables import Organiser


class AuditEntry(Table, tablename="audit_entry"):
    """One recorded change. Written once, never updated.

    Events and registrations are named by plain ids, not foreign keys: deleting a draft or
    erasing a registration must leave its history in place. The event's slug and title are a
    snapshot taken when the entry was written. No personal value of a registrant is stored
    here (only which of their fields changed), so retention and erasure need not touch it.
    """

    id: Serial

    at = Timestamptz(index=True)
    # organiser, admin, registrant, system (the worker, the waiting list) or operator (CLI).
    actor_kind = Varchar(length=20)
    actor = ForeignKey(Organiser, null=True, on_delete=OnDelete.set_null, index=True)
    event_id = Integer(null=True, default=None, index=True)
    event_slug = Varchar(length=120, default="")
    event_title = Varchar(length=200, default="")
    registration_id = Integer(null=True, default=None, index=True)
    account = ForeignKey(Organiser, null=True, on_delete=OnDelete.set_null, index=True)
    action = Varchar(length=60)
    # {field: [before, after]}; a registrant's personal field maps to null (value withheld).
    changes = JSON(default="{}")
