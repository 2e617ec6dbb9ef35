"""Prometheus metrics: only for the scraper's token; requests by route, the outbox by query."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import factories
from tests.notifications.helpers import sign_up
from treffpunkt.clock import utcnow
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.settings import get_settings
from treffpunkt.web import auth

pytestmark = pytest.mark.anyio

TOKEN = "scrape-" + "m" * 32
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def metrics_token(monkeypatch: pytest.MonkeyPatch) -> None:
    configured = dataclasses.replace(get_settings(), metrics_token=TOKEN)
    monkeypatch.setattr(auth, "get_settings", lambda: configured)


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of one scrape, by name and labels."""
    response = await client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests_counted(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], path: str
) -> float:
    return sum(
        value
        for (name, labels), value in samples.items()
        if name == "treffpunkt_requests_total" and ("path", path) in labels
    )


async def test_metrics_are_off_without_a_configured_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics", headers=SCRAPER)

    assert response.status_code == 404


@pytest.mark.usefixtures("metrics_token")
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]
)
async def test_metrics_are_refused_without_the_token(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.usefixtures("metrics_token")
async def test_metrics_refuse_an_admins_api_token(client: httpx.AsyncClient) -> None:
    _, admin = await factories.organiser_with_token(admin=True)

    response = await client.get("/metrics", headers=admin)

    assert response.status_code == 401


@pytest.mark.usefixtures("metrics_token")
async def test_a_request_is_counted_by_its_route(client: httpx.AsyncClient) -> None:
    before = requests_counted(await scrape(client), "/api/v1/events")

    await client.get("/api/v1/events")

    assert requests_counted(await scrape(client), "/api/v1/events") == before + 1


@pytest.mark.usefixtures("metrics_token")
async def test_requests_are_labelled_by_route_template_never_by_path(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/registrations/kZ3qVb7XwN2pLr5TgH8sYc")

    response = await client.get("/metrics", headers=SCRAPER)

    assert 'path="/registrations/{token}"' in response.text
    assert "kZ3qVb7XwN2pLr5TgH8sYc" not in response.text


@pytest.mark.usefixtures("metrics_token")
async def test_metrics_show_the_outbox_depth_and_the_oldest_mails_age(
    client: httpx.AsyncClient,
) -> None:
    now = utcnow()
    for minutes, status in ((10, "pending"), (1, "pending"), (30, "sent")):
        await OutboxMessage(
            kind="test",
            recipient="anna@example.org",
            status=status,
            created_at=now - timedelta(minutes=minutes),
        ).save()

    samples = await scrape(client)

    assert samples[("treffpunkt_outbox_depth", frozenset())] == 2
    assert 600 <= samples[("treffpunkt_outbox_oldest_pending_seconds", frozenset())] < 660


@pytest.mark.usefixtures("metrics_token")
async def test_an_empty_outbox_has_no_age(client: httpx.AsyncClient) -> None:
    samples = await scrape(client)

    assert samples[("treffpunkt_outbox_depth", frozenset())] == 0
    assert samples[("treffpunkt_outbox_oldest_pending_seconds", frozenset())] == 0


@pytest.mark.usefixtures("metrics_token")
async def test_metrics_count_the_registrations_created(client: httpx.AsyncClient) -> None:
    event = await factories.event(await factories.organiser())
    for email in ("anna@example.org", "ben@example.org"):
        await sign_up(event.slug, email)

    samples = await scrape(client)

    assert samples[("treffpunkt_registrations_created_total", frozenset())] == 2
