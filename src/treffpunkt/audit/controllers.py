"""The history of an event (API and page, for those who manage it) and of an account."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.response import Template
from msgspec import Struct

from treffpunkt.accounts.services import all_accounts
from treffpunkt.audit import services
from treffpunkt.audit.sentences import local_time, sentences
from treffpunkt.audit.services import PAGE_SIZE, Entry
from treffpunkt.errors import N_, NotFound
from treffpunkt.events.services import get_event
from treffpunkt.i18n import language
from treffpunkt.inputs import PathId, PathLine, query_number
from treffpunkt.settings import DEFAULT_TIMEZONE
from treffpunkt.web.auth import current_organiser, manages_event, requires_admin, requires_organiser

PRIVATE = {"Cache-Control": "private, no-store"}
Offset = Annotated[int, query_number()]
Limit = Annotated[int, query_number(ge=1, le=PAGE_SIZE)]


class ActorOut(Struct):
    kind: str
    account_id: int | None


class HistoryItem(Struct, kw_only=True):
    id: int
    at: str
    actor: ActorOut
    action: str
    event: str | None
    registration_id: int | None
    account_id: int | None
    # {field: [before, after]}; a registrant's personal field maps to null.
    changes: dict[str, Any]
    text: str


class HistoryPage(Struct):
    items: list[HistoryItem]
    total: int


class EventHistoryApiController(Controller):
    path = "/api/v1/events/{slug:str}/history"
    tags = ("audit",)

    @get("/", summary="Who changed what, newest first", guards=[manages_event])
    async def history(
        self, slug: PathLine, limit: Limit = PAGE_SIZE, offset: Offset = 0
    ) -> HistoryPage:
        event = await get_event(slug)
        entries, total = await services.event_history(event.id, offset=offset, limit=limit)
        with language("en"):
            items = [
                HistoryItem(
                    **{k: v for k, v in entry.as_json().items() if k != "actor"},
                    actor=ActorOut(entry.actor_kind, entry.actor_id),
                    text=" ".join(sentences(entry, event.zone)),
                )
                for entry in entries
            ]
        return HistoryPage(items=items, total=total)


def _rows(entries: list[Entry], zone: ZoneInfo) -> list[dict[str, Any]]:
    return [
        {"entry": entry, "at": local_time(entry, zone), "sentences": sentences(entry, zone)}
        for entry in entries
    ]


def _page(
    *,
    heading: str,
    back: tuple[str, str],
    path: str,
    entries: list[Entry],
    total: int,
    offset: int,
    zone: ZoneInfo,
    show_events: bool,
) -> Template:
    return Template(
        template_name="audit/history.html",
        context={
            "heading": heading,
            "back": back,
            "path": path,
            "rows": _rows(entries, zone),
            "total": total,
            "offset": offset,
            "page": PAGE_SIZE,
            "zone": zone.key,
            "show_events": show_events,
        },
        headers=PRIVATE,
    )


class EventHistoryPagesController(Controller):
    path = "/organiser/events/{slug:str}/history"
    guards = (manages_event,)
    include_in_schema = False

    @get("/")
    async def page(self, slug: PathLine, offset: Offset = 0) -> Template:
        event = await get_event(slug)
        entries, total = await services.event_history(event.id, offset=offset)
        return _page(
            heading=event.title,
            back=(f"/organiser/events/{slug}", event.title),
            path=f"/organiser/events/{slug}/history",
            entries=entries,
            total=total,
            offset=offset,
            zone=event.zone,
            show_events=False,
        )


class AccountHistoryPagesController(Controller):
    """An admin's view of one account; an organiser's view of their own actions."""

    path = "/"
    include_in_schema = False

    @get("/admin/organisers/{organiser_id:int}/history", guards=[requires_admin])
    async def account(self, organiser_id: PathId, offset: Offset = 0) -> Template:
        account = next((a for a in await all_accounts() if a.id == organiser_id), None)
        if account is None:
            raise NotFound(N_("no such organiser"), code="organiser_not_found")
        entries, total = await services.account_history(organiser_id, offset=offset)
        return _page(
            heading=account.name or account.email,
            back=("/admin/organisers", N_("Organisers")),
            path=f"/admin/organisers/{organiser_id}/history",
            entries=entries,
            total=total,
            offset=offset,
            zone=ZoneInfo(DEFAULT_TIMEZONE),
            show_events=True,
        )

    @get("/organiser/account/history", guards=[requires_organiser])
    async def mine(self, request: Request[Any, Any, Any], offset: Offset = 0) -> Template:
        me = current_organiser(request)
        entries, total = await services.actions_by(me.id, offset=offset)
        return _page(
            heading=me.name or me.email,
            back=("/organiser/account", N_("My account")),
            path="/organiser/account/history",
            entries=entries,
            total=total,
            offset=offset,
            zone=ZoneInfo(DEFAULT_TIMEZONE),
            show_events=True,
        )
