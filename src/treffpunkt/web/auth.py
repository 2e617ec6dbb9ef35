"""Who is calling: bearer tokens on the API, a cookie session in the browser; and guards."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Receive, Scope, Send

from treffpunkt.accounts.services import CurrentOrganiser, organiser_by_id, organiser_for_token
from treffpunkt.audit.actors import REGISTRANT, account_actor, actor_scope, set_actor
from treffpunkt.errors import N_, Forbidden, NotFound
from treffpunkt.events.services import may_manage
from treffpunkt.settings import get_settings

SESSION_USER = "organiser_id"
SESSION_EPOCH = "epoch"


class OrganiserAuthentication(AbstractAuthenticationMiddleware):
    """Sets `request.user` to the calling organiser, or None for the public; never refuses.

    It also says who acts for the audit trail (see treffpunkt.audit.actors), for this request
    only: the organiser or admin, else a member of the public, which on our pages can only
    mean someone registering or managing their own registration.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with actor_scope(REGISTRANT):
            await super().__call__(scope, receive, send)

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        result = await self._authenticate(connection)
        if isinstance(result.user, CurrentOrganiser):
            set_actor(account_actor(result.user.id, is_admin=result.user.is_admin))
        return result

    async def _authenticate(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        if connection.url.path.startswith("/api/"):
            scheme, _, token = connection.headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                organiser = await organiser_for_token(token.strip())
                if organiser is None:
                    raise NotAuthorizedException("the API token is invalid or revoked")
                return AuthenticationResult(user=organiser, auth="token")
            return AuthenticationResult(user=None, auth=None)
        session = connection.scope.get("session")
        if not isinstance(session, dict):
            return AuthenticationResult(user=None, auth=None)
        organiser_id = session.get(SESSION_USER)
        if isinstance(organiser_id, int):
            organiser = await organiser_by_id(organiser_id)
            if organiser is not None and organiser.session_epoch == session.get(SESSION_EPOCH):
                return AuthenticationResult(user=organiser, auth="session")
        return AuthenticationResult(user=None, auth=None)


def current_organiser(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentOrganiser:
    organiser = connection.scope.get("user")
    if not isinstance(organiser, CurrentOrganiser):
        raise NotAuthorizedException("sign in, or send an API token as 'Authorization: Bearer …'")
    return organiser


async def requires_organiser(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    current_organiser(connection)


async def requires_admin(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    if not current_organiser(connection).is_admin:
        raise Forbidden(N_("only admins may do this"))


async def manages_event(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """The caller owns, co-organises or (as admin) oversees the event in the path."""
    organiser = current_organiser(connection)
    allowed = await may_manage(connection.path_params["slug"], organiser)
    if allowed is None:
        raise NotFound(
            N_("no event %(slug)s"), slug=connection.path_params["slug"], code="event_not_found"
        )
    if not allowed:
        raise Forbidden(N_("you do not manage this event"))


async def requires_metrics_token(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """The scraper's bearer token; without TREFFPUNKT_METRICS_TOKEN there are no metrics."""
    expected = get_settings().metrics_token
    if expected is None:
        raise NotFoundException()
    scheme, _space, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise NotAuthorizedException("send the metrics token as 'Authorization: Bearer …'")
