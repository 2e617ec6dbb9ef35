"""Each mail speaks its reader's language, subject and dates included (design "Mail")."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.helpers import (
    SCHEDULE,
    WHEN_DE,
    WHEN_EN,
    html_of,
    sign_up,
    text_of,
    vevent_of,
)
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.notifications.worker import drain

pytestmark = pytest.mark.anyio

TITLE = "Breitband für Schulen"
GERMAN_WORDS = ("Guten Tag", "Wann:", "Wo:", "Anmeldung ansehen", "Veranstaltungsseite")
ENGLISH_WORDS = ("Hello", "When:", "Where:", "See, change or cancel", "Event page")


@pytest.fixture
async def german_and_english(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> tuple[EmailMessage, EmailMessage]:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org", name="Anna Schmidt", language="de")
    await sign_up(event.slug, "ann@example.org", name="Ann Smith", language="en")
    await drain()
    return smtp.only("anna@example.org"), smtp.only("ann@example.org")


async def test_german_registrant_gets_a_german_subject(
    german_and_english: tuple[EmailMessage, EmailMessage],
) -> None:
    german, _ = german_and_english

    assert german["Subject"] == f"Anmeldung bestätigt: {TITLE}"


async def test_english_registrant_gets_an_english_subject(
    german_and_english: tuple[EmailMessage, EmailMessage],
) -> None:
    _, english = german_and_english

    assert english["Subject"] == f"Registration confirmed: {TITLE}"


async def test_german_text_greets_and_confirms_in_german(
    german_and_english: tuple[EmailMessage, EmailMessage],
) -> None:
    text = text_of(german_and_english[0])

    assert text.startswith("Guten Tag Anna Schmidt,\n\nIhr Platz ist bestätigt.")
    assert [word for word in ENGLISH_WORDS if word in text] == []


async def test_english_text_greets_and_confirms_in_english(
    german_and_english: tuple[EmailMessage, EmailMessage],
) -> None:
    text = text_of(german_and_english[1])

    assert text.startswith(
        "Hello Ann Smith,\n\nyour place is confirmed. We look forward to seeing you."
    )
    assert [word for word in GERMAN_WORDS if word in text] == []


async def test_german_html_is_german(german_and_english: tuple[EmailMessage, EmailMessage]) -> None:
    html = html_of(german_and_english[0])

    assert '<html lang="de">' in html
    assert "Guten Tag Anna Schmidt," in html
    assert [word for word in ENGLISH_WORDS if word in html] == []


async def test_english_html_is_english(
    german_and_english: tuple[EmailMessage, EmailMessage],
) -> None:
    html = html_of(german_and_english[1])

    assert '<html lang="en">' in html
    assert "Hello Ann Smith," in html
    assert [word for word in GERMAN_WORDS if word in html] == []


async def test_german_mail_gives_the_date_the_german_way(
    german_and_english: tuple[EmailMessage, EmailMessage],
) -> None:
    assert f"Wann: {WHEN_DE}\n" in text_of(german_and_english[0])


async def test_english_mail_gives_the_date_the_english_way(
    german_and_english: tuple[EmailMessage, EmailMessage],
) -> None:
    assert f"When: {WHEN_EN}\n" in text_of(german_and_english[1])


async def test_invite_description_speaks_the_readers_language(
    german_and_english: tuple[EmailMessage, EmailMessage],
) -> None:
    german, english = (str(vevent_of(m)["DESCRIPTION"]) for m in german_and_english)

    assert german.startswith("Veranstaltungsseite: http://testserver/events/")
    assert english.startswith("Event page: http://testserver/events/")
