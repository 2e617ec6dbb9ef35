"""Same-loop clients of one app that arrive from a client address the test chooses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from litestar import Litestar

ClientFactory = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


def clients_from_addresses(app: Litestar) -> ClientFactory:
    """`connect(address)`: a client of `app` whose requests come from that peer address."""

    @asynccontextmanager
    async def connect(address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address, 50000))
        async with (
            app.lifespan(),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
        ):
            yield http

    return connect
