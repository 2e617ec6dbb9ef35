"""The event hub: one page per event with what organisers need to know and may do next.

Publishing, cancelling (after a preview of the mail it sends), deleting a draft and the
co-organisers are served here as forms; every change answers 303 to a page to GET.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Meta, Struct

from treffpunkt.accounts.services import organiser_by_id
from treffpunkt.attendance.feedback import people_to_thank
from treffpunkt.clock import utcnow
from treffpunkt.errors import Conflict, NotFound, ValidationFailed
from treffpunkt.events import services as events
from treffpunkt.events.services import EventView
from treffpunkt.inputs import Line, PathLine, QueryLine, Text
from treffpunkt.registrations.event_changes import cancel_and_notify
from treffpunkt.web.auth import current_organiser, manages_event
from treffpunkt.web.prg import outcome_for, see_other
from treffpunkt.workspace.mail import preview_cancellation
from treffpunkt.workspace.services import event_figures


@dataclass(frozen=True)
class Hub:
    """What the hub shows of one event: the event, who runs it, and its registrations."""

    event: EventView
    owner_email: str
    co_organisers: list[str]
    waitlisted: int
    pending: int
    checked_in: int
    finished: bool
    to_thank: int


async def hub(slug: str, *, now: datetime) -> Hub:
    """The event with its organisers and its figures (the dashboard's, for one event)."""
    event = await events.get_event(slug)
    figures = (await event_figures([event.id], now=now))[event.id]
    owner = await organiser_by_id(event.owner)
    finished = event.is_finished(now)
    return Hub(
        event=event,
        owner_email=owner.email if owner else "",
        co_organisers=await events.co_organisers(slug),
        waitlisted=figures.waitlisted,
        pending=figures.pending,
        checked_in=figures.checked_in,
        finished=finished,
        to_thank=await people_to_thank(event.id) if finished else 0,
    )


class ReasonForm(Struct):
    reason: Annotated[Text, Meta(max_length=2_000)] = ""
    action: Annotated[Line, Meta(max_length=20)] = ""


class AddressForm(Struct):
    email: Annotated[Line, Meta(max_length=254)] = ""


def _hub_path(slug: str) -> str:
    return f"/organiser/events/{slug}"


class EventHubController(Controller):
    """The hub and the changes it offers; only those who manage the event get in."""

    path = "/organiser/events/{slug:str}"
    guards = (manages_event,)
    include_in_schema = False

    async def _hub_page(
        self,
        slug: str,
        *,
        outcome: dict[str, Any] | None = None,
        publish_errors: list[tuple[str, str]] | None = None,
        refusal: str | None = None,
        email: str = "",
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return Template(
            template_name="workspace/event_hub.html",
            context={
                "hub": await hub(slug, now=utcnow()),
                "outcome": outcome,
                "publish_errors": publish_errors or [],
                "refusal": refusal,
                "email": email,
                "errors": errors or {},
            },
            status_code=status_code,
            headers={"Cache-Control": "no-store"},
        )

    @get("/")
    async def page(self, request: Request[Any, Any, Any], slug: PathLine) -> Template:
        return await self._hub_page(slug, outcome=outcome_for(request))

    @post("/publish")
    async def publish(self, request: Request[Any, Any, Any], slug: PathLine) -> Template | Redirect:
        """A draft that breaks a rule stays a draft; the hub says what to fix in the form."""
        try:
            await events.publish_event(slug, now=utcnow())
        except ValidationFailed as failed:
            problems = [(e.field, e.translated()) for e in failed.errors]
            return await self._hub_page(slug, publish_errors=problems, status_code=400)
        except Conflict as refused:
            return await self._hub_page(slug, refusal=refused.translated(), status_code=409)
        return see_other(request, _hub_path(slug), {"done": "published"})

    @get("/cancel")
    async def cancel_form(self, slug: PathLine) -> Template:
        return await _cancel_page(slug)

    @post("/cancel")
    async def cancel_preview(self, slug: PathLine, data: URLEncodedBody[ReasonForm]) -> Template:
        """The cancellation mail as registrants would get it; nothing changes yet."""
        if data.action == "edit":
            return await _cancel_page(slug, reason=data.reason)
        try:
            preview = await preview_cancellation(slug, data.reason)
        except ValidationFailed as failed:
            return await _cancel_page(
                slug, reason=data.reason, errors=failed.by_field(), status_code=400
            )
        except Conflict as refused:
            return await _cancel_page(
                slug, reason=data.reason, refusal=refused.translated(), status_code=409
            )
        return Template(
            template_name="workspace/hub_cancel_preview.html",
            context={
                "event": await events.get_event(slug),
                "reason": data.reason.strip(),
                "preview": preview,
            },
            headers={"Cache-Control": "no-store"},
        )

    @post("/cancel/confirm")
    async def cancel(
        self, request: Request[Any, Any, Any], slug: PathLine, data: URLEncodedBody[ReasonForm]
    ) -> Template | Redirect:
        try:
            await cancel_and_notify(slug, data.reason, now=utcnow())
        except ValidationFailed as failed:
            return await _cancel_page(
                slug, reason=data.reason, errors=failed.by_field(), status_code=400
            )
        except Conflict as refused:
            return await _cancel_page(
                slug, reason=data.reason, refusal=refused.translated(), status_code=409
            )
        return see_other(request, _hub_path(slug), {"done": "cancelled"})

    @get("/delete")
    async def delete_form(self, slug: PathLine) -> Template:
        return await _delete_page(slug)

    @post("/delete")
    async def delete(self, request: Request[Any, Any, Any], slug: PathLine) -> Template | Redirect:
        try:
            await events.delete_draft(slug)
        except Conflict as refused:
            return await _delete_page(slug, refusal=refused.translated(), status_code=409)
        return see_other(request, "/organiser")

    @post("/organisers")
    async def add_co_organiser(
        self, request: Request[Any, Any, Any], slug: PathLine, data: URLEncodedBody[AddressForm]
    ) -> Template | Redirect:
        try:
            await events.add_co_organiser(slug, data.email)
        except ValidationFailed as failed:
            return await self._hub_page(
                slug, email=data.email, errors=failed.by_field(), status_code=400
            )
        except NotFound as unknown:
            return await self._hub_page(
                slug, email=data.email, errors={"email": unknown.translated()}, status_code=400
            )
        return see_other(
            request, _hub_path(slug) + "#organisers", {"done": "added", "email": data.email}
        )

    @get("/organisers/remove")
    async def remove_form(self, slug: PathLine, email: QueryLine = "") -> Template:
        return Template(
            template_name="workspace/hub_remove_organiser.html",
            context={"event": await events.get_event(slug), "email": email[:254]},
            headers={"Cache-Control": "no-store"},
        )

    @post("/organisers/remove")
    async def remove_co_organiser(
        self, request: Request[Any, Any, Any], slug: PathLine, data: URLEncodedBody[AddressForm]
    ) -> Redirect:
        """Who removes themselves no longer manages the event: they land on their own list."""
        await events.remove_co_organiser(slug, data.email)
        if data.email.strip().lower() == current_organiser(request).email.lower():
            return see_other(request, "/organiser")
        return see_other(
            request, _hub_path(slug) + "#organisers", {"done": "removed", "email": data.email}
        )


async def _cancel_page(
    slug: str,
    *,
    reason: str = "",
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="workspace/hub_cancel.html",
        context={
            "event": await events.get_event(slug),
            "reason": reason,
            "errors": errors or {},
            "refusal": refusal,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


async def _delete_page(
    slug: str, *, refusal: str | None = None, status_code: int = 200
) -> Template:
    return Template(
        template_name="workspace/hub_delete.html",
        context={"event": await events.get_event(slug), "refusal": refusal},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )
