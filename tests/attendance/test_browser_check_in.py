"""The door page in a real browser: a typed ticket code, Enter, and the green confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests import factories
from tests.attendance.helpers import anna_at_the_door, stored_check_in
from tests.conftest import run_async
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.attendance.codes import check_in_code


@dataclass(frozen=True)
class Door:
    owner: CurrentOrganiser
    slug: str
    registration_id: int
    code: str


async def door() -> Door:
    owner = await factories.organiser()
    event, registration_id = await anna_at_the_door(owner)
    return Door(owner, event.slug, registration_id, check_in_code(event.id, registration_id))


def signed_in_page(browser: Any, live_server: str, who: CurrentOrganiser) -> Any:
    """A German browser tab, signed in through the login form."""
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server}/login")
    page.get_by_label("E-Mail-Adresse").fill(who.email)
    page.get_by_label("Passwort").fill(factories.PASSWORD)
    page.get_by_label("Passwort").press("Enter")
    page.wait_for_url(f"{live_server}/organiser")
    return page


@pytest.mark.browser
def test_typing_a_ticket_code_and_enter_shows_the_green_welcome_and_counts_up(
    browser: Any, live_server: str
) -> None:
    from playwright.sync_api import expect

    at = run_async(door())
    page = signed_in_page(browser, live_server, at.owner)
    page.goto(f"{live_server}/organiser/events/{at.slug}/check-in")
    expect(page.locator("#checked-in")).to_have_text("0")
    expect(page.locator("#confirmed")).to_have_text("1")

    page.locator("#door-code").fill(at.code)
    page.locator("#door-code").press("Enter")

    result = page.locator("#door-result")
    expect(result).to_have_class("door-result door-welcome")
    expect(result.locator(".door-name")).to_have_text("Anna Schmidt")
    expect(result.locator(".door-org")).to_have_text("Stadt Leipzig")
    expect(result.locator(".door-message")).to_have_text("Willkommen!")
    expect(page.locator("#checked-in")).to_have_text("1")
    assert page.url == f"{live_server}/organiser/events/{at.slug}/check-in", "stayed on the page"
    expect(page.locator("#door-code")).to_have_value("")
    assert run_async(stored_check_in(at.registration_id)) is not None
