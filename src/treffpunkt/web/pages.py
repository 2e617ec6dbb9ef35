"""Pages that belong to no domain: the front door and the health checks."""

from __future__ import annotations

import asyncio

from litestar import Response, get
from litestar.response import Redirect
from piccolo.querystring import QueryString

from treffpunkt.db import DB
from treffpunkt.web.errors import problem

# A database that hangs is as unready as one that refuses: the balancer must not wait on it.
READY_TIMEOUT_SECONDS = 2.0


@get("/", include_in_schema=False)
async def front_door() -> Redirect:
    return Redirect(path="/events")


async def database_status() -> Response[dict[str, str]]:
    """One round trip; 503 problem details while the database refuses or hangs."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await DB.run_querystring(QueryString("SELECT 1"))
    except Exception:
        return problem(503, "database_unavailable", "the database does not answer")
    return Response({"status": "ok", "database": "ok"})


@get("/health", tags=["operations"], summary="Liveness, with a database round trip")
async def health() -> Response[dict[str, str]]:
    return await database_status()


@get("/health/live", tags=["operations"], summary="Liveness: the process answers")
async def health_live() -> Response[dict[str, str]]:
    """No database call: a restart would not bring back a database that is down."""
    return Response({"status": "ok"})


@get("/health/ready", tags=["operations"], summary="Readiness: the database answers")
async def health_ready() -> Response[dict[str, str]]:
    return await database_status()
