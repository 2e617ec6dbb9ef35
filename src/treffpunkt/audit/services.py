"""Recording changes in the caller's transaction, and reading them back per event or account.

`record` is one INSERT and opens no transaction of its own: called inside a service's
`write_transaction` it commits or rolls back with the change it describes, so there is never
an entry for a change that did not happen nor a change without its entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from piccolo.custom_types import Combinable

from treffpunkt.audit.actors import Actor, current_actor
from treffpunkt.audit.tables import AuditEntry
from treffpunkt.clock import utcnow
from treffpunkt.events.tables import Event

PAGE_SIZE = 50
# The value an entry keeps for a registrant's personal field: that it changed, not to what.
WITHHELD = None


class NamedEvent(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def slug(self) -> str: ...
    @property
    def title(self) -> str: ...


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: moments as UTC ISO 8601, collections element by element."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(item) for item in value]
        return sorted(items) if isinstance(value, (set, frozenset)) else items
    return value


def difference(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for each field of `after` whose value differs from `before`."""
    return {
        name: [_plain(before.get(name)), _plain(value)]
        for name, value in after.items()
        if _plain(before.get(name)) != _plain(value)
    }


def withheld(fields: list[str] | set[str]) -> dict[str, None]:
    """The changes entry for personal fields: each named, none with its value."""
    return dict.fromkeys(sorted(fields), WITHHELD)


async def _event_snapshot(event: NamedEvent | int | None) -> dict[str, Any]:
    if event is None:
        return {}
    if isinstance(event, int):
        row = await Event.select(Event.slug, Event.title).where(Event.id == event).first()
        slug, title = (row["slug"], row["title"]) if row else ("", "")
        return {"event_id": event, "event_slug": slug, "event_title": title}
    return {"event_id": event.id, "event_slug": event.slug, "event_title": event.title}


async def record(
    action: str,
    *,
    now: datetime | None = None,
    event: NamedEvent | int | None = None,
    registration_id: int | None = None,
    account_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
) -> None:
    """Write one entry in the current transaction; the actor defaults to whoever acts now."""
    actor = actor or current_actor()
    await AuditEntry.insert(
        AuditEntry(
            at=now or utcnow(),
            actor_kind=actor.kind,
            actor=actor.account_id,
            registration_id=registration_id,
            account=account_id,
            action=action,
            changes=json.dumps({name: _plain(value) for name, value in (changes or {}).items()}),
            **await _event_snapshot(event),
        )
    )


@dataclass(frozen=True)
class Entry:
    """One entry as read back, with the names it mentions resolved now."""

    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    event_id: int | None
    event_slug: str
    event_title: str
    registration_id: int | None
    # The registration's current name; "" once it is erased or anonymised.
    registration_name: str
    account_id: int | None
    account_name: str
    action: str
    changes: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": {"kind": self.actor_kind, "account_id": self.actor_id},
            "event": self.event_slug or None,
            "registration_id": self.registration_id,
            "account_id": self.account_id,
            "action": self.action,
            "changes": self.changes,
        }


_COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor_kind,
    AuditEntry.actor.as_alias("actor_id"),
    AuditEntry.actor.name.as_alias("actor_name"),
    AuditEntry.actor.email.as_alias("actor_email"),
    AuditEntry.event_id,
    AuditEntry.event_slug,
    AuditEntry.event_title,
    AuditEntry.registration_id,
    AuditEntry.account.as_alias("account_id"),
    AuditEntry.account.name.as_alias("account_name"),
    AuditEntry.account.email.as_alias("account_email"),
    AuditEntry.action,
    AuditEntry.changes,
)


async def _registration_names(ids: set[int]) -> dict[int, str]:
    # Registrations live above this package; a plain query keeps the import one way.
    if not ids:
        return {}
    placeholders = ", ".join("{}" for _ in ids)
    rows = await AuditEntry.raw(
        f"SELECT id, name FROM registration WHERE id IN ({placeholders})",  # noqa: S608
        *sorted(ids),
    )
    return {int(row["id"]): str(row["name"] or "") for row in rows}


async def _page(where: Combinable, offset: int, limit: int) -> tuple[list[Entry], int]:
    rows = (
        await AuditEntry.select(*_COLUMNS)
        .where(where)
        .order_by(AuditEntry.id, ascending=False)
        .offset(offset)
        .limit(limit)
        .output(load_json=True)
    )
    total = await AuditEntry.count().where(where)
    names = await _registration_names(
        {row["registration_id"] for row in rows if row["registration_id"] is not None}
    )
    entries = [
        Entry(
            id=row["id"],
            at=row["at"],
            actor_kind=row["actor_kind"],
            actor_id=row["actor_id"],
            actor_name=row["actor_name"] or row["actor_email"] or "",
            event_id=row["event_id"],
            event_slug=row["event_slug"],
            event_title=row["event_title"],
            registration_id=row["registration_id"],
            registration_name=names.get(row["registration_id"], ""),
            account_id=row["account_id"],
            account_name=row["account_name"] or row["account_email"] or "",
            action=row["action"],
            changes=row["changes"] if isinstance(row["changes"], dict) else {},
        )
        for row in rows
    ]
    return entries, int(total)


async def event_history(
    event_id: int, *, offset: int = 0, limit: int = PAGE_SIZE
) -> tuple[list[Entry], int]:
    """The event's entries, newest first, and how many there are in all."""
    return await _page(AuditEntry.event_id == event_id, offset, limit)


async def account_history(
    account_id: int, *, offset: int = 0, limit: int = PAGE_SIZE
) -> tuple[list[Entry], int]:
    """What the account did and what was done to it, newest first."""
    return await _page(
        (AuditEntry.actor == account_id) | (AuditEntry.account == account_id), offset, limit
    )


async def actions_by(
    account_id: int, *, offset: int = 0, limit: int = PAGE_SIZE
) -> tuple[list[Entry], int]:
    """What the account itself did, newest first."""
    return await _page(AuditEntry.actor == account_id, offset, limit)
