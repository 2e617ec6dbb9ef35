"""Leases (invariant 4): a long round or a stop mid-batch neither doubles nor loses mail."""

from __future__ import annotations

import asyncio
import signal
import tempfile
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from tests.notifications.conftest import Sink
from tests.notifications.helpers import (
    Clock,
    outbox_rows,
    queue_confirmations,
    start_worker,
    stop_worker,
)
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.clock import utcnow
from treffpunkt.notifications import worker
from treffpunkt.notifications.messages import message_id

pytestmark = pytest.mark.anyio

Organiser = tuple[CurrentOrganiser, dict[str, str]]
# Far longer than any round here takes; it only ends a test that would otherwise hang.
DEADLINE = 120.0


async def test_a_round_longer_than_the_lease_sends_every_message_exactly_once(
    smtp: Sink, organiser: Organiser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each mail takes a minute of the workers' time: a batch outlasts the lease many times."""
    await queue_confirmations(organiser[0], 120)
    clock = Clock(utcnow())
    monkeypatch.setattr(worker, "utcnow", clock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def a_minute_per_mail(_peer: tuple[str, int]) -> None:
        clock.advance(timedelta(minutes=1))
        if smtp.data_attempts == 120:
            loop.call_soon_threadsafe(stop.set)

    smtp.on_data = a_minute_per_mail
    with anyio.fail_after(DEADLINE):
        await asyncio.gather(worker.run_worker(stop), worker.run_worker(stop))

    rows = await outbox_rows()
    assert clock.now - rows[0]["created_at"] > 10 * worker.LEASE
    assert [row["status"] for row in rows] == ["sent"] * 120
    assert smtp.message_id_counts() == {message_id(row["id"]): 1 for row in rows}
    assert [row["attempts"] for row in rows] == [1] * 120


async def test_sigterm_mid_batch_leaves_nothing_doubled_and_nothing_lost(
    smtp: Sink, organiser: Organiser
) -> None:
    await queue_confirmations(organiser[0], 30)
    process = start_worker(Path(tempfile.mkdtemp(prefix="treffpunkt-worker-")) / "worker.log")

    def terminate_at_the_fifth_mail(_peer: tuple[str, int]) -> None:
        if smtp.data_attempts == 5:
            process.send_signal(signal.SIGTERM)

    smtp.on_data = terminate_at_the_fifth_mail
    try:
        await anyio.to_thread.run_sync(process.wait, DEADLINE)
    finally:
        stop_worker(process)

    assert process.returncode == 0
    rows = await outbox_rows()
    sent = [row for row in rows if row["status"] == "sent"]
    waiting = [row for row in rows if row["status"] != "sent"]
    assert 5 <= len(sent) < 30
    assert smtp.message_id_counts() == {message_id(row["id"]): 1 for row in sent}
    assert {(row["status"], row["attempts"], row["lease_until"]) for row in waiting} == {
        ("pending", 0, None)
    }

    await worker.drain()

    rows = await outbox_rows()
    assert [row["status"] for row in rows] == ["sent"] * 30
    assert smtp.message_id_counts() == {message_id(row["id"]): 1 for row in rows}
