"""Forms with more fields than any of ours are refused before anything parses them.

The body's size is Litestar's `request_max_body_size` (413 as soon as Content-Length or the
bytes received pass it, never read whole into memory). Multipart forms are bounded by
Litestar's `multipart_form_part_limit`; URL-encoded ones, which Litestar parses without a
bound, are counted here: a megabyte of `a&a&a…` would otherwise become half a million fields.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE
from litestar.types import ASGIApp, Receive, Scope, Send

# No form of ours has a quarter as many fields.
FORM_FIELD_LIMIT = 200


class TooManyFormFields(HTTPException):
    status_code = HTTP_413_REQUEST_ENTITY_TOO_LARGE


class FormFieldLimit(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] == ScopeType.HTTP and scope["method"] in ("POST", "PUT", "PATCH"):
            request: Request[Any, Any, Any] = Request(scope, receive, send)
            if request.content_type[0] == RequestEncodingType.URL_ENCODED:
                # Read once (within the size limit) and kept on the scope for the handler.
                body = await request.body()
                if body.count(b"&") >= FORM_FIELD_LIMIT:
                    raise TooManyFormFields(
                        detail=f"A form may have at most {FORM_FIELD_LIMIT} fields."
                    )
        await next_app(scope, receive, send)
