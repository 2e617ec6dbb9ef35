"""The app pointed at a real SMTP server (tests/mail_sink.py), and people with their mail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import httpx
import pytest

from tests import factories
from tests.mail_sink import Received, Sink, free_port
from tests.notifications.helpers import CONTACT, MAIL_FROM, SCHEDULE, Clock, sign_up
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.services import EventView
from treffpunkt.notifications import worker
from treffpunkt.notifications.worker import drain
from treffpunkt.settings import get_settings


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
