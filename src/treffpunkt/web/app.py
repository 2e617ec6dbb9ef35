"""The application factory: every route, middleware and plugin is wired here and only here."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import structlog
from litestar import Litestar, Request
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import ResponseHeader
from litestar.logging.config import StructLoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.logging import LoggingMiddleware, LoggingMiddlewareConfig
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp as LitestarASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from treffpunkt.accounts.account_pages import (
    MyAccountController,
    OrganiserAdminController,
    PasswordPagesController,
)
from treffpunkt.accounts.controllers import AccountPagesController
from treffpunkt.attendance.controllers import (
    AfterTheEventApiController,
    CheckInApiController,
    CheckInPagesController,
    FeedbackPagesController,
    RosterPagesController,
    TicketController,
)
from treffpunkt.attendance.feedback_pages import FeedbackOrganiserPagesController
from treffpunkt.attendance.report_views import ReportsController
from treffpunkt.audit.controllers import (
    AccountHistoryPagesController,
    EventHistoryApiController,
    EventHistoryPagesController,
)
from treffpunkt.db import connection_pool
from treffpunkt.events.controllers import EventPagesController, catalogue_feed
from treffpunkt.events.syndication import events_feed, robots_txt, sitemap_xml
from treffpunkt.notices.controllers import NoticePagesController
from treffpunkt.notifications.worker import run_worker
from treffpunkt.privacy.controllers import (
    PrivacyAdminController,
    PrivacyApiController,
    PrivacyPagesController,
)
from treffpunkt.ratelimits.counters import hit_counter
from treffpunkt.registrations.controllers import (
    EventChangeApiController,
    RegistrationApiController,
    RegistrationPagesController,
    SelfServiceApiController,
)
from treffpunkt.settings import STATIC_DIR, Settings, get_settings
from treffpunkt.signing import derived_key
from treffpunkt.web.auth import OrganiserAuthentication
from treffpunkt.web.errors import EXCEPTION_HANDLERS, route_template, security_headers
from treffpunkt.web.language import LANGUAGE_COOKIE, LanguageMiddleware, switch_language
from treffpunkt.web.metrics import metrics, prometheus_config
from treffpunkt.web.pages import front_door, health, health_live, health_ready
from treffpunkt.web.public_cache import ASGIApp, PublicResponseCache
from treffpunkt.web.rate_limits import RateLimits
from treffpunkt.web.redaction import mask_addresses
from treffpunkt.web.request_ids import RequestIds
from treffpunkt.web.request_limits import FORM_FIELD_LIMIT, FormFieldLimit
from treffpunkt.web.templating import template_config
from treffpunkt.workspace.dashboard import DashboardController
from treffpunkt.workspace.event_editor import (
    EventEditorController,
    QuestionEditorController,
    SeriesController,
)
from treffpunkt.workspace.event_hub import EventHubController
from treffpunkt.workspace.mail import (
    MailboxController,
    MailLogController,
    OrganiserMessageController,
    OrganiserMessagePagesController,
)

SESSION_COOKIE = "treffpunkt_session"
CSRF_COOKIE = "treffpunkt_csrf"
UNLOGGED_PATHS = ["^/health", "^/metrics", "^/static/"]
# The API authenticates by bearer token only; it never reads or writes the cookie session.
SESSIONLESS_PATHS = ["^/api/", "^/health", "^/metrics", "^/static/"]


@asynccontextmanager
async def mail_worker(_: Litestar) -> AsyncIterator[None]:
    """The outbox worker inside this process, when `treffpunkt serve` asks for it."""
    if not get_settings().run_mail_worker:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(stop), name="mail-worker")
    try:
        yield
    finally:
        stop.set()
        await task


@asynccontextmanager
async def settled_heap(_: Litestar) -> AsyncIterator[None]:
    """Moves everything built at start-up out of the garbage collector's sight.

    Routes, templates and modules live as long as the process; without this every full
    collection walks them again, which shows up as latency spikes under load.
    """
    gc.collect()
    gc.freeze()
    yield


@asynccontextmanager
async def database_pool(_: Litestar) -> AsyncIterator[None]:
    async with connection_pool(get_settings().db_pool_size):
        yield


class RouteLoggingMiddleware(LoggingMiddleware):
    """Logs the route template (`/registrations/{token}`), never the path or query string.

    Paths carry secrets (registration links, tickets, personal feeds): whoever reads the log
    could otherwise change or cancel registrations.
    """

    async def extract_request_data(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        data = await super().extract_request_data(request)
        data["route"] = route_template(request)
        return data


def _logging(settings: Settings) -> StructlogPlugin:
    # Only method, route and status: bodies, headers and cookies carry personal data.
    structlog_config = StructLoggingConfig(
        # Our 500 handler logs unexpected errors; 4xx answers are not errors of ours.
        log_exceptions="never",
        # Loggers follow the configuration in force when they log, not the one when
        # they first logged: one log line per request costs microseconds more, and a
        # later configuration (a capture in tests, another app) is never missed.
        cache_logger_on_first_use=False,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[settings.log_level]
        ),
    )
    # After tracebacks are formatted, before the renderer writes the line.
    assert structlog_config.processors is not None
    structlog_config.processors.insert(-1, mask_addresses)
    return StructlogPlugin(
        StructlogConfig(
            structlog_logging_config=structlog_config,
            # Requests are logged at INFO: above it, the middleware would only cost time.
            enable_middleware_logging=logging.getLevelNamesMapping()[settings.log_level]
            <= logging.INFO,
            middleware_logging_config=LoggingMiddlewareConfig(
                middleware_class=RouteLoggingMiddleware,
                request_log_fields=["method"],
                response_log_fields=["status_code"],
                exclude=UNLOGGED_PATHS,
            ),
        )
    )


@asynccontextmanager
async def closed_counter(app: Litestar) -> AsyncIterator[None]:
    """The rate limits' connections (Redis) end with the app."""
    try:
        yield
    finally:
        await app.state.rate_limit_counter.close()


def create_app() -> Litestar:
    settings = get_settings()
    counter = hit_counter(settings.redis_url)
    sessions = CookieBackendConfig(
        secret=derived_key(settings.secret_key, "session"),
        key=SESSION_COOKIE,
        max_age=14 * 24 * 3600,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
        exclude=SESSIONLESS_PATHS,
    )
    app = Litestar(
        route_handlers=[
            front_door,
            health,
            health_live,
            health_ready,
            metrics,
            switch_language,
            EventChangeApiController,
            EventPagesController,
            EventHistoryApiController,
            EventHistoryPagesController,
            AccountHistoryPagesController,
            catalogue_feed,
            events_feed,
            sitemap_xml,
            robots_txt,
            TicketController,
            CheckInApiController,
            CheckInPagesController,
            RosterPagesController,
            AfterTheEventApiController,
            FeedbackPagesController,
            FeedbackOrganiserPagesController,
            ReportsController,
            OrganiserMessageController,
            MailboxController,
            EventHubController,
            OrganiserMessagePagesController,
            MailLogController,
            RegistrationApiController,
            SelfServiceApiController,
            RegistrationPagesController,
            AccountPagesController,
            EventEditorController,
            QuestionEditorController,
            SeriesController,
            MyAccountController,
            OrganiserAdminController,
            PasswordPagesController,
            DashboardController,
            PrivacyApiController,
            PrivacyPagesController,
            PrivacyAdminController,
            NoticePagesController,
            create_static_files_router(path="/static", directories=[STATIC_DIR], name="static"),
        ],
        lifespan=[database_pool, closed_counter, mail_worker, settled_heap],
        middleware=[
            prometheus_config().middleware,
            LanguageMiddleware(),
            FormFieldLimit(),
            RateLimits(settings, counter),
            sessions.middleware,
            DefineMiddleware(OrganiserAuthentication),
        ],
        csrf_config=CSRFConfig(
            secret=derived_key(settings.secret_key, "csrf").hex(),
            cookie_name=CSRF_COOKIE,
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="lax",
            exclude=["^/api/", "^/health", "^/metrics"],
        ),
        template_config=template_config(),
        exception_handlers=EXCEPTION_HANDLERS,
        response_headers=[
            ResponseHeader(name=k, value=v) for k, v in security_headers(settings.base_url).items()
        ],
        plugins=[_logging(settings)],
        openapi_config=OpenAPIConfig(
            title="Treffpunkt API",
            version="1",
            description="Regional workshops and networking meetings: catalogue, scheduling, "
            "registration. Organiser calls take `Authorization: Bearer <token>`.",
            path="/schema",
            # Only the document: the explorer pages load their scripts from public CDNs.
            render_plugins=[JsonRenderPlugin()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http", scheme="bearer", bearer_format="token"
                    )
                }
            ),
        ),
        # Refused with 413 as soon as Content-Length or the bytes received pass it.
        request_max_body_size=settings.max_request_bytes,
        multipart_form_part_limit=FORM_FIELD_LIMIT,
        debug=False,
    )
    app.state.rate_limit_counter = counter
    # Outside all middleware, so a cached answer costs no routing, session or guard work.
    cache = PublicResponseCache(
        cast(ASGIApp, app.asgi_handler),
        seconds=settings.catalogue_cache_seconds,
        session_cookie=SESSION_COOKIE,
        language_cookie=LANGUAGE_COOKIE,
        csrf_cookie=CSRF_COOKIE,
    )
    # The client address (rate limits, logs) from X-Forwarded-For, only from trusted proxies.
    proxied = ProxyHeadersMiddleware(
        cast(Any, cache), trusted_hosts=list(settings.forwarded_allow_ips)
    )
    app.asgi_handler = cast(LitestarASGIApp, RequestIds(cast(ASGIApp, proxied)))
    app.state.public_cache = cache
    return app
