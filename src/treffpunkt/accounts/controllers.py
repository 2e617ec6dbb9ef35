"""Browser sign-in and sign-out for organisers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from treffpunkt.accounts import services
from treffpunkt.accounts.schemas import LoginForm
from treffpunkt.i18n import gettext as _
from treffpunkt.inputs import is_single_line
from treffpunkt.web.auth import SESSION_EPOCH, SESSION_USER, current_organiser, requires_organiser


def safe_next(target: str | None, default: str = "/organiser") -> str:
    """Only same-site paths: never redirect a login to another host.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so a target
    with any of them (or any other control character) could turn into //other.host; such
    targets are refused outright. The parameter stays a plain string so that a bad target
    falls back to the default instead of failing the sign-in.
    """
    if not target or not target.startswith("/") or "\\" in target or not is_single_line(target):
        return default
    parts = urlsplit(target)
    if target.startswith("//") or parts.scheme or parts.netloc:
        return default
    return target


class AccountPagesController(Controller):
    include_in_schema = False

    @get("/login", name="login")
    async def login_form(self, next: FromQuery[str] = "") -> Template:
        return Template(
            template_name="accounts/login.html",
            context={"next": safe_next(next), "email": "", "error": None},
        )

    @post("/login")
    async def login(
        self, request: Request[Any, Any, Any], data: URLEncodedBody[LoginForm]
    ) -> Template | Redirect:
        organiser = await services.check_password(data.email, data.password)
        if organiser is None:
            return Template(
                template_name="accounts/login.html",
                context={
                    "next": safe_next(data.next),
                    "email": data.email,
                    "error": _("The email address or the password is wrong."),
                },
                status_code=400,
            )
        request.clear_session()
        request.set_session({SESSION_USER: organiser.id, SESSION_EPOCH: organiser.session_epoch})
        return Redirect(path=safe_next(data.next), status_code=303)

    @post("/logout", guards=[requires_organiser])
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect(path="/events", status_code=303)

    @post("/logout/everywhere", guards=[requires_organiser])
    async def logout_everywhere(self, request: Request[Any, Any, Any]) -> Redirect:
        await services.end_all_sessions(current_organiser(request).id)
        request.clear_session()
        return Redirect(path="/events", status_code=303)
