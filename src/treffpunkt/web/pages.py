"""Pages that belong to no domain: the front door, the language switch and the health check."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from piccolo.querystring import QueryString

from treffpunkt.accounts.controllers import safe_next
from treffpunkt.db import DB
from treffpunkt.i18n import current_language, negotiate, supported
from treffpunkt.web.errors import problem

LANGUAGE_COOKIE = "treffpunkt_language"
ONE_YEAR = 365 * 24 * 3600


async def set_request_language(request: Request[Any, Any, Any]) -> None:
    """A chosen language (cookie) wins over the browser's Accept-Language."""
    chosen = supported(request.cookies.get(LANGUAGE_COOKIE))
    current_language.set(chosen or negotiate(request.headers.get("accept-language")))


@get("/", include_in_schema=False)
async def front_door() -> Redirect:
    return Redirect(path="/events")


@get("/language/{code:str}", include_in_schema=False)
async def switch_language(code: FromPath[str], next: FromQuery[str] = "/events") -> Redirect:
    language = supported(code)
    response = Redirect(path=safe_next(next, "/events"), status_code=303)
    if language:
        response.cookies.append(
            Cookie(
                key=LANGUAGE_COOKIE, value=language, max_age=ONE_YEAR, samesite="lax", httponly=True
            )
        )
    return response


@get("/health", tags=["operations"], summary="Liveness, with a database round trip")
async def health() -> Response[dict[str, str]]:
    try:
        await DB.run_querystring(QueryString("SELECT 1"))
    except Exception:
        return problem(503, "database_unavailable", "the database does not answer")
    return Response({"status": "ok", "database": "ok"})
