"""Invariant 4 against a real SMTP server: an outage delays mail, never loses or doubles it;
a permanent refusal is recorded once and shown to the organisers."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.helpers import (
    SCHEDULE,
    make_due,
    outbox_rows,
    sign_up,
    start_worker,
    stop_worker,
)
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.services import EventView
from treffpunkt.notifications.messages import message_id
from treffpunkt.notifications.worker import FIRST_RETRY, IDLE_PAUSE, BatchResult, drain

pytestmark = pytest.mark.anyio

Organiser = tuple[CurrentOrganiser, dict[str, str]]
REFUSAL = "550 5.1.1 <ben@example.org>: mailbox unavailable"
PEOPLE = ("anna@example.org", "ben@example.org", "cem@example.org")
WORKER_DEADLINE = 20.0


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


async def outbox_when(condition: Callable[[dict[str, dict[str, Any]]], bool]) -> dict[str, Any]:
    """The outbox by recipient, once `condition` holds for it (a worker process is at work)."""
    with anyio.fail_after(WORKER_DEADLINE):
        while True:
            rows = {row["recipient"]: row for row in await outbox_rows()}
            if condition(rows):
                return rows
            await anyio.sleep(0.1)


def least_delay(attempts: int) -> timedelta:
    """The shortest wait the backoff allows after this many attempts (jitter halves at most)."""
    return FIRST_RETRY * 2 ** (attempts - 1) / 2


def attempted(times: int, status: str = "pending") -> Callable[[dict[str, Any]], bool]:
    """Anna's and Cem's mails (Ben's was refused for good) tried `times` times, now `status`."""
    return lambda rows: all(
        (rows[a]["attempts"], rows[a]["status"]) == (times, status)
        for a in ("anna@example.org", "cem@example.org")
    )


async def test_a_worker_process_through_refusals_an_outage_and_a_hang_up_sends_each_mail_once(
    smtp: Sink, organiser: Organiser
) -> None:
    """Invariant 4 end to end: the real worker process against a server that defers, refuses
    one recipient for good, vanishes, drops the connection mid-DATA and comes back."""
    await three_registered(organiser)
    smtp.data_reply = "451 4.3.0 try again later"
    started = datetime.now(UTC)
    process = start_worker(Path(tempfile.mkdtemp(prefix="treffpunkt-worker-")) / "worker.log")
    try:
        rows = await outbox_when(
            lambda rows: all((r["attempts"], r["status"]) == (1, "pending") for r in rows.values())
        )
        assert {row["last_error"] for row in rows.values()} == {"451 4.3.0 try again later"}
        assert all(r["next_attempt_at"] >= started + least_delay(1) for r in rows.values())
        await anyio.sleep(IDLE_PAUSE * 2.5)  # several rounds of the worker: none is due
        assert smtp.data_attempts == 3

        smtp.refused["ben@example.org"] = REFUSAL
        await make_due()
        rows = await outbox_when(attempted(2))
        assert (rows["ben@example.org"]["status"], rows["ben@example.org"]["last_error"]) == (
            "failed",
            REFUSAL,
        )

        smtp.stop()
        await make_due()
        await make_due(status="failed")  # due or not, a refused mail is not tried again
        vanished = datetime.now(UTC)
        rows = await outbox_when(attempted(3))
        assert rows["anna@example.org"]["last_error"].startswith("connection: ")
        assert rows["anna@example.org"]["next_attempt_at"] >= vanished + least_delay(3)
        await anyio.sleep(IDLE_PAUSE * 2.5)
        assert attempted(3)({row["recipient"]: row for row in await outbox_rows()})

        smtp.data_reply = None
        smtp.hang_up = True
        smtp.start()
        before = smtp.data_attempts
        await make_due()
        rows = await outbox_when(attempted(4))
        assert rows["anna@example.org"]["last_error"].startswith("connection: ")
        assert smtp.data_attempts == before + 1  # Anna's data went, then the line; Cem's waits
        assert smtp.received == []

        smtp.hang_up = False
        await make_due()
        rows = await outbox_when(attempted(5, "sent"))
    finally:
        stop_worker(process)

    assert process.returncode == 0
    assert {r: (row["status"], row["attempts"]) for r, row in rows.items()} == {
        "anna@example.org": ("sent", 5),
        "ben@example.org": ("failed", 2),
        "cem@example.org": ("sent", 5),
    }
    assert smtp.message_id_counts() == {
        message_id(row["id"]): 1 for row in rows.values() if row["status"] == "sent"
    }
