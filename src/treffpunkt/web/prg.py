"""Post/redirect/get: a form that changed something answers 303 See Other with a page to GET.

Reload, Back and Forward then repeat the GET, never the change. What the change came to (a
receipt, a door scan, "saved") travels to that page in the encrypted session cookie, never in
the URL, and only the page it was meant for shows it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.response import Redirect

OUTCOME = "outcome"


def see_other(
    request: Request[Any, Any, Any], path: str, outcome: dict[str, Any] | None = None
) -> Redirect:
    """303 to `path` (a fragment is fine), leaving `outcome` for that page to show."""
    if outcome is not None:
        request.set_session({**request.session, OUTCOME: {**outcome, "page": urlsplit(path).path}})
    return Redirect(path=path, status_code=303)


def outcome_for(request: Request[Any, Any, Any], *, keep: bool = False) -> dict[str, Any] | None:
    """What the form reported to this page: once, or on every reload with `keep` (a receipt)."""
    outcome = request.session.get(OUTCOME)
    if not isinstance(outcome, dict) or outcome.get("page") != request.url.path:
        return None
    if not keep:
        request.set_session({k: v for k, v in request.session.items() if k != OUTCOME})
    return outcome
