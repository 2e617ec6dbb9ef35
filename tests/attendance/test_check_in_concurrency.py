"""Many scanners at once: the real server (two processes) checks a ticket in exactly once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import httpx

from tests import factories
from tests.attendance.helpers import anna_at_the_door, stored_check_in
from treffpunkt.attendance.codes import check_in_code

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
    event, registration_id = await anna_at_the_door(owner)
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
