"""Invariant 4 against a real SMTP server: an outage delays mail, never loses or doubles it;
a permanent refusal is recorded once and shown to the organisers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.helpers import SCHEDULE, make_due, outbox_rows, sign_up
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.services import EventView
from treffpunkt.notifications.messages import message_id
from treffpunkt.notifications.worker import BatchResult, drain

pytestmark = pytest.mark.anyio

Organiser = tuple[CurrentOrganiser, dict[str, str]]
REFUSAL = "550 5.1.1 <ben@example.org>: mailbox unavailable"
PEOPLE = ("anna@example.org", "ben@example.org", "cem@example.org")


async def three_registered(organiser: Organiser) -> EventView:
    event = await factories.event(organiser[0], **SCHEDULE)
    for address in PEOPLE:
        await sign_up(event.slug, address)
    return event


async def test_a_451_answer_keeps_every_message_pending_for_a_later_attempt(
    smtp: Sink, organiser: Organiser
) -> None:
    await three_registered(organiser)
    smtp.data_reply = "451 try later"
    started = datetime.now(UTC)

    result = await drain()

    assert result == BatchResult(sent=0, failed=0, deferred=3, skipped=0)
    rows = await outbox_rows()
    assert [(r["status"], r["attempts"], r["last_error"]) for r in rows] == [
        ("pending", 1, "451 try later")
    ] * 3
    assert all(row["next_attempt_at"] > started for row in rows)
    assert all(row["lease_until"] is None for row in rows)
    assert smtp.messages == []


async def test_an_unreachable_server_keeps_every_message_pending(
    smtp: Sink, organiser: Organiser
) -> None:
    await three_registered(organiser)
    smtp.stop()
    started = datetime.now(UTC)

    result = await drain()

    assert result == BatchResult(sent=0, failed=0, deferred=3, skipped=0)
    rows = await outbox_rows()
    assert [r["status"] for r in rows] == ["pending"] * 3
    assert all(r["last_error"].startswith("connection: ") for r in rows)
    assert all(row["next_attempt_at"] > started for row in rows)


async def test_after_an_outage_every_message_arrives_exactly_once(
    smtp: Sink, organiser: Organiser
) -> None:
    await three_registered(organiser)
    smtp.data_reply = "451 try later"
    await drain()
    await make_due()
    smtp.stop()
    await drain()
    assert [r["status"] for r in await outbox_rows()] == ["pending"] * 3

    smtp.data_reply = None
    smtp.start()
    await drain()  # not due yet: nothing goes out
    assert smtp.messages == []
    await make_due()
    result = await drain()
    await make_due()
    await drain()

    assert result.sent == 3
    rows = await outbox_rows()
    assert [(r["status"], r["attempts"], r["last_error"]) for r in rows] == [("sent", 3, "")] * 3
    assert smtp.message_id_counts() == {message_id(r["id"]): 1 for r in rows}
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(PEOPLE)


async def test_a_550_answer_fails_the_message_for_good(smtp: Sink, organiser: Organiser) -> None:
    await three_registered(organiser)
    smtp.refused["ben@example.org"] = REFUSAL

    result = await drain()

    assert result == BatchResult(sent=2, failed=1, deferred=0, skipped=0)
    statuses = {r["recipient"]: (r["status"], r["last_error"]) for r in await outbox_rows()}
    assert statuses["ben@example.org"] == ("failed", REFUSAL)
    assert statuses["anna@example.org"] == ("sent", "")
    assert statuses["cem@example.org"] == ("sent", "")


async def test_a_550_answer_to_data_fails_the_message_for_good(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    smtp.data_reply = "550 5.7.1 message refused"

    await drain()

    [row] = await outbox_rows()
    assert (row["status"], row["last_error"]) == ("failed", "550 5.7.1 message refused")


async def test_a_failed_message_is_not_tried_again(smtp: Sink, organiser: Organiser) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    smtp.data_reply = "550 5.7.1 message refused"
    await drain()
    smtp.data_reply = None
    await make_due(status="failed")

    result = await drain()

    assert result == BatchResult()
    assert smtp.data_attempts == 1
    assert smtp.messages == []
    assert [r["attempts"] for r in await outbox_rows()] == [1]


async def test_roster_shows_the_mail_problem_of_a_refused_address(
    client: httpx.AsyncClient, smtp: Sink, organiser: Organiser
) -> None:
    event = await three_registered(organiser)
    smtp.refused["ben@example.org"] = REFUSAL
    await drain()

    response = await client.get(f"/api/v1/events/{event.slug}/registrations", headers=organiser[1])

    assert response.status_code == 200, response.text
    problems = {row["email"]: row["mail_problem"] for row in response.json()["items"]}
    assert problems["anna@example.org"] is None
    assert problems["cem@example.org"] is None
    assert problems["ben@example.org"] == REFUSAL


async def test_a_greylisting_451_to_the_recipient_is_retried_and_then_delivered(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    smtp.refused["anna@example.org"] = "451 4.7.1 greylisted, try again later"
    await drain()
    assert [(r["status"], r["last_error"]) for r in await outbox_rows()] == [
        ("pending", "451 4.7.1 greylisted, try again later")
    ]

    del smtp.refused["anna@example.org"]
    await make_due()
    await drain()

    assert [r["status"] for r in await outbox_rows()] == ["sent"]
    assert len(smtp.to("anna@example.org")) == 1
