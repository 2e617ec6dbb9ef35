"""Pages that belong to no domain: the front door and the health check."""

from __future__ import annotations

from litestar import Response, get
from litestar.response import Redirect
from piccolo.querystring import QueryString

from treffpunkt.db import DB
from treffpunkt.web.errors import problem


@get("/", include_in_schema=False)
async def front_door() -> Redirect:
    return Redirect(path="/events")


@get("/health", tags=["operations"], summary="Liveness, with a database round trip")
async def health() -> Response[dict[str, str]]:
    try:
        await DB.run_querystring(QueryString("SELECT 1"))
    except Exception:
        return problem(503, "database_unavailable", "the database does not answer")
    return Response({"status": "ok", "database": "ok"})
