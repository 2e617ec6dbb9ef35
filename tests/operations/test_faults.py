"""Faults against real server processes (issue 12, point 4).

The database going away and returning: PostgreSQL goes away behind a TCP proxy the test cuts
(every connection closed, new ones refused) and restores; the shared PostgreSQL server itself
is never touched. SQLite is a file, not a server: for it, "away" means another process holding
the write lock longer than the busy timeout (a backup, a maintenance script, a stuck process).
Readers never wait for a writer in WAL mode, so on SQLite pages that only read keep working and
only writes are refused; on PostgreSQL everything that needs the database is. The server, a
server started during the outage and a mail worker all carry on by themselves afterwards.

A SIGKILL, or the database going away, in the middle of a burst of registrations: whatever the
server acknowledged with a 201 is in the roster afterwards, and nothing is half-written.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests import factories
from tests.conftest import (
    LIVE_SERVER_ARGS,
    ServerProcess,
    free_port,
    is_postgres,
    run_async,
    served,
)
from tests.mail_sink import Sink
from tests.notifications.helpers import outbox_rows, queue_confirmations, start_worker, stop_worker
from tests.sessions import hidden_value
from tests.tcp_proxy import TcpProxy
from treffpunkt.events.services import EventView
from treffpunkt.events.tables import Event
from treffpunkt.notifications.messages import message_id
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings

RECOVERY_SECONDS = 10
BUSY_TIMEOUT_SECONDS = "1"
TRACEBACK = re.compile(r"Traceback|File \"|asyncpg|sqlite3|OperationalError", re.IGNORECASE)


class Outage(Protocol):
    """Takes the database away from one server process, and gives it back."""

    env: dict[str, str]  # the server process's environment, for the outage to reach it

    def begin(self) -> None: ...

    def end(self) -> None: ...

    def close(self) -> None: ...


class CutPostgres:
    """The server reaches PostgreSQL only through a proxy: cut it, and the database is gone."""

    def __init__(self) -> None:
        parts = urlsplit(get_settings().database_url)
        self.proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
        self.proxy.start()
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.proxy.port}"
        self.env = {
            "TREFFPUNKT_DATABASE_URL": urlunsplit(
                parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host)
            )
        }

    def begin(self) -> None:
        self.proxy.cut()

    def end(self) -> None:
        self.proxy.restore()

    def close(self) -> None:
        self.proxy.stop()


class LockedSqlite:
    """Another process holds SQLite's write lock, longer than the server's busy timeout."""

    def __init__(self) -> None:
        self.env = {"TREFFPUNKT_SQLITE_BUSY_TIMEOUT": BUSY_TIMEOUT_SECONDS}
        self.path = get_settings().database_url.removeprefix("sqlite:///")
        self.holder: sqlite3.Connection | None = None

    def begin(self) -> None:
        self.holder = sqlite3.connect(
            self.path, isolation_level=None, timeout=10, check_same_thread=False
        )
        self.holder.execute("BEGIN IMMEDIATE")

    def end(self) -> None:
        if self.holder is not None:
            self.holder.execute("ROLLBACK")
            self.holder.close()
            self.holder = None

    close = end


@pytest.fixture(scope="module")
def database_link() -> Iterator[Outage]:
    link: Outage = CutPostgres() if is_postgres() else LockedSqlite()
    yield link
    link.close()


@pytest.fixture(scope="module")
def server(database_link: Outage) -> Iterator[ServerProcess]:
    """One real server (two workers) for the module, reaching the database through the link."""
    process = ServerProcess(*LIVE_SERVER_ARGS, env=database_link.env)
    try:
        process.wait_until_healthy()
        yield process
    finally:
        process.stop()


@pytest.fixture
def outage(database_link: Outage, server: ServerProcess) -> Iterator[Outage]:
    """The link, given back after the test however it ended, and the server ready again."""
    yield database_link
    database_link.end()
    wait_until(lambda: httpx.get(f"{server.base_url}/health/ready").status_code == 200)


def wait_until(condition: Callable[[], bool], seconds: float = RECOVERY_SECONDS) -> float:
    """Poll until `condition()` holds; answers how long it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if condition():
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


def person(email: str) -> dict[str, Any]:
    return {
        "name": "Anna Schmidt",
        "email": email,
        "organisation": "Stadt Leipzig",
        "stakeholder_group": "public_administration",
        "consent": True,
    }


def an_event(**overrides: Any) -> tuple[EventView, dict[str, str]]:
    owner, headers = run_async(factories.organiser_with_token())
    return run_async(factories.event(owner, **overrides)), headers


def roster(base_url: str, slug: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every registration of the event as the organiser's API shows it, by email."""
    rows: dict[str, dict[str, Any]] = {}
    while True:
        response = httpx.get(
            f"{base_url}/api/v1/events/{slug}/registrations",
            params={"limit": 100, "offset": len(rows)},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        page = response.json()
        rows.update({row["email"]: row for row in page["items"]})
        if not page["items"] or len(rows) >= page["total"]:
            return rows


def assert_friendly_503(response: httpx.Response, words: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text
    assert not TRACEBACK.search(response.text), response.text
    assert int(response.headers["retry-after"]) > 0


# --- the database going away and returning ---------------------------------------------------


def test_while_the_database_is_away_an_api_registration_answers_503_problem_details_with_a_request_id(
    server: ServerProcess, outage: Outage
) -> None:
    event, _ = an_event()
    outage.begin()

    response = httpx.post(
        f"{server.base_url}/api/v1/events/{event.slug}/registrations",
        json=person("ben@example.org"),
        timeout=10,
    )

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "database_unavailable"
    assert problem["request_id"] == response.headers["x-request-id"]
    assert int(response.headers["retry-after"]) > 0
    assert not TRACEBACK.search(response.text)


@pytest.mark.parametrize(
    ("accept_language", "words"),
    [
        ("de-DE,de;q=0.9", "Bitte versuchen Sie es in ein paar Minuten noch einmal."),
        ("en-GB,en;q=0.9", "Please try again in a few minutes."),
    ],
)
def test_while_the_database_is_away_the_registration_form_answers_a_friendly_503_page_in_the_readers_language(
    server: ServerProcess, outage: Outage, accept_language: str, words: str
) -> None:
    event, _ = an_event()
    with httpx.Client(base_url=server.base_url, timeout=10) as browser:
        browser.headers["Accept-Language"] = accept_language
        page = browser.get(f"/events/{event.slug}")
        assert page.status_code == 200, page.text
        outage.begin()

        response = browser.post(
            f"/events/{event.slug}/register",
            data={
                "_csrf_token": hidden_value(page.text, "_csrf_token"),
                "name": "Ben Bauer",
                "email": "ben@example.org",
                "organisation": "Kreis",
                "stakeholder_group": "politics",
                "consent": "yes",
            },
        )

    assert_friendly_503(response, words)


def test_after_the_database_returns_the_same_server_registers_again_and_kept_what_it_acknowledged(
    server: ServerProcess, outage: Outage
) -> None:
    event, headers = an_event()
    url = f"{server.base_url}/api/v1/events/{event.slug}/registrations"
    assert httpx.post(url, json=person("anna@example.org"), timeout=10).status_code == 201
    outage.begin()
    assert httpx.post(url, json=person("ben@example.org"), timeout=10).status_code == 503
    outage.end()

    took = wait_until(
        lambda: httpx.post(url, json=person("cem@example.org"), timeout=10).status_code == 201
    )

    assert took < RECOVERY_SECONDS
    assert server.process.poll() is None  # the same process: no restart
    rows = roster(server.base_url, event.slug, headers)
    assert {email: row["status"] for email, row in rows.items()} == {
        "anna@example.org": "confirmed",
        "cem@example.org": "confirmed",
    }


def all_sent(count: int) -> bool:
    statuses = [row["status"] for row in run_async(outbox_rows())]
    return statuses == ["sent"] * count


def test_a_mail_worker_process_carries_on_by_itself_after_the_database_was_away(
    outage: Outage, tmp_path: Path
) -> None:
    owner = run_async(factories.organiser())
    run_async(queue_confirmations(owner, 2))
    sink = Sink(free_port())
    sink.start()
    log = tmp_path / "worker.log"
    process = start_worker(
        log, {**outage.env, "TREFFPUNKT_SMTP_URL": f"smtp://127.0.0.1:{sink.port}"}
    )
    try:
        # Sent and recorded: a mail whose outcome the outage keeps from the database is sent
        # again when its lease runs out (at least once), which is not what this test is about.
        wait_until(lambda: all_sent(2), 30)
        outage.begin()
        wait_until(lambda: "mail worker round failed" in log.read_text())
        outage.end()
        run_async(queue_confirmations(owner, 2))

        wait_until(lambda: all_sent(4))
        assert process.poll() is None  # the same process: no restart
    finally:
        stop_worker(process)
        sink.stop()

    assert process.returncode == 0  # it still stops when told to (SIGTERM), not killed
    rows = run_async(outbox_rows())
    assert [row["status"] for row in rows] == ["sent"] * 4
    assert sink.message_id_counts() == {message_id(row["id"]): 1 for row in rows}


@pytest.mark.skipif(not is_postgres(), reason="SQLite readers never wait (see the module)")
def test_while_postgresql_is_away_health_and_readiness_answer_503_and_liveness_200(
    server: ServerProcess, outage: Outage
) -> None:
    outage.begin()

    health = httpx.get(f"{server.base_url}/health", timeout=10)
    ready = httpx.get(f"{server.base_url}/health/ready", timeout=10)
    live = httpx.get(f"{server.base_url}/health/live", timeout=10)

    assert (health.status_code, health.json()["code"]) == (503, "database_unavailable")
    assert (ready.status_code, ready.json()["code"]) == (503, "database_unavailable")
    assert live.status_code == 200


@pytest.mark.skipif(not is_postgres(), reason="SQLite opens its file when a request needs it")
def test_a_server_started_while_postgresql_is_away_becomes_ready_when_it_returns(
    outage: Outage,
) -> None:
    event, _ = an_event()
    outage.begin()
    late = ServerProcess(*LIVE_SERVER_ARGS, env=outage.env)
    try:
        wait_until(lambda: httpx.get(f"{late.base_url}/health/live").status_code == 200, 30)
        assert httpx.get(f"{late.base_url}/health/ready", timeout=10).status_code == 503
        outage.end()

        wait_until(lambda: httpx.get(f"{late.base_url}/health/ready").status_code == 200)
        response = httpx.post(
            f"{late.base_url}/api/v1/events/{event.slug}/registrations",
            json=person("anna@example.org"),
            timeout=10,
        )
    finally:
        late.stop()

    assert response.status_code == 201, response.text


@pytest.mark.skipif(not is_postgres(), reason="SQLite readers never wait (see the module)")
@pytest.mark.parametrize("path", ["/events", "/events/{slug}"])
def test_while_postgresql_is_away_the_catalogue_and_event_page_answer_a_friendly_503(
    server: ServerProcess, outage: Outage, path: str
) -> None:
    event, _ = an_event()
    outage.begin()

    response = httpx.get(
        server.base_url + path.format(slug=event.slug),
        headers={"Accept-Language": "en"},
        timeout=10,
    )

    assert_friendly_503(response, "Please try again in a few minutes.")


@pytest.mark.skipif(is_postgres(), reason="PostgreSQL readers need the server (see above)")
@pytest.mark.parametrize("path", ["/health/ready", "/health/live", "/events", "/events/{slug}"])
def test_while_another_process_holds_the_sqlite_write_lock_reading_keeps_working(
    server: ServerProcess, outage: Outage, path: str
) -> None:
    event, _ = an_event()
    outage.begin()

    response = httpx.get(server.base_url + path.format(slug=event.slug), timeout=10)

    assert response.status_code == 200, response.text


# --- a fault in the middle of a burst of registrations ----------------------------------------

BURST = 200
CAPACITY = 50
CONCURRENT = 32
STRIKE_AFTER = 80  # acknowledged registrations: past the capacity, well into the waiting list
NOTHING_HALF_WRITTEN = {
    "seats_taken minus confirmed": 0,
    "waiting without a ticket": 0,
    "tickets given twice": 0,
    "registrations without their mail": 0,
    "registrations mailed twice": 0,
    "mail without its registration": 0,
}


@dataclass
class Burst:
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # email: the 201's body
    other_answers: list[int] = field(default_factory=list)
    unanswered: int = 0


async def burst_of_registrations(base_url: str, slug: str, strike: Callable[[], None]) -> Burst:
    """BURST registrations, CONCURRENT at a time; `strike` once STRIKE_AFTER were acknowledged."""
    burst = Burst()
    url = f"{base_url}/api/v1/events/{slug}/registrations"
    slots = asyncio.Semaphore(CONCURRENT)
    limits = httpx.Limits(max_connections=CONCURRENT)

    async def register(client: httpx.AsyncClient, number: int) -> None:
        email = f"burst{number}@example.org"
        async with slots:
            try:
                response = await client.post(url, json=person(email))
            except httpx.TransportError:
                burst.unanswered += 1
                return
        if response.status_code != 201:
            burst.other_answers.append(response.status_code)
            return
        burst.acknowledged[email] = response.json()
        if len(burst.acknowledged) == STRIKE_AFTER:
            strike()

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(register(client, number) for number in range(BURST)))
    assert len(burst.acknowledged) >= STRIKE_AFTER
    return burst


async def half_written_rows(event_id: int) -> dict[str, int]:
    """What a fault in the middle of registrations could leave behind, counted."""
    rows = await Registration.select(
        Registration.id, Registration.status, Registration.waitlist_ticket
    ).where(Registration.event == event_id)
    ids = {row["id"] for row in rows}
    tickets = [row["waitlist_ticket"] for row in rows if row["status"] == "waitlisted"]
    mailed = await OutboxMessage.select(OutboxMessage.registration).where(
        OutboxMessage.kind.is_in(["registration_confirmed", "registration_waitlisted"])
    )
    mails_per_registration = Counter(row["registration"] for row in mailed)
    event = await Event.select(Event.seats_taken).where(Event.id == event_id).first()
    assert event is not None
    return {
        "seats_taken minus confirmed": event["seats_taken"]
        - sum(row["status"] == "confirmed" for row in rows),
        "waiting without a ticket": tickets.count(None),
        "tickets given twice": len(tickets) - len(set(tickets)),
        "registrations without their mail": len(ids - set(mails_per_registration)),
        "registrations mailed twice": sum(n > 1 for n in mails_per_registration.values()),
        "mail without its registration": len(set(mails_per_registration) - ids),
    }


def assert_every_acknowledged_registration_kept(
    burst: Burst, rows: dict[str, dict[str, Any]]
) -> None:
    """Each 201 is in the roster with the status and waiting-list place it answered."""
    assert {
        email: (rows[email]["status"], rows[email]["waitlist_position"])
        for email in burst.acknowledged
    } == {
        email: (answer["status"], answer["waitlist_position"])
        for email, answer in burst.acknowledged.items()
    }
    assert sum(row["status"] == "confirmed" for row in rows.values()) == CAPACITY


def test_a_sigkill_during_a_burst_loses_no_acknowledged_registration_and_leaves_nothing_half_written() -> (
    None
):
    event, headers = an_event(capacity=CAPACITY, waitlist=True)
    first = ServerProcess(*LIVE_SERVER_ARGS)
    try:
        burst = run_async(
            burst_of_registrations(first.wait_until_healthy(), event.slug, first.kill)
        )
    finally:
        first.stop()
    assert burst.other_answers == []
    assert burst.unanswered > 0, "the kill came after the burst"

    with served(*LIVE_SERVER_ARGS) as base_url:
        assert_every_acknowledged_registration_kept(burst, roster(base_url, event.slug, headers))
    assert run_async(half_written_rows(event.id)) == NOTHING_HALF_WRITTEN


def test_the_database_going_away_during_a_burst_answers_503_loses_nothing_acknowledged_and_leaves_nothing_half_written(
    server: ServerProcess, outage: Outage
) -> None:
    event, headers = an_event(capacity=CAPACITY, waitlist=True)

    burst = run_async(burst_of_registrations(server.base_url, event.slug, outage.begin))
    outage.end()
    wait_until(lambda: httpx.get(f"{server.base_url}/health/ready").status_code == 200)

    assert set(burst.other_answers) == {503}
    assert burst.unanswered == 0
    assert_every_acknowledged_registration_kept(burst, roster(server.base_url, event.slug, headers))
    assert run_async(half_written_rows(event.id)) == NOTHING_HALF_WRITTEN
