"""The sitemap, robots.txt and the Atom feed, read back with an XML parser as a crawler would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import move_event_into_the_past
from tests.web.html_tags import tags
from treffpunkt.events.tables import Event
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.anyio

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
ATOM_NS = {"a": "http://www.w3.org/2005/Atom"}


def xml_of(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - our own server's answer, not untrusted input


def sitemap_locations(response: httpx.Response) -> list[str]:
    root = xml_of(response.content)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    return [loc.text or "" for loc in root.findall("s:url/s:loc", SITEMAP_NS)]


def feed_titles(response: httpx.Response) -> list[str]:
    root = xml_of(response.content)
    return [title.text or "" for title in root.findall("a:entry/a:title", ATOM_NS)]


async def test_sitemap_lists_the_catalogue_and_published_events_with_lastmod(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    published = await factories.event(owner, title="Öffentlich")
    await factories.event(owner, title="Entwurf", publish=False)

    response = await client.get("/sitemap.xml")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    base = get_settings().base_url
    assert sitemap_locations(response) == [f"{base}/events", f"{base}/events/{published.slug}"]
    lastmods = xml_of(response.content).findall("s:url/s:lastmod", SITEMAP_NS)
    assert lastmods[-1].text == published.updated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_sitemap_leaves_out_events_that_ended_long_ago(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    recent = await factories.event(owner, title="Gestern")
    old = await factories.event(owner, title="Vor einem Jahr")
    await move_event_into_the_past(recent.slug)
    year_ago = datetime.now(UTC) - timedelta(days=365)
    await Event.update({Event.starts_at: year_ago, Event.ends_at: year_ago}).where(
        Event.slug == old.slug
    )

    locations = sitemap_locations(await client.get("/sitemap.xml"))

    assert f"{get_settings().base_url}/events/{recent.slug}" in locations
    assert not any(old.slug in location for location in locations)


async def test_sitemap_leaves_out_cancelled_events(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await factories.event(owner)
    await client.post(
        f"/api/v1/events/{event.slug}/cancel",
        json={"reason": "Krank"},
        headers=(await factories.organiser_with_token(admin=True))[1],
    )

    assert sitemap_locations(await client.get("/sitemap.xml")) == [
        f"{get_settings().base_url}/events"
    ]


async def test_robots_txt_names_the_sitemap_and_keeps_personal_links_out(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/robots.txt")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert f"Sitemap: {get_settings().base_url}/sitemap.xml" in lines
    assert "Disallow: /registrations/" in lines


async def test_feed_lists_published_events_newest_publication_first(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    first = await factories.event(owner, title="Zuerst veröffentlicht", days_ahead=3)
    second = await factories.event(owner, title="Danach veröffentlicht", days_ahead=20)
    await factories.event(owner, title="Noch ein Entwurf", publish=False)
    await Event.update({Event.published_at: datetime.now(UTC) - timedelta(days=1)}).where(
        Event.slug == first.slug
    )

    response = await client.get("/events/feed.atom")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    assert feed_titles(response) == [second.title, first.title]


async def test_feed_has_the_elements_rfc_4287_requires(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await factories.event(owner, title="Wärmeplanung <kommunal>", contact_name="Eva Ost")

    root = xml_of((await client.get("/events/feed.atom")).content)

    base = get_settings().base_url
    assert root.findtext("a:id", namespaces=ATOM_NS) == f"{base}/events/feed.atom"
    assert root.findtext("a:title", namespaces=ATOM_NS)
    assert root.findtext("a:updated", namespaces=ATOM_NS)
    assert root.find("a:link[@rel='self']", ATOM_NS) is not None
    entry = root.find("a:entry", ATOM_NS)
    assert entry is not None
    assert entry.findtext("a:title", namespaces=ATOM_NS) == "Wärmeplanung <kommunal>"
    assert entry.findtext("a:id", namespaces=ATOM_NS) == (
        f"tag:testserver,{event.created_at.astimezone(UTC):%Y-%m-%d}:event/{event.calendar_uid}"
    )
    link = entry.find("a:link[@rel='alternate']", ATOM_NS)
    assert link is not None
    assert link.get("href") == f"{base}/events/{event.slug}"
    assert event.published_at is not None
    assert entry.findtext("a:updated", namespaces=ATOM_NS) == (
        event.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert entry.findtext("a:summary", namespaces=ATOM_NS) == event.summary
    assert entry.findtext("a:author/a:name", namespaces=ATOM_NS) == "Eva Ost"


async def test_feed_entry_id_survives_a_new_title(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, title="Alter Titel")
    before = xml_of((await client.get("/events/feed.atom")).content)
    await client.patch(f"/api/v1/events/{event.slug}", json={"title": "Neuer Titel"}, headers=auth)

    after = xml_of((await client.get("/events/feed.atom")).content)

    assert after.findtext("a:entry/a:title", namespaces=ATOM_NS) == "Neuer Titel"
    assert after.findtext("a:entry/a:id", namespaces=ATOM_NS) == before.findtext(
        "a:entry/a:id", namespaces=ATOM_NS
    )


async def test_feed_honours_the_catalogue_filters(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await factories.event(owner, title="Sachsen Schule", region="DE-SN", sectors=["education"])
    await factories.event(owner, title="Sachsen Energie", region="DE-SN", sectors=["energy"])
    await factories.event(owner, title="Bayern Schule", region="DE-BY", sectors=["education"])
    await factories.event(owner, title="Sachsen Treffen", region="DE-SN", kind="networking_meeting")

    response = await client.get(
        "/events/feed.atom", params={"region": "DE-SN", "sector": "education", "kind": "workshop"}
    )

    assert feed_titles(response) == ["Sachsen Schule"]


async def test_feed_answers_not_modified_to_a_client_that_is_current(
    client: httpx.AsyncClient,
) -> None:
    await factories.event(await factories.organiser())
    first = await client.get("/events/feed.atom")

    again = await client.get("/events/feed.atom", headers={"If-None-Match": first.headers["etag"]})

    assert again.status_code == 304


async def test_feed_changes_its_etag_when_an_event_is_published(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await factories.event(owner, title="Eins")
    first = await client.get("/events/feed.atom")
    await factories.event(owner, title="Zwei")

    again = await client.get("/events/feed.atom", headers={"If-None-Match": first.headers["etag"]})

    assert again.status_code == 200
    assert feed_titles(again) == ["Zwei", "Eins"]


async def test_feed_refuses_an_unknown_region_as_problem_details(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/events/feed.atom", params={"region": "XX-YY"})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_catalogue_links_its_atom_feed_with_the_filters(client: httpx.AsyncClient) -> None:
    html = (await client.get("/events", params={"region": "DE-SN"})).text

    links = tags(html, "link", rel="alternate", type="application/atom+xml")

    assert [link["href"] for link in links] == [
        f"{get_settings().base_url}/events/feed.atom?region=DE-SN"
    ]
