"""Browser sessions in tests: reading a form's hidden fields and signing an organiser in."""

from __future__ import annotations

import re

import httpx

from tests import factories
from treffpunkt.accounts.services import CurrentOrganiser


def hidden_value(html: str, name: str) -> str:
    """The value of the hidden input with this name in the page."""
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)
    assert match, f"no hidden input {name!r} in the page"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, who: CurrentOrganiser) -> None:
    """Log in through the real form, CSRF token and all; the client keeps the session."""
    token = hidden_value((await client.get("/login")).text, "_csrf_token")
    response = await client.post(
        "/login", data={"_csrf_token": token, "email": who.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 303, response.text
