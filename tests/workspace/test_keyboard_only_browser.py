"""The organiser's flow by keyboard alone, in German: sign in, a draft, publish, approve.

After opening the login page the test uses nothing but `page.keyboard` (Tab, typing, Space,
arrow keys, Enter), and wherever it stops to act, the focused control must show its focus.
Reading the page (which element has focus, what it says) and the database is fine.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest

from tests import factories
from tests.browsing import checked, focus_is_visible, new_page, words
from tests.conftest import run_async
from tests.notifications.helpers import sign_up
from treffpunkt.events.services import get_event
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.browser

CODE = "de"
# A page has fewer focusable stops than this; more Tabs means the control is out of reach.
MOST_TABS = 120


def tab_to(page: Any, selector: str) -> None:
    """Tab forward until the focused element matches `selector`; its focus must be visible."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            assert focus_is_visible(page), f"{selector} has focus but shows none"
            return
    raise AssertionError(f"{selector} cannot be reached by Tab on {page.url}")


def type_into(page: Any, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)


def value_of(page: Any, selector: str) -> str:
    return str(page.evaluate("s => document.querySelector(s).value", selector))


def type_date(page: Any, selector: str, day: date) -> None:
    """Types a date in the order the date control shows its parts.

    That order follows the browser's own language (Debian Chromium's is US English here,
    month first), not the page's: day first is tried, then month first from the start again.
    """
    tab_to(page, selector)
    page.keyboard.type(day.strftime("%d%m%Y"))
    if value_of(page, selector) != day.isoformat():
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        page.keyboard.type(day.strftime("%m%d%Y"))
    assert value_of(page, selector) == day.isoformat()


def type_time(page: Any, selector: str, moment: time) -> None:
    """Types a time; a twelve-hour control (the browser's language again) also wants AM or PM."""
    tab_to(page, selector)
    page.keyboard.type(moment.strftime("%H%M"))
    if not value_of(page, selector):
        page.keyboard.type("A" if moment.hour < 12 else "P")
    assert value_of(page, selector) == moment.strftime("%H:%M")


def fill_draft_by_keyboard(page: Any) -> None:
    """A hybrid workshop in Görlitz that needs approval: typed, ticked and chosen by keys."""
    type_into(page, "#title", "Tastatur-Werkstatt")
    type_into(page, "#summary", "Alles ohne Maus")
    tab_to(page, "input[name=kind][value=workshop]")
    page.keyboard.press("Space")
    tab_to(page, "input[name=sectors][value=energy]")
    page.keyboard.press("Space")
    tab_to(page, "input[name=format]")
    # The first format is "in person"; the arrow keys move the choice to "hybrid".
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    tab_to(page, "#region")
    page.keyboard.type("Sachsen")
    assert value_of(page, "#region") == "DE-SN"
    type_into(page, "#venue_name", "Rathaus")
    type_into(page, "#venue_city", "Görlitz")
    type_into(page, "#online_url", "https://meet.example.org/tastatur")
    type_date(page, "#starts_at_date", date(2030, 6, 12))
    type_time(page, "#starts_at_time", time(10, 0))
    type_time(page, "#ends_at_time", time(13, 0))
    type_into(page, "#capacity", "10")
    tab_to(page, "input[name=requires_approval]")
    page.keyboard.press("Space")
    type_into(page, "#contact_email", "petra.orga@landkreis.example")


def status_of(email: str) -> str:
    async def read() -> str:
        row = (
            await Registration.select(Registration.status)
            .where(Registration.email == email)
            .first()
        )
        assert row is not None
        return str(row["status"])

    return run_async(read())


def test_an_organiser_signs_in_drafts_publishes_and_approves_by_keyboard_alone(
    browser: Any, live_server: str
) -> None:
    from playwright.sync_api import expect

    owner = run_async(factories.organiser())
    page = new_page(browser, CODE)
    page.goto(f"{live_server}/login")

    type_into(page, "#email", owner.email)
    type_into(page, "#password", factories.PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/organiser")
    checked(page, "keyboard-de-01-dashboard")

    tab_to(page, 'a[href="/organiser/events/new"]')
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/organiser/events/new")
    fill_draft_by_keyboard(page)
    checked(page, "keyboard-de-02-event-form")
    page.keyboard.press("Enter")  # in the contact address field: submits the form
    page.wait_for_url(f"{live_server}/organiser/events/tastatur-werkstatt-*")
    slug = page.url.rsplit("/", 1)[1]
    event = run_async(get_event(slug))
    assert (event.format, event.region, event.sectors, event.requires_approval) == (
        "hybrid",
        "DE-SN",
        ["energy"],
        True,
    )

    tab_to(page, f'form[action="/organiser/events/{slug}/publish"] button')
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(
        words(CODE, "The event is published and open in the catalogue.")
    )
    checked(page, "keyboard-de-03-published")
    run_async(sign_up(slug, "anna@example.org"))
    assert status_of("anna@example.org") == "pending"

    tab_to(page, f'a[href="/organiser/events/{slug}/roster"]')
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/organiser/events/{slug}/roster")
    tab_to(page, 'a[href$="/approve"]')
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/organiser/events/{slug}/roster/*/approve")
    checked(page, "keyboard-de-04-approve")
    tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_have_text(
        words(CODE, "%(name)s is confirmed; a mail is on its way.", name="Anna Schmidt")
    )
    assert status_of("anna@example.org") == "confirmed"
    checked(page, "keyboard-de-05-approved")
