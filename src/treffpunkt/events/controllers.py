"""HTTP for events: the scheduling API, the JSON catalogue and its HTML pages.

Changing or cancelling an event tells its registrants, so those two calls are served by
`registrations.controllers.EventChangeApiController`, which extends the API controller here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.response import Template

from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.clock import utcnow
from treffpunkt.errors import N_, ErrorCollector, ValidationFailed
from treffpunkt.events import services
from treffpunkt.events.calendar import (
    RENDERED_FEEDS,
    calendar_feed,
    calendar_response,
    client_is_current,
    feed_etag,
    not_modified,
)
from treffpunkt.events.schemas import (
    CoOrganiser,
    EventCreate,
    EventOut,
    EventPage,
    Format,
    Kind,
)
from treffpunkt.events.services import CatalogueQuery, EventView
from treffpunkt.inputs import PathLine, is_single_line, query_line, query_number
from treffpunkt.settings import DEFAULT_TIMEZONE, get_settings
from treffpunkt.web.auth import current_organiser, manages_event, requires_organiser

KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
FORMATS: tuple[str, ...] = Format.__args__  # type: ignore[attr-defined]
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
CATALOGUE_PARAMS = (
    "limit",
    "q",
    "region",
    "sector",
    "kind",
    "format",
    "starts_after",
    "starts_before",
    "include_past",
)


def event_out(event: EventView) -> EventOut:
    return EventOut(
        slug=event.slug,
        title=event.title,
        summary=event.summary,
        description=event.description,
        kind=event.kind,  # type: ignore[arg-type]
        format=event.format,  # type: ignore[arg-type]
        region=event.region,
        locality=event.locality,
        sectors=event.sectors,
        venue=event.venue,
        online_url=event.online_url,
        starts_at=event.local(event.starts_at),
        ends_at=event.local(event.ends_at),
        timezone=event.timezone,
        capacity=event.capacity,
        seats_left=event.seats_left,
        waitlist=event.waitlist,
        requires_approval=event.requires_approval,
        requires_address_confirmation=event.requires_address_confirmation,
        registration_opens_at=event.registration_opens_at
        and event.local(event.registration_opens_at),
        registration_closes_at=event.registration_closes_at
        and event.local(event.registration_closes_at),
        status=event.status,  # type: ignore[arg-type]
        cancellation_reason=event.cancellation_reason,
        contact_name=event.contact_name,
        contact_email=event.contact_email,
        sequence=event.sequence,
        url=f"{get_settings().base_url}/events/{event.slug}",
        created_at=event.created_at,
        updated_at=event.updated_at,
    )


def _moment(raw: str, field_name: str, problems: ErrorCollector) -> datetime | None:
    """A date (midnight in Germany) or a date-time; without an offset, German local time."""
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(), ZoneInfo(DEFAULT_TIMEZONE))
        moment = datetime.fromisoformat(raw)
    except ValueError:
        problems.add(field_name, N_("must be a date (YYYY-MM-DD) or an ISO 8601 date-time"))
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(DEFAULT_TIMEZONE))


def _whole_number(raw: str, field_name: str, low: int, high: int, problems: ErrorCollector) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        problems.add(
            field_name, N_("must be a whole number from %(low)d to %(high)d"), low=low, high=high
        )
    return value


async def parse_catalogue_query(params: Mapping[str, str]) -> CatalogueQuery:
    """Turn raw query parameters into a catalogue query, naming every bad one."""
    problems = ErrorCollector()
    region = params.get("region") or None
    sector = params.get("sector") or None
    kind = params.get("kind") or None
    event_format = params.get("format") or None
    if region and region not in {choice.code for choice in await services.regions()}:
        problems.add("region", N_("unknown region %(value)s"), value=region)
    if sector and sector not in {choice.code for choice in await services.sectors()}:
        problems.add("sector", N_("unknown sector %(value)s"), value=sector)
    if kind and kind not in KINDS:
        problems.add("kind", N_("must be one of %(value)s"), value=", ".join(KINDS))
    if event_format and event_format not in FORMATS:
        problems.add("format", N_("must be one of %(value)s"), value=", ".join(FORMATS))
    starts_after = (
        _moment(params["starts_after"], "starts_after", problems)
        if params.get("starts_after")
        else None
    )
    starts_before = (
        _moment(params["starts_before"], "starts_before", problems)
        if params.get("starts_before")
        else None
    )
    limit = _whole_number(
        params.get("limit") or str(DEFAULT_PAGE_SIZE), "limit", 1, MAX_PAGE_SIZE, problems
    )
    offset = _whole_number(params.get("offset") or "0", "offset", 0, 10_000_000, problems)
    if not is_single_line(params.get("q") or ""):
        problems.add("q", N_("must not contain control characters"))
    problems.raise_if_any()
    return CatalogueQuery(
        q=(params.get("q") or "")[:200],
        region=region,
        sector=sector,
        kind=kind,
        format=event_format,
        starts_after=starts_after,
        starts_before=starts_before,
        include_past=(params.get("include_past") or "").lower() in {"1", "true", "yes", "on"},
        limit=limit,
        offset=offset,
    )


async def provide_catalogue_query(
    q: Annotated[
        str, query_line(description="Search words in title, summary, description, place")
    ] = "",
    region: Annotated[str | None, query_line(description="Region code, e.g. DE-SN")] = None,
    sector: Annotated[str | None, query_line(description="Sector code, e.g. energy")] = None,
    kind: FromQuery[Kind | None] = None,
    format: FromQuery[Format | None] = None,
    starts_after: Annotated[
        str | None, query_line(description="Date or date-time; events starting then or later")
    ] = None,
    starts_before: Annotated[
        str | None, query_line(description="Date or date-time; events starting before it")
    ] = None,
    include_past: Annotated[
        bool, QueryParameter(description="Also list events that are over")
    ] = False,
    limit: Annotated[int, query_number(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, query_number()] = 0,
) -> CatalogueQuery:
    raw = {
        "q": q,
        "region": region,
        "sector": sector,
        "kind": kind,
        "format": format,
        "starts_after": starts_after,
        "starts_before": starts_before,
        "include_past": include_past,
        "limit": limit,
        "offset": offset,
    }
    return await parse_catalogue_query({k: str(v) for k, v in raw.items() if v is not None})


def viewer(request: Request[Any, Any, Any]) -> CurrentOrganiser | None:
    """The signed-in organiser, who may also see drafts they manage; None for the public."""
    user = request.scope.get("user")
    return user if isinstance(user, CurrentOrganiser) else None


class EventApiController(Controller):
    path = "/api/v1/events"
    tags = ("events",)

    @get(
        "/",
        summary="List the public catalogue",
        description="Published (and cancelled) events that are not over, soonest first.",
        dependencies={"catalogue": Provide(provide_catalogue_query)},
    )
    async def list_events(self, catalogue: NamedDependency[CatalogueQuery]) -> EventPage:
        events, total = await services.list_events(catalogue, now=utcnow())
        return EventPage(
            items=[event_out(e) for e in events],
            total=total,
            limit=catalogue.limit,
            offset=catalogue.offset,
        )

    @post("/", summary="Create a draft event", guards=[requires_organiser], status_code=201)
    async def create_event(
        self, request: Request[Any, Any, Any], data: JSONBody[EventCreate]
    ) -> EventOut:
        event = await services.create_event(data, current_organiser(request), now=utcnow())
        return event_out(event)

    @get("/{slug:str}", summary="Read one event (drafts only for those who manage them)")
    async def read_event(self, request: Request[Any, Any, Any], slug: PathLine) -> EventOut:
        return event_out(await services.get_public_event(slug, viewer(request)))

    @delete("/{slug:str}", summary="Delete a draft", guards=[manages_event], status_code=204)
    async def delete_event(self, slug: PathLine) -> None:
        await services.delete_draft(slug)

    @post("/{slug:str}/publish", summary="Publish a draft", guards=[manages_event], status_code=200)
    async def publish_event(self, slug: PathLine) -> EventOut:
        return event_out(await services.publish_event(slug, now=utcnow()))

    @get("/{slug:str}/organisers", summary="List co-organisers", guards=[manages_event])
    async def list_co_organisers(self, slug: PathLine) -> list[str]:
        return await services.co_organisers(slug)

    @post(
        "/{slug:str}/organisers",
        summary="Add a co-organiser by email",
        guards=[manages_event],
        status_code=200,
    )
    async def add_co_organiser(self, slug: PathLine, data: JSONBody[CoOrganiser]) -> list[str]:
        return await services.add_co_organiser(slug, data.email)

    @delete(
        "/{slug:str}/organisers/{email:str}",
        summary="Remove a co-organiser",
        guards=[manages_event],
        status_code=200,
    )
    async def remove_co_organiser(self, slug: PathLine, email: PathLine) -> list[str]:
        return await services.remove_co_organiser(slug, email)


def _catalogue_params(request: Request[Any, Any, Any]) -> dict[str, str]:
    params = request.query_params
    return {name: params[name] for name in CATALOGUE_PARAMS if params.get(name)}


class EventPagesController(Controller):
    path = "/events"
    include_in_schema = False

    @get("/", name="catalogue")
    async def catalogue(self, request: Request[Any, Any, Any]) -> Template:
        filters = _catalogue_params(request)
        field_errors: dict[str, str] = {}
        events: list[EventView] = []
        total = 0
        query = CatalogueQuery()
        try:
            query = await parse_catalogue_query(dict(request.query_params))
        except ValidationFailed as failed:
            field_errors = failed.by_field()
        else:
            events, total = await services.list_events(query, now=utcnow())
        feed = f"{get_settings().base_url}/calendar.ics"
        feed_filters = {k: v for k, v in filters.items() if k not in ("limit", "offset")}
        if feed_filters:
            feed += "?" + urlencode(feed_filters)
        return Template(
            template_name="events/catalogue.html",
            context={
                "feed_url": feed,
                "webcal_url": "webcal://" + feed.split("://", 1)[1],
                "events": events,
                "total": total,
                "query": query,
                "filters": filters,
                "field_errors": field_errors,
                "regions": await services.regions(),
                "sectors": await services.sectors(),
            },
            status_code=422 if field_errors else 200,
        )


async def event_calendar(request: Request[Any, Any, Any], slug: str) -> Response[bytes]:
    event = await services.get_public_event(slug)
    etag = feed_etag(f"{event.id}|{event.updated_at.isoformat()}|{event.sequence}")
    if client_is_current(request, etag, event.updated_at):
        return not_modified(etag, event.updated_at)
    body = calendar_feed([event], name=event.title)
    return calendar_response(
        body, etag=etag, last_modified=event.updated_at, filename=f"{event.slug}.ics"
    )


FEED_LIMIT = 500


@get(
    "/calendar.ics",
    summary="Subscribable calendar of the catalogue, with its filters",
    tags=["events"],
)
async def catalogue_feed(request: Request[Any, Any, Any]) -> Response[bytes]:
    """METHOD:PUBLISH; cancelled events stay in it, marked CANCELLED, until they are over."""
    params = {k: v for k, v in request.query_params.items() if k in CATALOGUE_PARAMS}
    query = dataclasses.replace(
        await parse_catalogue_query({**params, "limit": "1"}), limit=FEED_LIMIT, offset=0
    )
    now = utcnow()
    fingerprint, latest = await services.catalogue_fingerprint(query, now=now)
    etag = feed_etag(fingerprint, urlencode(sorted(params.items())))
    if client_is_current(request, etag, latest):
        return not_modified(etag, latest)
    body = RENDERED_FEEDS.get(etag)
    if body is None:
        events, _ = await services.list_events(query, now=now)
        name = "Treffpunkt"
        if query.region:
            regions = {choice.code: choice for choice in await services.regions()}
            name = f"Treffpunkt · {regions[query.region].name_de}"
        body = RENDERED_FEEDS.put(etag, calendar_feed(events, name=name))
    return calendar_response(body, etag=etag, last_modified=latest)
