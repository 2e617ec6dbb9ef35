"""Registering in a real browser: keyboard and clicks, the confirmation, and a mistake shown."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from tests import factories
from treffpunkt.events.services import EventView
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.tables import Registration

T = TypeVar("T")
CONSENT_DE = (
    "Ich bin damit einverstanden, dass meine Angaben zur Organisation dieser Veranstaltung "
    "gespeichert und verwendet werden und dass ich dazu kontaktiert werde."
)
CHECK_MAIL_DE = "Bitte sehen Sie in Ihrem E-Mail-Postfach nach"


def run_off_thread(work: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a worker thread: Playwright's sync API marks this thread's loop as running."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, work).result()


async def _event() -> EventView:
    return await factories.event(await factories.organiser(), title="Breitband für Schulen")


async def _mail_kinds() -> list[str]:
    rows = await OutboxMessage.select(OutboxMessage.kind).order_by(OutboxMessage.id)
    return [row["kind"] for row in rows]


async def _registrations() -> list[dict[str, Any]]:
    return await Registration.select(
        Registration.name,
        Registration.email,
        Registration.organisation,
        Registration.stakeholder_group,
        Registration.notes,
        Registration.status,
    )


def _open_form(browser: Any, live_server: str, slug: str) -> Any:
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server}/events/{slug}")
    return page


def _fill_all_but_the_name(page: Any) -> None:
    """Email and organisation by keyboard, the rest by clicks, as a person would."""
    page.get_by_label("E-Mail-Adresse").click()
    page.keyboard.type("anna@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("Stadt Leipzig")
    page.get_by_label("Sie vertreten").select_option(label="Forschung und Bildung")
    page.get_by_label("Hinweise, z. B. zu Barrierefreiheit oder Ernährung (optional)").fill(
        "vegetarisch"
    )
    page.get_by_label(CONSENT_DE).check()


def _register_anna(browser: Any, live_server: str) -> tuple[Any, EventView]:
    """Anna fills in the whole form and sends it; the page she lands on, and the event."""
    event = run_off_thread(_event())
    page = _open_form(browser, live_server, event.slug)
    page.get_by_label("Name", exact=True).click()
    page.keyboard.type("Anna Schmidt")
    _fill_all_but_the_name(page)
    page.get_by_role("button", name="Anmeldung absenden").click()
    return page, event


@pytest.mark.browser
def test_registering_in_a_browser_shows_the_confirmation(browser: Any, live_server: str) -> None:
    from playwright.sync_api import expect

    page, _ = _register_anna(browser, live_server)

    expect(page.get_by_role("heading", level=1)).to_have_text("Vielen Dank!")
    expect(page.get_by_role("status")).to_contain_text(CHECK_MAIL_DE)
    assert run_off_thread(_registrations()) == [
        {
            "name": "Anna Schmidt",
            "email": "anna@example.org",
            "organisation": "Stadt Leipzig",
            "stakeholder_group": "research_education",
            "notes": "vegetarisch",
            "status": "confirmed",
        }
    ]


@pytest.mark.browser
def test_reload_back_and_forward_after_registering_register_and_mail_only_once(
    browser: Any, live_server: str
) -> None:
    from playwright.sync_api import expect

    page, event = _register_anna(browser, live_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("Vielen Dank!")

    page.reload()
    expect(page.get_by_role("status")).to_contain_text(CHECK_MAIL_DE)
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Breitband für Schulen")
    page.go_forward()
    expect(page.get_by_role("status")).to_contain_text(CHECK_MAIL_DE)
    page.reload()

    expect(page.get_by_role("status")).to_contain_text(CHECK_MAIL_DE)
    assert page.url == f"{live_server}/events/{event.slug}/registered"
    assert [r["email"] for r in run_off_thread(_registrations())] == ["anna@example.org"]
    assert run_off_thread(_mail_kinds()) == ["registration_confirmed"]


@pytest.mark.browser
def test_registering_without_a_name_in_a_browser_shows_the_error_by_the_name_keeping_the_rest(
    browser: Any, live_server: str
) -> None:
    from playwright.sync_api import expect

    event = run_off_thread(_event())
    page = _open_form(browser, live_server, event.slug)

    _fill_all_but_the_name(page)
    page.get_by_role("button", name="Anmeldung absenden").click()

    name = page.get_by_label("Name", exact=True)
    expect(page.locator("#name-error")).to_have_text("darf nicht leer sein")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("darf nicht leer sein")
    expect(page.get_by_label("E-Mail-Adresse")).to_have_value("anna@example.org")
    expect(page.get_by_label("Organisation", exact=True)).to_have_value("Stadt Leipzig")
    expect(page.get_by_label("Sie vertreten")).to_have_value("research_education")
    expect(
        page.get_by_label("Hinweise, z. B. zu Barrierefreiheit oder Ernährung (optional)")
    ).to_have_value("vegetarisch")
    expect(page.get_by_label(CONSENT_DE)).to_be_checked()
    assert run_off_thread(_registrations()) == []
