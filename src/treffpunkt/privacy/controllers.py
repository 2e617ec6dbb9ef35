"""HTTP for privacy: a registrant's export and erasure by secret link, and the admins' page."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template
from msgspec import Struct

from treffpunkt.clock import utcnow
from treffpunkt.events.services import get_event_by_id
from treffpunkt.inputs import PathLine
from treffpunkt.privacy import retention, services
from treffpunkt.privacy.services import ErasureOutcome
from treffpunkt.registrations.controllers import NO_STORE, form_text
from treffpunkt.registrations.services import by_token
from treffpunkt.web.auth import requires_admin
from treffpunkt.web.prg import outcome_for, see_other

ERASED_PAGE = "/privacy/erased"


class ErasureReceipt(Struct, kw_only=True):
    """What erasing did; the registration and its link no longer exist."""

    erased: bool
    event: str
    previous_status: str
    seat_freed: bool
    calendar_cancel_sent: bool


def _receipt(outcome: ErasureOutcome) -> ErasureReceipt:
    return ErasureReceipt(
        erased=True,
        event=outcome.event_slug,
        previous_status=outcome.previous_status,
        seat_freed=outcome.seat_freed,
        calendar_cancel_sent=outcome.calendar_cancel_sent,
    )


def _download(data: dict[str, Any], filename: str) -> Response[bytes]:
    return Response(
        msgspec.json.format(msgspec.json.encode(data)),
        media_type="application/json",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


class PrivacyApiController(Controller):
    path = "/api/v1/registrations/{token:str}"
    tags = ("privacy",)

    @get(
        "/export",
        summary="Everything stored about your registration, as JSON",
        description="Every stored field but the link's secrets, the answers with their "
        "questions, the event, the mails sent to you (kind, status, times), the check-in and "
        "any feedback you gave.",
    )
    async def export(self, token: PathLine) -> Response[dict[str, Any]]:
        return Response(await services.export_by_token(token), headers=NO_STORE)

    @post(
        "/erase",
        summary="Erase your personal data",
        description="The seat is freed like a cancellation (the waiting list moves up); a "
        "confirmed seat gets a calendar CANCEL; name, address, organisation, role, notes and "
        "answers are erased; anonymous counts remain. The link stops working (404).",
        status_code=200,
    )
    async def erase(self, token: PathLine) -> ErasureReceipt:
        return _receipt(await services.erase_by_token(token, now=utcnow()))


class PrivacyPagesController(Controller):
    include_in_schema = False

    @get("/registrations/{token:str}/my-data.json")
    async def download(self, token: PathLine) -> Response[bytes]:
        return _download(await services.export_by_token(token), "treffpunkt-my-data.json")

    @get("/registrations/{token:str}/erase")
    async def confirm_erase(self, token: PathLine) -> Template:
        registration = await by_token(token)
        return Template(
            template_name="privacy/erase.html",
            context={
                "event": await get_event_by_id(registration.event),
                "registration": registration,
                "token": token,
            },
            headers=NO_STORE,
        )

    @post("/registrations/{token:str}/erase")
    async def erase(self, request: Request[Any, Any, Any], token: PathLine) -> Redirect:
        outcome = await services.erase_by_token(token, now=utcnow())
        return see_other(
            request,
            ERASED_PAGE,
            {"event": outcome.event_slug, "calendar_cancel_sent": outcome.calendar_cancel_sent},
        )

    @get(ERASED_PAGE)
    async def erased(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        outcome = outcome_for(request, keep=True)
        if outcome is None:
            return Redirect(path="/events", status_code=303)
        return Template(
            template_name="privacy/erased.html",
            context={"outcome": outcome},
            headers=NO_STORE,
        )


async def _address(request: Request[Any, Any, Any]) -> str:
    """The address typed into an admin form, in the form it is stored in."""
    return services.lookup_address(form_text(await request.form(), "email")[:254])


class PrivacyAdminController(Controller):
    """What retention has due and has done; one address found, exported or erased."""

    path = "/admin/privacy"
    guards = (requires_admin,)
    include_in_schema = False

    async def _page(
        self, *, email: str = "", found: bool = False, outcome: dict[str, Any] | None = None
    ) -> Template:
        holdings, is_organiser = await services.holdings_of(email) if found else ([], False)
        return Template(
            template_name="privacy/admin.html",
            context={
                "report": await retention.report(utcnow()),
                "email": email,
                "found": found,
                "holdings": holdings,
                "is_organiser": is_organiser,
                "outcome": outcome or {},
            },
            headers={"Cache-Control": "private, no-store"},
        )

    @get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        return await self._page(outcome=outcome_for(request))

    @post("/find", status_code=200)
    async def find(self, request: Request[Any, Any, Any]) -> Template:
        """A POST, so that the address never stands in a URL (history, proxies)."""
        return await self._page(email=await _address(request), found=True)

    @post("/export", status_code=200)
    async def export(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        return _download(await services.export_address(await _address(request)), "export.json")

    @post("/erase/confirm", status_code=200)
    async def confirm_erase(self, request: Request[Any, Any, Any]) -> Template:
        email = await _address(request)
        holdings, _ = await services.holdings_of(email)
        return Template(
            template_name="privacy/admin_erase.html",
            context={"email": email, "holdings": holdings},
            headers={"Cache-Control": "private, no-store"},
        )

    @post("/erase")
    async def erase(self, request: Request[Any, Any, Any]) -> Redirect:
        outcomes = await services.erase_address(await _address(request), now=utcnow())
        return see_other(request, "/admin/privacy", {"erased": len(outcomes)})
