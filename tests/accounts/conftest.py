"""The SMTP sink of the notification tests, for invitations and password resets."""

from tests.notifications.conftest import no_smtp, smtp, worker_clock

__all__ = ["no_smtp", "smtp", "worker_clock"]
