"""The mail tests' fixtures (an SMTP sink, a confirmed registrant), for erasure's own mail."""

from tests.notifications.conftest import confirmed, organiser, smtp

__all__ = ["confirmed", "organiser", "smtp"]
