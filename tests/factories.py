"""Small builders for test data; each returns what the tests need to act on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from treffpunkt.accounts.services import CurrentOrganiser, create_api_token, create_organiser
from treffpunkt.events import services
from treffpunkt.events.schemas import EventCreate, Venue
from treffpunkt.events.services import EventView

PASSWORD = "correct horse battery"
_numbers = count(1)


async def organiser(*, admin: bool = False, email: str | None = None) -> CurrentOrganiser:
    address = email or f"organiser{next(_numbers)}@example.org"
    return await create_organiser(address, PASSWORD, name="Test Organiser", is_admin=admin)


async def organiser_with_token(*, admin: bool = False) -> tuple[CurrentOrganiser, dict[str, str]]:
    """An organiser and the Authorization header that speaks for them."""
    person = await organiser(admin=admin)
    token = await create_api_token(person.email)
    return person, {"Authorization": f"Bearer {token}"}


def event_payload(days_ahead: int = 10, **overrides: Any) -> dict[str, Any]:
    """A valid in-person workshop as the API takes it (JSON-ready)."""
    starts_at = (datetime.now(UTC) + timedelta(days=days_ahead)).replace(microsecond=0)
    payload: dict[str, Any] = {
        "title": "Breitband für Schulen",
        "summary": "Glasfaser und WLAN für alle Schulen im Landkreis",
        "description": "Ein Workshop für Schulträger.",
        "kind": "workshop",
        "format": "in_person",
        "region": "DE-SN",
        "sectors": ["education"],
        "venue": {
            "name": "Rathaus",
            "street": "Markt 1",
            "postal_code": "01067",
            "city": "Dresden",
        },
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=3)).isoformat(),
        "timezone": "Europe/Berlin",
        "capacity": 30,
    }
    payload.update(overrides)
    return payload


def event_create(days_ahead: int = 10, **overrides: Any) -> EventCreate:
    payload = event_payload(days_ahead, **overrides)
    venue = payload.pop("venue")
    for key in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        if isinstance(payload.get(key), str):
            payload[key] = datetime.fromisoformat(payload[key])
    return EventCreate(**payload, venue=Venue(**venue) if venue else None)


async def event(
    owner: CurrentOrganiser, *, publish: bool = True, days_ahead: int = 10, **overrides: Any
) -> EventView:
    """An event in the database, published unless told otherwise."""
    now = datetime.now(UTC)
    created = await services.create_event(event_create(days_ahead, **overrides), owner, now=now)
    if publish:
        return await services.publish_event(created.slug, now=now)
    return created
