"""Accounts in the browser: my account, organiser accounts for admins, set-password links."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from treffpunkt.accounts import links, services
from treffpunkt.accounts.schemas import (
    AccessForm,
    EmailForm,
    InviteForm,
    NewPasswordForm,
    PasswordChangeForm,
    TokenForm,
)
from treffpunkt.clock import utcnow
from treffpunkt.errors import Conflict, Invalid, ValidationFailed
from treffpunkt.i18n import current_language
from treffpunkt.inputs import PathId, PathLine
from treffpunkt.settings import DEFAULT_TIMEZONE, get_settings
from treffpunkt.web.auth import (
    SESSION_EPOCH,
    SESSION_USER,
    current_organiser,
    requires_admin,
    requires_organiser,
)
from treffpunkt.web.prg import outcome_for, see_other

# Pages that show a secret (a new token, a set-password form) stay out of caches and indexes.
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def local_time(moment: datetime) -> datetime:
    """Account times have no event to take a timezone from: the default one."""
    return moment.astimezone(ZoneInfo(DEFAULT_TIMEZONE))


def _sign_in(request: Request[Any, Any, Any], organiser_id: int, epoch: int) -> None:
    request.set_session({SESSION_USER: organiser_id, SESSION_EPOCH: epoch})


class MyAccountController(Controller):
    """The signed-in organiser's password, sessions and API tokens."""

    path = "/organiser/account"
    guards = (requires_organiser,)
    include_in_schema = False

    async def _page(
        self,
        request: Request[Any, Any, Any],
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        me = current_organiser(request)
        return Template(
            template_name="accounts/account.html",
            context={
                "me": me,
                "tokens": await services.own_api_tokens(me.id),
                "local": local_time,
                "outcome": outcome_for(request) or {},
                "errors": errors or {},
            },
            status_code=status_code,
            headers=PRIVATE,
        )

    @get("/", name="my_account")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        return await self._page(request)

    @post("/password")
    async def change_password(
        self, request: Request[Any, Any, Any], data: URLEncodedBody[PasswordChangeForm]
    ) -> Template | Redirect:
        me = current_organiser(request)
        try:
            epoch = await services.change_password(
                me.id, data.current_password, data.password, data.password_repeat
            )
        except ValidationFailed as failed:
            return await self._page(request, errors=failed.by_field(), status_code=400)
        # Every other browser is signed out by the new epoch; this one keeps going.
        _sign_in(request, me.id, epoch)
        return see_other(request, "/organiser/account", {"password_changed": True})

    @post("/tokens")
    async def create_token(
        self, request: Request[Any, Any, Any], data: URLEncodedBody[TokenForm]
    ) -> Redirect:
        token = await services.create_own_api_token(current_organiser(request).id, data.label)
        return see_other(request, "/organiser/account#tokens", {"new_token": token})

    @get("/tokens/{token_id:int}/revoke")
    async def confirm_revoke(self, request: Request[Any, Any, Any], token_id: PathId) -> Template:
        token = await services.own_api_token(current_organiser(request).id, token_id)
        return Template(template_name="accounts/revoke_token.html", context={"token": token})

    @post("/tokens/{token_id:int}/revoke")
    async def revoke(self, request: Request[Any, Any, Any], token_id: PathId) -> Redirect:
        await services.revoke_api_token(
            token_id=token_id, owner=current_organiser(request).id, now=utcnow()
        )
        return see_other(request, "/organiser/account#tokens", {"revoked": True})


class OrganiserAdminController(Controller):
    """Admins invite organisers and grant or take away their access."""

    path = "/admin/organisers"
    guards = (requires_admin,)
    include_in_schema = False

    async def _page(
        self,
        request: Request[Any, Any, Any],
        *,
        invite: InviteForm | None = None,
        errors: dict[str, str] | None = None,
        form_error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        return Template(
            template_name="accounts/organisers.html",
            context={
                "me": current_organiser(request),
                "accounts": await services.all_accounts(),
                "outcome": outcome_for(request) or {},
                "invite": invite or InviteForm(language=current_language.get()),  # type: ignore[arg-type]
                "errors": errors or {},
                "form_error": form_error,
                "invite_days": get_settings().invite_days,
            },
            status_code=status_code,
        )

    @get("/", name="organiser_accounts")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        return await self._page(request)

    @post("/invite")
    async def confirm_invite(
        self, request: Request[Any, Any, Any], data: URLEncodedBody[InviteForm]
    ) -> Template:
        """The invitation mails someone: the admin confirms it on a page of its own."""
        try:
            email = await services.check_invitation(data.email, data.name)
        except ValidationFailed as failed:
            return await self._page(request, invite=data, errors=failed.by_field(), status_code=400)
        return Template(
            template_name="accounts/invite_confirm.html",
            context={"invite": data, "email": email},
        )

    @post("/invite/send")
    async def invite(
        self, request: Request[Any, Any, Any], data: URLEncodedBody[InviteForm]
    ) -> Template | Redirect:
        invitation = links.Invitation(
            email=data.email,
            name=data.name,
            is_admin=data.is_admin == "yes",
            language=data.language,
        )
        try:
            invited = await links.invite_organiser(invitation, now=utcnow())
        except ValidationFailed as failed:
            return await self._page(request, invite=data, errors=failed.by_field(), status_code=400)
        return see_other(request, "/admin/organisers", {"invited": invited.email})

    @get("/{organiser_id:int}/resend")
    async def confirm_resend(self, organiser_id: PathId) -> Template:
        return Template(
            template_name="accounts/resend_confirm.html",
            context={"person": await links.invitee(organiser_id)},
        )

    @post("/{organiser_id:int}/resend")
    async def resend(self, request: Request[Any, Any, Any], organiser_id: PathId) -> Redirect:
        person = await links.resend_invitation(organiser_id, now=utcnow())
        return see_other(request, "/admin/organisers", {"invited": person.email})

    @post("/{organiser_id:int}/access")
    async def change_access(
        self,
        request: Request[Any, Any, Any],
        organiser_id: PathId,
        data: URLEncodedBody[AccessForm],
    ) -> Template | Redirect:
        try:
            email = await services.change_access(
                current_organiser(request), organiser_id, data.change
            )
        except Conflict as refused:
            return await self._page(request, form_error=refused.translated(), status_code=409)
        return see_other(request, "/admin/organisers", {"changed": data.change, "email": email})


class PasswordPagesController(Controller):
    """Forgotten passwords, and the set-password page invitations and resets link to."""

    path = "/password"
    include_in_schema = False

    @get("/forgot", name="forgot_password")
    async def forgot_form(self, request: Request[Any, Any, Any]) -> Template:
        return Template(
            template_name="accounts/forgot.html",
            context={"sent": bool((outcome_for(request) or {}).get("sent"))},
        )

    @post("/forgot")
    async def forgot(
        self, request: Request[Any, Any, Any], data: URLEncodedBody[EmailForm]
    ) -> Redirect:
        """The same answer for every address: whether an account exists stays unsaid."""
        await links.request_password_reset(data.email, current_language.get(), now=utcnow())
        return see_other(request, "/password/forgot", {"sent": True})

    @get("/set/{token:str}")
    async def set_form(self, token: PathLine) -> Template:
        try:
            holder = await links.link_holder(token, now=utcnow())
        except Invalid:
            return _link_refused()
        return _set_page(token, holder.email)

    @post("/set/{token:str}")
    async def set_password(
        self,
        request: Request[Any, Any, Any],
        token: PathLine,
        data: URLEncodedBody[NewPasswordForm],
    ) -> Template | Redirect:
        try:
            organiser = await links.set_password_by_link(
                token, data.password, data.password_repeat, now=utcnow()
            )
        except Invalid:
            return _link_refused()
        except ValidationFailed as failed:
            holder = await links.link_holder(token, now=utcnow())
            return _set_page(token, holder.email, errors=failed.by_field(), status_code=400)
        request.clear_session()
        _sign_in(request, organiser.id, organiser.session_epoch)
        return Redirect(path="/organiser", status_code=303)


def _set_page(
    token: str, email: str, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Template:
    return Template(
        template_name="accounts/set_password.html",
        context={"token": token, "email": email, "errors": errors or {}},
        status_code=status_code,
        headers=PRIVATE,
    )


def _link_refused() -> Template:
    """Expired, used or forged alike: the way on is to ask for a new link."""
    return Template(template_name="accounts/link_refused.html", status_code=400, headers=PRIVATE)
