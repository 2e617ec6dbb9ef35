"""The catalogue in a real browser: filter by region, keep the filter, open an event."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import factories
from treffpunkt.events.services import EventView

T = TypeVar("T")
CHROMIUM = Path("/usr/bin/chromium")


def run_off_thread(work: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a worker thread: Playwright's sync API marks this thread's loop as running."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, work).result()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium for one test, overriding the session-wide one in conftest.

    While Playwright's sync API is running, asyncio.run() refuses to start on this thread, so
    the session-scoped conftest browser makes the autouse `clean_tables` of every later test
    fail. Started after `clean_tables` and stopped after the test, this one does not.
    """
    if not CHROMIUM.exists():
        if os.environ.get("TREFFPUNKT_TEST_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required but {CHROMIUM} is missing")
        pytest.skip(f"browser tests skipped: {CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


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
    events = run_off_thread(_programme())
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
