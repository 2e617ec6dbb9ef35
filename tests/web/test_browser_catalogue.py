"""The catalogue in a real browser: filter by region, keep the filter, open an event."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import factories
from tests.conftest import run_async
from treffpunkt.events.services import EventView


async def _programme() -> dict[str, EventView]:
    owner = await factories.organiser()
    return {
        "saxony": await factories.event(
            owner, title="Digitale Schule in Sachsen", region="DE-SN", days_ahead=5
        ),
        "saxony_later": await factories.event(
            owner, title="Glasfaser für Dresden", region="DE-SN", days_ahead=8
        ),
        "bavaria": await factories.event(
            owner,
            title="Rufbusse im Bayerischen Wald",
            region="DE-BY",
            venue={"name": "Landratsamt", "street": "", "postal_code": "", "city": "Regen"},
            days_ahead=6,
        ),
    }


@pytest.mark.browser
def test_filtering_the_catalogue_by_region_in_a_browser(browser: Any, live_server: str) -> None:
    events = run_async(_programme())
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    try:
        page = context.new_page()
        page.goto(f"{live_server}/events")
        assert page.locator("h2.event-title").all_inner_texts() == [
            "Digitale Schule in Sachsen",
            "Rufbusse im Bayerischen Wald",
            "Glasfaser für Dresden",
        ]

        page.select_option("select#region", "DE-SN")
        with page.expect_navigation():
            page.locator("form.filters button[type=submit]").click()

        assert page.locator("h2.event-title").all_inner_texts() == [
            "Digitale Schule in Sachsen",
            "Glasfaser für Dresden",
        ]
        assert parse_qs(urlsplit(page.url).query)["region"] == ["DE-SN"]
        assert page.locator("select#region").input_value() == "DE-SN"

        with page.expect_navigation():
            page.get_by_role("link", name="Glasfaser für Dresden").click()

        assert urlsplit(page.url).path == f"/events/{events['saxony_later'].slug}"
        assert page.locator("h1").inner_text() == "Glasfaser für Dresden"
        assert "Sachsen" in page.locator("dl.facts").inner_text()
    finally:
        context.close()
