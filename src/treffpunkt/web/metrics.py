"""Prometheus metrics at `/metrics`, for whoever holds TREFFPUNKT_METRICS_TOKEN.

Requests are counted and timed by Litestar's Prometheus middleware, labelled by route
template (`/registrations/{token}`), never by path: paths carry secret links, and one label
value per registration would swamp the scraper. Mail outcomes are counted by the worker.
What the database knows (registrations, the outbox) is read at scrape time in one query, so
every process answers the same figures for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from litestar import Response, get
from litestar.plugins.prometheus import PrometheusConfig
from piccolo.querystring import QueryString
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from treffpunkt.clock import utcnow
from treffpunkt.db import DB, as_datetime
from treffpunkt.web.auth import requires_metrics_token

# Health checks and the scrape itself would only drown the figures people look at.
UNCOUNTED_PATHS = ["^/health", "^/metrics", "^/static/"]


def prometheus_config() -> PrometheusConfig:
    return PrometheusConfig(
        app_name="treffpunkt",
        prefix="treffpunkt",
        group_path=True,
        exclude=UNCOUNTED_PATHS,
        exclude_unhandled_paths=True,
    )


@dataclass(frozen=True)
class DatabaseFigures:
    registrations: int
    outbox_depth: int
    oldest_pending_seconds: float


async def database_figures() -> DatabaseFigures:
    """One query: registrations stored, and the mail still waiting to go out."""
    [row] = await DB.run_querystring(
        QueryString(
            "SELECT (SELECT count(*) FROM registration) AS registrations,"
            " count(*) AS depth, min(created_at) AS oldest"
            " FROM outbox_message WHERE status IN ('pending', 'sending')"
        )
    )
    oldest = row["oldest"]
    age = (utcnow() - as_datetime(oldest)).total_seconds() if oldest is not None else 0.0
    return DatabaseFigures(int(row["registrations"]), int(row["depth"]), max(age, 0.0))


class DatabaseCollector(Collector):
    """Hands the figures read for this scrape to prometheus-client, which collects synchronously."""

    def __init__(self, figures: DatabaseFigures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "treffpunkt_registrations_created",
            "Registrations created (every status), read from the database.",
            value=self.figures.registrations,
        )
        yield GaugeMetricFamily(
            "treffpunkt_outbox_depth",
            "Mails waiting in the outbox (pending or being sent).",
            value=self.figures.outbox_depth,
        )
        yield GaugeMetricFamily(
            "treffpunkt_outbox_oldest_pending_seconds",
            "Age of the oldest mail still waiting; 0 when the outbox is empty.",
            value=self.figures.oldest_pending_seconds,
        )


def process_registry() -> CollectorRegistry:
    """This process's figures, or every worker's when PROMETHEUS_MULTIPROC_DIR is set."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


@get("/metrics", guards=[requires_metrics_token], include_in_schema=False)
async def metrics() -> Response[bytes]:
    scrape = CollectorRegistry()
    scrape.register(DatabaseCollector(await database_figures()))
    body = generate_latest(process_registry()) + generate_latest(scrape)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
