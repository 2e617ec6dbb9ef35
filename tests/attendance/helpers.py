"""Shared steps for the attendance tests: someone holding a seat at the door, and the stored time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests import factories
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.services import EventView
from treffpunkt.registrations.schemas import ManualRegistration
from treffpunkt.registrations.services import add_by_organiser
from treffpunkt.registrations.tables import Registration


async def anna_at_the_door(owner: CurrentOrganiser) -> tuple[EventView, int]:
    """An event starting in an hour (check-in is open) where Anna holds a confirmed seat."""
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
    return event, outcome.registration_id


async def stored_check_in(registration_id: int) -> datetime | None:
    row = (
        await Registration.select(Registration.checked_in_at)
        .where(Registration.id == registration_id)
        .first()
    )
    assert row is not None
    moment: datetime | None = row["checked_in_at"]
    return moment
