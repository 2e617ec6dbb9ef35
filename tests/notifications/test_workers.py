"""Invariant 4 with several workers, long rounds and a stop: each message goes out once."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from tests.mail_sink import Sink
from tests.notifications.helpers import (
    Clock,
    outbox_rows,
    queue_confirmations,
    start_worker,
    stop_worker,
)
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.db import is_postgres
from treffpunkt.notifications import worker
from treffpunkt.notifications.messages import message_id
from treffpunkt.notifications.smtp import parse_smtp_url
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.notifications.worker import drain
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.anyio

Organiser = tuple[CurrentOrganiser, dict[str, str]]
WORKER_DEADLINE = 60.0


def socket_owner(local_port: int, pids: list[int]) -> int | None:
    """Which of these processes holds the TCP socket bound to `local_port` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == local_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except FileNotFoundError:
                continue
    return None


async def test_two_worker_processes_on_postgresql_send_each_message_exactly_once(
    smtp: Sink, organiser: Organiser
) -> None:
    if not is_postgres():
        pytest.skip(
            "several worker processes need PostgreSQL (FOR UPDATE SKIP LOCKED); "
            "SQLite has one writer and is covered by the in-process test"
        )
    await queue_confirmations(organiser[0], 200)
    logs = Path(tempfile.mkdtemp(prefix="treffpunkt-workers-"))
    workers = [start_worker(logs / f"worker-{n}.log") for n in (1, 2)]
    senders: dict[int, int | None] = {}  # one lookup per connection, not per message

    def note_sender(peer: tuple[str, int]) -> None:
        if peer[1] not in senders:
            senders[peer[1]] = socket_owner(peer[1], [process.pid for process in workers])

    smtp.on_data = note_sender
    try:
        deadline = time.monotonic() + WORKER_DEADLINE
        while time.monotonic() < deadline:
            for process in workers:
                assert process.poll() is None, (logs / "worker-1.log").read_text()[-2000:]
            if await OutboxMessage.count().where(OutboxMessage.status != "sent") == 0:
                break
            await anyio.sleep(0.25)
    finally:
        for process in workers:
            stop_worker(process)

    rows = await outbox_rows()
    assert [row["status"] for row in rows] == ["sent"] * 200
    assert [row["attempts"] for row in rows] == [1] * 200
    assert len(smtp.received) == 200
    assert smtp.message_id_counts() == {message_id(row["id"]): 1 for row in rows}
    # Both processes did part of the work, or the test proved nothing about concurrency.
    assert set(senders.values()) == {process.pid for process in workers}


async def test_two_concurrent_drains_send_each_message_exactly_once(
    smtp: Sink, organiser: Organiser
) -> None:
    await queue_confirmations(organiser[0], 120)

    first, second = await asyncio.gather(drain(), drain())

    assert first.sent + second.sent == 120
    assert first.sent > 0
    assert second.sent > 0
    assert (first.failed, first.deferred, second.failed, second.deferred) == (0, 0, 0, 0)
    rows = await outbox_rows()
    assert [row["status"] for row in rows] == ["sent"] * 120
    assert len(smtp.received) == 120
    assert smtp.message_id_counts() == {message_id(row["id"]): 1 for row in rows}


async def test_a_round_longer_than_the_lease_sends_every_message_exactly_once(
    smtp: Sink, organiser: Organiser, worker_clock: Clock
) -> None:
    """Each mail takes a minute of the workers' time: a batch outlasts the lease many times."""
    await queue_confirmations(organiser[0], 120)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def a_minute_per_mail(_peer: tuple[str, int]) -> None:
        worker_clock.advance(timedelta(minutes=1))
        if smtp.data_attempts == 120:
            loop.call_soon_threadsafe(stop.set)

    smtp.on_data = a_minute_per_mail
    with anyio.fail_after(WORKER_DEADLINE):
        await asyncio.gather(worker.run_worker(stop), worker.run_worker(stop))

    rows = await outbox_rows()
    assert worker_clock() - rows[0]["created_at"] > 10 * worker.LEASE
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
        await anyio.to_thread.run_sync(process.wait, WORKER_DEADLINE)
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

    await drain()

    rows = await outbox_rows()
    assert [row["status"] for row in rows] == ["sent"] * 30
    assert smtp.message_id_counts() == {message_id(row["id"]): 1 for row in rows}


async def test_a_worker_whose_lease_was_taken_over_neither_sends_nor_records_the_rows(
    smtp: Sink, organiser: Organiser, worker_clock: Clock
) -> None:
    await queue_confirmations(organiser[0], 2)
    stalled = await worker.claim("stalled")
    worker_clock.advance(worker.LEASE + timedelta(seconds=1))
    assert [row["id"] for row in await worker.claim("other")] == [row["id"] for row in stalled]

    result = await worker.deliver(
        stalled, parse_smtp_url(get_settings().smtp_url), worker="stalled"
    )

    assert result == worker.BatchResult()
    assert smtp.received == []
    rows = await outbox_rows()
    assert [(row["status"], row["lease_owner"], row["attempts"]) for row in rows] == [
        ("sending", "other", 2),
        ("sending", "other", 2),
    ]
