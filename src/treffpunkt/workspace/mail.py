"""HTTP for mail: organisers' messages to registrants (API and pages), each event's mail log,
and the development mailbox for admins."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Meta, Struct

from treffpunkt.clock import utcnow
from treffpunkt.errors import N_, NotFound, ValidationFailed
from treffpunkt.events.services import get_event
from treffpunkt.i18n import current_language
from treffpunkt.inputs import Line, PathId, PathLine, PathNumber, QueryLine, Text, query_number
from treffpunkt.notifications import services
from treffpunkt.notifications.previews import MailPreview, preview_mail
from treffpunkt.notifications.schemas import MessageReceipt, OrganiserMessage
from treffpunkt.registrations.event_changes import cancel_and_notify
from treffpunkt.settings import get_settings
from treffpunkt.web.auth import manages_event, requires_admin
from treffpunkt.web.prg import see_other

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


class MessageForm(Struct):
    """The message page's fields; the service says what an empty one lacks."""

    subject: Annotated[Line, Meta(max_length=200)] = ""
    body: Annotated[Text, Meta(max_length=10_000)] = ""
    action: Annotated[Line, Meta(max_length=20)] = ""


# A registrant's own links (their registration, ticket, feedback form) carry their secret.


async def _preview(
    slug: str, kind: str, change: Callable[[], Awaitable[Any]]
) -> MailPreview | None:
    """The mail as recipients would read it, in the reader's language."""
    return await preview_mail(slug, kind, change, language=current_language.get(), now=utcnow())


async def _queue_message(slug: str, subject: str, body: str) -> int:
    return await services.message_to_confirmed(await get_event(slug), subject, body)


async def preview_message(slug: str, subject: str, body: str) -> MailPreview | None:
    """The message as recipients would read it; nothing is queued."""
    return await _preview(slug, "organiser_message", lambda: _queue_message(slug, subject, body))


async def preview_cancellation(slug: str, reason: str) -> MailPreview | None:
    """The cancellation mail as registrants would read it; the event stays as it is."""
    return await _preview(
        slug, "event_cancelled", lambda: cancel_and_notify(slug, reason, now=utcnow())
    )


class OrganiserMessagePagesController(Controller):
    """Write to everyone with a confirmed place: the form, a preview with the count, send."""

    path = "/organiser/events/{slug:str}/message"
    guards = (manages_event,)
    include_in_schema = False

    async def _form(
        self,
        slug: str,
        data: MessageForm | None = None,
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return Template(
            template_name="workspace/mail_message.html",
            context={
                "event": await get_event(slug),
                "values": data or MessageForm(),
                "errors": errors or {},
            },
            status_code=status_code,
            headers={"Cache-Control": "no-store"},
        )

    @get("/")
    async def form(self, slug: PathLine) -> Template:
        return await self._form(slug)

    @post("/")
    async def preview(self, slug: PathLine, data: URLEncodedBody[MessageForm]) -> Template:
        if data.action == "edit":
            return await self._form(slug, data)
        try:
            preview = await preview_message(slug, data.subject, data.body)
        except ValidationFailed as failed:
            return await self._form(slug, data, errors=failed.by_field(), status_code=400)
        return Template(
            template_name="workspace/mail_message_preview.html",
            context={"event": await get_event(slug), "values": data, "preview": preview},
            headers={"Cache-Control": "no-store"},
        )

    @post("/send")
    async def send(
        self, request: Request[Any, Any, Any], slug: PathLine, data: URLEncodedBody[MessageForm]
    ) -> Template | Redirect:
        try:
            count = await _queue_message(slug, data.subject, data.body)
        except ValidationFailed as failed:
            return await self._form(slug, data, errors=failed.by_field(), status_code=400)
        return see_other(request, f"/organiser/events/{slug}", {"done": "messaged", "count": count})


class MailLogController(Controller):
    """Every mail of one event and what became of it; recipients are shown to managers only."""

    path = "/organiser/events/{slug:str}/mail"
    guards = (manages_event,)
    include_in_schema = False

    @get("/")
    async def log(
        self,
        slug: PathLine,
        status: QueryLine = "",
        offset: Annotated[int, query_number()] = 0,
    ) -> Template:
        mail_log = await services.event_mail_log(slug, status=status or None, offset=offset)
        return Template(
            template_name="workspace/mail_log.html",
            context={
                "log": mail_log,
                "event": mail_log.event,
                "status": status if status in services.MAIL_LOG_STATUSES else "",
                "statuses": services.MAIL_LOG_STATUSES,
                "offset": offset,
                "page": services.MAIL_LOG_PAGE,
            },
            headers={"Cache-Control": "private, no-store"},
        )


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
