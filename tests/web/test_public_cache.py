"""The public micro-cache: what it answers from memory, for how long, and what it never keeps.

Through a real app with TREFFPUNKT_CATALOGUE_CACHE_SECONDS switched on (the suite switches it
off). Data changed with the factories is a change "behind the app's back", as another worker
process would make it. The cache's clock is replaced, so lifetimes pass without waiting.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from litestar import Litestar

from tests import factories
from tests.sessions import sign_in
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events import services
from treffpunkt.events.schemas import EventUpdate
from treffpunkt.settings import get_settings
from treffpunkt.web import public_cache
from treffpunkt.web.app import create_app
from treffpunkt.web.language import LANGUAGE_COOKIE
from treffpunkt.web.public_cache import ASGIApp, PublicResponseCache

pytestmark = pytest.mark.anyio

LIFETIME = 30
CATALOGUE = "/api/v1/events"
PAGE = "/events"
FEED = "/calendar.ics"
SESSION_COOKIE = "treffpunkt_session"
CSRF_COOKIE = "treffpunkt_csrf"
GERMAN_HEADING = "<h1>Workshops und Netzwerktreffen</h1>"
ENGLISH_HEADING = "<h1>Workshops and networking meetings</h1>"
SIGN_OUT_FORM = 'action="/logout"'
NEW_TITLE = "Kommunale Wärmeplanung"


class Clock:
    """Stands in for the `time` module inside the cache: it moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # Only the cache module's clock: asyncio's own loop keeps the real time.monotonic.
    fake = Clock()
    monkeypatch.setattr(public_cache, "time", fake)
    return fake


@pytest.fixture
async def cached_app(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> AsyncIterator[Litestar]:
    """An app with the production micro-cache, running; the settings cache is left clean."""
    with monkeypatch.context() as patch:
        patch.setenv("TREFFPUNKT_CATALOGUE_CACHE_SECONDS", str(LIFETIME))
        get_settings.cache_clear()
        app = create_app()
    get_settings.cache_clear()
    async with app.lifespan():
        yield app


@asynccontextmanager
async def visitor(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A same-loop client with its own cookie jar: one more person using the app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def cached_client(cached_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with visitor(cached_app) as http:
        yield http


@pytest.fixture
async def owner() -> CurrentOrganiser:
    return await factories.organiser()


def cache_of(app: Litestar) -> PublicResponseCache:
    cache = app.state.public_cache
    assert isinstance(cache, PublicResponseCache)
    return cache


# --- reading the public listings -----------------------------------------------------------


async def catalogue_slugs(client: httpx.AsyncClient, path: str = CATALOGUE) -> list[str]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


async def page_slugs(client: httpx.AsyncClient, path: str = PAGE) -> list[str]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return re.findall(r'<h2 class="event-title"><a href="/events/([^"]+)">', response.text)


async def feed_uids(client: httpx.AsyncClient, path: str = FEED) -> list[str]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return [str(e["UID"]) for e in Calendar.from_ical(response.content).walk("VEVENT")]


Reader = Callable[[httpx.AsyncClient], Awaitable[list[str]]]

# Each public listing, and which attribute of an event it lists it by.
LISTINGS = [
    pytest.param(catalogue_slugs, "slug", id="api-catalogue"),
    pytest.param(page_slugs, "slug", id="html-catalogue"),
    pytest.param(feed_uids, "calendar_uid", id="calendar-feed"),
]


async def retitle(slug: str, title: str = NEW_TITLE) -> None:
    """Change an event straight in the database, past the app."""
    await services.update_event(slug, EventUpdate(title=title), now=datetime.now(UTC))


# --- answered from memory within the lifetime, fresh after it ------------------------------


@pytest.mark.parametrize(("read", "identity"), LISTINGS)
async def test_a_repeat_request_within_the_lifetime_answers_what_it_answered_before(
    cached_client: httpx.AsyncClient,
    clock: Clock,
    owner: CurrentOrganiser,
    read: Reader,
    identity: str,
) -> None:
    assert await read(cached_client) == []
    await factories.event(owner)
    clock.advance(LIFETIME - 1)

    assert await read(cached_client) == []


@pytest.mark.parametrize(("read", "identity"), LISTINGS)
async def test_once_the_lifetime_has_passed_a_change_behind_the_apps_back_shows(
    cached_client: httpx.AsyncClient,
    clock: Clock,
    owner: CurrentOrganiser,
    read: Reader,
    identity: str,
) -> None:
    assert await read(cached_client) == []
    event = await factories.event(owner)
    clock.advance(LIFETIME)

    assert await read(cached_client) == [getattr(event, identity)]


async def test_a_repeat_request_for_an_events_calendar_file_answers_the_file_as_it_was(
    cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner, title="Breitband für Schulen")
    path = f"/events/{event.slug}.ics"
    first = await cached_client.get(path)
    await retitle(event.slug)

    second = await cached_client.get(path)

    assert second.status_code == 200
    assert second.content == first.content
    assert [str(e["SUMMARY"]) for e in Calendar.from_ical(second.content).walk("VEVENT")] == [
        "Breitband für Schulen"
    ]


async def test_each_query_string_gets_its_own_entry(
    cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    assert await catalogue_slugs(cached_client, f"{CATALOGUE}?region=DE-SN") == []
    event = await factories.event(owner, region="DE-BY")

    assert await catalogue_slugs(cached_client, f"{CATALOGUE}?region=DE-BY") == [event.slug]


async def test_a_request_answered_from_the_cache_is_the_same_response_as_the_first(
    cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    await factories.event(owner)
    first = await cached_client.get(FEED)

    second = await cached_client.get(FEED)

    assert (second.status_code, second.content) == (200, first.content)
    # Each request keeps its own id; everything else is replayed.
    assert second.headers.pop("x-request-id") != first.headers.pop("x-request-id")
    assert second.headers == first.headers


# --- changes made through this app empty the cache at once ---------------------------------


@pytest.mark.parametrize(("read", "identity"), LISTINGS)
async def test_an_event_published_through_the_api_is_listed_at_once(
    cached_client: httpx.AsyncClient, read: Reader, identity: str
) -> None:
    _, auth = await factories.organiser_with_token()
    assert await read(cached_client) == []

    created = await cached_client.post(CATALOGUE, json=factories.event_payload(), headers=auth)
    slug = created.json()["slug"]
    published = await cached_client.post(f"{CATALOGUE}/{slug}/publish", headers=auth)

    assert (created.status_code, published.status_code) == (201, 200)
    event = await services.get_event(slug)
    assert await read(cached_client) == [getattr(event, identity)]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_any_unsafe_request_empties_the_cache_whatever_it_answers(
    cached_app: Litestar,
    cached_client: httpx.AsyncClient,
    owner: CurrentOrganiser,
    method: str,
) -> None:
    assert await catalogue_slugs(cached_client) == []
    event = await factories.event(owner)

    refused = await cached_client.request(method, f"{CATALOGUE}/no-such-event")

    assert refused.status_code >= 400
    assert cache_of(cached_app).entries == {}
    assert await catalogue_slugs(cached_client) == [event.slug]


# --- organisers are never answered from, nor stored in, the cache --------------------------


async def test_a_request_with_an_authorization_header_is_not_answered_from_the_cache(
    cached_client: httpx.AsyncClient,
) -> None:
    person, auth = await factories.organiser_with_token()
    assert await catalogue_slugs(cached_client) == []
    event = await factories.event(person)

    response = await cached_client.get(CATALOGUE, headers=auth)

    assert [item["slug"] for item in response.json()["items"]] == [event.slug]


async def test_a_request_with_an_authorization_header_is_not_stored(
    cached_app: Litestar, cached_client: httpx.AsyncClient
) -> None:
    person, auth = await factories.organiser_with_token()
    assert (await cached_client.get(CATALOGUE, headers=auth)).json()["items"] == []
    event = await factories.event(person)

    assert cache_of(cached_app).entries == {}
    assert await catalogue_slugs(cached_client) == [event.slug]


async def test_a_signed_in_organiser_is_not_shown_the_cached_anonymous_page(
    cached_app: Litestar, cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    async with visitor(cached_app) as organiser:
        await sign_in(organiser, owner)
        assert SIGN_OUT_FORM not in (await cached_client.get(PAGE)).text

        page = await organiser.get(PAGE)

    assert SESSION_COOKIE in organiser.cookies
    assert SIGN_OUT_FORM in page.text


async def test_a_signed_in_organisers_page_is_never_shown_to_an_anonymous_visitor(
    cached_app: Litestar, cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    async with visitor(cached_app) as organiser:
        await sign_in(organiser, owner)
        assert SIGN_OUT_FORM in (await organiser.get(PAGE)).text

    page = await cached_client.get(PAGE)

    assert page.status_code == 200
    assert SIGN_OUT_FORM not in page.text


async def test_a_request_with_the_session_cookie_is_not_stored(
    cached_app: Litestar, cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    async with visitor(cached_app) as organiser:
        await sign_in(organiser, owner)
        await organiser.get(PAGE)
        await organiser.get(CATALOGUE)
        await organiser.get(FEED)

    assert cache_of(cached_app).entries == {}


# Cookie spellings the app reads as a session but the cache does not recognise: HTTP/2 may
# split cookies over several fields (the app reads the first), and Litestar writes a session
# past 4 KB as treffpunkt_session-0, -1, ….
UNRECOGNISED_SESSIONS = [
    pytest.param(
        lambda session: [("cookie", f"{SESSION_COOKIE}={session}"), ("cookie", "seen=1")],
        id="second-cookie-field",
    ),
    pytest.param(
        lambda session: [("cookie", f"{SESSION_COOKIE}-0={session}")], id="numbered-cookie"
    ),
]


@pytest.mark.parametrize("spelled", UNRECOGNISED_SESSIONS)
async def test_an_answer_that_sets_a_visitors_own_cookie_is_never_stored(
    cached_app: Litestar,
    cached_client: httpx.AsyncClient,
    owner: CurrentOrganiser,
    spelled: Callable[[str], list[tuple[str, str]]],
) -> None:
    async with visitor(cached_app) as organiser:
        await sign_in(organiser, owner)
        session = organiser.cookies[SESSION_COOKIE]
    async with visitor(cached_app) as organiser_elsewhere:
        signed_in = await organiser_elsewhere.get(PAGE, headers=spelled(session))
    assert SIGN_OUT_FORM in signed_in.text
    assert SESSION_COOKIE in signed_in.headers["set-cookie"]

    page = await cached_client.get(PAGE)

    assert SIGN_OUT_FORM not in page.text
    assert len(cache_of(cached_app).entries) == 1


# --- one entry per language ----------------------------------------------------------------


async def test_english_and_german_visitors_each_get_the_page_in_their_language(
    cached_client: httpx.AsyncClient,
) -> None:
    english = await cached_client.get(PAGE, headers={"Accept-Language": "en"})
    german = await cached_client.get(PAGE, headers={"Accept-Language": "de"})
    english_again = await cached_client.get(PAGE, headers={"Accept-Language": "en"})

    assert ENGLISH_HEADING in english.text
    assert GERMAN_HEADING in german.text
    assert english_again.text == english.text


async def test_the_language_cookie_gets_its_own_entry_over_accept_language(
    cached_client: httpx.AsyncClient,
) -> None:
    assert GERMAN_HEADING in (await cached_client.get(PAGE, headers={"Accept-Language": "de"})).text

    page = await cached_client.get(
        PAGE, headers={"Accept-Language": "de", "Cookie": f"{LANGUAGE_COOKIE}=en"}
    )

    assert ENGLISH_HEADING in page.text


async def test_two_ways_of_asking_for_one_language_share_one_entry(
    cached_app: Litestar, cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    assert await page_slugs(cached_client) == []  # German by default
    await factories.event(owner)

    page = await cached_client.get(PAGE, headers={"Accept-Language": "de-AT,de;q=0.9"})

    assert GERMAN_HEADING in page.text
    assert "event-title" not in page.text
    assert len(cache_of(cached_app).entries) == 1


# --- no visitor's cookie is replayed -------------------------------------------------------


async def test_a_page_answered_from_the_cache_sets_no_cookie(cached_app: Litestar) -> None:
    async with visitor(cached_app) as first:
        await first.get(PAGE)

    async with visitor(cached_app) as second:
        page = await second.get(PAGE)

        assert page.status_code == 200
        assert page.headers.get_list("set-cookie") == []
        assert CSRF_COOKIE not in second.cookies


async def test_the_stored_page_keeps_no_set_cookie_header(
    cached_app: Litestar, cached_client: httpx.AsyncClient
) -> None:
    await cached_client.get(PAGE)

    [stored] = cache_of(cached_app).entries.values()
    assert stored.status == 200
    assert [name for name, _ in stored.headers if name.lower() == b"set-cookie"] == []


# --- conditional requests ------------------------------------------------------------------


async def test_a_feed_request_with_the_cached_etag_answers_304_without_a_body(
    cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    etag = (await cached_client.get(FEED)).headers["etag"]
    await factories.event(owner)  # the app itself would now answer a new ETag

    response = await cached_client.get(FEED, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "content-type" not in response.headers


async def test_a_conditional_first_request_answers_304_and_fills_the_cache_with_the_full_feed(
    cached_app: Litestar, cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    full = await cached_client.get(FEED)
    cache_of(cached_app).clear()

    conditional = await cached_client.get(FEED, headers={"If-None-Match": full.headers["etag"]})
    await factories.event(owner)
    plain = await cached_client.get(FEED)

    assert conditional.status_code == 304
    assert (plain.status_code, plain.content) == (200, full.content)


async def test_a_feed_request_with_another_etag_gets_the_full_feed_from_the_cache(
    cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    first = await cached_client.get(FEED)
    await factories.event(owner)

    response = await cached_client.get(FEED, headers={"If-None-Match": '"not-this-one"'})

    assert response.status_code == 200
    assert response.content == first.content
    assert response.headers["etag"] == first.headers["etag"]


async def test_a_first_request_with_a_stale_etag_gets_the_full_feed(
    cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    event = await factories.event(owner)

    response = await cached_client.get(FEED, headers={"If-None-Match": '"stale"'})

    assert response.status_code == 200
    uids = [str(e["UID"]) for e in Calendar.from_ical(response.content).walk("VEVENT")]
    assert uids == [event.calendar_uid]


# --- only 200 answers are stored -----------------------------------------------------------


@pytest.mark.parametrize("path", [CATALOGUE, PAGE, FEED])
async def test_a_422_answer_to_a_bad_filter_is_not_stored(
    cached_app: Litestar, cached_client: httpx.AsyncClient, path: str
) -> None:
    response = await cached_client.get(path, params={"region": "XX-XX"})

    assert response.status_code == 422
    assert cache_of(cached_app).entries == {}


async def test_a_404_answer_is_not_replayed_once_the_event_is_published(
    cached_client: httpx.AsyncClient, owner: CurrentOrganiser
) -> None:
    draft = await factories.event(owner, publish=False)
    path = f"/events/{draft.slug}.ics"
    assert (await cached_client.get(path)).status_code == 404
    await services.publish_event(draft.slug, now=datetime.now(UTC))

    response = await cached_client.get(path)

    assert response.status_code == 200


# --- switched off, and paths it leaves alone -----------------------------------------------


@pytest.mark.parametrize(("read", "identity"), LISTINGS)
async def test_with_the_cache_switched_off_a_change_behind_the_apps_back_shows_at_once(
    app: Litestar,
    client: httpx.AsyncClient,
    owner: CurrentOrganiser,
    read: Reader,
    identity: str,
) -> None:
    assert await read(client) == []
    event = await factories.event(owner)

    assert await read(client) == [getattr(event, identity)]
    assert cache_of(app).entries == {}


@pytest.mark.parametrize("path", ["/events/{slug}", "/api/v1/events/{slug}"])
async def test_a_single_events_page_and_api_answer_are_not_cached(
    cached_app: Litestar, cached_client: httpx.AsyncClient, owner: CurrentOrganiser, path: str
) -> None:
    event = await factories.event(owner, title="Breitband für Schulen")
    url = path.format(slug=event.slug)
    assert "Breitband für Schulen" in (await cached_client.get(url)).text
    await retitle(event.slug)

    response = await cached_client.get(url)

    assert response.status_code == 200
    assert NEW_TITLE in response.text
    assert cache_of(cached_app).entries == {}


def counting_arrivals(app: Litestar, expected: int) -> tuple[ASGIApp, asyncio.Event]:
    """The app behind a counter, and an event set once `expected` requests have reached it.

    Neither Litestar nor the cache awaits anything before a request either joins the render
    in flight or starts its own: when the event's waiter runs, every request has done one.
    """
    arrived = 0
    everyone = asyncio.Event()

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        nonlocal arrived
        arrived += 1
        if arrived == expected:
            everyone.set()
        await app(scope, receive, send)

    return counted, everyone


async def test_simultaneous_requests_for_an_expired_entry_render_it_once(
    cached_app: Litestar, cached_client: httpx.AsyncClient, clock: Clock, owner: CurrentOrganiser
) -> None:
    await factories.event(owner)
    first = await cached_client.get(CATALOGUE)
    clock.advance(LIFETIME)
    cache = cache_of(cached_app)
    inner = cache.app
    renders = 0
    gate = asyncio.Event()

    async def gated_render(scope: Any, receive: Any, send: Any) -> None:
        nonlocal renders
        renders += 1
        await gate.wait()  # the first render stays in flight until every request has arrived
        await inner(scope, receive, send)

    cache.app = gated_render
    counted, everyone = counting_arrivals(cached_app, expected=10)
    transport = httpx.ASGITransport(app=counted)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        answers = asyncio.gather(*[http.get(CATALOGUE) for _ in range(10)])
        try:
            await everyone.wait()
            renders_while_in_flight = renders
        finally:
            gate.set()
        responses = await answers

    assert renders_while_in_flight == 1
    assert renders == 1
    assert [response.status_code for response in responses] == [200] * 10
    assert {response.content for response in responses} == {first.content}
