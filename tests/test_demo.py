"""`treffpunkt demo`: a first start that shows what every page is for, and a second that adds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from treffpunkt.accounts.services import check_password, organiser_by_email
from treffpunkt.attendance.feedback import feedback_results
from treffpunkt.attendance.reports import BERLIN, participation
from treffpunkt.attendance.tables import FeedbackResponse
from treffpunkt.clock import utcnow
from treffpunkt.demo import DEMO_EMAIL, DEMO_PASSWORD, KOMMUNE_EMAIL, load_demo_data
from treffpunkt.events.services import co_organisers, events_managed_by
from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.schemas import STAKEHOLDER_GROUPS, STATUSES
from treffpunkt.registrations.services import waitlist_position
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

PAST_EVENT = "Breitbandausbau: Erfahrungen aus dem Graue-Flecken-Programm"
FULL_EVENT = "OZG-Umsetzung: Leistungen gemeinsam digitalisieren"
APPROVAL_EVENT = "Energiegemeinschaften gründen"


async def _event(title: str) -> dict[str, Any]:
    row = await Event.select().where(Event.title == title).first()
    assert row is not None, title
    return row


async def _count_by_status(event_id: int) -> dict[str, int]:
    rows = await Registration.select(Registration.status).where(Registration.event == event_id)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


async def _totals() -> dict[str, int]:
    return {
        "events": await Event.count(),
        "registrations": await Registration.count(),
        "outbox": await OutboxMessage.count(),
        "check_ins": await Registration.count().where(Registration.checked_in_at.is_not_null()),
        "feedback": await FeedbackResponse.count(),
    }


async def test_demo_has_every_status_from_every_stakeholder_group() -> None:
    await load_demo_data()

    rows = await Registration.select(Registration.status, Registration.stakeholder_group)
    pairs = {(row["status"], row["stakeholder_group"]) for row in rows}

    assert pairs == {(status, group) for status in STATUSES for group in STAKEHOLDER_GROUPS}


async def test_demo_registrations_come_in_german_and_english() -> None:
    await load_demo_data()

    rows = await Registration.select(Registration.language).distinct()

    assert {row["language"] for row in rows} == {"de", "en"}


async def test_demo_registrations_answer_the_events_questions() -> None:
    await load_demo_data()
    event = await _event(APPROVAL_EVENT)

    rows = (
        await Registration.select(Registration.answers)
        .where(Registration.event == event["id"])
        .output(load_json=True)
    )

    assert all(row["answers"]["stand"] for row in rows)
    assert any(row["answers"].get("themen") for row in rows)


async def test_demo_seats_taken_match_the_confirmed_registrations() -> None:
    await load_demo_data()

    for event in await Event.select(Event.id, Event.title, Event.seats_taken):
        counts = await _count_by_status(event["id"])
        assert event["seats_taken"] == counts.get("confirmed", 0), event["title"]


async def test_demo_has_a_full_event_with_a_waiting_list_in_order() -> None:
    await load_demo_data()
    event = await _event(FULL_EVENT)

    waiting = (
        await Registration.select(Registration.waitlist_ticket)
        .where((Registration.event == event["id"]) & (Registration.status == "waitlisted"))
        .order_by(Registration.waitlist_ticket)
    )
    positions = [await waitlist_position(event["id"], row["waitlist_ticket"]) for row in waiting]

    assert event["seats_taken"] == event["capacity"] == 12
    assert positions == list(range(1, 11))
    assert await _count_by_status(event["id"]) == {
        "confirmed": 12,
        "waitlisted": 10,
        "cancelled": 1,
    }


async def test_demo_has_pending_requests_on_an_event_with_approval() -> None:
    await load_demo_data()
    event = await _event(APPROVAL_EVENT)

    assert event["requires_approval"] is True
    assert await _count_by_status(event["id"]) == {
        "confirmed": 10,
        "declined": 10,
        "pending": 10,
    }


async def test_demo_past_event_has_check_ins_and_no_shows_in_the_report() -> None:
    await load_demo_data()
    event = await _event(PAST_EVENT)
    kommune = await organiser_by_email(KOMMUNE_EMAIL)
    assert kommune is not None
    day = event["starts_at"].astimezone(BERLIN).date()

    report = await participation(kommune, day, day, now=utcnow())

    assert event["ends_at"] < utcnow() - timedelta(days=1)
    assert (report.totals.registrations, report.totals.attended, report.totals.no_show) == (
        22,
        17,
        5,
    )


async def test_demo_past_event_has_feedback_results() -> None:
    await load_demo_data()
    event = await _event(PAST_EVENT)

    answered, results = await feedback_results(event["id"])

    assert answered == 11
    assert [(r.key, r.answers) for r in results] == [
        ("gesamt", 11),
        ("nutzen", 11),
        ("kommentar", 6),
    ]
    assert results[0].average == 4.09


async def test_demo_second_organiser_signs_in_and_co_organises_one_event() -> None:
    await load_demo_data()
    kommune = await check_password(KOMMUNE_EMAIL, DEMO_PASSWORD)
    demo = await organiser_by_email(DEMO_EMAIL)
    assert kommune is not None
    assert demo is not None

    managed = await events_managed_by(kommune)
    co_organised = [event for event in managed if event.owner != kommune.id]

    assert kommune.is_admin is False
    assert [event.owner for event in co_organised] == [demo.id]
    assert await co_organisers(co_organised[0].slug) == [KOMMUNE_EMAIL]


async def test_demo_has_one_cancelled_event_and_one_draft() -> None:
    await load_demo_data()

    rows = await Event.select(Event.status, Event.sequence)

    assert [row["status"] for row in rows].count("cancelled") == 1
    assert [row["status"] for row in rows].count("draft") == 1
    assert [row["sequence"] for row in rows if row["status"] == "cancelled"] == [1]


async def test_demo_mail_is_in_the_mailbox_but_never_sent_to_a_server() -> None:
    await load_demo_data()

    kinds = await OutboxMessage.select(OutboxMessage.kind).distinct()
    undelivered = await OutboxMessage.count().where(OutboxMessage.status != "sent")

    assert {row["kind"] for row in kinds} >= {
        "registration_confirmed",
        "registration_waitlisted",
        "registration_pending",
        "registration_declined",
        "event_cancelled",
        "thank_you",
    }
    assert undelivered == 0


async def test_demo_run_twice_changes_nothing_the_second_time() -> None:
    await load_demo_data()
    first = await _totals()

    summary = await load_demo_data()

    assert await _totals() == first
    assert summary.startswith(f"demo data: 0 new events, {first['events']} already there;")


def test_migrate_then_demo_works_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    env = {**os.environ, "TREFFPUNKT_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}

    def treffpunkt(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "treffpunkt", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    migrated = treffpunkt("migrate")
    loaded = treffpunkt("demo")

    assert migrated.returncode == 0, migrated.stderr
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("demo data: 16 new events, 0 already there;")
    assert f"{KOMMUNE_EMAIL} / {DEMO_PASSWORD}" in loaded.stdout
