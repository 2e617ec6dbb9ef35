from datetime import UTC, datetime, timedelta

import httpx

from tests import factories
from tests.conftest import LIVE_SERVER_ARGS, run_async, served
from tests.notifications.helpers import sign_up
from treffpunkt.notifications.tables import OutboxMessage


def test_the_real_server_answers_health_with_its_database(live_server: str) -> None:
    response = httpx.get(f"{live_server}/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def a_confirmed_registration_due_a_reminder() -> int:
    """One confirmed registration for an event that starts well within the reminder time."""
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    event = await factories.event(
        await factories.organiser(),
        starts_at=starts_at.isoformat(),
        ends_at=(starts_at + timedelta(hours=2)).isoformat(),
    )
    outcome = await sign_up(event.slug, "anna@example.org")
    await OutboxMessage.delete(force=True)  # the confirmation: only reminders count below
    return outcome.registration_id


async def reminders_for(registration_id: int) -> int:
    return await OutboxMessage.count().where(
        (OutboxMessage.kind == "reminder") & (OutboxMessage.registration == registration_id)
    )


def test_a_server_started_like_the_live_server_schedules_no_reminders() -> None:
    registration_id = run_async(a_confirmed_registration_due_a_reminder())

    # A mail worker scans for reminders as it starts, before the server answers; the server
    # stops gracefully, so a scan that had begun has written its rows.
    with served(*LIVE_SERVER_ARGS) as base_url:
        assert httpx.get(f"{base_url}/health").status_code == 200

    assert run_async(reminders_for(registration_id)) == 0


def test_a_server_with_a_mail_worker_schedules_the_reminder_before_it_answers() -> None:
    """The control: the check above sees a reminder scan when there is one."""
    registration_id = run_async(a_confirmed_registration_due_a_reminder())

    with served("--workers", "1") as base_url:
        assert httpx.get(f"{base_url}/health").status_code == 200

    assert run_async(reminders_for(registration_id)) == 1
