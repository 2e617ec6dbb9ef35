"""Many scanners at once: the real server (two processes) checks a ticket in exactly once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from tests import factories
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.registrations.schemas import ManualRegistration
from treffpunkt.registrations.services import add_by_organiser
from treffpunkt.registrations.tables import Registration

SCANNERS = 20


@dataclass(frozen=True)
class Ticket:
    slug: str
    registration_id: int
    code: str
    auth: dict[str, str]


async def ticket_at_the_door() -> Ticket:
    """One confirmed person at an event starting in an hour (check-in is open)."""
    owner, auth = await factories.organiser_with_token()
    starts_at = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    event = await factories.event(
        owner,
        starts_at=starts_at.isoformat(),
        ends_at=(starts_at + timedelta(hours=3)).isoformat(),
    )
    outcome = await add_by_organiser(
        event.slug,
        ManualRegistration(
            name="Anna Schmidt",
            email="anna@example.org",
            organisation="Stadt Leipzig",
            stakeholder_group="public_administration",
            consent=True,
        ),
        now=datetime.now(UTC),
    )
    assert outcome.status == "confirmed"
    registration_id = outcome.registration_id
    return Ticket(event.slug, registration_id, check_in_code(event.id, registration_id), auth)


async def scan_at_once(base_url: str, ticket: Ticket) -> list[httpx.Response]:
    """The same code from every scanner at once, each on its own connection."""
    limits = httpx.Limits(max_connections=SCANNERS, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        return await asyncio.gather(
            *[
                client.post(
                    f"/api/v1/events/{ticket.slug}/check-ins",
                    json={"code": ticket.code},
                    headers=ticket.auth,
                )
                for _ in range(SCANNERS)
            ]
        )


async def stored_check_in(registration_id: int) -> datetime | None:
    row = (
        await Registration.select(Registration.checked_in_at)
        .where(Registration.id == registration_id)
        .first()
    )
    assert row is not None
    moment: datetime | None = row["checked_in_at"]
    return moment


def test_simultaneous_scans_of_one_ticket_check_in_exactly_once(live_server: str) -> None:
    ticket = asyncio.run(ticket_at_the_door())

    responses = asyncio.run(scan_at_once(live_server, ticket))

    assert [r.status_code for r in responses] == [200] * SCANNERS
    firsts = [r.json()["already_checked_in"] for r in responses].count(False)
    assert firsts == 1


def test_simultaneous_scans_of_one_ticket_all_report_the_stored_first_time(
    live_server: str,
) -> None:
    ticket = asyncio.run(ticket_at_the_door())

    responses = asyncio.run(scan_at_once(live_server, ticket))

    times = {datetime.fromisoformat(r.json()["checked_in_at"]) for r in responses}
    assert len(times) == 1
    assert times == {asyncio.run(stored_check_in(ticket.registration_id))}
