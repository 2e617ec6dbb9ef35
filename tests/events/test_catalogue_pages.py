"""The HTML catalogue and event page: filters that stick, errors by their field, dates, no JS."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests import factories
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events import services
from treffpunkt.events.services import EventView

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        """The element's text with runs of whitespace collapsed, as a reader sees it."""
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return re.sub(r"[ \t\r\n]+", " ", "".join(parts)).strip()

    def find_all(self, tag: str, **attrs: str) -> list[Element]:
        found = []
        for child in self.children:
            if isinstance(child, Element):
                if child.tag == tag and all(
                    _matches(child.attrs.get(k.rstrip("_")), v) for k, v in attrs.items()
                ):
                    found.append(child)
                found.extend(child.find_all(tag, **attrs))
        return found

    def find(self, tag: str, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
        return found[0]

    def ancestor(self, tag: str) -> Element:
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"no <{tag}> around <{self.tag}>"
        return node


def _matches(actual: str | None, wanted: str) -> bool:
    """Exact attribute match, except `class` which matches one of its words."""
    return actual is not None and (actual == wanted or wanted in actual.split())


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, parent=self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def selected(page: Element, select_id: str) -> list[str]:
    """The values of the selected options of one <select>."""
    return [
        o.attrs["value"]
        for o in page.find("select", id=select_id).find_all("option")
        if "selected" in o.attrs
    ]


def link(href: str) -> tuple[str, dict[str, list[str]]]:
    """A link's path and query parameters, so that parameter order does not matter."""
    parts = urlsplit(href)
    return parts.path, parse_qs(parts.query)


def listed_titles(page: Element) -> list[str]:
    return [a.text() for a in page.find_all("h2", class_="event-title")]


async def plain_event(owner: CurrentOrganiser, title: str, **overrides: Any) -> EventView:
    return await factories.event(owner, title=title, **overrides)


# --- the catalogue page --------------------------------------------------------------------


async def test_catalogue_page_renders_the_upcoming_events_soonest_first(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    await plain_event(owner, "Später", days_ahead=9)
    await plain_event(owner, "Früher", days_ahead=3)

    response = await client.get("/events")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = parse(response.text)
    assert listed_titles(page) == ["Früher", "Später"]
    assert page.find("p", class_="result-count").text() == "2 Veranstaltungen gefunden"


async def test_catalogue_page_links_each_event_to_its_page(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await plain_event(owner, "Verlinkt")

    page = parse((await client.get("/events")).text)

    link = page.find("h2", class_="event-title").find("a")
    assert link.attrs["href"] == f"/events/{event.slug}"


async def test_catalogue_page_hides_drafts(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await plain_event(owner, "Öffentlich")
    await plain_event(owner, "Geheimer Entwurf", publish=False)

    page = parse((await client.get("/events")).text)

    assert listed_titles(page) == ["Öffentlich"]


async def test_catalogue_page_marks_a_cancelled_event(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await plain_event(owner, "Fällt aus")
    await services.cancel_event(event.slug, "Referentin erkrankt", now=datetime.now(UTC))

    page = parse((await client.get("/events")).text)

    card = page.find("li", class_="event-card")
    assert "is-cancelled" in card.attrs["class"].split()
    assert card.find("span", class_="badge-cancelled").text() == "Abgesagt"


async def test_catalogue_page_applies_the_filters_in_the_query(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await plain_event(owner, "In Sachsen", region="DE-SN")
    await plain_event(owner, "In Bayern", region="DE-BY")

    page = parse((await client.get("/events", params={"region": "DE-BY"})).text)

    assert listed_titles(page) == ["In Bayern"]


async def test_filter_form_keeps_the_selected_options(client: httpx.AsyncClient) -> None:
    params = {
        "region": "DE-TH",
        "sector": "health",
        "kind": "networking_meeting",
        "format": "hybrid",
    }

    page = parse((await client.get("/events", params=params)).text)

    assert {name: selected(page, name) for name in params} == {
        name: [value] for name, value in params.items()
    }


async def test_filter_form_keeps_the_search_words_and_dates(client: httpx.AsyncClient) -> None:
    params = {"q": "Wärme & Netze", "starts_after": "2030-01-01", "starts_before": "2030-02-01"}

    page = parse((await client.get("/events", params=params)).text)

    assert {name: page.find("input", id=name).attrs["value"] for name in params} == params


async def test_filter_form_without_filters_selects_all(client: httpx.AsyncClient) -> None:
    page = parse((await client.get("/events")).text)

    assert [selected(page, name) for name in ("region", "sector", "kind", "format")] == [
        [],
        [],
        [],
        [],
    ]
    assert page.find("input", id="q").attrs["value"] == ""


async def test_an_invalid_region_shows_the_message_next_to_the_field_with_status_422(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/events", params={"region": "XX"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = parse(response.text)
    region = page.find("select", id="region")
    assert region.attrs["aria-invalid"] == "true"
    error = region.ancestor("div").find("p", class_="field-error")
    assert "XX" in error.text()
    assert region.attrs["aria-describedby"] == error.attrs["id"]


async def test_an_invalid_region_is_explained_in_the_readers_language(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/events", params={"region": "XX"})

    error = parse(response.text).find("p", class_="field-error")
    assert error.text().startswith("unbekannte Region ")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "muss ein Datum (JJJJ-MM-TT) oder ein Zeitpunkt nach ISO 8601 sein"),
        ("en", "must be a date (YYYY-MM-DD) or an ISO 8601 date-time"),
    ],
)
async def test_an_invalid_date_shows_the_message_next_to_that_date_field(
    client: httpx.AsyncClient, language: str, message: str
) -> None:
    response = await client.get(
        "/events", params={"starts_before": "bald"}, headers={"Accept-Language": language}
    )

    assert response.status_code == 422
    page = parse(response.text)
    field_box = page.find("input", id="starts_before").ancestor("div")
    assert field_box.find("p", class_="field-error").text() == message
    assert len(page.find_all("p", class_="field-error")) == 1


async def test_an_invalid_kind_shows_the_message_next_to_the_kind_field(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/events", params={"kind": "party"})

    assert response.status_code == 422
    field_box = parse(response.text).find("select", id="kind").ancestor("div")
    assert "workshop, networking_meeting" in field_box.find("p", class_="field-error").text()


async def test_an_invalid_filter_lists_no_events(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await plain_event(owner, "Irgendwas")

    page = parse((await client.get("/events", params={"region": "XX"})).text)

    assert listed_titles(page) == []
    assert page.find_all("p", class_="result-count") == []


async def _many_events(owner: CurrentOrganiser, count: int, **overrides: Any) -> list[EventView]:
    return [
        await plain_event(owner, f"Termin {n:02d}", days_ahead=n, **overrides)
        for n in range(1, count + 1)
    ]


async def test_pagination_links_keep_the_filters(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await _many_events(owner, 21, region="DE-SN", sectors=["energy"])
    await plain_event(owner, "Anderswo", region="DE-BY", sectors=["energy"])

    page = parse((await client.get("/events?region=DE-SN&sector=energy&q=termin")).text)

    pagination = page.find("nav", class_="pagination")
    assert link(pagination.find("a", rel="next").attrs["href"]) == (
        "/events",
        {"q": ["termin"], "region": ["DE-SN"], "sector": ["energy"], "offset": ["20"]},
    )
    assert pagination.find("span").text() == "Veranstaltungen 1–20 von 21"


async def test_the_next_page_shows_the_rest_and_links_back_with_the_filters(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    await _many_events(owner, 21, region="DE-SN")
    await plain_event(owner, "Anderswo", region="DE-BY")

    page = parse((await client.get("/events?region=DE-SN&offset=20")).text)

    assert listed_titles(page) == ["Termin 21"]
    pagination = page.find("nav", class_="pagination")
    assert link(pagination.find("a", rel="prev").attrs["href"]) in [
        ("/events", {"region": ["DE-SN"]}),
        ("/events", {"region": ["DE-SN"], "offset": ["0"]}),
    ]
    assert pagination.find_all("a", rel="next") == []


async def test_pagination_links_keep_the_page_size(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await _many_events(owner, 5)

    page = parse((await client.get("/events?region=DE-SN&limit=2&offset=2")).text)

    pagination = page.find("nav", class_="pagination")
    assert link(pagination.find("a", rel="next").attrs["href"]) == (
        "/events",
        {"region": ["DE-SN"], "limit": ["2"], "offset": ["4"]},
    )


async def test_a_single_page_has_no_pagination(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await _many_events(owner, 3)

    page = parse((await client.get("/events")).text)

    assert page.find_all("nav", class_="pagination") == []


# --- the event page ------------------------------------------------------------------------


async def test_event_page_shows_the_title(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await plain_event(owner, "Kommunale Wärmeplanung digital")

    response = await client.get(f"/events/{event.slug}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert parse(response.text).find("h1").text() == "Kommunale Wärmeplanung digital"


async def test_event_page_shows_the_date_in_german_by_default(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await plain_event(
        owner, "Sommer", starts_at="2030-07-10T08:00:00+00:00", ends_at="2030-07-10T11:00:00+00:00"
    )

    page = parse((await client.get(f"/events/{event.slug}")).text)

    assert page.find("time").text() == "Mittwoch, 10. Juli 2030, 10:00–13:00 CEST"


async def test_event_page_shows_the_date_in_english_for_english_readers(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    event = await plain_event(
        owner, "Sommer", starts_at="2030-07-10T08:00:00+00:00", ends_at="2030-07-10T11:00:00+00:00"
    )

    page = parse((await client.get(f"/events/{event.slug}", headers=ENGLISH)).text)

    assert page.find("time").text() == "Wednesday, July 10, 2030, 10:00\u202fAM–1:00\u202fPM CEST"


async def test_event_page_shows_the_local_day_when_it_differs_from_the_utc_day(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    event = await plain_event(
        owner, "Nachts", starts_at="2030-01-15T23:30:00+00:00", ends_at="2030-01-16T01:00:00+00:00"
    )

    page = parse((await client.get(f"/events/{event.slug}")).text)

    assert page.find("time").text() == "Mittwoch, 16. Januar 2030, 00:30–02:00 CET"


async def test_event_page_shows_the_time_in_the_events_own_timezone(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    event = await plain_event(
        owner,
        "In London",
        starts_at="2030-07-10T08:00:00+00:00",
        ends_at="2030-07-10T11:00:00+00:00",
        timezone="Europe/London",
    )

    page = parse((await client.get(f"/events/{event.slug}", headers=ENGLISH)).text)

    when = page.find("time").parent
    assert when is not None
    assert when.text() == (
        "Wednesday, July 10, 2030, 9:00\u202fAM–12:00\u202fPM BST Time zone: Europe/London"
    )


async def test_event_page_shows_the_venue_address(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await plain_event(
        owner,
        "Vor Ort",
        venue={
            "name": "Kulturbahnhof Kassel",
            "street": "Rainer-Dierichs-Platz 1",
            "postal_code": "34117",
            "city": "Kassel",
        },
    )

    page = parse((await client.get(f"/events/{event.slug}")).text)

    assert (
        page.find("address").text() == "Kulturbahnhof Kassel Rainer-Dierichs-Platz 1 34117 Kassel"
    )


async def test_event_page_links_the_venue_to_a_map(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await plain_event(
        owner,
        "Vor Ort",
        venue={
            "name": "Kulturbahnhof Kassel",
            "street": "Rainer-Dierichs-Platz 1",
            "postal_code": "34117",
            "city": "Kassel",
        },
    )

    page = parse((await client.get(f"/events/{event.slug}")).text)

    maps = [a for a in page.find_all("a") if "openstreetmap.org" in a.attrs.get("href", "")]
    assert [a.attrs["href"] for a in maps] == [
        "https://www.openstreetmap.org/search?query=Rainer-Dierichs-Platz%201%2034117%20Kassel"
    ]
    assert maps[0].text() == "Auf der Karte anzeigen (OpenStreetMap)"


async def test_an_online_event_page_has_no_map_link(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await plain_event(
        owner, "Online", format="online", venue=None, online_url="https://meet.example.org/a"
    )

    page = parse((await client.get(f"/events/{event.slug}")).text)

    assert [a for a in page.find_all("a") if "openstreetmap" in a.attrs.get("href", "")] == []


async def test_event_page_shows_the_seats_left(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await plain_event(owner, "Begrenzt", capacity=30)

    german = parse((await client.get(f"/events/{event.slug}")).text)
    english = parse((await client.get(f"/events/{event.slug}", headers=ENGLISH)).text)

    assert "Noch 30 Plätze frei" in german.find("dl", class_="facts").text()
    assert "30 places left" in english.find("dl", class_="facts").text()


async def test_event_page_says_unlimited_when_there_is_no_capacity(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    event = await plain_event(owner, "Offen", capacity=None)

    page = parse((await client.get(f"/events/{event.slug}")).text)

    assert "Keine Platzbegrenzung" in page.find("dl", class_="facts").text()


async def test_a_cancelled_event_page_shows_a_banner_with_the_reason(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    event = await plain_event(owner, "Abgesagt")
    await services.cancel_event(event.slug, "Die Referentin ist erkrankt.", now=datetime.now(UTC))

    response = await client.get(f"/events/{event.slug}")

    assert response.status_code == 200
    banner = parse(response.text).find("div", class_="notice-cancelled")
    assert banner.attrs["role"] == "alert"
    assert banner.text() == "Diese Veranstaltung wurde abgesagt. Die Referentin ist erkrankt."


async def test_a_cancelled_event_page_offers_no_registration(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await plain_event(owner, "Abgesagt")
    await services.cancel_event(event.slug, "Ausfall", now=datetime.now(UTC))

    page = parse((await client.get(f"/events/{event.slug}")).text)

    box = page.find("section", class_="registration-box")
    assert box.find_all("a") == []
    assert "Die Anmeldung ist geschlossen, weil die Veranstaltung abgesagt wurde." in box.text()


async def test_a_draft_is_not_found_for_the_public(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    draft = await plain_event(owner, "Geheimes Vorhaben", publish=False)

    response = await client.get(f"/events/{draft.slug}")

    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Geheimes Vorhaben" not in response.text


async def test_an_unknown_event_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/events/gibt-es-nicht-abcdef")

    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"


# --- without JavaScript --------------------------------------------------------------------


async def test_catalogue_page_has_no_script_tags(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await plain_event(owner, "Ohne Skript")

    page = parse((await client.get("/events", params={"region": "DE-SN"})).text)

    assert page.find_all("script") == []


async def test_catalogue_filter_form_is_a_plain_get_form(client: httpx.AsyncClient) -> None:
    page = parse((await client.get("/events")).text)

    form = page.find("form", class_="filters")
    assert (form.attrs["method"], form.attrs["action"]) == ("get", "/events")
    assert [b.attrs["type"] for b in form.find_all("button")] == ["submit"]


async def test_event_page_has_no_script_tags(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await plain_event(owner, "Ohne Skript")

    page = parse((await client.get(f"/events/{event.slug}")).text)

    assert page.find_all("script") == []
