"""Fixtures of the account tests: the notification tests' SMTP sink, and a rate-limited app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.notifications.conftest import no_smtp, smtp, worker_clock

__all__ = ["limited_client", "no_smtp", "smtp", "worker_clock"]


@pytest.fixture
async def limited_client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with the production login limit (the suite switches it off)."""
    from treffpunkt.settings import get_settings
    from treffpunkt.web.app import create_app

    monkeypatch.setenv("TREFFPUNKT_LOGIN_RATE_LIMIT", "10")
    get_settings.cache_clear()
    app = create_app()
    get_settings.cache_clear()
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        yield http
