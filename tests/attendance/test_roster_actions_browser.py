"""The roster's actions in a real browser, by keyboard, in German and English, checked by axe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.accessibility import assert_accessible
from tests.attendance.helpers import stored_check_in
from tests.attendance.test_roster_actions import people_at_a_full_event
from tests.conftest import run_async
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.registrations.tables import Registration

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# What the pages say, per language, that the test acts on.
WORDS = {
    "de": {
        "locale": "de-DE",
        "approve": "Bestätigen",
        "promote": "Jetzt Platz geben",
        "exceed": "Platz über die Kapazität hinaus vergeben",
        "yes_approve": "Ja, bestätigen",
        "yes_promote": "Ja, Platz geben",
        "add": "Person hinzufügen",
        "walk_in": "Hinzufügen und einchecken (ohne Anmeldung)",
        "consent": "Die Person ist einverstanden",
        "dora_done": "Dora Muster ist bestätigt; eine E-Mail ist unterwegs.",
        "clara_done": "Clara Muster ist bestätigt; eine E-Mail ist unterwegs.",
        "maria_done": "Maria Muster ist angemeldet und eingecheckt; eine E-Mail ist unterwegs.",
        "mail_note": "Dora Muster erhält eine E-Mail",
    },
    "en": {
        "locale": "en-GB",
        "approve": "Approve",
        "promote": "Give a seat now",
        "exceed": "Give a seat beyond capacity",
        "yes_approve": "Yes, approve",
        "yes_promote": "Yes, give a seat",
        "add": "Add a person",
        "walk_in": "Add and check in (walk-in)",
        "consent": "The person agrees",
        "dora_done": "Dora Muster is confirmed; a mail is on its way.",
        "clara_done": "Clara Muster is confirmed; a mail is on its way.",
        "maria_done": "Maria Muster is registered and checked in; a mail is on its way.",
        "mail_note": "Dora Muster will get a mail",
    },
}


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def signed_in(browser: Any, live_server: str, who: CurrentOrganiser, locale: str) -> Any:
    page = browser.new_context(locale=locale).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server}/login")
    page.locator("#email").fill(who.email)
    page.locator("#password").fill(factories.PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(f"{live_server}/organiser")
    return page


def has_visible_focus(page: Any) -> bool:
    return bool(
        page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0; }"
        )
    )


def press_enter_on(page: Any, element: Any) -> None:
    element.focus()
    assert has_visible_focus(page), "the focused control shows no focus outline"
    element.press("Enter")


def tick(checkbox: Any) -> None:
    """By keyboard, as someone who does not use a mouse would."""
    checkbox.focus()
    checkbox.press("Space")


def status_of(registration_id: int) -> str:
    async def read() -> str:
        row = (
            await Registration.select(Registration.status)
            .where(Registration.id == registration_id)
            .first()
        )
        assert row is not None
        return str(row["status"])

    return run_async(read())


@pytest.mark.browser
@pytest.mark.parametrize("language", ["de", "en"])
def test_organiser_approves_gives_a_seat_and_adds_a_walk_in_by_keyboard(
    browser: Any, live_server: str, language: str
) -> None:
    from playwright.sync_api import expect

    words = WORDS[language]
    owner = run_async(factories.organiser())
    event, ids = run_async(people_at_a_full_event(owner))
    page = signed_in(browser, live_server, owner, words["locale"])
    roster_url = f"{live_server}/organiser/events/{event.slug}/roster"

    expect(page.locator(f'a[href="/organiser/events/{event.slug}/roster"]')).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"dashboard-{language}")

    page.goto(roster_url)
    assert_accessible(page)
    screenshot(page, f"roster-{language}")

    # Approve Dora: Tab reaches both of her buttons; Enter opens the confirmation page.
    dora = page.locator(f"#r{ids['dora']}")
    approve = dora.get_by_role("link", name=words["approve"])
    approve.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')").endswith("/decline")
    press_enter_on(page, approve)
    page.wait_for_url(f"{roster_url}/{ids['dora']}/approve")
    expect(page.locator(".notice")).to_contain_text(words["mail_note"])
    assert_accessible(page)
    screenshot(page, f"confirm-approve-{language}")
    exceed = page.get_by_label(words["exceed"])
    tick(exceed)
    expect(exceed).to_be_checked()
    press_enter_on(page, page.get_by_role("button", name=words["yes_approve"]))
    page.wait_for_url(f"{roster_url}#r{ids['dora']}")
    expect(page.get_by_role("status").first).to_have_text(words["dora_done"])
    assert status_of(ids["dora"]) == "confirmed"

    # Clara moves up from the waiting list to a seat, beyond capacity.
    press_enter_on(
        page, page.locator(f"#r{ids['clara']}").get_by_role("link", name=words["promote"])
    )
    page.wait_for_url(f"{roster_url}/{ids['clara']}/promote")
    tick(page.get_by_label(words["exceed"]))
    press_enter_on(page, page.get_by_role("button", name=words["yes_promote"]))
    page.wait_for_url(f"{roster_url}#r{ids['clara']}")
    expect(page.get_by_role("status").first).to_have_text(words["clara_done"])
    assert status_of(ids["clara"]) == "confirmed"

    # Maria walks in at the door.
    press_enter_on(page, page.get_by_role("link", name=words["add"]))
    page.wait_for_url(f"{roster_url}/add")
    assert_accessible(page)
    screenshot(page, f"add-{language}")
    page.locator("#name").fill("Maria Muster")
    page.locator("#email").fill("maria@example.org")
    page.locator("#organisation").fill("Landkreis Meißen")
    page.locator("#stakeholder_group").select_option("business")
    tick(page.get_by_label(words["consent"]))
    tick(page.get_by_label(words["exceed"]))
    press_enter_on(page, page.get_by_role("button", name=words["walk_in"]))
    page.wait_for_url(f"{roster_url}#r*")
    expect(page.get_by_role("status").first).to_have_text(words["maria_done"])
    maria = int(page.url.rsplit("#r", 1)[1])
    assert status_of(maria) == "confirmed"
    assert run_async(stored_check_in(maria)) is not None
    assert_accessible(page)
    screenshot(page, f"roster-after-{language}")


@pytest.mark.browser
@pytest.mark.parametrize("language", ["de", "en"])
def test_add_page_with_mistakes_is_accessible(
    browser: Any, live_server: str, language: str
) -> None:
    from playwright.sync_api import expect

    words = WORDS[language]
    owner = run_async(factories.organiser())
    event, _ = run_async(people_at_a_full_event(owner))
    page = signed_in(browser, live_server, owner, words["locale"])
    page.goto(f"{live_server}/organiser/events/{event.slug}/roster/add")

    page.locator("#email").fill("kein-at-zeichen")
    page.get_by_role("button", name=words["walk_in"]).press("Enter")

    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    screenshot(page, f"add-errors-{language}")
