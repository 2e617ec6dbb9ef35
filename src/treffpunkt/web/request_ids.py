"""Every request gets an id, answered in `X-Request-ID` and bound to every log line it causes.

Someone who reports a failure can quote the id from the answer; we find the one log line.
An incoming id (from a proxy that already numbered the request) is kept only when it is a
short, plain token: anything else could smuggle text into our logs.
"""

from __future__ import annotations

import re
import secrets

import structlog

from treffpunkt.web.public_cache import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
SAFE_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER and SAFE_ID.match(value):
            return str(value.decode("ascii"))
    return secrets.token_hex(16)


class RequestIds:
    """Wraps the app's ASGI handler, outermost, so that every answer carries the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message["headers"] = [*headers, (HEADER, request_id.encode("ascii"))]
            await send(message)

        # bind/reset rather than bound_contextvars(), which first copies every bound variable:
        # this runs for every request, cached answers included.
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)


def current_request_id() -> str | None:
    """The id of the request being handled (None outside one)."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return request_id if isinstance(request_id, str) else None
