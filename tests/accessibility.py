"""axe-core in the browser tests: WCAG 2.1 AA, zero serious or critical violations.

axe-core comes from the `axe-playwright-python` package (a copy on disk, never a CDN) and is
run through Playwright's evaluate, which the pages' Content-Security-Policy does not govern.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

AXE_SOURCE = files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe's serious and critical WCAG 2.1 AA violations on the page as it stands."""
    page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        "options => axe.run(document, options)",
        {"runOnly": {"type": "tag", "values": WCAG_21_AA}},
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in violations
    )


def assert_accessible(page: Any) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe on {page.url}:\n{describe(violations)}"


BROWSER_LOCALES = {"de": "de-DE", "en": "en-GB"}


@contextmanager
def page_in(
    browser: Any, language: str, *, javascript: bool = True, **options: Any
) -> Iterator[Any]:
    """A fresh browser tab whose Accept-Language asks for `language` ("de" or "en").

    Without JavaScript, Playwright's evaluate (and so axe) never returns: to check a page's
    no-script behaviour with axe, block the page's own script with `page.route` instead.
    """
    context = browser.new_context(
        locale=BROWSER_LOCALES[language], java_script_enabled=javascript, **options
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
    finally:
        context.close()


def sign_in(page: Any, base_url: str, email: str, password: str) -> None:
    """Through the login form, as a person would; the tab keeps the session."""
    page.goto(f"{base_url}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("#password").press("Enter")


def assert_accessible_page(page: Any, url: str, language: str) -> None:
    """Open `url`, check it answered in `language`, and run axe on it."""
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == language
    assert_accessible(page)
