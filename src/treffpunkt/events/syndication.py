"""What search engines and feed readers fetch: the sitemap, robots.txt and the Atom feed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from litestar import Request, Response, get

from treffpunkt.clock import utcnow
from treffpunkt.events import services
from treffpunkt.events.calendar import (
    RenderedFeeds,
    calendar_response,
    client_is_current,
    feed_etag,
    not_modified,
)
from treffpunkt.events.controllers import CATALOGUE_PARAMS, parse_catalogue_query
from treffpunkt.events.services import EventView
from treffpunkt.i18n import current_language
from treffpunkt.i18n import gettext as _
from treffpunkt.settings import get_settings
from treffpunkt.templating import ENVIRONMENT

ATOM = "application/atom+xml"
FEED_ENTRIES = 50
# Pages of events that ended longer ago than this are left to fade from search engines.
SITEMAP_KEEPS_ENDED = timedelta(days=30)
# sitemaps.org allows 50,000 URLs per file; the catalogue takes one of them.
SITEMAP_EVENTS = 49_999
RENDERED_ATOM = RenderedFeeds(size=64)


def w3c(moment: datetime) -> str:
    """The UTC form of RFC 3339 that both Atom and sitemaps.org accept."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_url(slug: str) -> str:
    return f"{get_settings().base_url}/events/{slug}"


def entry_id(event: EventView) -> str:
    """A tag URI (RFC 4151) from the calendar UID: stable across renames and new slugs."""
    host = urlsplit(get_settings().base_url).hostname or "treffpunkt"
    return f"tag:{host},{event.created_at.astimezone(UTC):%Y-%m-%d}:event/{event.calendar_uid}"


@get("/robots.txt", include_in_schema=False, media_type="text/plain")
async def robots_txt() -> str:
    """Everything public may be crawled; personal links and organiser pages may not."""
    return (
        "User-agent: *\n"
        "Disallow: /registrations/\n"
        "Disallow: /organiser\n"
        "Disallow: /admin\n"
        "Disallow: /login\n"
        "Disallow: /language/\n"
        "Disallow: /api/\n"
        f"Sitemap: {get_settings().base_url}/sitemap.xml\n"
    )


@get("/sitemap.xml", include_in_schema=False)
async def sitemap_xml() -> Response[bytes]:
    """The catalogue and each published event page, unless it ended long ago."""
    pages = await services.published_pages(
        ended_after=utcnow() - SITEMAP_KEEPS_ENDED, limit=SITEMAP_EVENTS
    )
    body = ENVIRONMENT.get_template("syndication/sitemap.xml").render(
        catalogue=f"{get_settings().base_url}/events",
        catalogue_lastmod=max((page["updated_at"] for page in pages), default=None),
        pages=[(event_url(page["slug"]), page["updated_at"]) for page in pages],
        w3c=w3c,
    )
    return Response(
        body.encode(),
        media_type="application/xml",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def feed_filters(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: v for k, v in sorted(request.query_params.items()) if k in CATALOGUE_PARAMS}


@get("/events/feed.atom", include_in_schema=False)
async def events_feed(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Newly published events, newest first, with the catalogue's filters."""
    params = feed_filters(request)
    query = dataclasses.replace(
        await parse_catalogue_query({**params, "limit": "1"}), limit=FEED_ENTRIES, offset=0
    )
    now = utcnow()
    language = current_language.get()
    fingerprint, latest = await services.catalogue_fingerprint(query, now=now)
    etag = feed_etag(fingerprint, "atom", language, urlencode(params))
    if client_is_current(request, etag, latest):
        return not_modified(etag, latest)
    body = RENDERED_ATOM.get(etag)
    if body is None:
        body = RENDERED_ATOM.put(etag, await _render_feed(query, params, now, latest, language))
    return calendar_response(body, etag=etag, last_modified=latest, media_type=ATOM)


async def _render_feed(
    query: services.CatalogueQuery,
    params: dict[str, str],
    now: datetime,
    latest: datetime | None,
    language: str,
) -> bytes:
    events = await services.recently_published(query, now=now, limit=FEED_ENTRIES)
    base_url = get_settings().base_url
    suffix = "?" + urlencode(params) if params else ""
    title = _("Treffpunkt: newly published events")
    if query.region:
        regions = {choice.code: choice for choice in await services.regions()}
        title = _("Treffpunkt: newly published events in %(region)s") % {
            "region": regions[query.region].name(language)
        }
    published = [e.published_at for e in events if e.published_at is not None]
    return (
        ENVIRONMENT.get_template("syndication/feed.atom.xml")
        .render(
            language=language,
            title=title,
            feed_id=f"{base_url}/events/feed.atom{suffix}",
            catalogue_url=f"{base_url}/events{suffix}",
            updated=w3c(max(published, default=latest or now)),
            entries=[
                {
                    "id": entry_id(event),
                    "title": event.title,
                    "url": event_url(event.slug),
                    "updated": w3c(event.published_at or event.updated_at),
                    "summary": event.summary,
                    "author": event.contact_name or "Treffpunkt",
                }
                for event in events
            ],
        )
        .encode()
    )
