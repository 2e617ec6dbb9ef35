"""Driving the account pages like a browser does: CSRF tokens, forms, links from mails."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.notifications.helpers import text_of
from tests.sessions import hidden_value
from treffpunkt.notifications.tables import OutboxMessage

ENGLISH = {"Accept-Language": "en"}
NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"https?://\S+/password/set/(\S+)")


async def submit(
    client: httpx.AsyncClient,
    page: str,
    action: str,
    data: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Open `page` for its CSRF token, then post `data` to `action`, as its form would."""
    opened = await client.get(page, headers=headers)
    assert opened.status_code == 200, opened.text
    token = hidden_value(opened.text, "_csrf_token")
    return await client.post(action, data={"_csrf_token": token, **(data or {})}, headers=headers)


def link_path(mail: EmailMessage) -> str:
    """The set-password link in a mail's text, as a path on the test server."""
    found = LINK.search(text_of(mail))
    assert found, text_of(mail)
    return urlsplit(found.group(0)).path


async def account_mail_rows() -> list[dict[str, Any]]:
    return list(
        await OutboxMessage.select().where(OutboxMessage.event.is_null()).order_by(OutboxMessage.id)
    )


def payload_of(row: dict[str, Any]) -> dict[str, Any]:
    payload = row["payload"]
    return dict(json.loads(payload) if isinstance(payload, str) else payload)


async def set_password_via(
    client: httpx.AsyncClient, path: str, password: str = NEW_PASSWORD
) -> httpx.Response:
    """Send the set-password form of a link (whether or not the link still works)."""
    return await submit(
        client, "/password/forgot", path, {"password": password, "password_repeat": password}
    )
