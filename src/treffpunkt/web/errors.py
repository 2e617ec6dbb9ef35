"""One table from failures to HTTP: problem details (RFC 9457) for the API, pages for people."""

from __future__ import annotations

import re
from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from treffpunkt.errors import N_, Conflict, DomainError, Invalid, NotFound, ValidationFailed
from treffpunkt.i18n import current_language
from treffpunkt.i18n import gettext as _
from treffpunkt.web.language import request_language

PROBLEM_JSON = "application/problem+json"
logger = structlog.get_logger("treffpunkt")
# Sent with every answer; error answers are built here and do not pass the app's headers.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'"
    ),
}

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    ValidationFailed: 422,
    Invalid: 422,
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
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
}


def status_for(error: DomainError) -> int:
    for error_type in type(error).__mro__:
        if error_type in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[error_type]
    return 400


MACHINE_SUFFIXES = (".ics", ".png", ".svg", ".csv", ".json")


def wants_problem_json(request: Request[Any, Any, Any]) -> bool:
    """API calls and files fetched by programs (calendars, images) get problem details."""
    path = request.url.path
    return path.startswith(("/api/", "/schema", "/health")) or path.endswith(MACHINE_SUFFIXES)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
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
    return Response(
        body,
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


EXPIRED_FORM = N_("The form has expired. Please go back, reload the page and send it again.")
PAGE_MESSAGES = {
    403: N_("You may not open this page."),
    404: N_("There is no page at this address."),
    429: N_("Too many attempts from your connection. Please wait a minute and try again."),
    500: N_("Please try again in a moment. If it keeps happening, tell the organisers."),
}


def error_page(
    request: Request[Any, Any, Any], status: int, detail: str | None = None
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
        headers=SECURITY_HEADERS,
    )


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    status = status_for(exc)
    if not wants_problem_json(request):
        current_language.set(request_language(request))
        return error_page(request, status, exc.translated())
    errors = None
    if isinstance(exc, ValidationFailed):
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
    return problem(status, exc.code, exc.message, errors=errors)


_NAMED_FIELD = re.compile(r"field `([^`]+)`")


def _validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    """Litestar names the whole body `data` when a field is missing or unknown: name it."""
    found: list[dict[str, str]] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", ""))
        key = str(item.get("key") or "body")
        named = _NAMED_FIELD.search(message)
        if key == "data" and named:
            key = named.group(1)
        found.append({"field": key, "message": message})
    return found


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException) and not wants_problem_json(request):
        return Redirect(path=f"/login?next={request.url.path}")
    if not wants_problem_json(request):
        if status == 403 and request.method == "POST":
            # Forms are refused for one reason only: a missing or stale CSRF token.
            current_language.set(request_language(request))
            return error_page(request, status, _(EXPIRED_FORM))
        return error_page(request, status)
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or exc.detail
        return problem(422, "validation_error", detail, errors=errors)
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="treffpunkt"')
    return problem(status, CODE_BY_STATUS.get(status, "error"), exc.detail, headers=headers)


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Log the traceback for us; the caller learns nothing internal."""
    logger.exception("unexpected error", method=request.method, path=request.url.path)
    if not wants_problem_json(request):
        return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "An unexpected error occurred."
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: on_domain_error,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
