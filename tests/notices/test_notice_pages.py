"""The privacy notice and the legal notice: filled in by the operator, versioned, linked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import register_ok, row_of
from tests.sessions import hidden_value, sign_in
from treffpunkt.notices.services import notice, privacy_version
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}
OPERATOR = {
    "TREFFPUNKT_OPERATOR_NAME": "Landkreis Musterland",
    "TREFFPUNKT_OPERATOR_ADDRESS": "Amt für Digitales; Markt 1; 01067 Dresden",
    "TREFFPUNKT_OPERATOR_EMAIL": "info@musterland.example",
    "TREFFPUNKT_PRIVACY_CONTACT": "Datenschutzbeauftragte, datenschutz@musterland.example",
}


@pytest.fixture
def settings_from(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change the operator's settings for one test; the notices are read again."""

    def fresh() -> None:
        get_settings.cache_clear()
        notice.cache_clear()

    fresh()
    yield monkeypatch
    monkeypatch.undo()
    fresh()


def apply(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    notice.cache_clear()


def main_of(html: str) -> str:
    match = re.search(r"<main.*?</main>", html, flags=re.S)
    assert match
    return match.group(0)


async def test_the_privacy_notice_names_the_operator_and_the_data_protection_contact(
    client: httpx.AsyncClient, settings_from: pytest.MonkeyPatch
) -> None:
    apply(settings_from, OPERATOR)

    page = await client.get("/privacy", headers=ENGLISH)

    assert page.status_code == 200
    main = main_of(page.text)
    assert "<h1>Privacy notice</h1>" in main
    for part in ("Landkreis Musterland", "Markt 1<br>", "01067 Dresden", "info@musterland.example"):
        assert part in main
    assert "datenschutz@musterland.example" in main
    assert f"Version {privacy_version()}" in main


async def test_the_legal_notice_names_the_operator_in_german(
    client: httpx.AsyncClient, settings_from: pytest.MonkeyPatch
) -> None:
    apply(settings_from, OPERATOR)

    page = await client.get("/legal", headers={"Accept-Language": "de"})

    main = main_of(page.text)
    assert "<h1>Impressum</h1>" in main
    assert "Anbieter dieser Website" in main
    assert "Landkreis Musterland" in main


async def test_without_operator_details_the_pages_say_they_are_missing(
    client: httpx.AsyncClient, settings_from: pytest.MonkeyPatch
) -> None:
    apply(settings_from, dict.fromkeys(OPERATOR, ""))

    page = await client.get("/legal", headers=ENGLISH)

    assert "has not filled in their details yet" in page.text


async def test_an_operators_markdown_file_per_language_is_the_notice(
    client: httpx.AsyncClient, settings_from: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "privacy.de.md").write_text("# Datenschutz\n\nWir speichern **wenig**.\n")
    (tmp_path / "privacy.en.md").write_text("# Privacy\n\nWe store **little**.\n")
    apply(
        settings_from, {"TREFFPUNKT_PRIVACY_NOTICE_FILE": str(tmp_path / "privacy.{language}.md")}
    )

    german = await client.get("/privacy", headers={"Accept-Language": "de"})
    english = await client.get("/privacy", headers=ENGLISH)

    assert "Wir speichern <strong>wenig</strong>." in german.text
    assert "We store <strong>little</strong>." in english.text
    assert "wenig" not in english.text


async def test_raw_html_in_a_markdown_notice_is_shown_as_text(
    client: httpx.AsyncClient, settings_from: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "legal.md").write_text("Impressum <script>alert(1)</script>\n")
    apply(settings_from, {"TREFFPUNKT_LEGAL_NOTICE_FILE": str(tmp_path / "legal.md")})

    page = await client.get("/legal")

    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text


async def test_an_operators_html_file_is_taken_as_it_is(
    client: httpx.AsyncClient, settings_from: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "legal.html").write_text("<p>Verantwortlich: <em>Amt 42</em></p>")
    apply(settings_from, {"TREFFPUNKT_LEGAL_NOTICE_FILE": str(tmp_path / "legal.html")})

    page = await client.get("/legal")

    assert "<p>Verantwortlich: <em>Amt 42</em></p>" in page.text


async def test_a_changed_notice_has_a_new_version(
    settings_from: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "privacy.md"
    path.write_text("Erste Fassung\n")
    apply(settings_from, {"TREFFPUNKT_PRIVACY_NOTICE_FILE": str(path)})
    first = privacy_version()

    path.write_text("Zweite Fassung\n")
    notice.cache_clear()

    assert privacy_version() != first
    assert re.fullmatch(r"[0-9a-f]{12}", privacy_version())


async def test_every_page_links_both_notices_in_its_footer(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    for path in ("/events", f"/events/{event.slug}", "/login", "/privacy"):
        footer = re.search(r"<footer.*?</footer>", (await client.get(path)).text, flags=re.S)
        assert footer, path
        assert 'href="/privacy"' in footer.group(0), path
        assert 'href="/legal"' in footer.group(0), path


async def test_the_registration_form_links_the_privacy_notice_beside_the_consent(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    page = await client.get(f"/events/{event.slug}")

    form = re.search(
        r'<form method="post" action="/events/[^"]+/register".*?</form>', page.text, flags=re.S
    )
    assert form
    assert 'href="/privacy"' in form.group(0)


async def test_the_add_a_person_form_links_the_privacy_notice(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)
    await sign_in(client, owner)

    page = await client.get(f"/organiser/events/{event.slug}/roster/add")

    assert page.status_code == 200, page.text
    assert 'href="/privacy"' in main_of(page.text)


# --- consent is stored with its time and the notice's version ----------------------------


async def test_registering_by_api_stores_the_version_of_the_notice_agreed_to(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    await register_ok(client, event.slug, email="anna@example.org")

    row = await row_of(client, event.slug, auth, "anna@example.org")
    assert row["consent_version"] == privacy_version()
    assert row["consent_at"] == row["created_at"]


async def test_registering_by_the_form_stores_the_version_of_the_notice_agreed_to(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner, requires_approval=True)
    page = await client.get(f"/events/{event.slug}")

    await client.post(
        f"/events/{event.slug}/register",
        data={
            "_csrf_token": hidden_value(page.text, "_csrf_token"),
            "name": "Anna Schmidt",
            "email": "anna@example.org",
            "organisation": "Stadt Leipzig",
            "stakeholder_group": "politics",
            "language": "de",
            "consent": "yes",
        },
    )

    stored = await Registration.select(Registration.consent_version, Registration.consent_at)
    assert [row["consent_version"] for row in stored] == [privacy_version()]
    assert stored[0]["consent_at"] is not None


async def test_a_registration_keeps_the_version_it_agreed_to_when_the_notice_changes(
    client: httpx.AsyncClient, settings_from: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "privacy.md"
    path.write_text("Erste Fassung\n")
    apply(settings_from, {"TREFFPUNKT_PRIVACY_NOTICE_FILE": str(path)})
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")
    first = privacy_version()

    path.write_text("Zweite Fassung\n")
    notice.cache_clear()
    await register_ok(client, event.slug, email="ben@example.org")

    assert (await row_of(client, event.slug, auth, "anna@example.org"))["consent_version"] == first
    assert (await row_of(client, event.slug, auth, "ben@example.org"))[
        "consent_version"
    ] == privacy_version()
    assert privacy_version() != first


async def test_the_roster_csv_carries_consent_time_and_version(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")

    response = await client.get(f"/api/v1/events/{event.slug}/registrations.csv", headers=auth)

    header, row = response.content.decode("utf-8-sig").splitlines()[:2]
    columns = dict(zip(header.split(";"), row.split(";"), strict=True))
    assert columns["consent_version"] == privacy_version()
    assert columns["consent_at"]
    assert columns["address_confirmed"] == "yes"
