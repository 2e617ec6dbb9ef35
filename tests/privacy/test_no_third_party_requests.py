"""No page makes the browser ask anyone else: every resource and form target is our own.

Visitors' addresses and browsers must not reach a third party (fonts, CDNs, analytics) just by
opening a page. The policy header forbids it (default-src 'self'); this walks every HTML page
the app routes, as an admin, and checks what the pages themselves name, so that a page relying
on a third party fails here rather than breaking quietly behind the policy. Links people may
follow (<a href>, such as an event's online meeting) are not requests and are allowed.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from litestar import Litestar

from tests.sessions import sign_in
from tests.web.html_tags import tags
from tests.web.test_every_page_secured import admin_and_path_values, filled, page_paths
from treffpunkt.settings import STATIC_DIR

pytestmark = pytest.mark.anyio

# Attributes that make the browser fetch or send something without a click on a link.
FETCHING = {
    "src": None,
    "srcset": None,
    "poster": None,
    "data": "object",
    "action": "form",
    "formaction": None,
    "href": "link",
}
OWN_HOSTS = {"", "testserver"}
EXTERNAL_IN_STATIC = re.compile(r"""(url\(\s*['"]?|@import\s+['"]?|fetch\(\s*['"])(https?:)?//""")


def _targets(html: str) -> list[str]:
    found = []
    for attribute, only_in in FETCHING.items():
        for attrs in tags(html, only_in):
            value = attrs.get(attribute)
            if value:
                found.extend(part.strip().split(" ")[0] for part in value.split(","))
    return found


def is_third_party(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob"):
        return False
    return parts.netloc not in OWN_HOSTS or parts.scheme not in ("", "http", "https")


async def test_every_page_names_only_its_own_origin_for_what_it_loads(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    admin, values = await admin_and_path_values()
    await sign_in(client, admin)
    offenders: dict[str, list[str]] = {}
    checked = 0
    for path in page_paths(app):
        response = await client.get(filled(path, values))
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        checked += 1
        external = [url for url in _targets(response.text) if is_third_party(url)]
        if external:
            offenders[path] = external

    assert checked > 30
    assert offenders == {}


def test_our_stylesheets_and_scripts_load_nothing_from_elsewhere() -> None:
    files = [*STATIC_DIR.rglob("*.css"), *STATIC_DIR.rglob("*.js")]

    assert files
    assert [str(f) for f in files if EXTERNAL_IN_STATIC.search(f.read_text())] == []


def test_the_check_finds_a_third_party_resource() -> None:
    page = (
        '<link rel="stylesheet" href="https://fonts.example.com/a.css">'
        '<a href="https://meet.example.com/room">join</a><img src="/static/logo.png">'
    )

    assert [url for url in _targets(page) if is_third_party(url)] == [
        "https://fonts.example.com/a.css"
    ]


async def test_the_api_schema_is_served_as_a_document_without_an_explorer_from_a_cdn(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    schema_paths = sorted(
        path
        for route in app.routes
        for path in [route.path]
        if path.startswith("/schema") and "{" not in path
    )
    answers = {
        path: (await client.get(path)).headers.get("content-type", "") for path in schema_paths
    }

    assert "/schema/openapi.json" in answers
    assert [path for path, kind in answers.items() if kind.startswith("text/html")] == []
