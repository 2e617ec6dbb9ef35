"""Every page type of today in a real browser, German and English: no serious or critical WCAG
2.1 AA violation (axe), plus what axe cannot see: landmarks, skip link, focus, words at the door.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.accessibility import assert_accessible, assert_accessible_page, page_in, sign_in
from tests.conftest import run_async
from treffpunkt.accounts.services import create_api_token
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.events.services import EventView
from treffpunkt.registrations.services import token_for

pytestmark = pytest.mark.browser

LANGUAGES = pytest.mark.parametrize("language", ["de", "en"])
REGISTRATION_QUESTIONS = [
    {"key": "diet", "kind": "short_text", "label": "Ernährungswünsche", "required": True},
    {"key": "parking", "kind": "yes_no", "label": "Benötigen Sie einen Parkplatz?"},
]
FEEDBACK_QUESTIONS = [
    {"key": "overall", "kind": "rating", "label": "Wie war es insgesamt?", "required": True},
    {"key": "venue", "kind": "rating", "label": "Wie war der Ort?"},
    {"key": "comments", "kind": "text", "label": "Noch etwas?"},
]


@dataclass(frozen=True)
class Site:
    """One event of today (the door is open): Anna came, Bernd is expected; an admin runs it."""

    base: str
    admin_email: str
    event: EventView
    anna: str  # secret links
    bernd: str
    bernd_code: str
    anna_code: str

    def at(self, path: str) -> str:
        return self.base + path

    @property
    def organiser(self) -> str:
        return f"/organiser/events/{self.event.slug}"


async def _build_site(base: str) -> Site:
    admin = await factories.organiser(admin=True)
    auth = {"Authorization": f"Bearer {await create_api_token(admin.email)}"}
    starts_at = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    event = await factories.event(
        admin,
        title="Kommunale Wärmeplanung",
        starts_at=starts_at.isoformat(),
        ends_at=(starts_at + timedelta(hours=3)).isoformat(),
    )
    api = f"{base}/api/v1/events/{event.slug}"
    ids: dict[str, int] = {}
    async with httpx.AsyncClient(headers=auth, timeout=10) as http:
        put = await http.put(f"{api}/questions", json=REGISTRATION_QUESTIONS)
        assert put.status_code == 200, put.text
        for who in ("anna", "bernd"):
            registered = await http.post(
                f"{api}/registrations",
                json={
                    "name": who.title() + " Schmidt",
                    "email": f"{who}@example.org",
                    "organisation": "Stadt Leipzig",
                    "stakeholder_group": "public_administration",
                    "consent": True,
                    "answers": {"diet": "vegetarisch"},
                },
            )
            assert registered.status_code == 201, registered.text
        roster = (await http.get(f"{api}/registrations")).json()["items"]
        ids = {row["email"].split("@")[0]: row["id"] for row in roster}
        checked = await http.post(
            f"{api}/check-ins", json={"code": check_in_code(event.id, ids["anna"])}
        )
        assert checked.status_code == 200, checked.text
        put = await http.put(f"{api}/feedback-questions", json=FEEDBACK_QUESTIONS)
        assert put.status_code == 200, put.text
    return Site(
        base=base,
        admin_email=admin.email,
        event=event,
        anna=await token_for(ids["anna"]),
        bernd=await token_for(ids["bernd"]),
        anna_code=check_in_code(event.id, ids["anna"]),
        bernd_code=check_in_code(event.id, ids["bernd"]),
    )


@pytest.fixture
def site(live_server: str) -> Site:
    return run_async(_build_site(live_server))


# --- public pages --------------------------------------------------------------------------


@LANGUAGES
def test_catalogue_is_accessible(browser: Any, site: Site, language: str) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at("/events"), language)


@LANGUAGES
def test_filtered_catalogue_is_accessible(browser: Any, site: Site, language: str) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at("/events?region=DE-SN&kind=workshop"), language)


@LANGUAGES
def test_empty_catalogue_is_accessible(browser: Any, site: Site, language: str) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at("/events?region=DE-HB"), language)
        assert page.locator("h2.event-title").count() == 0


@LANGUAGES
def test_catalogue_with_a_wrong_filter_is_accessible(
    browser: Any, site: Site, language: str
) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at("/events?starts_after=gestern"), language)


@LANGUAGES
def test_event_page_with_its_registration_form_is_accessible(
    browser: Any, site: Site, language: str
) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at(f"/events/{site.event.slug}"), language)
        assert page.locator("form[action$='/register']").count() == 1


@LANGUAGES
def test_event_page_showing_validation_errors_is_accessible(
    browser: Any, site: Site, language: str
) -> None:
    with page_in(browser, language) as page:
        page.goto(site.at(f"/events/{site.event.slug}"))
        with page.expect_navigation():
            page.locator("form[action$='/register'] button[type=submit]").click()

        assert page.locator(".error-summary").is_visible()
        assert_accessible(page)


@LANGUAGES
def test_registration_received_page_is_accessible(browser: Any, site: Site, language: str) -> None:
    with page_in(browser, language) as page:
        page.goto(site.at(f"/events/{site.event.slug}"))
        page.locator("#name").fill("Clara Berg")
        page.locator("#email").fill(f"clara-{language}@example.org")
        page.locator("#organisation").fill("Landkreis Meißen")
        page.locator("#stakeholder_group").select_option("politics")
        page.locator("#answer-diet").fill("keine")
        page.locator("#consent").check()
        with page.expect_navigation():
            page.locator("form[action$='/register'] button[type=submit]").click()

        assert "/registered" in page.url
        assert_accessible(page)


@LANGUAGES
def test_manage_registration_page_is_accessible(browser: Any, site: Site, language: str) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at(f"/registrations/{site.bernd}"), language)


@LANGUAGES
def test_cancel_page_is_accessible(browser: Any, site: Site, language: str) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at(f"/registrations/{site.bernd}/cancel"), language)


@LANGUAGES
def test_ticket_page_is_accessible(browser: Any, site: Site, language: str) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at(f"/registrations/{site.bernd}/ticket"), language)


@LANGUAGES
def test_feedback_form_is_accessible(browser: Any, site: Site, language: str) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at(f"/feedback/{site.anna}"), language)
        assert page.locator("form[action^='/feedback/']").count() == 1


@LANGUAGES
def test_login_page_is_accessible(browser: Any, site: Site, language: str) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at("/login"), language)


@LANGUAGES
@pytest.mark.parametrize("path", ["/privacy", "/legal"])
def test_privacy_and_legal_notices_are_accessible(
    browser: Any, site: Site, language: str, path: str
) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at(path), language)


@LANGUAGES
def test_login_page_with_its_error_is_accessible(browser: Any, site: Site, language: str) -> None:
    with page_in(browser, language) as page:
        sign_in(page, site.base, site.admin_email, "not the password")

        assert page.locator("#login-error").is_visible()
        assert_accessible(page)


@LANGUAGES
def test_not_found_page_is_accessible(browser: Any, site: Site, language: str) -> None:
    with page_in(browser, language) as page:
        assert_accessible_page(page, site.at("/events/no-such-event"), language)


# --- organiser pages -----------------------------------------------------------------------


def organiser_page_is_accessible(browser: Any, site: Site, language: str, path: str) -> None:
    with page_in(browser, language) as page:
        sign_in(page, site.base, site.admin_email, factories.PASSWORD)
        assert_accessible_page(page, site.at(path), language)


@LANGUAGES
def test_organiser_home_is_accessible(browser: Any, site: Site, language: str) -> None:
    organiser_page_is_accessible(browser, site, language, "/organiser")


@LANGUAGES
def test_roster_is_accessible(browser: Any, site: Site, language: str) -> None:
    organiser_page_is_accessible(browser, site, language, f"{site.organiser}/roster")


@LANGUAGES
def test_feedback_results_are_accessible(browser: Any, site: Site, language: str) -> None:
    organiser_page_is_accessible(browser, site, language, f"{site.organiser}/feedback")


@LANGUAGES
def test_reports_are_accessible(browser: Any, site: Site, language: str) -> None:
    organiser_page_is_accessible(browser, site, language, "/organiser/reports")


@LANGUAGES
def test_mailbox_is_accessible(browser: Any, site: Site, language: str) -> None:
    organiser_page_is_accessible(browser, site, language, "/admin/mailbox")


@LANGUAGES
def test_door_before_a_scan_is_accessible(browser: Any, site: Site, language: str) -> None:
    organiser_page_is_accessible(browser, site, language, f"{site.organiser}/check-in/")


VERDICTS = {
    "welcome": {"de": "Eingelassen", "en": "Admitted"},
    "again": {"de": "Bereits eingelassen", "en": "Admitted before"},
    "refused": {"de": "Nicht eingelassen", "en": "Not admitted"},
}


def scan_at_the_door(page: Any, site: Site, code: str, outcome: str) -> None:
    page.goto(site.at(f"{site.organiser}/check-in/"))
    page.locator("#door-code").fill(code)
    page.locator("#door-code").press("Enter")
    page.locator(f"#door-result.door-{outcome}").wait_for()


@pytest.mark.parametrize(
    ("outcome", "who"), [("welcome", "bernd"), ("again", "anna"), ("refused", "forged")]
)
@LANGUAGES
def test_door_result_is_accessible_and_says_it_in_words(
    browser: Any, site: Site, language: str, outcome: str, who: str
) -> None:
    code = {"bernd": site.bernd_code, "anna": site.anna_code}.get(who, "TP-1-1-" + "A" * 20)
    with page_in(browser, language) as page:
        sign_in(page, site.base, site.admin_email, factories.PASSWORD)
        scan_at_the_door(page, site, code, outcome)

        verdict = page.locator("#door-result .door-verdict").inner_text()
        assert verdict.casefold() == VERDICTS[outcome][language].casefold()
        assert_accessible(page)


@pytest.mark.parametrize("outcome", ["welcome", "refused"])
def test_door_without_javascript_says_its_verdict_in_words(
    browser: Any, site: Site, outcome: str
) -> None:
    code = site.bernd_code if outcome == "welcome" else "TP-1-1-" + "A" * 20
    with page_in(browser, "en") as page:
        # The page's script blocked, not JavaScript itself: axe needs it to run.
        page.route("**/static/check-in.js", lambda route: route.abort())
        sign_in(page, site.base, site.admin_email, factories.PASSWORD)
        page.goto(site.at(f"{site.organiser}/check-in/"))
        page.locator("#door-code").fill(code)
        with page.expect_navigation():
            page.locator("#door-form button[type=submit]").click()

        result = page.locator(f"#door-result.door-{outcome}")
        assert result.locator(".door-verdict").inner_text().casefold() == (
            VERDICTS[outcome]["en"].casefold()
        )
        assert_accessible(page)


# --- what axe cannot see -------------------------------------------------------------------


def test_every_page_has_header_navigation_main_and_footer_landmarks(
    browser: Any, site: Site
) -> None:
    with page_in(browser, "de") as page:
        page.goto(site.at(f"/events/{site.event.slug}"))

        for role in ("banner", "navigation", "main", "contentinfo"):
            assert page.get_by_role(role).count() >= 1, role


def test_the_first_tab_reaches_the_skip_link_which_moves_the_focus_to_the_content(
    browser: Any, site: Site
) -> None:
    with page_in(browser, "en") as page:
        page.goto(site.at("/events"))

        page.keyboard.press("Tab")
        skip = page.locator(":focus")
        assert skip.inner_text() == "Skip to content"
        assert skip.is_visible()
        page.keyboard.press("Enter")

        assert page.evaluate("document.activeElement.id") == "main"


def test_the_keyboard_focus_is_drawn_as_a_visible_outline(browser: Any, site: Site) -> None:
    with page_in(browser, "en") as page:
        page.goto(site.at("/events"))
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")

        style = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, s.outlineWidth]; }"
        )

        assert style == ["solid", "3px"]


def test_focus_order_follows_the_page_header_before_the_content(browser: Any, site: Site) -> None:
    with page_in(browser, "en") as page:
        page.goto(site.at("/events"))
        order = []
        for _ in range(5):
            page.keyboard.press("Tab")
            order.append(page.evaluate("document.activeElement.textContent.trim()"))

        assert order[:3] == ["Skip to content", "Treffpunkt", "Events"]


def test_a_refused_registration_focuses_the_error_summary_whose_links_reach_their_fields(
    browser: Any, site: Site
) -> None:
    from playwright.sync_api import expect

    with page_in(browser, "en") as page:
        page.goto(site.at(f"/events/{site.event.slug}"))
        page.locator("#email").fill("not an address")
        with page.expect_navigation():
            page.locator("form[action$='/register'] button[type=submit]").click()

        # `autofocus` takes effect at the next rendering update, after the load event.
        expect(page.locator(".error-summary")).to_be_focused()
        targets = page.locator(".error-summary a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert "#email" in targets
        for target in targets:
            assert page.locator(target).count() == 1, target
        page.locator(".error-summary a[href='#email']").click()
        assert page.evaluate("document.activeElement.id") == "email"


def test_the_axe_check_fails_on_a_page_with_a_serious_violation(browser: Any) -> None:
    with page_in(browser, "en") as page:
        page.set_content('<html lang="en"><body><main><img src="/x.png"></main></body></html>')

        with pytest.raises(AssertionError, match="image-alt"):
            assert_accessible(page)
