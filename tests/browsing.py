"""Steps the browser tests share: signing in, the pages' words per language, axe and pictures."""

from __future__ import annotations

from typing import Any

from tests import factories
from tests.accessibility import assert_accessible
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.i18n import gettext, language, ngettext
from treffpunkt.settings import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
LOCALES = {"de": "de-DE", "en": "en-GB"}


def words(code: str, message: str, **params: Any) -> str:
    """What the page says in that language (the catalogues' own test checks the German)."""
    with language(code):
        return gettext(message) % params if params else gettext(message)


def plural(code: str, singular: str, plural_form: str, n: int) -> str:
    with language(code):
        return ngettext(singular, plural_form, n) % {"num": n}


def new_page(browser: Any, code: str) -> Any:
    """A page in its own browser context (own cookies), speaking `code`."""
    page = browser.new_context(locale=LOCALES[code]).new_page()
    page.set_default_timeout(15_000)
    return page


def signed_in(browser: Any, live_server: str, who: CurrentOrganiser, code: str) -> Any:
    """A page on the organiser's dashboard, signed in through the login form."""
    page = new_page(browser, code)
    page.goto(f"{live_server}/login")
    page.get_by_label(words(code, "Email address")).fill(who.email)
    page.get_by_label(words(code, "Password")).fill(factories.PASSWORD)
    page.get_by_label(words(code, "Password")).press("Enter")
    page.wait_for_url(f"{live_server}/organiser")
    return page


def checked(page: Any, name: str) -> None:
    """axe on the page as it stands, and a full-page screenshot of it to look at."""
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def focus_is_visible(page: Any) -> bool:
    """Whether the focused element draws a focus indicator: an outline or a box shadow."""
    return bool(
        page.evaluate(
            """() => {
                const style = getComputedStyle(document.activeElement);
                const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
                return outline || style.boxShadow !== 'none';
            }"""
        )
    )
