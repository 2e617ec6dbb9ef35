"""The one mail erasure sends: a calendar CANCEL to someone who held a seat, and nothing else."""

from __future__ import annotations

import pytest

from tests.mail_sink import Sink
from tests.notifications.conftest import Confirmed
from tests.notifications.helpers import calendar_of, calendar_uid, sequence_of, text_of
from tests.privacy.helpers import registration_row
from treffpunkt.clock import utcnow
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.notifications.worker import drain
from treffpunkt.privacy.retention import keep_retention
from treffpunkt.privacy.services import erase_registration
from treffpunkt.registrations.services import manage_token

pytestmark = pytest.mark.anyio


async def erase_and_deliver(confirmed: Confirmed, smtp: Sink) -> None:
    smtp.received.clear()
    await erase_registration(confirmed.registration_id, reason="person", now=utcnow())
    await drain()


async def test_a_confirmed_person_gets_a_cancel_for_the_invites_uid(
    smtp: Sink, confirmed: Confirmed
) -> None:
    invite_sequence = sequence_of(confirmed.mail)

    await erase_and_deliver(confirmed, smtp)

    mail = smtp.only(confirmed.email)
    calendar = calendar_of(mail)
    event = calendar.walk("VEVENT")[0]
    assert calendar["METHOD"] == "CANCEL"
    assert str(event["UID"]) == await calendar_uid(confirmed.event.slug)
    assert sequence_of(mail) > invite_sequence
    assert str(event["ATTENDEE"]).lower() == f"mailto:{confirmed.email}"


async def test_the_cancel_names_neither_the_person_nor_a_link(
    smtp: Sink, confirmed: Confirmed
) -> None:
    await erase_and_deliver(confirmed, smtp)

    mail = smtp.only(confirmed.email)
    assert mail["Subject"] == f"Ihre Daten wurden gelöscht: {confirmed.event.title}"
    assert "Müller" not in mail.as_string()
    assert "Müller" not in text_of(mail)
    assert "/registrations/" not in text_of(mail)


async def test_no_other_mail_reaches_the_erased_address(smtp: Sink, confirmed: Confirmed) -> None:
    await erase_and_deliver(confirmed, smtp)
    smtp.received.clear()

    await drain()

    assert smtp.to(confirmed.email) == []


async def test_once_delivered_the_cancel_keeps_no_address(smtp: Sink, confirmed: Confirmed) -> None:
    await erase_and_deliver(confirmed, smtp)

    await keep_retention(utcnow())

    rows = await OutboxMessage.select(OutboxMessage.recipient).where(
        OutboxMessage.registration == confirmed.registration_id
    )
    placeholder = f"erased-{confirmed.registration_id}@erased.invalid"
    assert [row["recipient"] for row in rows] == [placeholder, placeholder]


async def test_the_erased_row_rebuilds_no_working_link(smtp: Sink, confirmed: Confirmed) -> None:
    await erase_and_deliver(confirmed, smtp)

    row = await registration_row(confirmed.registration_id)
    assert row["token_hash"] != manage_token(row["link_nonce"])
