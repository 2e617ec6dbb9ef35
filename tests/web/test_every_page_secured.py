"""Every HTML page the app routes, walked as an admin: the security headers, and no inline code.

The walk reads the routes from the app itself, so a page added later is checked without
anyone remembering to list it here.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from tests import factories
from tests.notifications.helpers import sign_up
from tests.sessions import sign_in
from tests.web.test_security_headers import CSP
from treffpunkt.accounts.services import CurrentOrganiser, create_own_api_token
from treffpunkt.accounts.tables import ApiToken
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.services import token_for

pytestmark = pytest.mark.anyio

NOT_PAGES = ("/api/", "/schema", "/static/")
# The mailbox shows a mail's own HTML part under a stricter policy of its own (sandboxed).
OWN_POLICY = "/admin/mailbox/{outbox_id:int}/parts/{index:int}"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle=", re.IGNORECASE)
PARAMETER = re.compile(r"\{(\w+):\w+\}")


async def admin_and_path_values() -> tuple[CurrentOrganiser, dict[str, str]]:
    """An admin, and a real value for every path parameter a page takes."""
    admin = await factories.organiser(admin=True, email="admin@kreis.example")
    event = await factories.event(admin)
    outcome = await sign_up(event.slug, "anna@example.org")
    await create_own_api_token(admin.id, "Skript")
    invitee = await factories.organiser(email="eingeladen@kreis.example")
    outbox = await OutboxMessage.select(OutboxMessage.id).first()
    token = await ApiToken.select(ApiToken.id).where(ApiToken.organiser == admin.id).first()
    assert outbox is not None
    assert token is not None
    return admin, {
        "slug": event.slug,
        "token": await token_for(outcome.registration_id),
        "registration_id": str(outcome.registration_id),
        "action": "cancel",
        "outbox_id": str(outbox["id"]),
        "index": "0",
        "token_id": str(token["id"]),
        "organiser_id": str(invitee.id),
        "code": "en",
    }


def page_paths(app: Litestar) -> list[str]:
    return sorted(
        route.path
        for route in app.routes
        if isinstance(route, HTTPRoute)
        and "GET" in route.methods
        and not route.path.startswith(NOT_PAGES)
        and route.path != OWN_POLICY
    )


def filled(path: str, values: dict[str, str]) -> str:
    return PARAMETER.sub(lambda match: values[match.group(1)], path)


async def test_every_html_page_carries_the_policy_and_no_inline_code(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    admin, values = await admin_and_path_values()
    await sign_in(client, admin)
    pages: dict[str, Any] = {}
    for path in page_paths(app):
        response = await client.get(filled(path, values))
        assert response.status_code < 500, (path, response.status_code)
        if response.headers.get("content-type", "").startswith("text/html"):
            pages[path] = response

    assert len(pages) > 30
    for path, response in pages.items():
        assert response.headers["content-security-policy"] == CSP, path
        assert response.headers["x-frame-options"] == "DENY", path
        assert not INLINE_SCRIPT.search(response.text), path
        assert not STYLE_ATTRIBUTE.search(response.text), path
