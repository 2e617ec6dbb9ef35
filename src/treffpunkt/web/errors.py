"""One table from failures to HTTP: problem details (RFC 9457) for the API, pages for people."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ExceptionHandlersMap

from treffpunkt.db import is_unavailable
from treffpunkt.errors import (
    N_,
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    ValidationFailed,
)
from treffpunkt.i18n import current_language
from treffpunkt.i18n import gettext as _
from treffpunkt.inputs import MULTI_LINE, SINGLE_LINE
from treffpunkt.settings import get_settings
from treffpunkt.web.language import request_language
from treffpunkt.web.rate_limits import RateLimited
from treffpunkt.web.request_ids import current_request_id

PROBLEM_JSON = "application/problem+json"
logger = structlog.get_logger("treffpunkt")
# Sent with every answer; error answers are built here and do not pass the app's headers.
# No 'unsafe-inline' anywhere: pages carry no inline script or style, only /static/ files.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    ),
}
HSTS = "max-age=31536000; includeSubDomains"


@cache
def security_headers(base_url: str) -> dict[str, str]:
    """SECURITY_HEADERS, plus HSTS when the site is served over https (never on plain http,
    where it would be ignored at best and lock a development host out at worst)."""
    if base_url.startswith("https://"):
        return {**SECURITY_HEADERS, "Strict-Transport-Security": HSTS}
    return SECURITY_HEADERS


def _headers() -> dict[str, str]:
    return security_headers(get_settings().base_url)


STATUS_BY_ERROR: dict[type[DomainError], int] = {
    ValidationFailed: 422,
    Invalid: 422,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
}
CODE_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}
TITLE_BY_STATUS = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
# How long a client is asked to wait while the database is unavailable.
RETRY_AFTER_SECONDS = 30


def status_for(error: DomainError) -> int:
    for error_type in type(error).__mro__:
        if error_type in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[error_type]
    return 400


MACHINE_SUFFIXES = (".ics", ".png", ".svg", ".csv", ".json", ".atom", ".xml", ".txt")


def is_for_programs(request: Request[Any, Any, Any]) -> bool:
    """API calls and files fetched by programs (calendars, images); they answer in English."""
    path = request.url.path
    return path.startswith(("/api/", "/schema", "/health", "/metrics")) or path.endswith(
        MACHINE_SUFFIXES
    )


def is_page_script(request: Request[Any, Any, Any]) -> bool:
    """A page's own script asking for JSON (the door): it shows the detail to people."""
    if is_for_programs(request):
        return False
    return request.accept.best_match([MediaType.HTML, MediaType.JSON]) == MediaType.JSON


def wants_problem_json(request: Request[Any, Any, Any]) -> bool:
    """Problem details, not a redirect or a page, which would break programs and scripts."""
    return is_for_programs(request) or is_page_script(request)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"urn:treffpunkt:problem:{code}",
        "title": TITLE_BY_STATUS.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if request_id:
        body["request_id"] = request_id
    return Response(
        body,
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={**_headers(), **(headers or {})},
    )


EXPIRED_FORM = N_("The form has expired. Please go back, reload the page and send it again.")
PAGE_MESSAGES = {
    403: N_("You may not open this page."),
    404: N_("There is no page at this address."),
    413: N_("What you sent is too large or has too many fields. Please shorten it and try again."),
    429: N_("Too many attempts from your connection. Please wait a minute and try again."),
    500: N_("Please try again in a moment. If it keeps happening, tell the organisers."),
    503: N_("The service is briefly unavailable. Please try again in a few minutes."),
}


def error_page(
    request: Request[Any, Any, Any],
    status: int,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """An error page in the reader's language (set here too: unrouted requests skip middleware)."""
    current_language.set(request_language(request))
    if detail is None:
        detail = _(PAGE_MESSAGES.get(status, N_("The request could not be processed.")))
    return Template(
        template_name="errors/error.html",
        context={"status": status, "detail": detail},
        status_code=status,
        media_type=MediaType.HTML,
        headers={**_headers(), **(headers or {})},
    )


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    status = status_for(exc)
    if not is_for_programs(request):
        current_language.set(request_language(request))
    if not wants_problem_json(request):
        return error_page(request, status, exc.translated())
    errors = None
    if isinstance(exc, ValidationFailed):
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
    detail = exc.translated() if is_page_script(request) else exc.message
    return problem(status, exc.code, detail, errors=errors)


_NAMED_FIELD = re.compile(r"field `([^`]+)`")
# msgspec names the pattern a text broke; people are told what the pattern means.
_PATTERN_MEANING = {
    SINGLE_LINE: "must be one line without control characters",
    MULTI_LINE: "must not contain control characters",
}


def _validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    """Litestar names the whole body `data` when a field is missing or unknown: name it."""
    found: list[dict[str, str]] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", ""))
        key = str(item.get("key") or "body")
        named = _NAMED_FIELD.search(message)
        message = next(
            (meaning for pattern, meaning in _PATTERN_MEANING.items() if repr(pattern) in message),
            message,
        )
        if key == "data" and named:
            key = named.group(1)
        found.append({"field": key, "message": message})
    return found


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException) and not wants_problem_json(request):
        return Redirect(path=f"/login?next={request.url.path}")
    # Guards refuse with `Forbidden`; Litestar's own 403 on a POST is the CSRF check.
    form_expired = isinstance(exc, PermissionDeniedException) and request.method == "POST"
    if form_expired:
        current_language.set(request_language(request))
    if isinstance(exc, RateLimited) and not wants_problem_json(request):
        current_language.set(request_language(request))  # before the message is translated
        return error_page(request, status, _(exc.page_message), headers=dict(exc.headers or {}))
    if not wants_problem_json(request):
        return error_page(request, status, _(EXPIRED_FORM) if form_expired else None)
    if form_expired:
        detail = _(EXPIRED_FORM) if is_page_script(request) else exc.detail
        return problem(status, "form_expired", detail)
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or exc.detail
        return problem(422, "validation_error", detail, errors=errors)
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="treffpunkt"')
    return problem(status, CODE_BY_STATUS.get(status, "error"), exc.detail, headers=headers)


def route_template(request: Request[Any, Any, Any]) -> str:
    """The matched route (`/registrations/{token}`): what logs may name, unlike the path."""
    return str(request.scope.get("path_template") or "unrouted")


def on_database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """503 and a time to come back: the database is away, and the request may work later.

    Logged as a warning without a traceback: the cause is outside the code.
    """
    request_id = current_request_id()
    logger.warning(
        "database unavailable",
        error=type(exc).__name__,
        method=request.method,
        route=route_template(request),
        request_id=request_id,
    )
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if not wants_problem_json(request):
        return error_page(request, HTTP_503_SERVICE_UNAVAILABLE, headers=retry)
    return problem(
        HTTP_503_SERVICE_UNAVAILABLE,
        "database_unavailable",
        "The database is unavailable; try again later.",
        headers=retry,
        request_id=request_id,
    )


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Log the traceback for us, once, under the request's id; the caller learns only the id."""
    if is_unavailable(exc):
        return on_database_unavailable(request, exc)
    request_id = current_request_id()
    logger.exception(
        "unexpected error",
        method=request.method,
        route=route_template(request),
        request_id=request_id,
    )
    if not wants_problem_json(request):
        return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "An unexpected error occurred.",
        request_id=request_id,
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: on_domain_error,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
