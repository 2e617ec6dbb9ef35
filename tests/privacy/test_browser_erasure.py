"""In Chromium, without help: a person erases their data, an admin erases an address (axe on each)."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.browsing import checked, new_page, plural, signed_in, words
from tests.conftest import run_async
from tests.notifications.helpers import sign_up
from treffpunkt.registrations.services import token_for

LANGUAGES = pytest.mark.parametrize("language", ["de", "en"])


async def registered(email: str) -> tuple[str, str]:
    """An event and someone registered for it: (the event's title, their link's token)."""
    event = await factories.event(await factories.organiser(), title="Wärmeplanung im Kreis")
    outcome = await sign_up(event.slug, email)
    return event.title, await token_for(outcome.registration_id)


@LANGUAGES
def test_a_person_erases_their_data_from_their_registration_page(
    browser: Any, live_server: str, language: str
) -> None:
    _, token = run_async(registered(f"anna-{language}@example.org"))
    page = new_page(browser, language)
    page.goto(f"{live_server}/registrations/{token}")

    page.get_by_role("link", name=words(language, "Erase my data")).click()
    page.wait_for_url(f"{live_server}/registrations/{token}/erase")
    checked(page, f"privacy-erase-confirm-{language}")
    page.get_by_role("button", name=words(language, "Yes, erase my data")).click()
    page.wait_for_url(f"{live_server}/privacy/erased")

    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == words(language, "Your data has been erased")
    checked(page, f"privacy-erased-{language}")
    assert page.goto(f"{live_server}/registrations/{token}").status == 404


@LANGUAGES
def test_an_admin_finds_an_address_and_erases_it_after_confirming(
    browser: Any, live_server: str, language: str
) -> None:
    address = f"finde.mich-{language}@example.org"
    title, _ = run_async(registered(address))
    admin = run_async(factories.organiser(admin=True))
    page = signed_in(browser, live_server, admin, language)

    page.get_by_role("link", name=words(language, "Erasure and retention")).click()
    checked(page, f"privacy-admin-{language}")
    page.get_by_role("textbox", name=words(language, "Email address")).fill(address)
    page.get_by_role("button", name=words(language, "Find the address")).click()
    assert page.get_by_role("link", name=title).is_visible()
    checked(page, f"privacy-admin-found-{language}")
    page.get_by_role("button", name=words(language, "Erase these registrations…")).click()
    checked(page, f"privacy-admin-erase-confirm-{language}")
    page.get_by_role("button", name=words(language, "Yes, erase")).click()
    page.wait_for_url(f"{live_server}/admin/privacy")

    done = plural(
        language,
        "%(num)d registration has been erased.",
        "%(num)d registrations have been erased.",
        1,
    )
    assert page.get_by_role("status").inner_text() == done
    checked(page, f"privacy-admin-erased-{language}")
