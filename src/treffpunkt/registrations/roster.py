"""The organiser's roster: filtering, sorting, paging, and a CSV that Excel opens correctly."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import And
from piccolo.custom_types import Combinable
from piccolo.query import OrderByRaw
from piccolo.querystring import QueryString

from treffpunkt.events.services import EventView, search_words
from treffpunkt.registrations.questions import questions_of
from treffpunkt.registrations.services import VIEW_COLUMNS, RegistrationView
from treffpunkt.registrations.tables import Registration

SORTS: dict[str, tuple[Column | QueryString, bool]] = {
    "created_at": (Registration.created_at, True),
    "-created_at": (Registration.created_at, False),
    "name": (OrderByRaw("lower(name)"), True),
    "-name": (OrderByRaw("lower(name)"), False),
    "organisation": (OrderByRaw("lower(organisation)"), True),
    "-organisation": (OrderByRaw("lower(organisation)"), False),
    "status": (Registration.status, True),
    "waitlist": (Registration.waitlist_ticket, True),
}
# Spreadsheet programs run cells that start like this as formulas.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RosterQuery:
    status: str | None = None
    stakeholder_group: str | None = None
    q: str = ""
    sort: str = "created_at"
    limit: int = 50
    offset: int = 0


def _condition(event_id: int, query: RosterQuery) -> Combinable:
    condition: Combinable = Registration.event == event_id
    if query.status:
        condition = And(condition, Registration.status == query.status)
    if query.stakeholder_group:
        condition = And(condition, Registration.stakeholder_group == query.stakeholder_group)
    for word in search_words(query.q):
        condition = And(condition, Registration.search_text.like(f"%{word}%"))
    return condition


async def _positions(event_id: int) -> dict[int, int]:
    rows = (
        await Registration.select(Registration.id)
        .where((Registration.event == event_id) & (Registration.status == "waitlisted"))
        .order_by(Registration.waitlist_ticket)
    )
    return {row["id"]: position for position, row in enumerate(rows, start=1)}


async def roster(
    event_id: int, query: RosterQuery, *, everything: bool = False
) -> tuple[list[RegistrationView], int]:
    """One page of registrations (or all of them) and how many match."""
    condition = _condition(event_id, query)
    column, ascending = SORTS.get(query.sort, SORTS["created_at"])
    select = (
        Registration.select(*[getattr(Registration, c) for c in VIEW_COLUMNS])
        .where(condition)
        .order_by(column, ascending=ascending)
        .order_by(Registration.id)
        .output(load_json=True)
    )
    if not everything:
        select = select.limit(query.limit).offset(query.offset)
    rows = await select
    total = await Registration.count().where(condition)
    positions = await _positions(event_id)
    return [
        RegistrationView(**row, waitlist_position=positions.get(row["id"])) for row in rows
    ], total


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def roster_csv(event: EventView, query: RosterQuery, *, now: datetime) -> bytes:
    """Every matching row: UTF-8 with BOM and semicolons, as German Excel expects."""
    event_id, event_over = event.id, event.is_finished(now)
    registrations, _ = await roster(event_id, query, everything=True)
    questions = await questions_of(event_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(
        [
            "id",
            "name",
            "email",
            "organisation",
            "stakeholder_group",
            "role",
            "status",
            "waitlist_position",
            "checked_in_at",
            "attendance",
            "created_at",
            "language",
            "notes",
            "consent_at",
            "consent_version",
            "address_confirmed",
            *[_cell(q.label) for q in questions],
        ]
    )
    for r in registrations:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    r.id,
                    r.name,
                    r.email,
                    r.organisation,
                    r.stakeholder_group,
                    r.role,
                    r.status,
                    r.waitlist_position,
                    r.checked_in_at,
                    r.attendance(event_over),
                    r.created_at,
                    r.language,
                    r.notes,
                    r.consent_at,
                    r.consent_version,
                    not r.awaits_address_confirmation,
                    *[r.answers.get(q.key) for q in questions],
                )
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
