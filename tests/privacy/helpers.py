"""Shared steps for the privacy tests: a registrant with everything a registration can hold."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from tests import factories
from tests.registrations.helpers import id_of, register_ok, token_of
from treffpunkt.attendance.tables import FeedbackQuestion, FeedbackResponse
from treffpunkt.events.services import EventView
from treffpunkt.registrations.tables import Registration

ANNA = {
    "email": "anna@example.org",
    "name": "Anna Schmidt",
    "organisation": "Stadt Leipzig",
    "role": "Referentin",
    "notes": "vegetarisch",
}
QUESTION = {"key": "diet", "kind": "short_text", "label": "Essenswünsche"}


@dataclass(frozen=True)
class Registrant:
    event: EventView
    auth: dict[str, str]
    token: str
    registration_id: int


async def anna_registered(
    client: httpx.AsyncClient, *, capacity: int | None = 5, checked_in: bool = False
) -> Registrant:
    """Anna, registered with an answer to a custom question; checked in if asked."""
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=capacity, waitlist=True)
    questions = await client.put(
        f"/api/v1/events/{event.slug}/questions", json=[QUESTION], headers=auth
    )
    assert questions.status_code == 200, questions.text
    await register_ok(client, event.slug, **ANNA, answers={"diet": "ohne Nüsse"})
    registration_id = await id_of(client, event.slug, auth, ANNA["email"])
    if checked_in:
        await Registration.update({Registration.checked_in_at: datetime.now(UTC)}).where(
            Registration.id == registration_id
        )
    return Registrant(
        event, auth, await token_of(client, event.slug, auth, ANNA["email"]), registration_id
    )


async def registration_row(registration_id: int) -> dict[str, Any]:
    row = await Registration.select().where(Registration.id == registration_id).first()
    assert row is not None
    return row


async def feedback_given(registrant: Registrant, text: str) -> None:
    """Anna's feedback, stored as the feedback form stores it."""
    await FeedbackQuestion.insert(
        FeedbackQuestion(event=registrant.event.id, key="best", kind="text", label="Was war gut?")
    )
    await FeedbackResponse.insert(
        FeedbackResponse(
            event=registrant.event.id,
            registration=registrant.registration_id,
            answers=json.dumps({"best": text}),
        )
    )
