"""Which language a request is answered in, and the switch that lets a person choose."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.middleware import ASGIMiddleware
from litestar.params import FromQuery
from litestar.response import Redirect
from litestar.types import ASGIApp, Receive, Scope, Send

from treffpunkt.accounts.controllers import safe_next
from treffpunkt.i18n import current_language, negotiate, supported
from treffpunkt.inputs import PathLine

LANGUAGE_COOKIE = "treffpunkt_language"
ONE_YEAR = 365 * 24 * 3600


def request_language(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """A chosen language (cookie) wins over the browser's Accept-Language."""
    chosen = supported(connection.cookies.get(LANGUAGE_COOKIE))
    return chosen or negotiate(connection.headers.get("accept-language"))


class LanguageMiddleware(ASGIMiddleware):
    """Sets the request's language before guards and handlers run.

    Requests that match no route never reach middleware; their error page sets it itself.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        token = current_language.set(request_language(ASGIConnection(scope)))
        try:
            await next_app(scope, receive, send)
        finally:
            current_language.reset(token)


@get("/language/{code:str}", include_in_schema=False)
async def switch_language(code: PathLine, next: FromQuery[str] = "/events") -> Redirect:
    language = supported(code)
    response = Redirect(path=safe_next(next, "/events"), status_code=303)
    if language:
        response.cookies.append(
            Cookie(
                key=LANGUAGE_COOKIE, value=language, max_age=ONE_YEAR, samesite="lax", httponly=True
            )
        )
    return response
