"""Request ids: every answer names its request; a 500 is logged once under the id it answers."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog

from treffpunkt.events import services

pytestmark = pytest.mark.anyio


@pytest.fixture
def app_log(caplog: pytest.LogCaptureFixture) -> Iterator[list[dict[str, Any]]]:
    caplog.set_level(logging.WARNING, logger="httpx")
    with structlog.testing.capture_logs() as entries:
        yield entries


@pytest.fixture
def catalogue_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real unexpected error deep in a service, not one the handler table knows."""

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the catalogue broke")

    monkeypatch.setattr(services, "list_events", broken)


def unexpected_errors(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["event"] == "unexpected error"]


async def test_every_answer_carries_a_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/v1/events")
    second = await client.get("/no-such-page")

    assert len(first.headers["x-request-id"]) >= 16
    assert len(second.headers["x-request-id"]) >= 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_safe_incoming_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "proxy-4711.a_b"})

    assert response.headers["x-request-id"] == "proxy-4711.a_b"


@pytest.mark.parametrize(
    "unsafe", [b"a" * 65, b"back\\slash", b"a b", b"<script>", "ünïcode".encode()]
)
async def test_an_unsafe_incoming_request_id_is_replaced(
    client: httpx.AsyncClient, unsafe: bytes
) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": unsafe})

    assert re.fullmatch("[0-9a-f]{32}", response.headers["x-request-id"])


@pytest.mark.usefixtures("catalogue_breaks")
async def test_a_500_answers_the_id_it_is_logged_under(
    client: httpx.AsyncClient, app_log: list[dict[str, Any]]
) -> None:
    response = await client.get("/api/v1/events")

    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error"
    assert body["request_id"] == response.headers["x-request-id"]
    [logged] = unexpected_errors(app_log)
    assert logged["request_id"] == body["request_id"]


@pytest.mark.usefixtures("catalogue_breaks")
async def test_a_500_is_logged_once_with_the_route_not_the_path(
    client: httpx.AsyncClient, app_log: list[dict[str, Any]]
) -> None:
    await client.get("/api/v1/events?q=anna@example.org")

    [logged] = unexpected_errors(app_log)
    assert logged["route"] == "/api/v1/events"
    assert "anna@example.org" not in repr(logged)
