"""Secret links never reach a log line: requests are logged by route template, not by path.

Whoever reads the logs must not be able to change or cancel registrations, so every route that
carries a registration's secret (pages, tickets, personal feeds, feedback, the self-service
API) is called with a valid and an invalid token, and no captured line may hold either.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from structlog.processors import format_exc_info

from tests import factories
from tests.attendance.helpers import anna_at_the_door
from tests.conftest import free_port, run_async
from tests.operations.test_scale_out import wait_healthy
from treffpunkt.registrations import services
from treffpunkt.registrations.services import token_for

UNKNOWN_TOKEN = "kZ3qVb7XwN2pLr5TgH8sYc"


@dataclass(frozen=True)
class Secrets:
    token: str
    wrong_token: str

    def all(self) -> tuple[str, str, str]:
        return self.token, self.wrong_token, UNKNOWN_TOKEN


async def anna_holds_a_link() -> Secrets:
    owner = await factories.organiser()
    _, registration_id = await anna_at_the_door(owner)
    token = await token_for(registration_id)
    return Secrets(token=token, wrong_token=token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))


def token_routes(token: str) -> list[tuple[str, str]]:
    """Every request that carries the secret, in the path or the query string."""
    return [
        ("GET", f"/registrations/{token}"),
        ("POST", f"/registrations/{token}"),
        ("GET", f"/registrations/{token}/cancel"),
        ("GET", f"/registrations/{token}/calendar.ics"),
        ("GET", f"/registrations/{token}/ticket"),
        ("GET", f"/registrations/{token}/ticket.png"),
        ("GET", f"/registrations/{token}/ticket.svg"),
        ("GET", f"/feedback/{token}"),
        ("POST", f"/feedback/{token}"),
        ("GET", f"/api/v1/registrations/{token}"),
        ("PATCH", f"/api/v1/registrations/{token}"),
        ("GET", f"/registrations/{token}?next={token}"),
        ("GET", f"/calendar.ics?token={token}"),
        ("GET", f"/registrations/{token}/my-data.json"),
        ("GET", f"/registrations/{token}/erase"),
        ("GET", f"/api/v1/registrations/{token}/export"),
        ("POST", f"/registrations/{token}/cancel"),
        ("DELETE", f"/api/v1/registrations/{token}"),
        ("POST", f"/api/v1/registrations/{token}/erase"),
    ]


def lines_with_secrets(log: str, secrets: Secrets) -> list[str]:
    return [line for line in log.splitlines() if any(s in line for s in secrets.all())]


@pytest.fixture
def app_log(caplog: pytest.LogCaptureFixture) -> Iterator[list[dict[str, Any]]]:
    """Everything the app logs, tracebacks rendered; the test client's own log is muted."""
    caplog.set_level(logging.WARNING, logger="httpx")
    with structlog.testing.capture_logs(processors=[format_exc_info]) as entries:
        yield entries


def rendered(entries: list[dict[str, Any]]) -> str:
    return "\n".join(repr(entry) for entry in entries)


@pytest.mark.anyio
async def test_app_logs_of_token_routes_name_the_route_and_never_the_token(
    client: httpx.AsyncClient, app_log: list[dict[str, Any]]
) -> None:
    secrets = await anna_holds_a_link()

    for token in secrets.all():
        for method, url in token_routes(token):
            await client.request(method, url, json={} if method == "PATCH" else None)

    assert lines_with_secrets(rendered(app_log), secrets) == []
    assert "/registrations/{token}" in rendered(app_log)


@pytest.mark.anyio
async def test_the_log_of_an_unexpected_error_on_a_token_route_holds_no_token(
    client: httpx.AsyncClient, app_log: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = await anna_holds_a_link()

    async def broken(token: str) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "by_token", broken)

    response = await client.get(f"/api/v1/registrations/{secrets.token}")

    assert response.status_code == 500
    assert "the database went away" in rendered(app_log)
    assert lines_with_secrets(rendered(app_log), secrets) == []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`treffpunkt serve` as operators run it, its stdout and stderr in one file."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "treffpunkt", "serve", "--port", str(port)],
            env={
                **os.environ,
                "TREFFPUNKT_BASE_URL": base,
                "TREFFPUNKT_LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(base)
            yield base, log_path
        finally:
            process.terminate()
            process.wait(15)


def test_the_real_servers_output_holds_no_token(served: tuple[str, Path]) -> None:
    base, log_path = served
    secrets = run_async(anna_holds_a_link())

    with httpx.Client(base_url=base) as http:
        for token in secrets.all():
            for method, url in token_routes(token):
                http.request(method, url, json={} if method == "PATCH" else None)
        http.get(f"/registrations/{secrets.token}/no-such-page")

    log = log_path.read_text()
    assert lines_with_secrets(log, secrets) == []
    assert "/registrations/{token}" in log
