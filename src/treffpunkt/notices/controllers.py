"""The privacy notice and the legal notice pages, linked from every page's footer."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from treffpunkt.errors import N_
from treffpunkt.i18n import current_language, gettext
from treffpunkt.notices.services import NoticeKind, notice

TITLES: dict[NoticeKind, str] = {"privacy": N_("Privacy notice"), "legal": N_("Legal notice")}


def _page(kind: NoticeKind) -> Template:
    shown = notice(kind)
    return Template(
        template_name="notices/notice.html",
        context={
            "title": gettext(TITLES[kind]),
            "body": shown.body(current_language.get()),
            "version": shown.version,
        },
    )


class NoticePagesController(Controller):
    include_in_schema = False

    @get("/privacy", name="privacy_notice")
    async def privacy(self) -> Template:
        return _page("privacy")

    @get("/legal", name="legal_notice")
    async def legal(self) -> Template:
        return _page("legal")
