"""Without SMTP, mail stays in the database, and admins read it in the development mailbox."""

from __future__ import annotations

import re

import httpx
import pytest
from litestar import Litestar

from tests import factories
from tests.notifications.helpers import SCHEDULE, calendar_uid, outbox_rows, qr_texts, sign_up
from tests.sessions import sign_in
from treffpunkt.attendance.codes import CheckInCode, read_code
from treffpunkt.events.services import EventView
from treffpunkt.notifications.messages import message_id
from treffpunkt.notifications.worker import BatchResult, drain

pytestmark = pytest.mark.anyio

TITLE = "Breitband für Schulen"
# The leaves of a confirmation, in the order the mailbox numbers them.
PART_TYPES = ["text/plain", "text/html", "image/png", "text/calendar", "application/ics"]


@pytest.fixture
async def queued(client: httpx.AsyncClient, no_smtp: None) -> tuple[EventView, int, int]:
    """A confirmation waiting in the outbox: the event, the registration and the row's id."""
    owner = await factories.organiser()
    event = await factories.event(owner, **SCHEDULE)
    outcome = await sign_up(event.slug, "anna@example.org", name="Anna Schmidt")
    [row] = await outbox_rows()
    return event, outcome.registration_id, row["id"]


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> httpx.AsyncClient:
    await sign_in(client, await factories.organiser(admin=True))
    return client


async def test_without_smtp_drain_sends_nothing_and_mail_stays_pending(
    queued: tuple[EventView, int, int],
) -> None:
    result = await drain()

    assert result == BatchResult()
    assert [(r["status"], r["attempts"]) for r in await outbox_rows()] == [("pending", 0)]


async def test_mailbox_lists_the_queued_message(
    admin: httpx.AsyncClient, queued: tuple[EventView, int, int]
) -> None:
    _, _, outbox_id = queued

    response = await admin.get("/admin/mailbox")

    assert response.status_code == 200
    assert f'<a href="/admin/mailbox/{outbox_id}">{outbox_id}</a>' in response.text
    assert "registration_confirmed" in response.text
    assert "anna@example.org" in response.text
    assert "pending" in response.text


async def test_mailbox_message_shows_subject_recipient_and_text(
    admin: httpx.AsyncClient, queued: tuple[EventView, int, int]
) -> None:
    _, _, outbox_id = queued

    response = await admin.get(f"/admin/mailbox/{outbox_id}")

    assert response.status_code == 200
    assert f"<h1>Anmeldung bestätigt: {TITLE}</h1>" in response.text
    assert "Anna Schmidt &lt;anna@example.org&gt;" in response.text
    assert "Guten Tag Anna Schmidt," in response.text
    assert "Ihr Platz ist bestätigt." in response.text


async def test_mailbox_message_shows_the_message_id_the_mail_will_carry(
    admin: httpx.AsyncClient, queued: tuple[EventView, int, int]
) -> None:
    _, _, outbox_id = queued

    response = await admin.get(f"/admin/mailbox/{outbox_id}")

    expected = message_id(outbox_id).replace("<", "&lt;").replace(">", "&gt;")
    assert f"<dt>Message-ID</dt><dd>{expected}</dd>" in response.text


async def test_mailbox_message_lists_every_part(
    admin: httpx.AsyncClient, queued: tuple[EventView, int, int]
) -> None:
    _, _, outbox_id = queued

    response = await admin.get(f"/admin/mailbox/{outbox_id}")

    headings = re.findall(r"<h2>([^<]*)</h2>", response.text)
    assert headings == [
        "text/plain",
        "text/html",
        "image/png · ticket.png",
        "text/calendar",
        "application/ics · invite.ics",
    ]


async def test_mailbox_opens_the_html_part_with_the_qr_image_pointing_at_its_part(
    admin: httpx.AsyncClient, queued: tuple[EventView, int, int]
) -> None:
    _, _, outbox_id = queued

    response = await admin.get(f"/admin/mailbox/{outbox_id}/parts/1")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "sandbox" in response.headers["content-security-policy"]
    images = re.findall(r'<img src="([^"]*)"', response.text)
    assert images == [f"/admin/mailbox/{outbox_id}/parts/2"]
    assert "cid:" not in response.text


async def test_mailbox_opens_the_qr_image(
    admin: httpx.AsyncClient, queued: tuple[EventView, int, int]
) -> None:
    event, registration_id, outbox_id = queued

    response = await admin.get(f"/admin/mailbox/{outbox_id}/parts/2")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    [code] = qr_texts(response.content)
    assert read_code(code) == CheckInCode(event.id, registration_id)


async def test_mailbox_opens_the_ics_attachment(
    admin: httpx.AsyncClient, queued: tuple[EventView, int, int]
) -> None:
    import icalendar

    event, _, outbox_id = queued

    response = await admin.get(f"/admin/mailbox/{outbox_id}/parts/4")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ics")
    assert response.headers["content-disposition"] == 'attachment; filename="invite.ics"'
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar["METHOD"] == "REQUEST"
    assert str(calendar.walk("VEVENT")[0]["UID"]) == await calendar_uid(event.slug)


async def test_mailbox_answers_404_for_a_part_that_does_not_exist(
    admin: httpx.AsyncClient, queued: tuple[EventView, int, int]
) -> None:
    _, _, outbox_id = queued

    response = await admin.get(f"/admin/mailbox/{outbox_id}/parts/{len(PART_TYPES)}")

    assert response.status_code == 404


async def test_mailbox_is_forbidden_to_an_organiser_who_is_not_admin(
    client: httpx.AsyncClient, queued: tuple[EventView, int, int]
) -> None:
    _, _, outbox_id = queued
    await sign_in(client, await factories.organiser())

    responses = [
        await client.get(path)
        for path in (
            "/admin/mailbox",
            f"/admin/mailbox/{outbox_id}",
            f"/admin/mailbox/{outbox_id}/parts/0",
        )
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert "Anna Schmidt" not in "".join(r.text for r in responses)


async def test_mailbox_sends_an_anonymous_visitor_to_the_login(
    app: Litestar, queued: tuple[EventView, int, int]
) -> None:
    _, _, outbox_id = queued
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://testserver",
    ) as anonymous:
        listing = await anonymous.get("/admin/mailbox")
        message = await anonymous.get(f"/admin/mailbox/{outbox_id}")

    assert (listing.status_code, listing.headers["location"]) == (
        302,
        "/login?next=/admin/mailbox",
    )
    assert (message.status_code, message.headers["location"]) == (
        302,
        f"/login?next=/admin/mailbox/{outbox_id}",
    )
