"""The feedback pages in a real browser, in German and English: set the questions (a mistake
first), then thank everyone who came after the preview; axe on every page type."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.attendance.test_feedback_pages import finished_event, thank_you_recipients
from tests.browsing import checked, plural, signed_in, words
from tests.conftest import run_async
from treffpunkt.attendance.feedback import feedback_questions


@pytest.mark.browser
@pytest.mark.parametrize("code", ["de", "en"])
def test_an_organiser_sets_the_feedback_questions_and_thanks_everyone_who_came(
    browser: Any, live_server: str, code: str
) -> None:
    from playwright.sync_api import expect

    owner = run_async(factories.organiser())
    event = run_async(finished_event(owner, came=("anna", "ben"), questions=False))
    page = signed_in(browser, live_server, owner, code)
    save = page.get_by_role("button", name=words(code, "Save questions")).first

    page.goto(f"{live_server}/organiser/events/{event.slug}")
    page.get_by_role("link", name=words(code, "Feedback questions")).click()
    checked(page, f"feedback-questions-{code}")
    page.locator("#questions-0-label").fill("Wie war es?")
    page.locator("#questions-1-label").fill("Wie war der Ort?")
    save.click()
    expect(page.locator(".error-summary")).to_contain_text(
        words(code, "ask between %(low)d and %(high)d questions", low=3, high=5)
    )
    checked(page, f"feedback-questions-error-{code}")
    page.locator("#questions-2-kind").select_option("text")
    page.locator("#questions-2-label").fill("Was fehlte?")
    page.locator("#questions-2-label").press("Enter")  # Enter saves: the first button is "save"
    expect(page.get_by_role("status")).to_contain_text(words(code, "The questions are saved."))
    assert [q.kind for q in run_async(feedback_questions(event.id))] == ["rating", "rating", "text"]

    page.get_by_role("link", name=words(code, "Feedback results")).click()
    checked(page, f"feedback-results-{code}")
    page.get_by_role("link", name=words(code, "Thank everyone who came")).click()
    expect(page.locator("#recipients")).to_have_text(
        plural(code, "%(num)d person will get this mail.", "%(num)d people will get this mail.", 2)
    )
    expect(page.locator("#preview-text")).to_contain_text("/feedback/…")
    checked(page, f"feedback-thank-you-{code}")
    assert run_async(thank_you_recipients()) == [], "nothing before confirming"
    page.get_by_role(
        "button",
        name=plural(
            code, "Send the thank-you to %(num)d person", "Send the thank-you to %(num)d people", 2
        ),
    ).click()
    expect(page.get_by_role("status")).to_have_text(
        plural(
            code,
            "%(num)d person will get the thank-you mail.",
            "%(num)d people will get the thank-you mail.",
            2,
        )
    )
    expect(page.locator("#thank-you")).to_contain_text(
        words(code, "Everyone who came has been thanked already.")
    )
    assert run_async(thank_you_recipients()) == ["anna@example.org", "ben@example.org"]
