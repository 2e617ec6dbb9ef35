"""The QR ticket in the confirmation: a signed check-in code, and nothing for those without a seat."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.conftest import Confirmed
from tests.notifications.helpers import (
    SCHEDULE,
    has_calendar,
    html_of,
    parts_of_type,
    qr_texts,
    sign_up,
    text_of,
    ticket_of,
)
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.attendance.codes import CheckInCode, read_code
from treffpunkt.notifications.worker import drain

pytestmark = pytest.mark.anyio


async def test_qr_code_decodes_to_a_genuine_code_for_this_event_and_registration(
    confirmed: Confirmed,
) -> None:
    [text] = qr_texts(ticket_of(confirmed.mail))

    assert read_code(text) == CheckInCode(confirmed.event.id, confirmed.registration_id)


async def test_qr_code_holds_no_personal_data(confirmed: Confirmed) -> None:
    [text] = qr_texts(ticket_of(confirmed.mail))

    assert re.fullmatch(r"TP-\d+-\d+-[A-Z2-7]{20}", text)


async def test_text_body_prints_the_code_of_the_qr_ticket(confirmed: Confirmed) -> None:
    [code] = qr_texts(ticket_of(confirmed.mail))

    assert (
        "Ihr Ticket für den Check-in: Zeigen Sie den QR-Code in dieser E-Mail vor oder nennen "
        f"Sie diesen Code:\n{code}\n"
    ) in text_of(confirmed.mail)


async def test_html_body_prints_the_code_under_the_qr_image(confirmed: Confirmed) -> None:
    [code] = qr_texts(ticket_of(confirmed.mail))

    assert f">{code}</p>" in html_of(confirmed.mail)


async def test_check_in_api_takes_the_code_from_the_mail(
    client: httpx.AsyncClient, smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    event = await factories.event(
        organiser[0],
        starts_at=starts_at.isoformat(),
        ends_at=(starts_at + timedelta(hours=2)).isoformat(),
    )
    await sign_up(event.slug, "anna@example.org", name="Anna Schmidt")
    await drain()
    [code] = qr_texts(ticket_of(smtp.only("anna@example.org")))

    response = await client.post(
        f"/api/v1/events/{event.slug}/check-ins", json={"code": code}, headers=organiser[1]
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Anna Schmidt"
    assert response.json()["already_checked_in"] is False


async def test_waitlisted_mail_has_no_qr_code_and_no_invite(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    event = await factories.event(organiser[0], capacity=1, waitlist=True, **SCHEDULE)
    await sign_up(event.slug, "first@example.org")
    outcome = await sign_up(event.slug, "second@example.org")
    assert outcome.status == "waitlisted"

    await drain()

    mail = smtp.only("second@example.org")
    assert parts_of_type(mail, "image/png") == []
    assert has_calendar(mail) is False
    assert "TP-" not in text_of(mail)
    assert "cid:" not in html_of(mail)


async def test_pending_mail_has_no_qr_code_and_no_invite(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    event = await factories.event(organiser[0], requires_approval=True, **SCHEDULE)
    outcome = await sign_up(event.slug, "anna@example.org")
    assert outcome.status == "pending"

    await drain()

    mail = smtp.only("anna@example.org")
    assert parts_of_type(mail, "image/png") == []
    assert has_calendar(mail) is False
    assert "TP-" not in text_of(mail)
