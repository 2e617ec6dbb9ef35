"""Liveness and readiness: the process answers without the database; readiness needs it."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import free_port
from treffpunkt.db import engine_from_url
from treffpunkt.web import pages

pytestmark = pytest.mark.anyio


@pytest.fixture
def unreachable_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real PostgreSQL engine aimed at a port nobody listens on."""
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nobody"
    monkeypatch.setattr(pages, "DB", engine_from_url(url))


async def test_live_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_answers_ok_with_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.usefixtures("unreachable_database")
async def test_ready_answers_503_problem_while_the_database_is_unreachable(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "database_unavailable"


@pytest.mark.usefixtures("unreachable_database")
async def test_live_answers_ok_while_the_database_is_unreachable(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200


async def test_health_checks_set_no_cookie(client: httpx.AsyncClient) -> None:
    for path in ("/health/live", "/health/ready"):
        response = await client.get(path)

        assert "set-cookie" not in response.headers, path
