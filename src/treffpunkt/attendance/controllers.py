"""HTTP for attendance: the QR ticket of a registration, as image and printable page."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromPath
from litestar.response import Template

from treffpunkt.attendance.codes import check_in_code
from treffpunkt.attendance.tickets import ticket_png, ticket_svg
from treffpunkt.errors import N_, NotFound
from treffpunkt.events.services import get_event_by_id
from treffpunkt.registrations.services import RegistrationView, by_token

PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}


async def _ticket_holder(token: str) -> RegistrationView:
    registration = await by_token(token)
    if registration.status != "confirmed":
        raise NotFound(N_("only confirmed registrations have a ticket"), code="ticket_not_found")
    return registration


class TicketController(Controller):
    path = "/registrations/{token:str}"
    tags = ("attendance",)

    @get("/ticket.png", summary="The QR ticket as PNG (holder of the secret link)")
    async def png(self, token: FromPath[str]) -> Response[bytes]:
        registration = await _ticket_holder(token)
        code = check_in_code(registration.event, registration.id)
        return Response(ticket_png(code), media_type="image/png", headers=PRIVATE)

    @get("/ticket.svg", summary="The QR ticket as SVG (holder of the secret link)")
    async def svg(self, token: FromPath[str]) -> Response[bytes]:
        registration = await _ticket_holder(token)
        code = check_in_code(registration.event, registration.id)
        return Response(ticket_svg(code), media_type="image/svg+xml", headers=PRIVATE)

    @get("/ticket", include_in_schema=False)
    async def page(self, token: FromPath[str]) -> Template:
        registration = await _ticket_holder(token)
        return Template(
            template_name="attendance/ticket.html",
            context={
                "registration": registration,
                "event": await get_event_by_id(registration.event),
                "code": check_in_code(registration.event, registration.id),
                "token": token,
            },
            headers=PRIVATE,
        )
