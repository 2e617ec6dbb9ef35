"""The common registration, in as few round trips as the database allows.

Most registrations reach an open event with a free seat and no approval step. For those the
seat is claimed, the registration written and its confirmation queued together: on
PostgreSQL in one statement, on SQLite in three statements on the writer's thread. Those
arriving at the same moment share one transaction and one commit (group commit, see db.py),
which is what a burst on a popular workshop needs. Anything else (a full event, a closed
window, approval, double opt-in, a duplicate) changes nothing here and is decided by the
careful path in services.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

import asyncpg
from asyncpg.exceptions import UniqueViolationError

from treffpunkt.db import is_postgres, postgres_write, sqlite_read, sqlite_write
from treffpunkt.registrations.schemas import QuestionSpec
from treffpunkt.registrations.tables import Registration

# Column and its PostgreSQL type: in INSERT … SELECT, parameters need their type spelled out.
REGISTRATION_COLUMNS = {
    "name": "text",
    "email": "text",
    "organisation": "text",
    "stakeholder_group": "text",
    "role": "text",
    "notes": "text",
    "answers": "json",
    "language": "text",
    "link_nonce": "text",
    "token_hash": "text",
    "search_text": "text",
    "consent_at": "timestamptz",
    "consent_version": "text",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
}

# The seat, only if registration is open right now without approval or double opt-in, a seat
# is free and the person holds no active registration yet.
_CLAIM = """UPDATE event SET seats_taken = seats_taken + 1
WHERE id = {} AND status = 'published' AND requires_approval = {}
  AND requires_address_confirmation = {} AND ends_at > {}
  AND (registration_opens_at IS NULL OR registration_opens_at <= {})
  AND (registration_closes_at IS NULL OR registration_closes_at > {})
  AND (capacity IS NULL OR seats_taken < capacity)
  AND NOT EXISTS (SELECT 1 FROM registration WHERE event = {} AND email = {}
                  AND status IN ('pending', 'confirmed', 'waitlisted'))
RETURNING id"""
_REGISTRATION = f"INSERT INTO registration (event, status, {', '.join(REGISTRATION_COLUMNS)})"
_OUTBOX = """INSERT INTO outbox_message
  (kind, event, registration, recipient, language, payload, next_attempt_at, created_at)"""
# Its audit entry: a registrant registered; the event's slug and title as they are now.
_AUDIT = """INSERT INTO audit_entry (at, actor_kind, event_id, event_slug, event_title,
  registration_id, action, changes)"""
_AUDIT_VALUES = """'registrant', e.id, e.slug, e.title, {}, 'registration.registered', {}"""
REGISTERED_CHANGES = json.dumps({"status": [None, "confirmed"]})
_TYPED = ", ".join(f"{{}}::{kind}" for kind in REGISTRATION_COLUMNS.values())

# Built from the fixed column names above; every value is a bound parameter.
ONE_STATEMENT = f"""WITH claimed AS ({_CLAIM}),
registered AS ({_REGISTRATION} SELECT id, 'confirmed', {_TYPED} FROM claimed RETURNING id),
queued AS ({_OUTBOX} SELECT 'registration_confirmed', {{}}::integer, registered.id, {{}}::text,
  {{}}::text, {{}}::json, {{}}::timestamptz, {{}}::timestamptz
FROM registered RETURNING registration)
{_AUDIT} SELECT {{}}::timestamptz, {_AUDIT_VALUES.format("queued.registration", "{}::json")}
FROM queued JOIN claimed ON TRUE JOIN event e ON e.id = claimed.id
RETURNING registration_id AS registration"""  # noqa: S608


def _numbered(template: str) -> str:
    """asyncpg's $1, $2, … in place of Piccolo's {} placeholders."""
    first, *rest = template.split("{}")
    return first + "".join(f"${number}{part}" for number, part in enumerate(rest, start=1))


ONE_STATEMENT_NUMBERED = _numbered(ONE_STATEMENT)
# SQLite runs the same three steps one after the other, with its own placeholders.
CLAIM_SQLITE = _CLAIM.replace("{}", "?")
INSERT_REGISTRATION_SQLITE = (
    f"{_REGISTRATION} VALUES (?, 'confirmed', {', '.join('?' for _ in REGISTRATION_COLUMNS)})"
    " RETURNING id"
)
INSERT_OUTBOX_SQLITE = f"{_OUTBOX} VALUES ('registration_confirmed', ?, ?, ?, ?, ?, ?, ?)"
INSERT_AUDIT_SQLITE = (
    f"{_AUDIT} SELECT ?, {_AUDIT_VALUES.format('?', '?')} FROM event e WHERE e.id = ?"  # noqa: S608
)
NO_PAYLOAD = "{}"
EVENT_WITH_QUESTIONS = """SELECT e.id, e.status, q.key, q.kind, q.label, q.help_text, q.options,
    q.required
FROM event e LEFT JOIN registration_question q ON q.event = e.id
WHERE e.slug = {} ORDER BY q.position"""


async def event_with_questions(slug: str) -> tuple[int, str, list[QuestionSpec]] | None:
    """The event's id and status, and its questions, in one round trip."""
    if is_postgres():
        rows = await Registration.raw(EVENT_WITH_QUESTIONS, slug)
    else:
        rows = sqlite_read(EVENT_WITH_QUESTIONS.replace("{}", "?"), slug)
    if not rows:
        return None
    questions = [
        QuestionSpec(
            key=row["key"],
            kind=row["kind"],
            label=row["label"],
            help_text=row["help_text"],
            options=json.loads(row["options"]),
            required=bool(row["required"]),
        )
        for row in rows
        if row["key"] is not None
    ]
    return int(rows[0]["id"]), str(rows[0]["status"]), questions


async def admit_to_open_seat(event_id: int, stored: dict[str, Any], *, now: datetime) -> int | None:
    """The new registration's id, or None when the careful path has to decide."""
    claim = (event_id, False, False, now, now, now, event_id, stored["email"])
    person = tuple(stored[column] for column in REGISTRATION_COLUMNS)
    message = (stored["email"], stored["language"], NO_PAYLOAD, now, now)
    if is_postgres():

        async def claim_and_insert(connection: asyncpg.Connection) -> int | None:
            rows = await connection.fetch(
                ONE_STATEMENT_NUMBERED,
                *claim,
                *person,
                event_id,
                *message,
                now,
                REGISTERED_CHANGES,
            )
            return int(rows[0]["registration"]) if rows else None

        try:
            return await postgres_write(claim_and_insert, order=event_id)
        except UniqueViolationError:
            return None  # the same person at the same moment: the careful path answers

    def admit(db: sqlite3.Connection) -> int | None:
        if db.execute(CLAIM_SQLITE, claim).fetchone() is None:
            return None
        (registration_id,) = db.execute(INSERT_REGISTRATION_SQLITE, (event_id, *person)).fetchone()
        db.execute(INSERT_OUTBOX_SQLITE, (event_id, registration_id, *message))
        db.execute(INSERT_AUDIT_SQLITE, (now, registration_id, REGISTERED_CHANGES, event_id))
        return int(registration_id)

    return await sqlite_write(admit, order=event_id)
