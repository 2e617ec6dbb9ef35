"""The hub in a real browser, in German and English: publish a draft, write to everyone with a
preview, cancel with a reason via the preview, and read the mail log; axe on every page type."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.browsing import checked, plural, signed_in, words
from tests.conftest import run_async
from tests.notifications.helpers import sign_up
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.services import EventView, get_event


async def draft() -> tuple[CurrentOrganiser, EventView]:
    owner = await factories.organiser()
    return owner, await factories.event(owner, publish=False)


async def two_people(slug: str) -> None:
    await sign_up(slug, "anna@example.org")
    await sign_up(slug, "ben@example.org", language="en")


@pytest.mark.browser
@pytest.mark.parametrize("code", ["de", "en"])
def test_an_organiser_publishes_writes_to_everyone_cancels_and_reads_the_mail_log(
    browser: Any, live_server: str, code: str
) -> None:
    from playwright.sync_api import expect

    owner, event = run_async(draft())
    page = signed_in(browser, live_server, owner, code)
    hub = f"{live_server}/organiser/events/{event.slug}"

    page.goto(hub)
    expect(page.locator("#hub-status")).to_contain_text(words(code, "Draft"))
    checked(page, f"hub-draft-{code}")
    page.get_by_role("button", name=words(code, "Publish"), exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        words(code, "The event is published and open in the catalogue.")
    )
    run_async(two_people(event.slug))

    page.get_by_role("link", name=words(code, "Write to everyone confirmed")).click()
    page.get_by_label(words(code, "Subject")).fill("Parken")
    page.get_by_label(words(code, "Message"), exact=True).fill("Bitte das Parkhaus am Markt.")
    page.get_by_role("button", name=words(code, "Show the mail first")).click()
    expect(page.locator("#recipients")).to_have_text(
        plural(code, "%(num)d person will get this mail.", "%(num)d people will get this mail.", 2)
    )
    expect(page.locator("#preview-text")).to_contain_text("Parkhaus am Markt")
    checked(page, f"message-preview-{code}")
    page.get_by_role(
        "button", name=plural(code, "Send to %(num)d person", "Send to %(num)d people", 2)
    ).click()
    expect(page.get_by_role("status")).to_contain_text(
        plural(
            code,
            "Your message is on its way to %(num)d person.",
            "Your message is on its way to %(num)d people.",
            2,
        )
    )

    page.get_by_role("link", name=words(code, "Cancel the event")).click()
    page.get_by_label(words(code, "Reason for the cancellation")).fill("Sturmwarnung")
    page.get_by_role("button", name=words(code, "Show the mail first")).click()
    expect(page.locator("#recipients")).to_have_text(
        plural(code, "%(num)d person will get this mail.", "%(num)d people will get this mail.", 2)
    )
    expect(page.locator("#preview-text")).to_contain_text("Sturmwarnung")
    checked(page, f"cancel-preview-{code}")
    assert run_async(get_event(event.slug)).status == "published", "nothing before confirming"
    page.get_by_role("button", name=words(code, "Cancel the event now")).click()
    expect(page.locator("#hub-status")).to_contain_text("Sturmwarnung")
    checked(page, f"hub-cancelled-{code}")

    page.get_by_role("link", name=words(code, "Mail sent for this event")).click()
    expect(page.locator("#count-waiting .badge")).to_have_text("6")
    expect(page.locator("table.mail-log")).to_contain_text("ben@example.org")
    expect(page.locator("table.mail-log")).to_contain_text(words(code, "Event cancelled"))
    checked(page, f"mail-log-{code}")
