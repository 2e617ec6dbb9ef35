"""The editor in a real browser, in German and English: a draft with two custom questions,
made and edited on the pages, each page type accessible (WCAG 2.1 AA, by axe-core).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import factories
from tests.accessibility import assert_accessible
from tests.conftest import run_async
from tests.notifications.helpers import sign_up
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.clock import utcnow
from treffpunkt.events.services import get_event, publish_event
from treffpunkt.registrations.questions import questions_of
from treffpunkt.settings import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
LOCALES = {"de": "de-DE", "en": "en-GB"}
SAVED = {"de": "Ihre Änderungen sind gespeichert.", "en": "Your changes are saved."}


def signed_in_page(browser: Any, live_server: str, who: CurrentOrganiser, language: str) -> Any:
    page = browser.new_context(locale=LOCALES[language]).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server}/login")
    page.locator("#email").fill(who.email)
    page.locator("#password").fill(factories.PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(f"{live_server}/organiser")
    return page


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(SCREENSHOTS / name)), full_page=True)


def fill_event(page: Any) -> None:
    """Every field a person fills in for a hybrid workshop in Görlitz."""
    page.locator("#title").fill("Wärmeplanung im Quartier")
    page.locator("#summary").fill("Wie Kommunen ihre Wärmeplanung beginnen")
    page.locator("#description").fill("Erste Zeile\nZweite Zeile")
    page.locator("input[name=kind][value=workshop]").check()
    page.locator("input[name=sectors][value=energy]").check()
    page.locator("input[name=format][value=hybrid]").check()
    page.locator("#region").select_option("DE-SN")
    page.locator("#locality").fill("Landkreis Görlitz")
    page.locator("#venue_name").fill("Rathaus")
    page.locator("#venue_street").fill("Untermarkt 6")
    page.locator("#venue_postal_code").fill("02826")
    page.locator("#venue_city").fill("Görlitz")
    page.locator("#online_url").fill("https://meet.example.org/waerme")
    page.locator("#starts_at_date").fill("2030-06-12")
    page.locator("#starts_at_time").fill("10:00")
    page.locator("#ends_at_time").fill("13:00")
    page.locator("#capacity").fill("25")
    page.locator("#contact_name").fill("Petra Orga")
    page.locator("#contact_email").fill("petra.orga@landkreis.example")


@pytest.mark.browser
@pytest.mark.parametrize("language", ["de", "en"])
def test_an_organiser_makes_and_edits_a_draft_with_two_questions_on_accessible_pages(
    browser: Any, live_server: str, language: str
) -> None:
    from playwright.sync_api import expect

    owner = run_async(factories.organiser())
    page = signed_in_page(browser, live_server, owner, language)

    page.goto(f"{live_server}/organiser/events/new")
    assert_accessible(page)
    screenshot(page, "event-form.png" if language == "en" else f"event-form-{language}.png")

    page.locator(".event-form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#title")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    screenshot(page, f"event-form-errors-{language}.png")

    fill_event(page)
    page.locator(".event-form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/organiser/events/waermeplanung-im-quartier-*")
    slug = page.url.rsplit("/", 1)[1]
    base = f"{live_server}/organiser/events/{slug}"

    page.goto(f"{base}/questions")
    assert_accessible(page)
    page.locator("[id='questions-0-label']").fill("Ihr Thema")
    page.locator("[id='questions-0-kind']").select_option("long_text")
    page.locator("button[value=add]").click()
    page.locator("[id='questions-1-label']").fill("Essen")
    page.locator("[id='questions-1-kind']").select_option("single_choice")
    page.locator("[id='questions-1-options']").fill("vegan\nvegetarisch\nalles")
    page.locator("button[value=save]").first.click()
    expect(page.locator(".notice-ok")).to_be_visible()
    assert_accessible(page)
    event = run_async(get_event(slug))
    assert [q.label for q in run_async(questions_of(event.id))] == ["Ihr Thema", "Essen"]

    page.goto(f"{base}/edit")
    page.locator("#title").fill("Wärmeplanung im Quartier 2030")
    page.locator(".event-form button[type=submit]").click()
    expect(page.locator(".notice-ok")).to_have_text(SAVED[language])
    assert run_async(get_event(slug)).title == "Wärmeplanung im Quartier 2030"

    run_async(publish_event(slug, now=utcnow()))
    run_async(_sign_up_anna(slug))
    page.goto(f"{base}/edit")
    page.locator("#starts_at_time").fill("11:00")
    page.locator(".event-form button[type=submit]").click()
    expect(page.locator("#preview-subject")).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"event-change-preview-{language}.png")
    page.locator("button[name=confirmed]").click()
    expect(page.locator(".notice-ok")).to_have_text(SAVED[language])

    page.goto(f"{base}/series")
    assert_accessible(page)
    page.locator("#count").fill("3")
    page.locator("button[value=preview]").click()
    expect(page.locator(".planned-dates li")).to_have_count(3)
    assert_accessible(page)


async def _sign_up_anna(slug: str) -> None:
    await sign_up(slug, "anna@example.org")
