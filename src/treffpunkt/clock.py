"""The one place that reads the wall clock, so rules can take `now` and tests can pin it."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
