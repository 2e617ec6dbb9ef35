"""What a page says about itself: its title, description, canonical address and Open Graph tags;
and that no page loads anything from another site (fonts, scripts, styles, images).
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import register_ok, token_of
from tests.sessions import sign_in
from tests.web.html_tags import meta, tags
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}


def title_of(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "no <title>"
    return match.group(1).strip()


async def test_event_page_title_is_the_event_title(client: httpx.AsyncClient) -> None:
    event = await factories.event(await factories.organiser(), title="Glasfaser für Dresden")

    html = (await client.get(f"/events/{event.slug}")).text

    assert title_of(html) == "Glasfaser für Dresden · Treffpunkt"


async def test_catalogue_filtered_by_region_names_the_region_in_its_title(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/events", params={"region": "DE-SN"}, headers=ENGLISH)).text

    assert title_of(html) == "Events in Saxony · Treffpunkt"


async def test_catalogue_without_filters_is_titled_events(client: httpx.AsyncClient) -> None:
    html = (await client.get("/events", headers=ENGLISH)).text

    assert title_of(html) == "Events · Treffpunkt"


async def test_roster_title_names_the_event(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await factories.event(owner, title="Rufbusse im Wald")
    await sign_in(client, owner)

    html = (await client.get(f"/organiser/events/{event.slug}/roster", headers=ENGLISH)).text

    assert title_of(html) == "Roster: Rufbusse im Wald · Treffpunkt"


async def test_personal_registration_page_title_names_the_event(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, title="Rufbusse im Wald")
    person = await register_ok(client, event.slug)
    token = await token_of(client, event.slug, auth, person["email"])

    html = (await client.get(f"/registrations/{token}", headers=ENGLISH)).text

    assert title_of(html) == "Your registration: Rufbusse im Wald · Treffpunkt"


async def test_event_page_has_open_graph_tags_from_the_event(client: httpx.AsyncClient) -> None:
    event = await factories.event(
        await factories.organiser(), title="Wärme & Wasser", summary="Planen, was kommt."
    )

    html = (await client.get(f"/events/{event.slug}", headers=ENGLISH)).text

    url = f"{get_settings().base_url}/events/{event.slug}"
    assert {
        key: meta(html, key)
        for key in ("og:title", "og:description", "og:type", "og:url", "og:locale")
    } == {
        "og:title": "Wärme & Wasser",
        "og:description": "Planen, was kommt.",
        "og:type": "website",
        "og:url": url,
        "og:locale": "en_GB",
    }
    assert meta(html, "twitter:card") == "summary"


async def test_event_page_has_its_canonical_link_and_description(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await factories.organiser(), summary="Planen, was kommt.")

    html = (await client.get(f"/events/{event.slug}", params={"utm_source": "mail"})).text

    assert [link["href"] for link in tags(html, "link", rel="canonical")] == [
        f"{get_settings().base_url}/events/{event.slug}"
    ]
    assert meta(html, "description") == "Planen, was kommt."


async def test_event_page_speaks_german_open_graph_in_german(client: httpx.AsyncClient) -> None:
    event = await factories.event(await factories.organiser())

    html = (await client.get(f"/events/{event.slug}", headers={"Accept-Language": "de"})).text

    assert meta(html, "og:locale") == "de_DE"


# --- nothing from elsewhere ----------------------------------------------------------------


def foreign_resources(html: str) -> list[str]:
    """Addresses of scripts, styles, icons and images that another site would serve."""
    base = get_settings().base_url
    found = []
    for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src")):
        for attrs in tags(html, tag):
            if tag == "link" and attrs.get("rel") in ("canonical", "alternate"):
                continue  # addresses of this page, not resources it loads
            value = attrs.get(attribute, "")
            if re.match(r"(?i)^(https?:)?//", value) and not value.startswith(base + "/"):
                found.append(f"<{tag} {attribute}={value}>")
    return found


async def test_no_page_loads_anything_from_another_site(client: httpx.AsyncClient) -> None:
    admin, auth = await factories.organiser_with_token(admin=True)
    event = await factories.event(admin)
    person = await register_ok(client, event.slug)
    token = await token_of(client, event.slug, auth, person["email"])
    public = [
        "/events",
        "/events?region=DE-SN",
        f"/events/{event.slug}",
        f"/registrations/{token}",
        f"/registrations/{token}/cancel",
        f"/registrations/{token}/ticket",
        "/login",
        "/no/such/page",
    ]
    organiser = [
        "/organiser",
        f"/organiser/events/{event.slug}/roster",
        f"/organiser/events/{event.slug}/check-in/",
        f"/organiser/events/{event.slug}/feedback",
        "/organiser/reports",
        "/admin/mailbox",
    ]
    pages = {path: (await client.get(path)).text for path in public}
    await sign_in(client, admin)
    pages |= {path: (await client.get(path)).text for path in organiser}

    offenders = {path: found for path, html in pages.items() if (found := foreign_resources(html))}

    assert [path for path, html in pages.items() if "<html" not in html] == []
    assert offenders == {}


async def test_the_scan_would_notice_a_font_from_a_cdn() -> None:
    html = '<link rel="stylesheet" href="https://fonts.example.net/css?family=Inter">'

    assert foreign_resources(html) == ["<link href=https://fonts.example.net/css?family=Inter>"]
