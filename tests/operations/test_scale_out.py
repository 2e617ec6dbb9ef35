"""Several app processes and several mail workers on one PostgreSQL: the path past one machine."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests import factories
from tests.conftest import free_port, is_postgres, run_async
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.skipif(
    not is_postgres(), reason="scale-out runs on PostgreSQL only (SQLite is one machine's file)"
)


class Sink:
    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.message_ids.append(str(message["Message-ID"]))
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "treffpunkt", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_healthy(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{base} did not start")


def person(number: int) -> dict[str, Any]:
    return {
        "name": f"Person {number}",
        "email": f"scale{number}@example.org",
        "organisation": "Kreis",
        "stakeholder_group": "public_administration",
        "consent": True,
    }


async def burst(bases: list[str], slug: str, people: int) -> list[int]:
    limits = httpx.Limits(max_connections=people)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        responses = await asyncio.gather(
            *[
                client.post(f"{bases[n % 2]}/api/v1/events/{slug}/registrations", json=person(n))
                for n in range(people)
            ]
        )
    return [r.status_code for r in responses]


def test_two_app_processes_and_two_workers_never_overbook_and_send_each_mail_once(
    sink: tuple[Sink, int],
) -> None:
    handler, smtp_port = sink
    event = run_async(factories.event(run_async(factories.organiser()), capacity=30))
    env = {
        **os.environ,
        "TREFFPUNKT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "TREFFPUNKT_REGISTRATION_RATE_LIMIT": "0",
    }
    ports = [free_port(), free_port()]
    processes = [start(["serve", "--port", str(p), "--no-mail-worker"], env) for p in ports]
    processes += [start(["worker"], env), start(["worker"], env)]
    try:
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for base in bases:
            wait_healthy(base)

        statuses = run_async(burst(bases, event.slug, 100))

        assert statuses == [201] * 100
        confirmed = run_async(
            Registration.count()
            .where((Registration.event == event.id) & (Registration.status == "confirmed"))
            .run()
        )
        assert confirmed == 30
        queued = run_async(OutboxMessage.count().where(OutboxMessage.event == event.id).run())
        unsent = (OutboxMessage.event == event.id) & (OutboxMessage.status != "sent")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and run_async(OutboxMessage.count().where(unsent).run()):
            time.sleep(0.2)
    finally:
        # The workers stop gracefully: once they have exited, every mail they sent (a
        # duplicate too) has been accepted by the sink, so the counts below are final.
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(20)
    assert queued == 100
    assert len(handler.message_ids) == 100
    assert max(Counter(handler.message_ids).values()) == 1
