"""The confirmation's MIME shape and headers (calendar-mail.md §4, design "Mail")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.conftest import Confirmed
from tests.notifications.helpers import (
    MAIL_FROM,
    SCHEDULE,
    html_of,
    make_due,
    one_part,
    outbox_rows,
    raw_calendar,
    sign_up,
    structure,
)
from tests.registrations.helpers import age_outbox
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.notifications.messages import message_id
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.notifications.worker import drain
from treffpunkt.registrations.services import RESEND_PAUSE

pytestmark = pytest.mark.anyio


async def test_confirmation_is_mixed_with_alternative_related_calendar_and_ics_attachment(
    confirmed: Confirmed,
) -> None:
    assert structure(confirmed.mail) == (
        "multipart/mixed",
        [
            (
                "multipart/alternative",
                [
                    "text/plain",
                    ("multipart/related", ["text/html", "image/png"]),
                    "text/calendar",
                ],
            ),
            "application/ics",
        ],
    )


async def test_inline_calendar_part_says_method_request_and_utf8(confirmed: Confirmed) -> None:
    part = one_part(confirmed.mail, "text/calendar")

    assert part.get_param("method") == "REQUEST"
    assert part.get_param("charset") == "UTF-8"
    assert part.get_content_disposition() is None


async def test_ics_attachment_carries_the_same_bytes_as_the_inline_invite(
    confirmed: Confirmed,
) -> None:
    attachment = one_part(confirmed.mail, "application/ics")

    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == raw_calendar(confirmed.mail)


async def test_qr_image_is_inline_and_referenced_by_the_html_with_alt_text(
    confirmed: Confirmed,
) -> None:
    image = one_part(confirmed.mail, "image/png")
    content_id = str(image["Content-ID"])

    assert image.get_content_disposition() == "inline"
    assert re.fullmatch(r"<[^<>@\s]+@[^<>\s]+>", content_id)
    images = re.findall(r"<img [^>]*>", html_of(confirmed.mail))
    assert len(images) == 1
    assert f'src="cid:{content_id[1:-1]}"' in images[0]
    alt = re.search(r'alt="([^"]*)"', images[0])
    assert alt is not None
    assert alt.group(1).startswith("QR-Code für den Check-in: TP-")


async def test_every_cid_reference_in_the_html_names_a_part(confirmed: Confirmed) -> None:
    ids = {str(p["Content-ID"])[1:-1] for p in confirmed.mail.walk() if p["Content-ID"]}

    references = re.findall(r"cid:([^\"'\s)]+)", html_of(confirmed.mail))

    assert references
    assert set(references) <= ids


async def test_from_is_the_configured_sender(confirmed: Confirmed) -> None:
    sender = confirmed.mail["From"].addresses

    assert [address.addr_spec for address in sender] == [MAIL_FROM]
    assert confirmed.received.mail_from == MAIL_FROM


async def test_to_names_the_person_and_only_them(confirmed: Confirmed) -> None:
    recipients = confirmed.mail["To"].addresses

    assert [(a.display_name, a.addr_spec) for a in recipients] == [
        ("Jürgen Müller", "juergen@example.org")
    ]
    assert confirmed.received.rcpt_tos == ["juergen@example.org"]
    assert confirmed.mail["Cc"] is None
    assert confirmed.mail["Bcc"] is None


async def test_subject_names_the_confirmation_and_the_event(confirmed: Confirmed) -> None:
    assert confirmed.mail["Subject"] == f"Anmeldung bestätigt: {confirmed.event.title}"


async def test_date_header_is_the_time_of_sending(confirmed: Confirmed) -> None:
    sent = confirmed.mail["Date"].datetime

    assert sent.tzinfo is not None
    assert abs(datetime.now(UTC) - sent) < timedelta(minutes=1)


async def test_message_id_is_the_outbox_rows_stable_id(confirmed: Confirmed) -> None:
    [row] = await outbox_rows()

    assert confirmed.mail["Message-ID"] == message_id(row["id"])
    assert re.fullmatch(r"<[^<>@\s]+@testserver>", str(confirmed.mail["Message-ID"]))


async def test_a_row_sent_again_after_a_worker_crash_keeps_its_message_id(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    await drain()
    # The worker died after sending but before recording it: the lease runs out.
    await OutboxMessage.update(
        {
            OutboxMessage.status: "sending",
            OutboxMessage.lease_until: datetime.now(UTC) - timedelta(minutes=1),
        },
        force=True,
    )

    await drain()

    first, again = smtp.to("anna@example.org")
    assert first["Message-ID"] == again["Message-ID"]


async def test_each_outbox_row_has_its_own_message_id(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    await sign_up(event.slug, "ben@example.org")
    await age_outbox(RESEND_PAUSE)
    await sign_up(event.slug, "anna@example.org")  # the confirmation again: a new row

    await drain()

    assert len(smtp.messages) == 3
    assert sorted(smtp.message_id_counts().values()) == [1, 1, 1]


async def test_one_mail_per_person_with_one_envelope_recipient_each(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    for address in ("anna@example.org", "ben@example.org", "cem@example.org"):
        await sign_up(event.slug, address)

    await drain()

    assert [r.rcpt_tos for r in smtp.received] == [
        ["anna@example.org"],
        ["ben@example.org"],
        ["cem@example.org"],
    ]
    assert [[a.addr_spec for a in m["To"].addresses] for m in smtp.messages] == [
        ["anna@example.org"],
        ["ben@example.org"],
        ["cem@example.org"],
    ]


async def test_a_deferred_message_waits_for_its_next_attempt(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    """Also proves the tests' make_due() is what lets a deferred row go out."""
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")
    smtp.data_reply = "451 try later"
    await drain()
    smtp.data_reply = None

    await drain()
    assert smtp.messages == []
    await make_due()
    await drain()

    assert len(smtp.messages) == 1


async def test_to_keeps_a_name_with_a_comma_as_one_recipient(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "juergen@example.org", name="Müller, Jürgen")

    await drain()

    mail = smtp.only("juergen@example.org")
    assert [(a.display_name, a.addr_spec) for a in mail["To"].addresses] == [
        ("Müller, Jürgen", "juergen@example.org")
    ]
