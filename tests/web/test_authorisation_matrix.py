"""The authorisation matrix: every route of the app, called by every kind of caller.

The routes come from the app itself (its OpenAPI document and its route table), so a route
added later fails `test_every_route_has_a_policy` until POLICIES below says who may call it.
Each route is then called as each caller in CALLERS, with real path parameters from a seeded
world, and the answer must be exactly what the route's policy promises that caller:

- the API (`/api/...`) takes bearer tokens: no, a wrong or a revoked token answers 401
  `not_authenticated` (a bad credential is refused even where none is needed); an organiser
  who may not act on the event answers 403 `forbidden`, as everywhere in Treffpunkt;
- pages take the signed-in session: without one (no cookie, a forged cookie, or a session
  ended by "sign out everywhere") organiser pages send the browser to /login (files such as
  CSV answer 401); an organiser without rights gets the 403 page.

A refused call must also change nothing at all: every table reads the same after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.middleware.csrf import generate_csrf_token
from litestar.routes import HTTPRoute

from tests import factories
from tests.conftest import TABLES, empty_tables, is_postgres
from tests.notifications.helpers import sign_up
from treffpunkt.accounts import links
from treffpunkt.accounts.services import (
    create_api_token,
    create_own_api_token,
    end_all_sessions,
    revoke_api_token,
)
from treffpunkt.accounts.tables import ApiToken, Organiser
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.clock import utcnow
from treffpunkt.events.services import add_co_organiser
from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.services import token_for
from treffpunkt.settings import get_settings
from treffpunkt.signing import derived_key
from treffpunkt.web.app import CSRF_COOKIE, SESSION_COOKIE, create_app
from treffpunkt.web.errors import MACHINE_SUFFIXES, PROBLEM_JSON

pytestmark = pytest.mark.anyio

ANONYMOUS, WRONG, REVOKED = "anonymous", "wrong-token", "revoked-token"
OTHER, CO, OWNER, ADMIN = "other-organiser", "co-organiser", "owner", "admin"
WRONG_KIND = "owner-wrong-kind"
# Who calls. On pages "wrong-token" is a forged session cookie and "revoked-token" the owner's
# session from before they signed out everywhere; on the API both are bearer tokens (the
# revoked one is the owner's). "owner-wrong-kind" sends the owner's session cookie to the API
# and the owner's bearer token to pages: neither counts there, so it is anonymous.
CALLERS = (ANONYMOUS, WRONG, REVOKED, WRONG_KIND, OTHER, CO, OWNER, ADMIN)


class Policy(Enum):
    """Who may call a route."""

    PUBLIC = "anyone"
    SECRET_LINK = "whoever holds the registration's secret link (the link is the credential)"
    PASSWORD_LINK = "whoever holds a set-password link"
    EVENT_READER = "anyone for a published event; a draft only for those who manage it"
    ORGANISER = "any signed-in organiser"
    OWN_ACCOUNT = "only the organiser the account item (an API token) belongs to"
    MANAGER = "the event's owner, its co-organisers and admins"
    ADMIN = "admins only"
    SCRAPER = "nobody here: only the metrics scraper's own token"


class Outcome(Enum):
    ALLOWED = "allowed"
    SIGN_IN = "sign in first (401, or a redirect to /login on pages)"
    FORBIDDEN = "403 forbidden"
    HIDDEN = "404, as if nothing were there"
    SHUT = "401 or 404: not for any caller here"


A, S, F, H = Outcome.ALLOWED, Outcome.SIGN_IN, Outcome.FORBIDDEN, Outcome.HIDDEN
# What each caller gets, by policy, for callers without a bad credential. A wrong or revoked
# credential answers 401 anywhere on the API; on pages it counts as no session at all.
#                              anonymous other co owner admin
OUTCOMES: dict[Policy, tuple[Outcome, Outcome, Outcome, Outcome, Outcome]] = {
    Policy.PUBLIC: (A, A, A, A, A),
    Policy.SECRET_LINK: (A, A, A, A, A),
    Policy.PASSWORD_LINK: (A, A, A, A, A),
    Policy.EVENT_READER: (H, H, A, A, A),
    Policy.ORGANISER: (S, A, A, A, A),
    Policy.OWN_ACCOUNT: (S, H, H, A, H),
    Policy.MANAGER: (S, F, A, A, A),
    Policy.ADMIN: (S, F, F, F, A),
    Policy.SCRAPER: (Outcome.SHUT,) * 5,
}


@dataclass(frozen=True)
class World:
    """The seeded data: path parameter values, and each caller's credentials."""

    values: dict[str, str]
    bearer: dict[str, str]
    cookies: dict[str, str]
    emails: dict[str, str]
    check_in_code: str


Body = Callable[[World], Any]


@dataclass(frozen=True)
class Route:
    """One route's policy and what an allowed caller sends.

    `values` names the world's value for a path parameter where the default does not fit
    (the draft rather than the published event); `body` is the JSON (API) or form (pages)
    an allowed caller sends; `ok` the statuses an allowed caller must get (by default any
    answer that is not a refusal, a redirect to /login, a 404 or a server error).
    """

    policy: Policy
    values: Mapping[str, str] = field(default_factory=dict)
    body: Body | None = None
    ok: tuple[int, ...] = ()


P = Policy
DRAFT = {"slug": "draft"}


def person(email: str) -> dict[str, Any]:
    """A registration as the API takes it."""
    return {
        "name": "Berta Beispiel",
        "email": email,
        "organisation": "Kreis Meißen",
        "stakeholder_group": "business",
        "consent": True,
    }


def person_form(email: str) -> dict[str, Any]:
    """The same person, as a page's form sends them."""
    return {**person(email), "consent": "yes"}


# Every route of the app, by "METHOD /path/{parameter}". Add new routes here.
ROUTES: dict[str, Route] = {
    # --- public pages, files and operations ----------------------------------------------------
    "GET /": Route(P.PUBLIC, ok=(302,)),
    "GET /events": Route(P.PUBLIC, ok=(200,)),
    "GET /events/feed.atom": Route(P.PUBLIC, ok=(200,)),
    "GET /events/{slug}": Route(P.EVENT_READER, DRAFT, ok=(200,)),
    "POST /events/{slug}/register": Route(
        P.PUBLIC, body=lambda w: person_form("neu@example.org"), ok=(303,)
    ),
    "GET /events/{slug}/registered": Route(P.PUBLIC, ok=(303,)),
    "GET /calendar.ics": Route(P.PUBLIC, ok=(200,)),
    "GET /sitemap.xml": Route(P.PUBLIC, ok=(200,)),
    "GET /robots.txt": Route(P.PUBLIC, ok=(200,)),
    "GET /language/{code}": Route(P.PUBLIC, ok=(303,)),
    "GET /health": Route(P.PUBLIC, ok=(200,)),
    "GET /health/live": Route(P.PUBLIC, ok=(200,)),
    "GET /health/ready": Route(P.PUBLIC, ok=(200,)),
    "GET /metrics": Route(P.SCRAPER),
    "GET /static/{file_path}": Route(P.PUBLIC, ok=(200,)),
    "GET /schema": Route(P.PUBLIC),
    "GET /schema/openapi.json": Route(P.PUBLIC, ok=(200,)),
    "GET /schema/{path}": Route(P.PUBLIC),
    # --- signing in -------------------------------------------------------------------------
    "GET /login": Route(P.PUBLIC, ok=(200,)),
    "POST /login": Route(
        P.PUBLIC,
        body=lambda w: {"email": w.emails[OTHER], "password": factories.PASSWORD},
        ok=(303,),
    ),
    "POST /logout": Route(P.ORGANISER, ok=(303,)),
    "POST /logout/everywhere": Route(P.ORGANISER, ok=(303,)),
    "GET /password/forgot": Route(P.PUBLIC, ok=(200,)),
    "POST /password/forgot": Route(P.PUBLIC, body=lambda w: {"email": "x@example.org"}),
    "GET /password/set/{token}": Route(P.PASSWORD_LINK, {"token": "password_link"}, ok=(200,)),
    "POST /password/set/{token}": Route(
        P.PASSWORD_LINK,
        {"token": "password_link"},
        body=lambda w: {"password": "a new passphrase", "password_repeat": "a new passphrase"},
        ok=(303,),
    ),
    # --- a registrant's own pages and files, by the secret link ------------------------------
    "GET /registrations/{token}": Route(P.SECRET_LINK, ok=(200,)),
    "POST /registrations/{token}": Route(
        P.SECRET_LINK, body=lambda w: {"name": "Anna Neu", "organisation": "Stadt"}, ok=(303,)
    ),
    "GET /registrations/{token}/cancel": Route(P.SECRET_LINK, ok=(200,)),
    "POST /registrations/{token}/cancel": Route(P.SECRET_LINK, ok=(303,)),
    "GET /registrations/{token}/calendar.ics": Route(P.SECRET_LINK, ok=(200,)),
    "GET /registrations/{token}/ticket": Route(P.SECRET_LINK, ok=(200,)),
    "GET /registrations/{token}/ticket.png": Route(P.SECRET_LINK, ok=(200,)),
    "GET /registrations/{token}/ticket.svg": Route(P.SECRET_LINK, ok=(200,)),
    "GET /feedback/{token}": Route(P.SECRET_LINK, ok=(200,)),
    "POST /feedback/{token}": Route(P.SECRET_LINK),
    # --- the public API ----------------------------------------------------------------------
    "GET /api/v1/events": Route(P.PUBLIC, ok=(200,)),
    "GET /api/v1/events/{slug}": Route(P.EVENT_READER, DRAFT, ok=(200,)),
    "GET /api/v1/events/{slug}/questions": Route(P.EVENT_READER, DRAFT, ok=(200,)),
    "POST /api/v1/events/{slug}/registrations": Route(
        P.PUBLIC, body=lambda w: person("neu@example.org"), ok=(201,)
    ),
    "GET /api/v1/registrations/{token}": Route(P.SECRET_LINK, ok=(200,)),
    "PATCH /api/v1/registrations/{token}": Route(
        P.SECRET_LINK, body=lambda w: {"name": "Anna Neu"}, ok=(200,)
    ),
    "DELETE /api/v1/registrations/{token}": Route(P.SECRET_LINK, ok=(200,)),
    # --- the organisers' API -----------------------------------------------------------------
    "POST /api/v1/events": Route(P.ORGANISER, body=lambda w: factories.event_payload(), ok=(201,)),
    "GET /api/v1/reports": Route(P.ORGANISER, ok=(200,)),
    "PATCH /api/v1/events/{slug}": Route(P.MANAGER, body=lambda w: {"title": "Neu"}, ok=(200,)),
    "DELETE /api/v1/events/{slug}": Route(P.MANAGER, DRAFT, ok=(204,)),
    "POST /api/v1/events/{slug}/publish": Route(P.MANAGER, DRAFT, ok=(200,)),
    "POST /api/v1/events/{slug}/cancel": Route(
        P.MANAGER, body=lambda w: {"reason": "Krank"}, ok=(200,)
    ),
    "GET /api/v1/events/{slug}/organisers": Route(P.MANAGER, ok=(200,)),
    "POST /api/v1/events/{slug}/organisers": Route(
        P.MANAGER, body=lambda w: {"email": w.emails[OTHER]}, ok=(200,)
    ),
    "DELETE /api/v1/events/{slug}/organisers/{email}": Route(P.MANAGER, ok=(200,)),
    "GET /api/v1/events/{slug}/registrations": Route(P.MANAGER, ok=(200,)),
    "GET /api/v1/events/{slug}/registrations.csv": Route(P.MANAGER, ok=(200,)),
    "POST /api/v1/events/{slug}/roster": Route(
        P.MANAGER, body=lambda w: person("hand@example.org"), ok=(201,)
    ),
    "POST /api/v1/events/{slug}/registrations/{registration_id}/approve": Route(P.MANAGER),
    "POST /api/v1/events/{slug}/registrations/{registration_id}/decline": Route(
        P.MANAGER, ok=(200,)
    ),
    "POST /api/v1/events/{slug}/registrations/{registration_id}/cancel": Route(
        P.MANAGER, ok=(200,)
    ),
    "POST /api/v1/events/{slug}/registrations/{registration_id}/move-up": Route(P.MANAGER),
    "PUT /api/v1/events/{slug}/questions": Route(P.MANAGER, body=lambda w: [], ok=(200,)),
    "POST /api/v1/events/{slug}/messages": Route(
        P.MANAGER, body=lambda w: {"subject": "Hallo", "body": "Bis bald"}, ok=(202,)
    ),
    "POST /api/v1/events/{slug}/check-ins": Route(
        P.MANAGER, body=lambda w: {"code": w.check_in_code}, ok=(200,)
    ),
    "DELETE /api/v1/events/{slug}/check-ins/{registration_id}": Route(P.MANAGER, ok=(204,)),
    "POST /api/v1/events/{slug}/walk-ins": Route(
        P.MANAGER, body=lambda w: person("tuer@example.org"), ok=(201,)
    ),
    "GET /api/v1/events/{slug}/attendance": Route(P.MANAGER, ok=(200,)),
    "GET /api/v1/events/{slug}/feedback": Route(P.MANAGER, ok=(200,)),
    "GET /api/v1/events/{slug}/feedback-questions": Route(P.MANAGER, ok=(200,)),
    "PUT /api/v1/events/{slug}/feedback-questions": Route(
        P.MANAGER,
        body=lambda w: [
            {"key": key, "kind": "rating", "label": "Wie war es?"} for key in ("a", "b", "c")
        ],
        ok=(200,),
    ),
    "POST /api/v1/events/{slug}/thank-you": Route(P.MANAGER),
    # --- the organisers' pages ---------------------------------------------------------------
    "GET /organiser": Route(P.ORGANISER, ok=(200,)),
    "GET /organiser/reports": Route(P.ORGANISER, ok=(200,)),
    "GET /organiser/reports.csv": Route(P.ORGANISER, ok=(200,)),
    "GET /organiser/account": Route(P.ORGANISER, ok=(200,)),
    "POST /organiser/account/password": Route(
        P.ORGANISER,
        body=lambda w: {
            "current_password": factories.PASSWORD,
            "password": "a new passphrase",
            "password_repeat": "a new passphrase",
        },
        ok=(303,),
    ),
    "POST /organiser/account/tokens": Route(P.ORGANISER, ok=(303,)),
    "GET /organiser/account/tokens/{token_id}/revoke": Route(P.OWN_ACCOUNT, ok=(200,)),
    "POST /organiser/account/tokens/{token_id}/revoke": Route(P.OWN_ACCOUNT, ok=(303,)),
    "GET /organiser/events/new": Route(P.ORGANISER, ok=(200,)),
    "POST /organiser/events/new": Route(P.ORGANISER),
    "GET /organiser/events/{slug}": Route(P.MANAGER, ok=(200,)),
    "GET /organiser/events/{slug}/edit": Route(P.MANAGER, ok=(200,)),
    "POST /organiser/events/{slug}/edit": Route(P.MANAGER),
    "POST /organiser/events/{slug}/duplicate": Route(P.MANAGER, ok=(303,)),
    "POST /organiser/events/{slug}/publish": Route(P.MANAGER, DRAFT, ok=(303,)),
    "GET /organiser/events/{slug}/cancel": Route(P.MANAGER, ok=(200,)),
    "POST /organiser/events/{slug}/cancel": Route(
        P.MANAGER, body=lambda w: {"reason": "Krank"}, ok=(200,)
    ),
    "POST /organiser/events/{slug}/cancel/confirm": Route(
        P.MANAGER, body=lambda w: {"reason": "Krank"}, ok=(303,)
    ),
    "GET /organiser/events/{slug}/delete": Route(P.MANAGER, DRAFT, ok=(200,)),
    "POST /organiser/events/{slug}/delete": Route(P.MANAGER, DRAFT, ok=(303,)),
    "POST /organiser/events/{slug}/organisers": Route(
        P.MANAGER, body=lambda w: {"email": w.emails[OTHER]}, ok=(303,)
    ),
    "GET /organiser/events/{slug}/organisers/remove": Route(P.MANAGER, ok=(200,)),
    "POST /organiser/events/{slug}/organisers/remove": Route(
        P.MANAGER, body=lambda w: {"email": w.emails[CO]}, ok=(303,)
    ),
    "GET /organiser/events/{slug}/questions": Route(P.MANAGER, ok=(200,)),
    "POST /organiser/events/{slug}/questions": Route(P.MANAGER),
    "GET /organiser/events/{slug}/series": Route(P.MANAGER, ok=(200,)),
    "POST /organiser/events/{slug}/series": Route(P.MANAGER),
    "GET /organiser/events/{slug}/message": Route(P.MANAGER, ok=(200,)),
    "POST /organiser/events/{slug}/message": Route(
        P.MANAGER, body=lambda w: {"subject": "Hallo", "body": "Bis bald"}, ok=(200,)
    ),
    "POST /organiser/events/{slug}/message/send": Route(
        P.MANAGER, body=lambda w: {"subject": "Hallo", "body": "Bis bald"}, ok=(303,)
    ),
    "GET /organiser/events/{slug}/mail": Route(P.MANAGER, ok=(200,)),
    "GET /organiser/events/{slug}/check-in": Route(P.MANAGER, ok=(200,)),
    "POST /organiser/events/{slug}/check-in": Route(
        P.MANAGER, body=lambda w: {"code": w.check_in_code}, ok=(303,)
    ),
    "GET /organiser/events/{slug}/check-in/counters": Route(P.MANAGER, ok=(200,)),
    "GET /organiser/events/{slug}/roster": Route(P.MANAGER, ok=(200,)),
    "GET /organiser/events/{slug}/roster.csv": Route(P.MANAGER, ok=(200,)),
    "GET /organiser/events/{slug}/roster/add": Route(P.MANAGER, ok=(200,)),
    "POST /organiser/events/{slug}/roster/add": Route(
        P.MANAGER, body=lambda w: person_form("hand@example.org"), ok=(303,)
    ),
    "POST /organiser/events/{slug}/roster/walk-in": Route(
        P.MANAGER, body=lambda w: person_form("tuer@example.org"), ok=(303,)
    ),
    "POST /organiser/events/{slug}/roster/{registration_id}/check-in": Route(P.MANAGER, ok=(303,)),
    "POST /organiser/events/{slug}/roster/{registration_id}/move-up": Route(P.MANAGER),
    "POST /organiser/events/{slug}/roster/{registration_id}/undo": Route(P.MANAGER, ok=(303,)),
    "GET /organiser/events/{slug}/roster/{registration_id}/{action}": Route(P.MANAGER, ok=(200,)),
    "POST /organiser/events/{slug}/roster/{registration_id}/{action}": Route(P.MANAGER, ok=(303,)),
    "GET /organiser/events/{slug}/feedback": Route(P.MANAGER, ok=(200,)),
    "GET /organiser/events/{slug}/feedback/questions": Route(P.MANAGER, ok=(200,)),
    "POST /organiser/events/{slug}/feedback/questions": Route(P.MANAGER),
    "GET /organiser/events/{slug}/feedback/thank-you": Route(P.MANAGER),
    "POST /organiser/events/{slug}/feedback/thank-you": Route(P.MANAGER),
    # --- admins ------------------------------------------------------------------------------
    "GET /admin/organisers": Route(P.ADMIN, ok=(200,)),
    "POST /admin/organisers/invite": Route(
        P.ADMIN, body=lambda w: {"email": "neu@kreis.example", "name": "Neu"}, ok=(200,)
    ),
    "POST /admin/organisers/invite/send": Route(
        P.ADMIN, body=lambda w: {"email": "neu@kreis.example", "name": "Neu"}, ok=(303,)
    ),
    "GET /admin/organisers/{organiser_id}/resend": Route(P.ADMIN, ok=(200,)),
    "POST /admin/organisers/{organiser_id}/resend": Route(P.ADMIN, ok=(303,)),
    "POST /admin/organisers/{organiser_id}/access": Route(
        P.ADMIN, body=lambda w: {"change": "deactivate"}, ok=(303,)
    ),
    "GET /api/v1/events/{slug}/history": Route(P.MANAGER, ok=(200,)),
    "GET /organiser/events/{slug}/history": Route(P.MANAGER, ok=(200,)),
    "GET /organiser/account/history": Route(P.ORGANISER, ok=(200,)),
    "GET /admin/organisers/{organiser_id}/history": Route(P.ADMIN, ok=(200,)),
    "GET /api/v1/registrations/{token}/export": Route(P.SECRET_LINK, ok=(200,)),
    "POST /api/v1/registrations/{token}/erase": Route(P.SECRET_LINK),
    "GET /registrations/{token}/my-data.json": Route(P.SECRET_LINK, ok=(200,)),
    "GET /registrations/{token}/erase": Route(P.SECRET_LINK, ok=(200,)),
    "POST /registrations/{token}/erase": Route(P.SECRET_LINK, ok=(303,)),
    "GET /privacy/erased": Route(P.PUBLIC),
    "GET /admin/privacy": Route(P.ADMIN, ok=(200,)),
    "POST /admin/privacy/find": Route(P.ADMIN, body=lambda w: {"email": "anna@example.org"}),
    "POST /admin/privacy/export": Route(P.ADMIN, body=lambda w: {"email": "anna@example.org"}),
    "POST /admin/privacy/erase/confirm": Route(
        P.ADMIN, body=lambda w: {"email": "anna@example.org"}
    ),
    "POST /admin/privacy/erase": Route(P.ADMIN, body=lambda w: {"email": "anna@example.org"}),
    "GET /privacy": Route(P.PUBLIC, ok=(200,)),
    "GET /legal": Route(P.PUBLIC, ok=(200,)),
    "POST /api/v1/registrations/{token}/confirm-address": Route(P.SECRET_LINK),
    "POST /registrations/{token}/confirm-address": Route(P.SECRET_LINK),
    "GET /admin/mailbox": Route(P.ADMIN, ok=(200,)),
    "GET /admin/mailbox/{outbox_id}": Route(P.ADMIN, ok=(200,)),
    "GET /admin/mailbox/{outbox_id}/parts/{index}": Route(P.ADMIN, ok=(200,)),
}

IGNORED_METHODS = {"HEAD", "OPTIONS"}
TYPED_PARAMETER = re.compile(r"\{(\w+):\w+\}")
PARAMETER = re.compile(r"\{(\w+)\}")


def route_key(method: str, path: str) -> str:
    """`GET /events/{slug}` for Litestar's `/events/{slug:str}` and OpenAPI's `/events/{slug}`."""
    return method + " " + TYPED_PARAMETER.sub(lambda match: "{" + match.group(1) + "}", path)


def app_routes(app: Litestar) -> list[str]:
    """Every method and path the app answers, from its own route table."""
    return sorted(
        route_key(method, route.path)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for method in route.route_handler_map
        if method not in IGNORED_METHODS
    )


def openapi_operations(document: dict[str, Any]) -> list[str]:
    return sorted(
        route_key(method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method.upper() not in IGNORED_METHODS and method != "parameters"
    )


# Built once at collection, for the parameter list: the app keeps no state.
APP = create_app()
DISCOVERED = sorted(set(app_routes(APP)) | set(openapi_operations(APP.openapi_schema.to_schema())))
CASES = [(key, caller) for key in DISCOVERED for caller in CALLERS]


def expected(route: Route, caller: str, *, api: bool) -> Outcome:
    if caller == WRONG_KIND:
        caller = ANONYMOUS
    if caller in (WRONG, REVOKED):
        if api:
            return Outcome.SIGN_IN
        caller = ANONYMOUS
    return OUTCOMES[route.policy][(ANONYMOUS, OTHER, CO, OWNER, ADMIN).index(caller)]


# --- the world ---------------------------------------------------------------------------------

CSRF = generate_csrf_token(derived_key(get_settings().secret_key, "csrf").hex())


def csrf_cookie() -> str:
    return f"{CSRF_COOKIE}={CSRF}"


async def signed_in_cookie(client: httpx.AsyncClient, email: str) -> str:
    """The session cookie(s) of a real sign-in through the form."""
    client.cookies.clear()
    response = await client.post(
        "/login",
        data={"email": email, "password": factories.PASSWORD},
        headers={"x-csrftoken": CSRF, "cookie": csrf_cookie()},
    )
    assert response.status_code == 303, response.text
    session = [f"{name}={value}" for name, value in client.cookies.items() if name != CSRF_COOKIE]
    client.cookies.clear()
    assert session, "signing in set no session cookie"
    return "; ".join(session)


async def build_world(client: httpx.AsyncClient) -> World:
    """Organiser A owns a published event (starting within the hour, so the door is open)
    and a draft, with C as co-organiser of both; Anna is registered; an admin; another
    organiser on neither event; and an invited organiser who has not set a password yet."""
    await empty_tables()
    admin = await factories.organiser(admin=True, email="admin@kreis.example")
    owner = await factories.organiser(email="owner@kreis.example")
    co = await factories.organiser(email="co@kreis.example")
    other = await factories.organiser(email="other@kreis.example")
    starts_at = (utcnow() + timedelta(minutes=50)).replace(microsecond=0)
    event = await factories.event(
        owner,
        starts_at=starts_at.isoformat(),
        ends_at=(starts_at + timedelta(hours=2)).isoformat(),
    )
    draft = await factories.event(owner, publish=False, title="Entwurf")
    for slug in (event.slug, draft.slug):
        await add_co_organiser(slug, co.email)
    anna = await sign_up(event.slug, "anna@example.org")
    outbox = await OutboxMessage.select(OutboxMessage.id).order_by(OutboxMessage.id).first()
    await create_own_api_token(owner.id, "spare")
    spare = await ApiToken.select(ApiToken.id).where(ApiToken.label == "spare").first()
    invitee = await links.invite_organiser(
        links.Invitation(email="invited@kreis.example", name="Ines", is_admin=False, language="de"),
        now=utcnow(),
    )
    epoch = await Organiser.select(Organiser.session_epoch).where(Organiser.id == invitee.id)
    assert outbox is not None
    assert spare is not None

    revoked = await create_api_token(owner.email)
    await revoke_api_token(token=revoked, now=utcnow())
    people = {OTHER: other, CO: co, OWNER: owner, ADMIN: admin}
    bearer = {WRONG: "tp_not-a-token-of-ours", REVOKED: revoked}
    cookies = {WRONG: f"{SESSION_COOKIE}=forged-{'x' * 40}"}
    cookies[REVOKED] = await signed_in_cookie(client, owner.email)
    await end_all_sessions(owner.id)
    for caller, who in people.items():
        bearer[caller] = await create_api_token(who.email)
        cookies[caller] = await signed_in_cookie(client, who.email)
    return World(
        values={
            "slug": event.slug,
            "draft": draft.slug,
            "token": await token_for(anna.registration_id),
            "password_link": links.link_token(
                invitee.id, utcnow() + timedelta(days=1), "", epoch[0]["session_epoch"]
            ),
            "registration_id": str(anna.registration_id),
            "action": "cancel",
            "email": co.email,
            "outbox_id": str(outbox["id"]),
            "index": "0",
            "token_id": str(spare["id"]),
            "organiser_id": str(invitee.id),
            "code": "en",
            "file_path": "treffpunkt.css",
            "path": "openapi.json",
        },
        bearer=bearer,
        cookies=cookies,
        emails={caller: who.email for caller, who in people.items()},
        check_in_code=check_in_code(event.id, anna.registration_id),
    )


Rows = dict[str, list[dict[str, Any]]]


async def every_row() -> Rows:
    rows = {}
    for table in TABLES:
        rows[table] = list(await Event.raw(f"SELECT * FROM {table} ORDER BY 1"))  # noqa: S608
    return rows


# Columns that any authenticated call may change: a refused organiser's token was used.
VOLATILE_COLUMNS = {"last_used_at"}


def comparable(rows: Rows) -> Rows:
    """Everything stored, but the volatile columns."""
    return {
        table: [{k: v for k, v in row.items() if k not in VOLATILE_COLUMNS} for row in found]
        for table, found in rows.items()
    }


async def restore(rows: Rows) -> None:
    """Put back exactly these rows (ids and all), as a fresh world would have them."""
    await empty_tables()
    for table in reversed(TABLES):  # parents first
        found = rows[table]
        if found:
            columns = ", ".join(f'"{name}"' for name in found[0])
            marks = ", ".join("(" + ", ".join("{}" for _ in row) + ")" for row in found)
            values = [value for row in found for value in row.values()]
            await Event.raw(f"INSERT INTO {table} ({columns}) VALUES {marks}", *values)  # noqa: S608
        # Emptying restarted the ids; the next new row must come after the restored ones.
        if is_postgres() and found and "id" in found[0]:
            await Event.raw(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )


@dataclass
class Worlds:
    """One world for the module: built once, put back whenever a call changed it."""

    current: World | None = None
    pristine: Rows = field(default_factory=dict)
    spoiled: bool = False

    async def get(self, client: httpx.AsyncClient) -> World:
        if self.current is None:
            self.current = await build_world(client)
            self.pristine = await every_row()
        elif self.spoiled:
            await restore(self.pristine)
        self.spoiled = False
        return self.current


WORLDS = Worlds()


@pytest.fixture(autouse=True)
def clean_tables() -> None:
    """Instead of conftest's: the world is kept between tests and put back at need."""


# --- calling -----------------------------------------------------------------------------------


def is_api(path: str) -> bool:
    return path.startswith("/api/")


def filled(key: str, route: Route, world: World) -> str:
    def value(match: re.Match[str]) -> str:
        name = route.values.get(match.group(1), match.group(1))
        assert name in world.values, f"no value for {{{name}}} in {key}: add one in build_world"
        return world.values[name]

    return PARAMETER.sub(value, key.split(" ", 1)[1])


async def call(
    client: httpx.AsyncClient, key: str, route: Route, world: World, caller: str
) -> httpx.Response:
    method = key.split(" ", 1)[0]
    path = filled(key, route, world)
    body = route.body(world) if route.body else None
    headers: dict[str, str] = {}
    if is_api(path):
        if caller == WRONG_KIND:
            headers["cookie"] = world.cookies[OWNER]
        elif caller != ANONYMOUS:
            headers["authorization"] = f"Bearer {world.bearer[caller]}"
        return await client.request(method, path, json=body, headers=headers)
    cookies = [csrf_cookie()]
    if caller == WRONG_KIND:
        headers["authorization"] = f"Bearer {world.bearer[OWNER]}"
    elif caller != ANONYMOUS:
        cookies.append(world.cookies[caller])
    headers.update({"cookie": "; ".join(cookies), "x-csrftoken": CSRF})
    return await client.request(method, path, data=body, headers=headers)


def check(response: httpx.Response, outcome: Outcome, route: Route, path: str, api: bool) -> None:
    status = response.status_code
    kind = response.headers.get("content-type", "")
    location = response.headers.get("location", "")
    what = f"{status} {kind} {location} {response.text[:300]}"
    for_programs = api or path.endswith(MACHINE_SUFFIXES)
    if outcome is Outcome.ALLOWED:
        assert status < 500, what
        assert status not in (401, 403, 404), what
        assert not location.startswith("/login"), what
        if route.ok:
            assert status in route.ok, what
    elif outcome is Outcome.SIGN_IN and for_programs:
        assert status == 401, what
        assert kind.startswith(PROBLEM_JSON), what
        assert response.json()["code"] == "not_authenticated", what
        assert response.headers["www-authenticate"].startswith("Bearer"), what
    elif outcome is Outcome.SIGN_IN:
        assert status in (302, 303), what
        assert location == f"/login?next={path}", what
    elif outcome is Outcome.FORBIDDEN:
        assert status == 403, what
        if for_programs:
            assert response.json()["code"] == "forbidden", what
        else:
            assert kind.startswith("text/html"), what
    elif outcome is Outcome.HIDDEN:
        assert status == 404, what
    else:
        assert status in (401, 404), what


# --- the tests ---------------------------------------------------------------------------------


async def test_the_openapi_document_lists_only_routes_the_app_has(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operations = openapi_operations(document)

    assert len(operations) > 30
    assert set(operations) <= set(app_routes(APP))
    assert set(operations) <= set(DISCOVERED)


def test_every_route_has_a_policy() -> None:
    missing = [key for key in DISCOVERED if key not in ROUTES]

    assert not missing, "routes without a policy in ROUTES: " + ", ".join(missing)


def test_every_policy_names_a_route_the_app_has() -> None:
    stale = [key for key in ROUTES if key not in DISCOVERED]

    assert not stale, "ROUTES names routes the app does not have: " + ", ".join(stale)


@pytest.mark.parametrize(("key", "caller"), CASES, ids=[f"{k} as {c}" for k, c in CASES])
async def test_each_caller_gets_exactly_what_the_policy_says(
    client: httpx.AsyncClient, key: str, caller: str
) -> None:
    route = ROUTES.get(key)
    assert route is not None, f"{key} has no policy in ROUTES: say who may call it"
    world = await WORLDS.get(client)
    path = filled(key, route, world)
    outcome = expected(route, caller, api=is_api(path))
    before = comparable(WORLDS.pristine)

    response = await call(client, key, route, world, caller)

    after = comparable(await every_row())
    WORLDS.spoiled = after != before
    check(response, outcome, route, path, is_api(path))
    if outcome is not Outcome.ALLOWED:
        assert after == before, f"refused, yet {key} as {caller} changed what is stored"
