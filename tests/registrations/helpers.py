"""Shared steps for the registration tests: people, the roster, secret links and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import httpx

from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.services import token_for
from treffpunkt.registrations.tables import Registration

PROBLEM_JSON = "application/problem+json"
_numbers = count(1)


def person(**overrides: Any) -> dict[str, Any]:
    """A valid registration body for a new person (a fresh email each time)."""
    number = next(_numbers)
    body: dict[str, Any] = {
        "name": f"Person {number}",
        "email": f"person{number}@example.org",
        "organisation": "Landkreis Meißen",
        "stakeholder_group": "public_administration",
        "consent": True,
    }
    body.update(overrides)
    return body


async def register(client: httpx.AsyncClient, slug: str, **overrides: Any) -> httpx.Response:
    """Register a (new) person through the public API."""
    return await client.post(f"/api/v1/events/{slug}/registrations", json=person(**overrides))


async def register_ok(client: httpx.AsyncClient, slug: str, **overrides: Any) -> dict[str, Any]:
    """Register and insist that it was accepted; the receipt plus the person's email."""
    body = person(**overrides)
    response = await client.post(f"/api/v1/events/{slug}/registrations", json=body)
    assert response.status_code == 201, response.text
    return {**response.json(), "email": body["email"].strip().lower()}


async def roster(
    client: httpx.AsyncClient, slug: str, auth: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get(f"/api/v1/events/{slug}/registrations", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def row_of(
    client: httpx.AsyncClient, slug: str, auth: dict[str, str], email: str
) -> dict[str, Any]:
    """The roster row of one person, whatever their status."""
    rows = (await roster(client, slug, auth, limit=100))["items"]
    matches = [row for row in rows if row["email"] == email]
    assert len(matches) == 1, f"{email} appears {len(matches)} times in the roster"
    row: dict[str, Any] = matches[0]
    return row


async def id_of(client: httpx.AsyncClient, slug: str, auth: dict[str, str], email: str) -> int:
    return int((await row_of(client, slug, auth, email))["id"])


async def token_of(client: httpx.AsyncClient, slug: str, auth: dict[str, str], email: str) -> str:
    """The secret link's token, as the confirmation mail would carry it."""
    return await token_for(await id_of(client, slug, auth, email))


async def statuses(
    client: httpx.AsyncClient, slug: str, auth: dict[str, str]
) -> dict[str, tuple[str, int | None]]:
    """email -> (status, waitlist_position) for every registration of the event."""
    rows = (await roster(client, slug, auth, limit=100))["items"]
    return {row["email"]: (row["status"], row["waitlist_position"]) for row in rows}


async def seats_left(client: httpx.AsyncClient, slug: str) -> int | None:
    response = await client.get(f"/api/v1/events/{slug}")
    assert response.status_code == 200, response.text
    return response.json()["seats_left"]  # type: ignore[no-any-return]


async def organiser_call(
    client: httpx.AsyncClient,
    slug: str,
    auth: dict[str, str],
    registration_id: int,
    action: str,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    """POST …/registrations/{id}/{action}: approve, decline, cancel or move-up."""
    return await client.post(
        f"/api/v1/events/{slug}/registrations/{registration_id}/{action}",
        json=body,
        headers=auth,
    )


async def outbox() -> list[dict[str, Any]]:
    """Every outbox message, oldest first, with what tests look at."""
    return await OutboxMessage.select(
        OutboxMessage.kind,
        OutboxMessage.recipient,
        OutboxMessage.language,
        OutboxMessage.registration,
    ).order_by(OutboxMessage.id)


async def age_outbox(by: timedelta) -> None:
    """As if every message in the outbox had been queued `by` earlier."""
    await OutboxMessage.update(
        {OutboxMessage.created_at: OutboxMessage.created_at - by}, force=True
    )


async def outbox_kinds() -> list[tuple[str, str]]:
    """(kind, recipient) of every outbox message, oldest first."""
    return [(row["kind"], row["recipient"]) for row in await outbox()]


async def registration_count() -> int:
    return int(await Registration.count())


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def from_now(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


async def move_event_into_the_past(slug: str) -> None:
    """Make a published event finished, which the API itself never allows."""
    ended = datetime.now(UTC) - timedelta(hours=1)
    await Event.update({Event.starts_at: ended - timedelta(hours=3), Event.ends_at: ended}).where(
        Event.slug == slug
    )


def problem_code(response: httpx.Response) -> str:
    """The problem's code, after checking that the response is problem details."""
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    return str(response.json()["code"])


def error_fields(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]
