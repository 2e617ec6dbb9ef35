"""Which language a page speaks: default, Accept-Language, the chosen-language cookie."""

from __future__ import annotations

import httpx
import pytest

from tests import factories
from treffpunkt import i18n
from treffpunkt.web.language import LANGUAGE_COOKIE

pytestmark = pytest.mark.anyio

GERMAN_HEADING = "<h1>Workshops und Netzwerktreffen</h1>"
ENGLISH_HEADING = "<h1>Workshops and networking meetings</h1>"


async def catalogue(client: httpx.AsyncClient, accept_language: str | None = None) -> str:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = await client.get("/events", headers=headers)
    assert response.status_code == 200
    return response.text


async def test_pages_are_german_by_default(client: httpx.AsyncClient) -> None:
    page = await catalogue(client)

    assert '<html lang="de">' in page
    assert GERMAN_HEADING in page


async def test_accept_language_english_gives_english_pages(client: httpx.AsyncClient) -> None:
    page = await catalogue(client, "en-US,en;q=0.9")

    assert '<html lang="en">' in page
    assert ENGLISH_HEADING in page
    assert GERMAN_HEADING not in page


async def test_accept_language_austrian_german_gives_german_pages(
    client: httpx.AsyncClient,
) -> None:
    page = await catalogue(client, "de-AT")

    assert '<html lang="de">' in page
    assert GERMAN_HEADING in page


async def test_accept_language_prefers_the_higher_q_value_over_header_order(
    client: httpx.AsyncClient,
) -> None:
    page = await catalogue(client, "de;q=0.4, en;q=0.8")

    assert '<html lang="en">' in page
    assert ENGLISH_HEADING in page


async def test_accept_language_with_only_unsupported_languages_gives_german(
    client: httpx.AsyncClient,
) -> None:
    page = await catalogue(client, "fr-FR, es;q=0.8")

    assert '<html lang="de">' in page
    assert GERMAN_HEADING in page


async def test_language_switch_redirects_with_a_cookie(client: httpx.AsyncClient) -> None:
    response = await client.get("/language/en", params={"next": "/login"})

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert response.cookies[LANGUAGE_COOKIE] == "en"


async def test_language_switch_refuses_to_redirect_off_site(client: httpx.AsyncClient) -> None:
    response = await client.get("/language/en", params={"next": "//evil.example/"})

    assert response.status_code == 303
    assert response.headers["location"] == "/events"


async def test_chosen_language_cookie_wins_over_accept_language(
    client: httpx.AsyncClient,
) -> None:
    switched = await client.get(
        "/language/en", headers={"Accept-Language": "de"}, follow_redirects=True
    )
    assert [step.status_code for step in switched.history] == [303]
    assert switched.url.path == "/events"
    assert '<html lang="en">' in switched.text

    page = await catalogue(client, "de")

    assert '<html lang="en">' in page
    assert ENGLISH_HEADING in page


async def test_unsupported_language_code_leaves_the_language_unchanged(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/language/en", follow_redirects=True)

    refused = await client.get("/language/fr")
    page = await catalogue(client)

    assert refused.status_code == 303
    assert "set-cookie" not in refused.headers
    assert client.cookies[LANGUAGE_COOKIE] == "en"
    assert '<html lang="en">' in page


async def test_unsupported_language_code_without_a_choice_keeps_german(
    client: httpx.AsyncClient,
) -> None:
    switched = await client.get("/language/xx", follow_redirects=True)

    assert LANGUAGE_COOKIE not in client.cookies
    assert '<html lang="de">' in switched.text


async def test_language_switch_links_keep_the_current_page(client: httpx.AsyncClient) -> None:
    page = await catalogue(client)

    assert 'href="/language/en?next=/events"' in page


@pytest.mark.parametrize(
    ("accept_language", "expected_span"),
    [
        ("de", "Donnerstag, 14. März 2030, 09:30–12:30 CET"),
        ("en", "Thursday, March 14, 2030, 9:30\u202fAM–12:30\u202fPM CET"),
    ],
)
async def test_event_page_formats_dates_for_the_language(
    client: httpx.AsyncClient, accept_language: str, expected_span: str
) -> None:
    event = await factories.event(
        await factories.organiser(),
        starts_at="2030-03-14T09:30:00+01:00",
        ends_at="2030-03-14T12:30:00+01:00",
        timezone="Europe/Berlin",
    )

    response = await client.get(
        f"/events/{event.slug}", headers={"Accept-Language": accept_language}
    )

    assert response.status_code == 200
    assert f">{expected_span}</time>" in response.text


async def test_event_page_shows_german_labels_and_plural(client: httpx.AsyncClient) -> None:
    event = await factories.event(await factories.organiser(), capacity=30)

    response = await client.get(f"/events/{event.slug}")

    assert response.status_code == 200
    assert "<dt>Wann</dt>" in response.text
    assert "Noch 30 Plätze frei" in response.text


async def test_event_page_shows_english_labels_and_plural(client: httpx.AsyncClient) -> None:
    event = await factories.event(await factories.organiser(), capacity=1)

    response = await client.get(f"/events/{event.slug}", headers={"Accept-Language": "en"})

    assert response.status_code == 200
    assert "<dt>When</dt>" in response.text
    assert "1 place left" in response.text


def test_negotiate_without_a_header_gives_german() -> None:
    assert i18n.negotiate(None) == "de"
    assert i18n.negotiate("") == "de"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("de-AT", "de"), ("de-CH", "de"), ("en-US", "en"), ("en-GB", "en"), ("EN", "en")],
)
def test_negotiate_maps_a_regional_variant_to_its_language(header: str, expected: str) -> None:
    assert i18n.negotiate(header) == expected


def test_negotiate_honours_q_values() -> None:
    assert i18n.negotiate("de;q=0.5, en;q=0.9") == "en"
    assert i18n.negotiate("en;q=0.5, de-DE;q=0.9") == "de"


def test_negotiate_keeps_header_order_for_equal_q_values() -> None:
    assert i18n.negotiate("en, de") == "en"
    assert i18n.negotiate("de;q=0.7, en;q=0.7") == "de"


def test_negotiate_skips_an_unsupported_first_choice() -> None:
    assert i18n.negotiate("fr-FR, fr;q=0.9, en;q=0.5") == "en"


def test_negotiate_ignores_languages_with_q_zero() -> None:
    assert i18n.negotiate("de;q=0, en;q=0.1") == "en"


def test_negotiate_falls_back_to_german_for_unsupported_languages() -> None:
    assert i18n.negotiate("fr-FR, es;q=0.8, *;q=0.1") == "de"


def test_negotiate_ignores_a_malformed_q_value() -> None:
    assert i18n.negotiate("de;q=high, en;q=0.2") == "en"


def test_language_context_switches_gettext_and_restores_the_previous_language() -> None:
    token = i18n.current_language.set("en")
    try:
        with i18n.language("de"):
            assert i18n.current_language.get() == "de"
            assert i18n.gettext("Events") == "Veranstaltungen"
        assert i18n.current_language.get() == "en"
        assert i18n.gettext("Events") == "Events"
    finally:
        i18n.current_language.reset(token)


def test_language_context_restores_the_previous_language_after_an_error() -> None:
    token = i18n.current_language.set("de")
    try:
        with pytest.raises(RuntimeError), i18n.language("en"):
            raise RuntimeError("rendering failed")
        assert i18n.current_language.get() == "de"
    finally:
        i18n.current_language.reset(token)


def test_language_context_nests() -> None:
    token = i18n.current_language.set("de")
    try:
        with i18n.language("en"):
            with i18n.language("de"):
                assert i18n.current_language.get() == "de"
            assert i18n.current_language.get() == "en"
        assert i18n.current_language.get() == "de"
    finally:
        i18n.current_language.reset(token)


@pytest.mark.parametrize(("code", "expected"), [("en-GB", "en"), ("fr", "de"), ("", "de")])
def test_language_context_maps_codes_to_a_supported_language(code: str, expected: str) -> None:
    with i18n.language(code):
        assert i18n.current_language.get() == expected
