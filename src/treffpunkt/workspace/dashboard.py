"""The organiser's start page: their events with what needs attention, filtered by tab."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from treffpunkt.clock import utcnow
from treffpunkt.inputs import QueryLine
from treffpunkt.web.auth import current_organiser, requires_organiser
from treffpunkt.workspace import services


class DashboardController(Controller):
    guards = (requires_organiser,)
    include_in_schema = False

    @get("/organiser", name="organiser_home")
    async def dashboard(self, request: Request[Any, Any, Any], show: QueryLine = "") -> Template:
        now = utcnow()
        return Template(
            template_name="workspace/dashboard.html",
            context={
                "board": await services.dashboard(current_organiser(request), show, now=now),
                "shows": services.SHOWS,
                "now": now,
            },
            headers={"Cache-Control": "no-store"},
        )
