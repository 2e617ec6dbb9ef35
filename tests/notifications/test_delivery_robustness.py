"""One odd registration or a long outage must not cost anyone their mail (invariant 4)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.helpers import SCHEDULE, make_due, outbox_rows, sign_up
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.notifications import worker
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.notifications.worker import MAX_ATTEMPTS, drain
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

Organiser = tuple[CurrentOrganiser, dict[str, str]]
INJECTED = "Anna\r\nBcc: evil@example.org"


async def test_a_name_with_a_line_break_does_not_hold_up_other_peoples_mail(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    odd = await sign_up(event.slug, "anna@example.org")
    await sign_up(event.slug, "ben@example.org")
    await sign_up(event.slug, "cem@example.org")
    await Registration.update({Registration.name: INJECTED}).where(
        Registration.id == odd.registration_id
    )

    await drain()

    statuses = {row["recipient"]: row["status"] for row in await outbox_rows()}
    assert statuses["ben@example.org"] == "sent"
    assert statuses["cem@example.org"] == "sent"
    assert statuses["anna@example.org"] != "sending"
    assert sorted(r.rcpt_tos[0] for r in smtp.received if r.rcpt_tos != ["anna@example.org"]) == [
        "ben@example.org",
        "cem@example.org",
    ]


async def test_a_registration_the_api_accepts_is_confirmed_by_mail_whatever_the_name(
    client: httpx.AsyncClient, smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)

    response = await client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={
            "name": INJECTED,
            "email": "anna@example.org",
            "organisation": "Stadt Leipzig",
            "stakeholder_group": "public_administration",
            "consent": True,
        },
    )
    await drain()

    if response.status_code == 422:
        # Refusing such a name at the door is as good as mailing it safely: nothing is stored.
        assert response.json()["code"] == "validation_error"
        assert [error["field"] for error in response.json()["errors"]] == ["name"]
        assert await Registration.count() == 0
        assert smtp.received == []
        return
    assert response.status_code == 201, response.text
    mail = smtp.only("anna@example.org")
    assert [a.addr_spec for a in mail["To"].addresses] == ["anna@example.org"]
    assert mail["Bcc"] is None
    assert [r.rcpt_tos for r in smtp.received] == [["anna@example.org"]]


async def test_a_long_outage_does_not_lose_mail(smtp: Sink, organiser: Organiser) -> None:
    """Hours of an unreachable server (12 attempts with backoff) delay mail, never drop it."""
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    smtp.stop()
    await OutboxMessage.update({OutboxMessage.attempts: MAX_ATTEMPTS - 1}, force=True)
    await drain()

    smtp.start()
    await make_due()
    await drain()

    [row] = await outbox_rows()
    assert row["status"] == "sent", row["last_error"]
    assert len(smtp.to("anna@example.org")) == 1


async def test_mail_to_an_internationalised_domain_goes_to_its_idna_form(
    smtp: Sink, organiser: Organiser
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "info@köln.de")

    await drain()

    [row] = await outbox_rows()
    assert (row["status"], row["last_error"]) == ("sent", "")
    assert [r.rcpt_tos for r in smtp.received] == [["info@xn--kln-sna.de"]]
    mail = smtp.only("info@xn--kln-sna.de")
    assert [a.addr_spec for a in mail["To"].addresses] == ["info@xn--kln-sna.de"]


def failing_render(times: int) -> Any:
    """The real render, after `times` failures such as a database hiccup would cause."""
    render = worker.render
    failures = iter(range(times))

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if next(failures, None) is not None:
            raise ConnectionResetError("database connection lost")
        return await render(*args, **kwargs)

    return flaky


async def test_a_mail_that_failed_to_render_once_is_delivered_on_the_next_attempt(
    smtp: Sink, organiser: Organiser, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    monkeypatch.setattr(worker, "render", failing_render(1))

    await drain()

    [row] = await outbox_rows()
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"] == "rendering: database connection lost"
    assert smtp.received == []

    await make_due()
    await drain()

    [row] = await outbox_rows()
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert len(smtp.to("anna@example.org")) == 1


async def test_a_mail_that_never_renders_is_given_up_like_a_refused_one(
    smtp: Sink, organiser: Organiser, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    await OutboxMessage.update({OutboxMessage.attempts: MAX_ATTEMPTS - 1}, force=True)
    monkeypatch.setattr(worker, "render", failing_render(MAX_ATTEMPTS))

    await drain()

    [row] = await outbox_rows()
    assert (row["status"], row["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert row["last_error"] == "gave up: rendering: database connection lost"
    assert smtp.received == []
