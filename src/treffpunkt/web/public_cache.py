"""A short-lived in-process cache for the public catalogue and calendar feeds.

Everybody reads the catalogue and the feeds, and they change seldom: answering a repeat
request from memory for a moment spares the database and the whole request pipeline, the
way a reverse proxy's micro-cache would, but without one to run. Requests with a session or
an API token are never cached. Any change made through this process (a POST, PUT, PATCH or
DELETE) empties the cache at once; changes made by other processes show within the
cache's lifetime (TREFFPUNKT_CATALOGUE_CACHE_SECONDS; 0 switches it off).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import structlog

from treffpunkt.i18n import negotiate, supported

PUBLIC_PATHS = re.compile(r"^/(?:api/v1/events/?|events/?|calendar\.ics|events/[^/]+\.ics)$")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_HEADERS = frozenset({b"content-type", b"content-length"})
CONDITIONAL_HEADERS = frozenset({b"if-none-match", b"if-modified-since"})
MAX_BYTES = 16 * 1024 * 1024
MAX_BODY = 1024 * 1024

logger = structlog.get_logger("treffpunkt.cache")

# Plain ASGI: Litestar's own types describe its messages too strictly for a pass-through.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class CachedResponse:
    expires: float
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes | None


class PublicResponseCache:
    """Wraps the app's ASGI handler; see the module docstring for what it caches and when."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        seconds: float,
        session_cookie: str,
        language_cookie: str,
        csrf_cookie: str,
    ) -> None:
        self.app = app
        self.seconds = seconds
        # Litestar splits a large session over numbered cookies: name-0, name-1, …
        self.session = re.compile(rf"(?:^|;)\s*{re.escape(session_cookie)}(?:-\d+)?=")
        self.language_cookie = re.compile(rf"(?:^|;)\s*{re.escape(language_cookie)}=([^;]*)")
        self.csrf_cookie = f"{csrf_cookie}=".encode()
        self.entries: dict[tuple[str, bytes, str], CachedResponse] = {}
        self.filling: dict[tuple[str, bytes, str], asyncio.Future[CachedResponse | None]] = {}
        self.size = 0
        # Bumped by every change: a read that overlapped a change must not be stored.
        self.generation = 0

    def clear(self) -> None:
        self.entries.clear()
        self.size = 0
        self.generation += 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method in UNSAFE_METHODS:
            self.clear()
            try:
                await self.app(scope, receive, send)
            finally:
                self.clear()
            return
        key = self._key(scope) if method == "GET" and self.seconds > 0 else None
        if key is None:
            await self.app(scope, receive, send)
            return
        cached = self.entries.get(key)
        if cached is None or cached.expires <= time.monotonic():
            # When an entry runs out under load, one request renders it and the rest wait.
            filling = self.filling.get(key)
            cached = await asyncio.shield(filling) if filling else None
            if cached is None:
                await self._fill(key, scope, receive, send)
                return
        status = await self._replay(cached, scope, send)
        logger.info("HTTP Response", path=scope["path"], status_code=status, cached=True)

    def _key(self, scope: Scope) -> tuple[str, bytes, str] | None:
        path: str = scope["path"]
        if not PUBLIC_PATHS.match(path):
            return None
        cookies: list[bytes] = []
        accept_language = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                return None
            if name == b"cookie":
                cookies.append(value)  # a client may split its cookies over several headers
            elif name == b"accept-language":
                accept_language = value.decode("latin-1")
        text = b"; ".join(cookies).decode("latin-1")
        if self.session.search(text):
            return None
        chosen = self.language_cookie.search(text) if text else None
        language = (chosen and supported(chosen.group(1))) or negotiate(accept_language)
        return path, scope["query_string"], language

    async def _replay(self, cached: CachedResponse, scope: Scope, send: Send) -> int:
        if cached.etag is not None and _matches(scope, cached.etag):
            headers = [(n, v) for n, v in cached.headers if n not in BODY_HEADERS]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return 304
        await send(
            {"type": "http.response.start", "status": cached.status, "headers": cached.headers}
        )
        await send({"type": "http.response.body", "body": cached.body})
        return cached.status

    async def _fill(
        self, key: tuple[str, bytes, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Ask the app unconditionally, so that a client's ETag cannot keep a 304 from filling."""
        generation = self.generation
        unconditional = {
            **scope,
            "headers": [(n, v) for n, v in scope["headers"] if n not in CONDITIONAL_HEADERS],
        }
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        filled: asyncio.Future[CachedResponse | None] = asyncio.get_running_loop().create_future()
        self.filling.setdefault(key, filled)
        cached = None
        try:
            await self.app(unconditional, receive, capture)
            cached = self._store(key, messages, generation)
        finally:
            if self.filling.get(key) is filled:
                del self.filling[key]
            filled.set_result(cached)
        if cached is not None:
            await self._replay(cached, scope, send)
            return
        for message in messages:
            await send(message)

    def _store(
        self, key: tuple[str, bytes, str], messages: list[Message], generation: int
    ) -> CachedResponse | None:
        start = messages[0] if messages else None
        if start is None or start.get("status") != 200 or generation != self.generation:
            return None
        body = b"".join(m.get("body", b"") for m in messages[1:])
        if len(body) > MAX_BODY:
            return None
        headers: list[tuple[bytes, bytes]] = []
        etag = None
        for raw_name, value in start.get("headers", []):
            name = raw_name.lower()
            if name == b"set-cookie":
                if not value.startswith(self.csrf_cookie):
                    return None  # a cookie meant for this visitor alone
                continue  # the CSRF cookie: every visitor gets their own on a form page
            if name == b"etag":
                etag = value
            headers.append((name, value))
        replaced = self.entries.pop(key, None)
        self.size -= len(replaced.body) if replaced else 0
        if self.size + len(body) > MAX_BYTES:
            self.clear()
        cached = CachedResponse(time.monotonic() + self.seconds, 200, headers, body, etag)
        self.entries[key] = cached
        self.size += len(body)
        return cached


def _matches(scope: Scope, etag: bytes) -> bool:
    """Weak comparison (RFC 9110 13.1.2), as the feeds themselves answer."""
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            offered = {t.strip().removeprefix(b"W/") for t in value.split(b",")}
            return b"*" in offered or etag in offered
    return False
