"""The worker's once-a-minute jobs fail alone: the mail and the other jobs carry on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.helpers import queue_confirmations, sign_up
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.notifications import worker
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

Organiser = tuple[CurrentOrganiser, dict[str, str]]
PERIODIC_JOBS = ("schedule_reminders", "keep_retention", "release_expired_holds")
# How long a test lets the worker run before it gives up waiting, so a failure cannot hang.
PATIENCE = 20.0
POLL = 0.05


class Broken(Exception):
    """What the broken job raises, to tell it from anything else going wrong."""


def break_job(monkeypatch: pytest.MonkeyPatch, name: str) -> list[datetime]:
    """Make the worker's periodic job `name` raise every time; answers when it was called."""
    calls: list[datetime] = []

    async def broken(now: datetime) -> None:
        calls.append(now)
        raise Broken(name)

    broken.__name__ = name  # what the worker's log names it by
    monkeypatch.setattr(worker, name, broken)
    return calls


async def run_worker_until(done: Callable[[], Awaitable[bool]]) -> None:
    """Run the mail worker in this process until `done()` holds or patience runs out."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_worker(stop))
    try:
        for _ in range(int(PATIENCE / POLL)):
            if await done():
                break
            await asyncio.sleep(POLL)
    finally:
        stop.set()
        await task


@pytest.mark.parametrize("job", PERIODIC_JOBS)
async def test_mail_still_goes_out_while_a_periodic_job_keeps_failing(
    smtp: Sink, organiser: Organiser, monkeypatch: pytest.MonkeyPatch, job: str
) -> None:
    break_job(monkeypatch, job)
    await queue_confirmations(organiser[0], 3)

    async def all_delivered() -> bool:
        return len(smtp.received) == 3

    await run_worker_until(all_delivered)

    assert len(smtp.received) == 3


async def test_a_failing_periodic_job_does_not_keep_the_others_from_running(
    smtp: Sink, organiser: Organiser, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_job(monkeypatch, "schedule_reminders")
    event = await factories.event(organiser[0], requires_address_confirmation=True)
    held = await sign_up(event.slug, "anna@example.org")
    await Registration.update(
        {Registration.unconfirmed_until: datetime.now(UTC) - timedelta(minutes=1)}
    ).where(Registration.id == held.registration_id)

    async def released() -> bool:
        row = (
            await Registration.select(Registration.status)
            .where(Registration.id == held.registration_id)
            .first()
        )
        return row is not None and row["status"] == "cancelled"

    await run_worker_until(released)

    assert await released()


async def test_a_failing_periodic_job_waits_for_the_next_scan_instead_of_every_round(
    smtp: Sink, organiser: Organiser, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = break_job(monkeypatch, "keep_retention")
    monkeypatch.setattr(worker, "IDLE_PAUSE", 0.01)
    rounds = 0
    drain = worker.drain

    async def counted_drain(*args: object, **kwargs: object) -> worker.BatchResult:
        nonlocal rounds
        rounds += 1
        return await drain(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(worker, "drain", counted_drain)

    async def five_rounds() -> bool:
        return rounds >= 5

    await run_worker_until(five_rounds)

    assert rounds >= 5
    assert len(calls) == 1


async def test_a_failing_periodic_job_is_logged_by_name_with_its_traceback(
    smtp: Sink, organiser: Organiser, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = break_job(monkeypatch, "release_expired_holds")

    async def called() -> bool:
        return bool(calls)

    with capture_logs() as logs:
        await run_worker_until(called)

    failures = [entry for entry in logs if entry.get("job") == "release_expired_holds"]
    assert [(entry["log_level"], entry.get("exc_info")) for entry in failures] == [("error", True)]
