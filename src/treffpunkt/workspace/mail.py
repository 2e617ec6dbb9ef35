"""HTTP for mail: organisers' messages to registrants, and the development mailbox for admins."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import JSONBody
from litestar.response import Template

from treffpunkt.clock import utcnow
from treffpunkt.errors import N_, NotFound
from treffpunkt.events.services import get_event
from treffpunkt.inputs import PathId, PathLine, PathNumber, query_number
from treffpunkt.notifications import services
from treffpunkt.notifications.schemas import MessageReceipt, OrganiserMessage
from treffpunkt.settings import get_settings
from treffpunkt.web.auth import manages_event, requires_admin

# A mail's HTML keeps its inline styles, but runs nothing and loads nothing from elsewhere.
MAIL_HTML_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


class OrganiserMessageController(Controller):
    path = "/api/v1/events/{slug:str}/messages"
    tags = ("notifications",)

    @post(
        "/",
        summary="Write to everyone with a confirmed place",
        guards=[manages_event],
        status_code=202,
    )
    async def send(self, slug: PathLine, data: JSONBody[OrganiserMessage]) -> MessageReceipt:
        event = await get_event(slug)
        count = await services.message_to_confirmed(event, data.subject, data.body)
        return MessageReceipt(recipients=count)


def _parts(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if not part.is_multipart()]


class MailboxController(Controller):
    """Every queued and sent mail, rendered as it is (or would be) sent; for admins."""

    path = "/admin/mailbox"
    guards = (requires_admin,)
    include_in_schema = False

    @get("/")
    async def index(self, offset: Annotated[int, query_number()] = 0) -> Template:
        rows, total = await services.mailbox(offset)
        return Template(
            template_name="notifications/mailbox.html",
            context={
                "rows": rows,
                "total": total,
                "offset": offset,
                "page": services.MAILBOX_PAGE,
                "smtp": bool(get_settings().smtp_url),
            },
        )

    @get("/{outbox_id:int}")
    async def message(self, outbox_id: PathId) -> Template:
        row, mime, obsolete = await services.mailbox_message(outbox_id, now=utcnow())
        parts = _parts(mime) if mime else []
        return Template(
            template_name="notifications/mail.html",
            context={
                "row": row,
                "mime": mime,
                "obsolete": obsolete,
                "parts": [
                    {
                        "index": index,
                        "type": part.get_content_type(),
                        "filename": part.get_filename(),
                        "size": len(part.get_payload(decode=True) or b""),
                        "text": part.get_content()
                        if part.get_content_type() == "text/plain"
                        else None,
                    }
                    for index, part in enumerate(parts)
                ],
            },
        )

    @get("/{outbox_id:int}/parts/{index:int}")
    async def part(self, outbox_id: PathId, index: PathNumber) -> Response[bytes]:
        _, mime, _ = await services.mailbox_message(outbox_id, now=utcnow())
        parts = _parts(mime) if mime else []
        if not 0 <= index < len(parts):
            raise NotFound(N_("no such part"), code="part_not_found")
        part = parts[index]
        payload = part.get_payload(decode=True)
        body = payload if isinstance(payload, bytes) else b""
        headers = {"Cache-Control": "no-store"}
        if part.get_content_type() == "text/html":
            # Point cid: references at the parts they name, so the QR code shows.
            html = body.decode(part.get_content_charset() or "utf-8")
            by_cid = {str(p.get("Content-ID", "")).strip("<>"): i for i, p in enumerate(parts)}
            html = re.sub(
                r'cid:([^"\s]+)',
                lambda m: f"/admin/mailbox/{outbox_id}/parts/{by_cid.get(m.group(1), -1)}",
                html,
            )
            body = html.encode()
            headers["Content-Security-Policy"] = MAIL_HTML_POLICY
        elif part.get_filename():
            headers["Content-Disposition"] = f'attachment; filename="{part.get_filename()}"'
        return Response(body, media_type=part.get_content_type(), headers=headers)
