"""A real SMTP server (aiosmtpd) that keeps what it receives, and the app pointed at it."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests import factories
from tests.notifications.helpers import CONTACT, MAIL_FROM, SCHEDULE, Clock, sign_up
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.services import EventView
from treffpunkt.notifications import worker
from treffpunkt.notifications.worker import drain
from treffpunkt.settings import get_settings

# aiosmtpd logs every SMTP command at INFO; the failures worth reading drown in them.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class Sink:
    """An SMTP server on 127.0.0.1 that accepts, refuses or defers mail as the test says."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Received] = []
        self.data_reply: str | None = None  # e.g. "451 try later": answer DATA with this
        self.refused: dict[str, str] = {}  # recipient -> RCPT answer, e.g. "550 …"
        self.data_attempts = 0
        # Called with the client's (host, port) while its connection is open, per message.
        self.on_data: Callable[[tuple[str, int]], None] | None = None
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.data_attempts += 1
        if self.on_data is not None:
            self.on_data(session.peer)
        if self.data_reply:
            return self.data_reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        """Every mail whose envelope went to `address`, in order of arrival."""
        return [r.message for r in self.received if address in r.rcpt_tos]

    def only(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert len(found) == 1, f"{len(found)} mails to {address}: {self.subjects()}"
        return found[0]

    def subjects(self) -> list[tuple[str, str]]:
        return [(", ".join(r.rcpt_tos), str(r.message["Subject"])) for r in self.received]

    def message_id_counts(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages)

    def clear(self) -> None:
        with self._lock:
            self.received.clear()


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    """A running SMTP sink, and the settings pointing Treffpunkt's worker at it."""
    sink = Sink(free_port())
    sink.start()
    monkeypatch.setenv("TREFFPUNKT_SMTP_URL", f"smtp://127.0.0.1:{sink.port}")
    monkeypatch.setenv("TREFFPUNKT_MAIL_FROM", MAIL_FROM)
    get_settings.cache_clear()
    try:
        yield sink
    finally:
        sink.stop()
        monkeypatch.undo()
        get_settings.cache_clear()


@pytest.fixture
def worker_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The mail worker's clock (leases, send-time checks), moved by the test, not by time."""
    clock = Clock()
    monkeypatch.setattr(worker, "utcnow", clock)
    return clock


@pytest.fixture
def no_smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No SMTP server configured: mail stays in the database for the mailbox page."""
    monkeypatch.delenv("TREFFPUNKT_SMTP_URL", raising=False)
    get_settings.cache_clear()
    try:
        yield
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


@pytest.fixture
async def organiser(client: httpx.AsyncClient) -> tuple[CurrentOrganiser, dict[str, str]]:
    """An organiser and the Authorization header for the API (the client keeps a DB pool)."""
    return await factories.organiser_with_token()


@dataclass(frozen=True)
class Confirmed:
    """One person's confirmation, as the SMTP server received it."""

    event: EventView
    registration_id: int
    email: str
    name: str
    mail: EmailMessage
    received: Received


@pytest.fixture
async def confirmed(smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]) -> Confirmed:
    """A German confirmation for Jürgen Müller at a workshop with an organiser contact."""
    event = await factories.event(organiser[0], **SCHEDULE, **CONTACT)
    outcome = await sign_up(event.slug, "juergen@example.org", name="Jürgen Müller")
    await drain()
    mail = smtp.only("juergen@example.org")
    return Confirmed(
        event=event,
        registration_id=outcome.registration_id,
        email="juergen@example.org",
        name="Jürgen Müller",
        mail=mail,
        received=smtp.received[0],
    )
