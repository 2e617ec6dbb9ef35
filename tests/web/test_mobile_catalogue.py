"""The catalogue on a phone: the filters fold away so that the first events show at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.accessibility import page_in
from tests.conftest import run_async

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


async def _programme() -> None:
    owner = await factories.organiser()
    for day in range(1, 6):
        await factories.event(
            owner, title=f"Digitale Verwaltung im Landkreis, Teil {day}", days_ahead=day
        )


def test_on_a_phone_the_first_event_title_shows_without_scrolling(
    browser: Any, live_server: str
) -> None:
    run_async(_programme())
    with page_in(browser, "de", **PHONE) as page:
        page.goto(f"{live_server}/events")

        first = page.locator("h2.event-title").first.bounding_box()

        assert first is not None
        assert first["y"] + first["height"] <= 844
        assert page.evaluate("window.scrollY") == 0


def test_on_a_phone_the_filters_are_folded_and_the_search_shows(
    browser: Any, live_server: str
) -> None:
    with page_in(browser, "en", **PHONE) as page:
        page.goto(f"{live_server}/events")

        assert page.locator("#q").is_visible()
        assert not page.locator("#region").is_visible()
        page.locator("details.filter-panel > summary").click()
        assert page.locator("#region").is_visible()


def test_the_folded_filters_say_how_many_are_active(browser: Any, live_server: str) -> None:
    with page_in(browser, "en", **PHONE) as page:
        page.goto(f"{live_server}/events?region=DE-SN&sector=energy&q=Wärme")

        summary = page.locator("details.filter-panel > summary").inner_text()

        assert summary.strip() == "Filters (2 active)"


def test_on_a_wide_screen_the_filters_show_without_opening_them(
    browser: Any, live_server: str
) -> None:
    with page_in(browser, "en", **DESKTOP) as page:
        page.goto(f"{live_server}/events")

        assert page.locator("#region").is_visible()
        assert page.locator("#starts_before").is_visible()
        assert not page.locator("details.filter-panel > summary").is_visible()
