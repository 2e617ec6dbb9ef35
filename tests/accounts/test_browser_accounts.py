"""In a real browser: an admin invites an organiser, who sets a password from the mail and signs in.

The live server runs without a mail worker; the test drains the outbox itself into a real SMTP
sink, with the live server's address as the base URL, and opens the link the mail carries.
Every account page is checked with axe and photographed under test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.accessibility import assert_accessible
from tests.conftest import run_async
from tests.mail_sink import Sink, free_port
from tests.notifications.helpers import text_of
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.notifications.worker import BatchResult, drain
from treffpunkt.settings import PROJECT_ROOT, get_settings

pytestmark = pytest.mark.browser

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
INVITEE = "nina.neu@landkreis.example"
NEW_PASSWORD = "nina sets her own password"
WORDS = {
    "de": {
        "locale": "de-DE",
        "email": "E-Mail-Adresse",
        "password": "Passwort",
        "sign_in": "Anmelden",
        "organisers": "Veranstaltende",
        "name": "Name",
        "language": "Sprache der Einladung",
        "language_option": "Deutsch",
        "continue": "Weiter",
        "send": "Einladung senden",
        "sent": f"Eine Einladung an {INVITEE} ist unterwegs.",
        "resend": "Einladung erneut senden",
        "cancel": "Abbrechen",
        "subject": "Sie sind eingeladen, Veranstaltungen auf Treffpunkt zu organisieren",
        "new_password": "Neues Passwort",
        "repeat": "Neues Passwort wiederholen",
        "set": "Passwort festlegen und anmelden",
        "my_events": "Meine Veranstaltungen",
        "my_account": "Mein Konto",
        "sign_out": "Abmelden",
        "token_label": "Wofür ist das Token? (optional)",
        "create_token": "API-Token erstellen",
        "token_note": "Kopieren Sie es jetzt: Es wird nicht noch einmal angezeigt.",
        "revoke": "Widerrufen",
        "revoke_yes": "Ja, Token widerrufen",
        "revoked": "Das API-Token ist widerrufen.",
        "refused": "Dieser Link funktioniert nicht mehr",
        "ask_new": "Neuen Link anfordern",
        "forgot_heading": "Passwort vergessen?",
    },
    "en": {
        "locale": "en-GB",
        "email": "Email address",
        "password": "Password",
        "sign_in": "Sign in",
        "organisers": "Organisers",
        "name": "Name",
        "language": "Language of the invitation",
        "language_option": "English",
        "continue": "Continue",
        "send": "Send the invitation",
        "sent": f"An invitation is on its way to {INVITEE}.",
        "resend": "Send the invitation again",
        "cancel": "Cancel",
        "subject": "You are invited to organise events on Treffpunkt",
        "new_password": "New password",
        "repeat": "Repeat the new password",
        "set": "Set password and sign in",
        "my_events": "My events",
        "my_account": "My account",
        "sign_out": "Sign out",
        "token_label": "What is the token for? (optional)",
        "create_token": "Create API token",
        "token_note": "Copy it now: it will not be shown again.",
        "revoke": "Revoke",
        "revoke_yes": "Yes, revoke the token",
        "revoked": "The API token has been revoked.",
        "refused": "This link no longer works",
        "ask_new": "Ask for a new link",
        "forgot_heading": "Forgot your password?",
    },
}


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch, live_server: str) -> Iterator[Sink]:
    """A real SMTP server, and this process's mail settings pointing at it and the live server."""
    server = Sink(free_port())
    server.start()
    monkeypatch.setenv("TREFFPUNKT_SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    monkeypatch.setenv("TREFFPUNKT_BASE_URL", live_server)
    get_settings.cache_clear()
    try:
        yield server
    finally:
        server.stop()
        monkeypatch.undo()
        get_settings.cache_clear()


class Steps:
    """Screenshots numbered in the order taken, one folder per language."""

    def __init__(self, language: str) -> None:
        self.folder = SCREENSHOTS / f"accounts-{language}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def check(self, page: Any, name: str) -> None:
        """axe on the page as it stands, then its picture."""
        assert_accessible(page)
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


def _new_page(browser: Any, words: dict[str, str]) -> Any:
    page = browser.new_context(locale=words["locale"]).new_page()
    page.set_default_timeout(10_000)
    return page


def _sign_in(page: Any, live_server: str, words: dict[str, str], email: str, password: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label(words["email"]).fill(email)
    page.get_by_label(words["password"], exact=True).fill(password)
    page.get_by_role("button", name=words["sign_in"]).click()
    page.wait_for_url(f"{live_server}/organiser")


def _admin_invites(page: Any, words: dict[str, str], language: str, steps: Steps) -> None:
    page.get_by_role("link", name=words["organisers"], exact=True).click()
    steps.check(page, "organisers")
    page.get_by_label(words["email"]).fill(INVITEE)
    page.get_by_label(words["name"], exact=True).fill("Nina Neu")
    page.get_by_label(words["language"]).select_option(label=words["language_option"])
    page.get_by_role("button", name=words["continue"]).click()
    steps.check(page, "invite-confirm")
    page.get_by_role("button", name=words["send"]).click()
    assert page.get_by_role("status").inner_text() == words["sent"]
    steps.check(page, "invited")
    page.get_by_role("link", name=f"{words['resend']} {INVITEE}").click()
    steps.check(page, "resend-confirm")
    page.get_by_role("link", name=words["cancel"]).click()


def _invitee_sets_password(page: Any, link: str, words: dict[str, str], steps: Steps) -> None:
    page.goto(link)
    steps.check(page, "set-password")
    page.get_by_label(words["new_password"], exact=True).fill(NEW_PASSWORD)
    page.get_by_label(words["repeat"]).fill(NEW_PASSWORD)
    page.get_by_role("button", name=words["set"]).click()
    page.wait_for_url(re.compile(r"/organiser$"))
    assert page.get_by_role("heading", level=1).inner_text() == words["my_events"]
    steps.check(page, "signed-in-by-link")


def _invitee_manages_a_token(page: Any, words: dict[str, str], steps: Steps) -> None:
    page.get_by_role("link", name=words["my_account"]).click()
    steps.check(page, "my-account")
    page.get_by_label(words["token_label"]).fill("CRM")
    page.get_by_role("button", name=words["create_token"]).click()
    assert words["token_note"] in page.content()
    steps.check(page, "token-created")
    page.get_by_role("link", name=f"{words['revoke']} CRM").click()
    steps.check(page, "revoke-confirm")
    page.get_by_role("button", name=words["revoke_yes"]).click()
    assert words["revoked"] in page.content()


@pytest.mark.parametrize("language", ["de", "en"])
def test_an_invited_organiser_sets_a_password_from_the_mail_and_signs_in(
    browser: Any, live_server: str, sink: Sink, language: str
) -> None:
    words = WORDS[language]
    steps = Steps(language)
    admin: CurrentOrganiser = run_async(factories.organiser(admin=True))
    page = _new_page(browser, words)
    _sign_in(page, live_server, words, admin.email, factories.PASSWORD)

    _admin_invites(page, words, language, steps)
    delivered: BatchResult = run_async(drain())

    assert delivered.sent == 1
    mail = sink.only(INVITEE)
    assert mail["Subject"] == words["subject"]
    found = re.search(rf"{re.escape(live_server)}/password/set/\S+", text_of(mail))
    assert found, text_of(mail)
    invitee = _new_page(browser, words)
    _invitee_sets_password(invitee, found.group(0), words, steps)
    _invitee_manages_a_token(invitee, words, steps)

    invitee.get_by_role("button", name=words["sign_out"], exact=True).click()
    _sign_in(invitee, live_server, words, INVITEE, NEW_PASSWORD)
    invitee.goto(found.group(0))
    assert invitee.get_by_role("heading", level=1).inner_text() == words["refused"]
    steps.check(invitee, "link-used")
    invitee.get_by_role("link", name=words["ask_new"]).click()
    assert invitee.get_by_role("heading", level=1).inner_text() == words["forgot_heading"]
    steps.check(invitee, "forgot-password")
    assert sorted(p.name for p in Path(steps.folder).iterdir())[-1].startswith(f"{steps.count:02d}")
